// The wire types of docs/PROTOCOL.md, and the few platform interfaces the SDK uses (declared
// here so that the SDK compiles without the DOM or Node typings and runs on either).

/** Error codes of the protocol (§2.7 WebSocket, §3 HTTP). */
export type ErrorCode =
  | "invalid_json"
  | "invalid_request"
  | "unknown_action"
  | "payload_too_large"
  | "not_friends"
  | "rate_limited"
  | "unavailable"
  | "init_required"
  | "internal"
  | "unauthorized"
  | "not_found"
  | "conflict";

export type Precision = "precise" | "approximate";

/** A friend as a snapshot, a `subscribed` reply or a `nearby` push shows them (§2.1). */
export interface FriendPosition {
  userId: string;
  /** The shown position: precise, or the geohash cell centre when `approximate`. */
  lat: number;
  lon: number;
  /** Metres from this user's latest stored position, rounded. */
  distanceM: number;
  /** Server time (epoch ms) of the friend's position; never goes backwards per friend. */
  at: number;
  precision: Precision;
}

/** A position the device reports (`init`, `location`). */
export interface LocationInput {
  lat: number;
  lon: number;
  /** Accuracy radius in metres (>= 0). */
  accuracyM?: number;
  /** The device's time of the fix (epoch ms); defaults to the clock's now. */
  ts?: number;
}

/** The user's own stored position, as the `init` reply gives it. */
export interface SelfPosition {
  lat: number;
  lon: number;
  at: number;
}

// ---- Client -> server frames (§2.1–§2.5) ----

export type ClientFrame =
  | ({ action: "init"; requestId?: string; limit?: number } & LocationFields)
  | ({ action: "location"; requestId?: string } & LocationFields)
  | { action: "nearbyFriends"; requestId?: string; cursor: string; limit?: number }
  | { action: "subscribe"; requestId?: string; friendId: string }
  | { action: "unsubscribe"; requestId?: string; friendId: string }
  | { action: "ping"; requestId?: string }
  | { action: "nearbyPeople"; requestId?: string; limit?: number };

interface LocationFields {
  lat: number;
  lon: number;
  accuracyM?: number;
  ts?: number;
}

// ---- Server -> client frames (§2.1–§2.7) ----

export interface InitReply {
  type: "init";
  requestId?: string;
  serverTime: number;
  radiusM: number;
  /** How often the server asks this client to report its position (§2.11); absent from older servers. */
  reportEveryS?: number;
  self: SelfPosition;
  friends: FriendPosition[];
  cursor: string | null;
}

export interface NearbyFriendsReply {
  type: "nearbyFriends";
  requestId?: string;
  friends: FriendPosition[];
  cursor: string | null;
}

export interface SubscribedReply {
  type: "subscribed";
  requestId?: string;
  friendId: string;
  friend: FriendPosition | null;
}

export interface UnsubscribedReply {
  type: "unsubscribed";
  requestId?: string;
  friendId: string;
}

export interface NearbyPeopleReply {
  type: "nearbyPeople";
  requestId?: string;
  people: NearbyPerson[];
}

export interface PongReply {
  type: "pong";
  requestId?: string;
  serverTime: number;
}

export type FriendUpdate =
  | ({ state: "nearby" } & FriendPosition)
  | { userId: string; state: "away"; at?: number };

export interface FriendsPush {
  type: "friends";
  updates: FriendUpdate[];
}

/** The reporting cadence changed (§2.11). */
export interface CadencePush {
  type: "cadence";
  reportEveryS: number;
}

export interface ErrorFrame {
  type: "error";
  requestId?: string;
  code: ErrorCode;
  message: string;
  /** Wait this long before retrying (§2.9 Overload). */
  retryAfterMs?: number;
}

export type ServerFrame =
  | InitReply
  | NearbyFriendsReply
  | SubscribedReply
  | UnsubscribedReply
  | PongReply
  | NearbyPeopleReply
  | FriendsPush
  | CadencePush
  | ErrorFrame;

/** A page of the nearby-friends snapshot (`nearbyFriends` reply). */
export interface NearbyFriendsPage {
  friends: FriendPosition[];
  cursor: string | null;
}

// ---- HTTP API (§3) ----

export interface Profile {
  userId: string;
  displayName: string | null;
}

export type FriendRequestResult = { status: "pending" } | { status: "friends" };

export interface FriendRequest {
  userId: string;
  at: number;
}

export interface FriendRequests {
  incoming: FriendRequest[];
  outgoing: FriendRequest[];
}

export interface FriendEntry {
  userId: string;
  displayName: string | null;
  since: number;
}

export type FriendVisibility = "approximate" | "hidden";

export interface Settings {
  sharing: "on" | "off";
  ghostUntil: number | null;
  /** Per-viewer choices; friends not listed see `precise`. */
  friends: Record<string, FriendVisibility>;
  /** Shown to strangers nearby (at the centre of a ~1.2 km cell only); `false` by default. */
  discoverable: boolean;
}

/** Fields of `PUT /me/settings`; fields left out keep their values, `friends` replaces the map. */
export interface SettingsUpdate {
  sharing?: "on" | "off";
  ghostUntil?: number | null;
  friends?: Record<string, FriendVisibility | "precise">;
  discoverable?: boolean;
}

/** A user the caller blocked (`GET /blocks`). */
export interface BlockEntry {
  userId: string;
  displayName: string | null;
  /** When the block was made (epoch ms). */
  since: number;
}

/** A live share link as `POST /share-links` creates it: the token is shown this once. */
export interface CreatedShareLink {
  id: string;
  token: string;
  /** The page that shows the live position (`/map?share=<token>`). */
  url: string;
  expiresAt: number;
}

/** An active share link as `GET /share-links` lists it (never its token). */
export interface ShareLinkEntry {
  id: string;
  precision: Precision;
  createdAt: number;
  expiresAt: number;
}

/** A discoverable stranger nearby (`nearbyPeople`, §2.12): always at a ~1.2 km cell's centre. */
export interface NearbyPerson {
  userId: string;
  displayName: string | null;
  lat: number;
  lon: number;
  distanceM: number;
  precision: "approximate";
}

export interface HistoryItem {
  lat: number;
  lon: number;
  at: number;
  clientTs: number | null;
  accuracyM: number | null;
}

export interface HistoryPage {
  items: HistoryItem[];
  cursor: string | null;
}

export interface HistoryQuery {
  /** Server times, inclusive. */
  from?: number;
  to?: number;
  /** 1–500, default 100. */
  limit?: number;
  cursor?: string;
}

// ---- Platform interfaces (injectable) ----

/** The part of the standard WebSocket API the SDK uses (browsers, React Native, `ws`). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code?: number; reason?: string }> | null;
  onerror: Handler<unknown> | null;
}

/**
 * An event handler, checked bivariantly (as DOM typings do), so that implementations whose
 * handlers take richer event types (the DOM's, `ws`'s) are accepted.
 */
type Handler<E> = { bivarianceHack(event: E): void }["bivarianceHack"];

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** The part of `fetch` the HTTP client uses. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
) => Promise<{ status: number; text(): Promise<string> }>;

/** Timers and time; injectable so that tests drive them. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * A JWT, or a function that returns one (called for every connection attempt and HTTP request;
 * cache the token and return the cached one while it is valid). `forceRefresh` is true after the
 * server refused the previous token (HTTP 401).
 */
export type TokenSource =
  | string
  | ((context: { forceRefresh: boolean }) => string | Promise<string>);
