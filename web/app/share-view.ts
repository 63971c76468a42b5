// The map page of a live share link (`/map?share=<token>`, docs/PROTOCOL.md §2.10): no sign-in; a
// WebSocket with `?share=`, the shared user's marker and name, "updated N s ago", and the hidden,
// offline and ended states. Markup contract (tests): `#share[data-share-state]` is `connecting`,
// `live`, `hidden`, `offline` or `ended`; the name is in `#share-name`, the age in `#share-age`.
import { formatAge } from "./format.ts";
import { MapView } from "./map-view.ts";

export interface ShareViewOptions {
  wsUrl: string;
  tileUrl: string;
  tileAttribution: string;
}

type SharedFrame =
  | {
      type: "shared";
      userId: string;
      state: "live";
      displayName: string | null;
      lat: number;
      lon: number;
      at: number;
      precision: "precise" | "approximate";
    }
  | { type: "shared"; userId: string; state: "hidden" }
  | { type: "shared"; userId: string; state: "offline"; displayName: string | null };

/** A client frame at least every 5 minutes keeps API Gateway from closing the connection. */
const PING_EVERY_MS = 4 * 60 * 1000;
const MAX_BACKOFF_MS = 30_000;

function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as T;
}

const STATE_TEXT = {
  connecting: "Connecting…",
  live: "Sharing their live position",
  hidden: "Not sharing their position right now",
  offline: "Offline: no position right now",
  ended: "This share has ended",
} as const;

export function startShareView(options: ShareViewOptions, token: string): void {
  el("share").hidden = false;
  const view = new MapView(el("map"), {
    tileUrl: options.tileUrl,
    tileAttribution: options.tileAttribution,
    onClick: () => undefined,
    onFollowChange: () => undefined,
  });
  let lastAt: number | null = null;
  let shownUser: string | null = null;
  let ended = false;
  let attempt = 0;

  const setState = (state: keyof typeof STATE_TEXT) => {
    el("share").dataset.shareState = state;
    el("share-state").textContent = STATE_TEXT[state];
    document.body.dataset.connectionState = state === "ended" ? "closed" : "open";
    const badge = el("connection");
    badge.textContent = state;
    badge.dataset.state = state;
  };
  const showName = (name: string | null, userId: string) => {
    el("share-name").textContent = name ?? userId;
  };
  const dropMarker = () => {
    if (shownUser !== null) view.removeFriend(shownUser);
    shownUser = null;
    lastAt = null;
    el("share-age").textContent = "";
  };
  setInterval(() => {
    if (lastAt !== null) el("share-age").textContent = formatAge(Date.now() - lastAt);
  }, 1000);

  const apply = (frame: SharedFrame | { type: "shareEnded" }) => {
    if (frame.type === "shareEnded") {
      ended = true;
      dropMarker();
      setState("ended");
      return;
    }
    if (frame.state === "live") {
      // Keep the newest: a push may repeat an older position (docs/PROTOCOL.md §2.6).
      if (lastAt !== null && frame.at < lastAt) return;
      lastAt = frame.at;
      shownUser = frame.userId;
      showName(frame.displayName, frame.userId);
      const label = frame.displayName ?? frame.userId;
      view.setFriend(frame.userId, frame, label, frame.precision === "approximate");
      view.fit();
      el("share-age").textContent = formatAge(Date.now() - frame.at);
      setState("live");
      return;
    }
    if (frame.state === "offline") showName(frame.displayName, frame.userId);
    dropMarker();
    setState(frame.state);
  };

  const open = () => {
    setState("connecting");
    const url = new URL(options.wsUrl);
    url.searchParams.set("share", token);
    const ws = new WebSocket(url.toString());
    const ping = setInterval(() => ws.send(JSON.stringify({ action: "ping" })), PING_EVERY_MS);
    ws.addEventListener("open", () => {
      attempt = 0;
    });
    ws.addEventListener("message", (event) => {
      try {
        const frame = JSON.parse(String(event.data)) as { type?: unknown };
        if (frame.type === "shared" || frame.type === "shareEnded")
          apply(frame as SharedFrame | { type: "shareEnded" });
      } catch {
        // not a frame of ours
      }
    });
    ws.addEventListener("close", () => {
      clearInterval(ping);
      if (ended) return;
      // A refused handshake (an ended link is 401) looks like any failure in a browser: retry
      // with backoff, up to 30 s apart.
      const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt++);
      setTimeout(open, delay);
    });
  };
  open();
}
