// The map: Leaflet with a tile layer when a tile URL is configured, else a plain background with a
// graticule (so that moves show without tiles) and always a scale; the user, the radius around
// them and their nearby friends as markers that move live.
import * as L from "leaflet";

export interface MapViewOptions {
  tileUrl: string;
  tileAttribution: string;
  /** A click on the map (the page may move the user there). */
  onClick(position: { lat: number; lon: number }): void;
  /** "Follow" turned off by the user panning or zooming by hand. */
  onFollowChange(follow: boolean): void;
}

const GRATICULE_STEPS = [
  0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20,
];
const FIT_EVERY_MS = 1000;
/** Positions kept per friend for the trail behind their marker. */
const TRAIL_LENGTH = 40;

export class MapView {
  private readonly map: L.Map;
  private readonly graticule = L.layerGroup();
  private self: L.CircleMarker | null = null;
  private range: L.Circle | null = null;
  private readonly friends = new Map<string, L.CircleMarker>();
  private readonly trails = new Map<string, L.Polyline>();
  private follow = true;
  private lastFit = 0;
  private fitTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    element: HTMLElement,
    private readonly options: MapViewOptions,
  ) {
    this.map = L.map(element, {
      zoomControl: true,
      attributionControl: true,
      worldCopyJump: true,
      zoomSnap: 0.25,
    });
    this.map.attributionControl.setPrefix("Leaflet");
    if (options.tileUrl !== "") {
      L.tileLayer(options.tileUrl, {
        maxZoom: 19,
        attribution: options.tileAttribution,
      }).addTo(this.map);
    } else {
      element.classList.add("no-tiles");
      this.graticule.addTo(this.map);
      this.map.on("moveend", () => this.drawGraticule());
    }
    L.control.scale({ imperial: false, maxWidth: 160 }).addTo(this.map);
    this.map.setView([20, 0], 2);
    this.map.on("click", (e: L.LeafletMouseEvent) =>
      options.onClick({ lat: e.latlng.lat, lon: e.latlng.lng }),
    );
    const byHand = () => this.setFollow(false, true);
    this.map.on("dragstart", byHand);
    element.addEventListener("wheel", byHand, { passive: true });
    this.drawGraticule();
  }

  setFollow(follow: boolean, notify = false): void {
    if (this.follow === follow) return;
    this.follow = follow;
    if (notify) this.options.onFollowChange(follow);
    if (follow) this.fit();
  }

  /** The user's marker and the radius around it. */
  setSelf(position: { lat: number; lon: number }, radiusM: number | null): void {
    const at = L.latLng(position.lat, position.lon);
    const first = this.self === null;
    if (this.self === null) {
      this.self = L.circleMarker(at, {
        radius: 9,
        color: "#ffffff",
        weight: 3,
        fillColor: "#e4572e",
        fillOpacity: 1,
        className: "marker-self",
      })
        .bindTooltip("you", { permanent: true, direction: "top", offset: [0, -10] })
        .addTo(this.map);
    } else {
      this.self.setLatLng(at);
    }
    if (radiusM !== null) {
      if (this.range === null) {
        this.range = L.circle(at, {
          radius: radiusM,
          color: "#8a96a3",
          weight: 1,
          dashArray: "6 6",
          fill: false,
          interactive: false,
        }).addTo(this.map);
      } else {
        this.range.setLatLng(at).setRadius(radiusM);
      }
    }
    if (first) this.map.setView(at, 14);
    this.changed();
  }

  setFriend(
    userId: string,
    position: { lat: number; lon: number },
    label: string,
    approximate: boolean,
  ): void {
    const at = L.latLng(position.lat, position.lon);
    const style: L.CircleMarkerOptions = {
      radius: 7,
      color: approximate ? "#1c6dd0" : "#ffffff",
      weight: 2,
      dashArray: approximate ? "3 3" : "",
      fillColor: approximate ? "#9cc3f0" : "#1c6dd0",
      fillOpacity: 0.95,
    };
    const trail = this.trails.get(userId);
    if (trail === undefined) {
      const line = L.polyline([at], {
        color: "#1c6dd0",
        weight: 2,
        opacity: 0.35,
        interactive: false,
      });
      this.trails.set(userId, line.addTo(this.map));
    } else {
      const points = trail.getLatLngs() as L.LatLng[];
      const last = points[points.length - 1];
      if (last === undefined || !last.equals(at)) {
        points.push(at);
        trail.setLatLngs(points.slice(-TRAIL_LENGTH));
      }
    }
    const marker = this.friends.get(userId);
    if (marker === undefined) {
      const created = L.circleMarker(at, { ...style, className: "marker-friend" })
        .bindTooltip(label, { permanent: true, direction: "top", offset: [0, -8] })
        .addTo(this.map);
      this.friends.set(userId, created);
    } else {
      marker.setLatLng(at).setStyle(style);
      marker.setTooltipContent(label);
    }
    this.changed();
  }

  removeFriend(userId: string): void {
    this.friends.get(userId)?.remove();
    this.friends.delete(userId);
    this.trails.get(userId)?.remove();
    this.trails.delete(userId);
    this.changed();
  }

  /** Everyone in view: the user and their nearby friends. */
  fit(): void {
    this.lastFit = Date.now();
    const points = [...this.friends.values()].map((m) => m.getLatLng());
    if (this.self !== null) points.push(this.self.getLatLng());
    const [first] = points;
    if (first === undefined) return;
    if (points.length === 1) this.map.setView(first, Math.max(this.map.getZoom(), 14));
    else this.map.fitBounds(L.latLngBounds(points), { padding: [48, 48], maxZoom: 16 });
  }

  /** Keeps everyone in view while following, at most once a second. */
  private changed(): void {
    if (!this.follow || this.fitTimer !== null) return;
    const wait = Math.max(0, this.lastFit + FIT_EVERY_MS - Date.now());
    this.fitTimer = setTimeout(() => {
      this.fitTimer = null;
      if (this.follow) this.fit();
    }, wait);
  }

  /** Lines of latitude and longitude at a round step that gives a few per screen. */
  private drawGraticule(): void {
    if (this.options.tileUrl !== "") return;
    this.graticule.clearLayers();
    const b = this.map.getBounds();
    const span = Math.max(b.getNorth() - b.getSouth(), 1e-6);
    const step = GRATICULE_STEPS.find((s) => span / s <= 12) ?? 30;
    const style: L.PolylineOptions = { color: "#cfd6de", weight: 1, interactive: false };
    const south = Math.max(-85, Math.floor(b.getSouth() / step) * step);
    const north = Math.min(85, Math.ceil(b.getNorth() / step) * step);
    const west = Math.floor(b.getWest() / step) * step;
    const east = Math.ceil(b.getEast() / step) * step;
    if ((north - south) / step > 60 || (east - west) / step > 120) return;
    for (let lat = south; lat <= north + step / 2; lat += step)
      L.polyline(
        [
          [lat, west],
          [lat, east],
        ],
        style,
      ).addTo(this.graticule);
    for (let lon = west; lon <= east + step / 2; lon += step)
      L.polyline(
        [
          [south, lon],
          [north, lon],
        ],
        style,
      ).addTo(this.graticule);
  }
}
