// The live map page: signs in (POST /dev/token on the local stack, a token elsewhere), opens an SDK
// session, and shows the user and their nearby friends moving live, with a list (names, distances,
// "updated N s ago"), the comings and goings, ghost mode with a timer and per-friend precision.
// With `?share=<token>` it is instead a share link's page (share-view.ts).
// Markup contract (tests): a nearby friend's row is `li[data-user-id][data-state="nearby"]` with
// the distance in `[data-distance-m]`; the row goes on `away`; `body[data-connection-state]`.
import {
  type ConnectionState,
  connect,
  createHttpClient,
  distanceM,
  type FriendPosition,
  type FriendVisibility,
  type HttpClient,
  type NearbyFriendsClient,
  NearbyFriendsError,
  type Settings,
  type TokenSource,
} from "../../client/index.ts";
import {
  ConfigError,
  type PageParams,
  parsePageParams,
  parseSiteConfig,
  type SiteConfig,
  tokenSubject,
} from "./config.ts";
import {
  formatAge,
  formatClock,
  formatDistance,
  formatPosition,
  formatRemaining,
} from "./format.ts";
import { MapView } from "./map-view.ts";
import { startShareView } from "./share-view.ts";
import "./style.css";

interface LatLon {
  lat: number;
  lon: number;
}

/** How often the page asks the local stack where a followed user is, and refreshes lists. */
const SERVER_POSITION_EVERY_MS = 2000;
const REFRESH_EVERY_MS = 20_000;
const LOG_LENGTH = 40;

// The script's own URL, read while it runs: config.json sits beside it.
const scriptUrl = (document.currentScript as HTMLScriptElement | null)?.src ?? location.href;

function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as T;
}

function make<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string } = {},
  ...children: Node[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className !== undefined) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  node.append(...children);
  return node;
}

let errorTimer: ReturnType<typeof setTimeout> | null = null;
function showError(message: string, sticky = false): void {
  const box = el("error");
  box.textContent = message;
  box.hidden = false;
  if (errorTimer !== null) clearTimeout(errorTimer);
  errorTimer = sticky ? null : setTimeout(() => (box.hidden = true), 8000);
}

const describe = (err: unknown): string =>
  err instanceof NearbyFriendsError
    ? `${err.code}: ${err.message}`
    : err instanceof Error
      ? err.message
      : String(err);

function setConnectionState(state: ConnectionState | "loading" | "signed-out" | "error"): void {
  document.body.dataset.connectionState = state;
  const badge = el("connection");
  badge.textContent = state;
  badge.dataset.state = state;
}

async function loadConfig(): Promise<SiteConfig> {
  const res = await fetch(new URL("config.json", scriptUrl), { cache: "no-store" });
  if (!res.ok) throw new ConfigError(`config.json: HTTP ${res.status}`);
  return parseSiteConfig(await res.json());
}

/** Sign-in forms, when the URL names no user. */
function showSignIn(config: SiteConfig): void {
  setConnectionState("signed-out");
  el("signin").hidden = false;
  const form = el<HTMLFormElement>(config.devAuth ? "signin-dev" : "signin-token");
  form.hidden = false;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const value = (name: string) => String(data.get(name) ?? "").trim();
    if (!config.devAuth) {
      location.hash = `token=${encodeURIComponent(value("token"))}`;
      location.reload();
      return;
    }
    const query = new URLSearchParams({ as: value("as") });
    if (value("lat") !== "" || value("lon") !== "") {
      query.set("lat", value("lat"));
      query.set("lon", value("lon"));
    }
    location.search = query.toString();
  });
}

/** The token source: POST /dev/token for `as` (again when the SDK asks for a fresh one), or the given token. */
function tokenSource(config: SiteConfig, params: PageParams): TokenSource | null {
  if (params.as !== null) {
    const userId = params.as;
    let cached: string | null = null;
    return async ({ forceRefresh }) => {
      if (cached === null || forceRefresh) {
        const res = await fetch(`${config.httpUrl}/dev/token`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ userId }),
        });
        if (!res.ok) throw new Error(`POST /dev/token answered ${res.status}`);
        cached = ((await res.json()) as { token: string }).token;
      }
      return cached;
    };
  }
  return params.token;
}

/** Where the local stack has the user now (GET /dev/position); null when they have no position. */
async function serverPosition(config: SiteConfig, userId: string): Promise<LatLon | null> {
  const res = await fetch(`${config.httpUrl}/dev/position?userId=${encodeURIComponent(userId)}`);
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`GET /dev/position answered ${res.status}`);
  const body = (await res.json()) as { lat: number; lon: number };
  return { lat: body.lat, lon: body.lon };
}

class MapPage {
  private readonly map: MapView;
  private readonly client: NearbyFriendsClient;
  private readonly api: HttpClient;
  private self: LatLon | null = null;
  private radiusM: number | null = null;
  /** Server time minus this browser's clock, from the last `init`. */
  private clockOffsetMs = 0;
  private readonly names = new Map<string, string>();
  private friendIds: string[] = [];
  private settings: Settings | null = null;
  private readonly rows = new Map<string, HTMLLIElement>();
  private following: "server" | "device" | "fixed";
  private namesRequested = false;

  constructor(
    private readonly config: SiteConfig,
    params: PageParams,
    private readonly userId: string,
    token: TokenSource,
    initial: LatLon | null,
  ) {
    this.following = params.position.kind;
    this.map = new MapView(el("map"), {
      tileUrl: params.tileUrl,
      tileAttribution: config.tileAttribution,
      onClick: (p) => this.moveTo(p, "fixed"),
      onFollowChange: (follow) => {
        el<HTMLInputElement>("follow").checked = follow;
      },
    });
    el<HTMLInputElement>("follow").addEventListener("change", (e) =>
      this.map.setFollow((e.target as HTMLInputElement).checked),
    );
    this.api = createHttpClient({ url: config.httpUrl, token });
    this.client = connect({
      url: config.wsUrl,
      token,
      ...(initial ? { position: { ...initial, accuracyM: 10 } } : {}),
    });
    setConnectionState(this.client.state);
    if (initial) this.showSelf(initial);
    this.wire();
  }

  private wire(): void {
    for (const id of ["me", "nearby-section", "log-section", "friends-section"])
      el(id).hidden = false;
    el("me-id").textContent = `(${this.userId})`;
    el("me-name").textContent = this.userId;
    this.client.on("state", (state) => setConnectionState(state));
    this.client.on("init", (info) => {
      this.radiusM = info.radiusM;
      this.clockOffsetMs = info.serverTime - Date.now();
      this.showSelf(info.self);
    });
    this.client.on("nearby", (friend, previous) => {
      this.showFriend(friend);
      if (previous === undefined)
        this.log(
          `${this.nameOf(friend.userId)} is nearby, ${formatDistance(this.distanceTo(friend))} away`,
        );
    });
    this.client.on("away", (friend, reason) => {
      this.dropFriend(friend.userId);
      if (reason !== "closed") this.log(`${this.nameOf(friend.userId)} is no longer nearby`);
    });
    this.client.on("change", () => this.sortRows());
    this.client.on("error", (err) => showError(describe(err)));
    for (const button of document.querySelectorAll<HTMLButtonElement>("[data-ghost]"))
      button.addEventListener("click", () => this.ghost(button.dataset.ghost ?? "off"));
    setInterval(() => this.tick(), 1000);
    setInterval(() => void this.refresh(), REFRESH_EVERY_MS);
    void this.refresh();
    void this.api.getProfile().then(
      (p) => {
        el("me-name").textContent = p.displayName ?? this.userId;
      },
      (err: unknown) => showError(`profile: ${describe(err)}`),
    );
    if (this.following === "server")
      setInterval(() => void this.pollServer(), SERVER_POSITION_EVERY_MS);
    if (this.following === "device") this.watchDevice();
  }

  // --- The user's own position -------------------------------------------------------------------

  private moveTo(p: LatLon, source: "server" | "device" | "fixed"): void {
    if (source === "fixed") this.following = "fixed";
    else if (source !== this.following) return;
    this.client.updateLocation({ lat: p.lat, lon: p.lon, accuracyM: 10 });
    this.showSelf(p);
  }

  private showSelf(p: LatLon): void {
    this.self = { lat: p.lat, lon: p.lon };
    this.map.setSelf(this.self, this.radiusM);
    const how =
      this.following === "server"
        ? " (the server's: follows your other device or the simulator)"
        : this.following === "device"
          ? " (this device's location)"
          : " (click the map to move)";
    el("me-position").textContent = `${formatPosition(this.self)}${how}`;
    el("me-hint").hidden = true;
    for (const friend of this.client.friends.values()) this.showFriend(friend);
  }

  private async pollServer(): Promise<void> {
    if (this.following !== "server") return;
    try {
      const p = await serverPosition(this.config, this.userId);
      if (p !== null && (this.self === null || p.lat !== this.self.lat || p.lon !== this.self.lon))
        this.moveTo(p, "server");
    } catch (err) {
      showError(describe(err));
    }
  }

  private watchDevice(): void {
    const hint = el("me-hint");
    hint.textContent =
      "Waiting for this device's location; or click the map to put yourself there.";
    hint.hidden = false;
    if (!("geolocation" in navigator)) return;
    navigator.geolocation.watchPosition(
      (pos) => this.moveTo({ lat: pos.coords.latitude, lon: pos.coords.longitude }, "device"),
      () => {
        hint.textContent = "No location from this device: click the map to put yourself there.";
      },
      { enableHighAccuracy: true, maximumAge: 10_000 },
    );
  }

  // --- Friends -----------------------------------------------------------------------------------

  private nameOf(userId: string): string {
    const name = this.names.get(userId);
    if (name === undefined && !this.namesRequested) {
      // A friend made since the list was read: read it again.
      this.namesRequested = true;
      void this.refresh();
    }
    return name ?? userId;
  }

  /** From the user's position as this page knows it (it follows their moves at once), else the server's. */
  private distanceTo(friend: FriendPosition): number {
    return Math.round(this.self ? distanceM(this.self, friend) : friend.distanceM);
  }

  private showFriend(friend: FriendPosition): void {
    const name = this.nameOf(friend.userId);
    const approximate = friend.precision === "approximate";
    this.map.setFriend(friend.userId, friend, name, approximate);
    let row = this.rows.get(friend.userId);
    if (row === undefined) {
      row = this.makeRow(friend.userId);
      this.rows.set(friend.userId, row);
      el("nearby").append(row);
      row.classList.add("entered");
      const entered = row;
      setTimeout(() => entered.classList.remove("entered"), 2500);
    }
    const metres = this.distanceTo(friend);
    const distance = row.querySelector<HTMLElement>("[data-distance-m]");
    if (distance) {
      distance.dataset.distanceM = String(metres);
      distance.textContent = formatDistance(metres);
    }
    const label = row.querySelector<HTMLElement>(".name");
    if (label) label.textContent = name;
    row.dataset.at = String(friend.at);
    row.dataset.precision = friend.precision;
    const precision = row.querySelector<HTMLElement>(".precision");
    if (precision) precision.textContent = approximate ? "approximate position" : "";
    this.updateAge(row);
    this.updateCount();
  }

  private makeRow(userId: string): HTMLLIElement {
    const row = make(
      "li",
      {},
      make(
        "div",
        { className: "row-main" },
        make("span", { className: "name", text: userId }),
        make("span", { className: "distance" }),
      ),
      make(
        "div",
        { className: "row-sub muted" },
        make("span", { className: "age" }),
        make("span", { className: "precision" }),
      ),
      this.visibilitySelect(userId),
    );
    row.dataset.userId = userId;
    row.dataset.state = "nearby";
    const distance = row.querySelector<HTMLElement>(".distance");
    if (distance) distance.dataset.distanceM = "";
    return row;
  }

  /** "Sees me precisely / approximately / not at all", for one friend (PUT /me/settings). */
  private visibilitySelect(userId: string): HTMLLabelElement {
    const select = make("select");
    select.dataset.visibilityFor = userId;
    for (const [value, text] of [
      ["precise", "precisely"],
      ["approximate", "approximately"],
      ["hidden", "not at all"],
    ] as const) {
      const option = make("option", { text });
      option.value = value;
      select.append(option);
    }
    select.value = this.settings?.friends[userId] ?? "precise";
    select.addEventListener(
      "change",
      () => void this.setVisibility(userId, select.value as FriendVisibility | "precise"),
    );
    return make("label", { className: "sees muted", text: "sees me " }, select);
  }

  private dropFriend(userId: string): void {
    this.map.removeFriend(userId);
    this.rows.get(userId)?.remove();
    this.rows.delete(userId);
    this.updateCount();
  }

  private sortRows(): void {
    const list = el("nearby");
    const sorted = [...this.rows.entries()].sort(([, a], [, b]) => {
      const da = Number(a.querySelector<HTMLElement>("[data-distance-m]")?.dataset.distanceM);
      const db = Number(b.querySelector<HTMLElement>("[data-distance-m]")?.dataset.distanceM);
      return da - db;
    });
    sorted.forEach(([, row], i) => {
      if (list.children[i] !== row) list.insertBefore(row, list.children[i] ?? null);
    });
  }

  private updateCount(): void {
    el("nearby-count").textContent = this.rows.size > 0 ? `(${this.rows.size})` : "";
    el("nearby-empty").hidden = this.rows.size > 0;
  }

  private updateAge(row: HTMLLIElement): void {
    const age = row.querySelector<HTMLElement>(".age");
    if (age) age.textContent = formatAge(Date.now() + this.clockOffsetMs - Number(row.dataset.at));
  }

  private log(text: string): void {
    const list = el("log");
    list.prepend(
      make(
        "li",
        {},
        make("time", { text: formatClock(Date.now()) }),
        document.createTextNode(` ${text}`),
      ),
    );
    while (list.children.length > LOG_LENGTH) list.lastElementChild?.remove();
  }

  // --- Settings: ghost mode and per-friend precision ---------------------------------------------

  private async ghost(choice: string): Promise<void> {
    const update =
      choice === "off"
        ? { sharing: "on" as const, ghostUntil: null }
        : {
            sharing: "off" as const,
            ghostUntil:
              Number(choice) > 0 ? Date.now() + this.clockOffsetMs + Number(choice) : null,
          };
    try {
      this.applySettings(await this.api.updateSettings(update));
      this.log(update.sharing === "on" ? "You share your position again" : "You are a ghost");
    } catch (err) {
      showError(`ghost mode: ${describe(err)}`);
    }
  }

  private async setVisibility(userId: string, value: FriendVisibility | "precise"): Promise<void> {
    try {
      const friends: Record<string, FriendVisibility | "precise"> = {
        ...(this.settings?.friends ?? (await this.api.getSettings()).friends),
        [userId]: value,
      };
      this.applySettings(await this.api.updateSettings({ friends }));
    } catch (err) {
      showError(`precision: ${describe(err)}`);
    }
  }

  private applySettings(settings: Settings): void {
    this.settings = settings;
    for (const select of document.querySelectorAll<HTMLSelectElement>("[data-visibility-for]")) {
      const id = select.dataset.visibilityFor ?? "";
      if (document.activeElement !== select) select.value = settings.friends[id] ?? "precise";
    }
    this.tick();
  }

  private async refresh(): Promise<void> {
    try {
      const [friends, settings] = await Promise.all([
        this.api.listFriends(),
        this.api.getSettings(),
      ]);
      this.namesRequested = false;
      for (const f of friends) this.names.set(f.userId, f.displayName ?? f.userId);
      const ids = friends.map((f) => f.userId);
      if (ids.join(",") !== this.friendIds.join(",")) {
        this.friendIds = ids;
        el("friends").replaceChildren(
          ...friends.map((f) => {
            const item = make(
              "li",
              {},
              make("span", { className: "name", text: f.displayName ?? f.userId }),
            );
            item.dataset.friendId = f.userId;
            item.append(this.visibilitySelect(f.userId));
            return item;
          }),
        );
      }
      this.applySettings(settings);
      for (const friend of this.client.friends.values()) this.showFriend(friend);
    } catch (err) {
      showError(`friends: ${describe(err)}`);
    }
  }

  /** Every second: ages, and what is left of a ghost spell. */
  private tick(): void {
    for (const row of this.rows.values()) this.updateAge(row);
    const s = this.settings;
    const box = el("ghost");
    const status = el("ghost-status");
    const now = Date.now() + this.clockOffsetMs;
    const ghost =
      s !== null && s.sharing === "off" && (s.ghostUntil === null || s.ghostUntil > now);
    box.dataset.sharing = ghost ? "off" : "on";
    if (!ghost) status.textContent = "Sharing your position with friends";
    else if (s?.ghostUntil == null)
      status.textContent = "Ghost: hidden from everyone until you share again";
    else
      status.textContent = `Ghost: hidden for ${formatRemaining(s.ghostUntil - now)} more (until ${formatClock(s.ghostUntil - this.clockOffsetMs)})`;
  }
}

async function start(): Promise<void> {
  let config: SiteConfig;
  let params: PageParams;
  try {
    config = await loadConfig();
    // A live share link's page: no sign-in, one shared user (share-view.ts).
    const share = new URLSearchParams(location.search).get("share");
    if (share !== null) {
      startShareView(
        {
          wsUrl: config.wsUrl,
          tileUrl: new URLSearchParams(location.search).get("tiles") ?? config.tileUrl,
          tileAttribution: config.tileAttribution,
        },
        share,
      );
      return;
    }
    params = parsePageParams(location.search, location.hash, config);
  } catch (err) {
    setConnectionState("error");
    showError(describe(err), true);
    return;
  }
  const token = tokenSource(config, params);
  if (token === null) {
    showSignIn(config);
    return;
  }
  const userId = params.as ?? (typeof token === "string" ? tokenSubject(token) : null);
  if (userId === null) {
    setConnectionState("error");
    showError("the token is not a JWT with a sub claim", true);
    return;
  }
  let initial: LatLon | null = null;
  if (params.position.kind === "fixed") initial = params.position;
  else if (params.position.kind === "server") {
    try {
      // POST /dev/token first: it creates a user that does not exist yet.
      if (typeof token !== "string") await token({ forceRefresh: false });
      initial = await serverPosition(config, userId);
    } catch (err) {
      showError(describe(err));
    }
  }
  if (params.position.kind === "server" && initial === null) {
    // Nobody moves this user on the server: the device's location, or a click, places them.
    params = { ...params, position: { kind: "device" } };
  }
  new MapPage(config, params, userId, token, initial);
}

void start();
