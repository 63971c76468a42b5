// The WebSocket session of one user (docs/PROTOCOL.md §2): connection state machine, reconnect
// with jittered backoff, init after every (re)connect, keepalive, a proactive reconnect before
// the 2-hour cap, frame pacing under the rate limit, request/response by requestId, and the
// friends model fed by replies and pushes.
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from "./backoff.ts";
import { Emitter } from "./emitter.ts";
import { ClosedError, NearbyFriendsError, TimeoutError } from "./errors.ts";
import { type AwayReason, FriendsModel, type ModelDiff } from "./model.ts";
import { defaultWebSocket, systemClock } from "./platform.ts";
import type {
  Clock,
  ErrorFrame,
  FriendPosition,
  FriendsPush,
  InitReply,
  LocationInput,
  NearbyFriendsPage,
  NearbyFriendsReply,
  NearbyPeopleReply,
  NearbyPerson,
  PongReply,
  SelfPosition,
  ServerFrame,
  SubscribedReply,
  TokenSource,
  WebSocketConstructor,
  WebSocketLike,
} from "./types.ts";

export type ConnectionState =
  /** Opening the first connection (retrying with backoff until one opens). */
  | "connecting"
  /** A WebSocket is open. */
  | "open"
  /** The connection was lost; waiting for the backoff delay or opening a new one. */
  | "reconnecting"
  /** `close()` was called; nothing more happens. */
  | "closed";

export interface ConnectOptions {
  /** The WebSocket API's URL, without the token: `wss://…/dev` or `ws://127.0.0.1:4001`. */
  url: string;
  /** The user's JWT, or a function returning it, called again for every (re)connection. */
  token: TokenSource;
  /** The position to announce in the first `init` (else `init` waits for `updateLocation`). */
  position?: LocationInput;
  /** The WebSocket implementation. @default globalThis.WebSocket */
  WebSocket?: WebSocketConstructor;
  /** Time and timers. @default Date.now and the platform's timers */
  clock?: Clock;
  /** Random numbers in [0, 1) for the backoff jitter. @default Math.random */
  random?: () => number;
  /** Reconnect backoff (also used to retry frames answered `unavailable`). @default DEFAULT_BACKOFF */
  backoff?: Partial<BackoffOptions>;
  /** A request (and `init`) without a reply after this long fails with TimeoutError. @default 10000 */
  requestTimeoutMs?: number;
  /** A connection attempt not open after this long is abandoned and retried. @default 10000 */
  connectTimeoutMs?: number;
  /** Send a `ping` after this long without sending any frame (§2.5: at least every 5 min). @default 300000 */
  pingIntervalMs?: number;
  /**
   * Send the latest position again after this long without sending one, so that friends keep
   * seeing this user while the device stands still (§2.3: the server's HEARTBEAT_S is 60 s);
   * 0 turns it off. @default 55000
   */
  heartbeatMs?: number;
  /** Open a new connection (then close the old one) after this long (§2.9: AWS closes at 2 h); 0 turns it off. @default 6900000 (1 h 55 min) */
  maxConnectionAgeMs?: number;
  /** The least time between two frames on one connection (§2.9: 10 frames/s). @default 110 */
  minFrameIntervalMs?: number;
  /** `limit` of `init` and of the pages fetched after it (1–100). @default 100 */
  pageSize?: number;
  /** How often a request answered `unavailable` or `rate_limited` is sent again before it fails. @default 3 */
  maxRetries?: number;
  /**
   * Report positions at the cadence the server asks for (§2.11: `reportEveryS`): at most one
   * `location` per `reportEveryS` while the position changes, and the position again after
   * max(`reportEveryS`, `heartbeatMs`) while it does not. `false` sends every position the app
   * reports (paced) and keeps the heartbeat. @default true
   */
  followCadence?: boolean;
}

/** What an `init` reply told, once its snapshot (all its pages) is applied. */
export interface SessionInfo {
  /** The user's stored position. */
  self: SelfPosition;
  radiusM: number;
  serverTime: number;
  /** The reporting cadence the server asked for in that reply (§2.11), if it sent one. */
  reportEveryS?: number;
}

export interface ClientEvents {
  /** A friend appeared or moved (`previous` is undefined when they appeared). */
  nearby: (friend: FriendPosition, previous: FriendPosition | undefined) => void;
  /** A friend left `client.friends`; `friend` is their last known position. */
  away: (friend: FriendPosition, reason: AwayReason) => void;
  /** `client.friends` changed (once per push, reply or snapshot, after its nearby/away events). */
  change: (friends: ReadonlyMap<string, FriendPosition>, diffs: readonly ModelDiff[]) => void;
  /** Something the SDK could not handle itself: a refused frame or token provider failure. */
  error: (error: Error) => void;
  state: (state: ConnectionState, previous: ConnectionState) => void;
  /** An `init` snapshot was applied (after every (re)connect, `init_required` and `resync()`). */
  init: (info: SessionInfo) => void;
  /** The server asked for another reporting cadence (§2.11), in an `init` reply or a push. */
  cadence: (reportEveryS: number) => void;
}

interface Resolved {
  url: string;
  token: TokenSource;
  WebSocket: WebSocketConstructor;
  clock: Clock;
  random: () => number;
  backoff: BackoffOptions;
  requestTimeoutMs: number;
  connectTimeoutMs: number;
  pingIntervalMs: number;
  heartbeatMs: number;
  maxConnectionAgeMs: number;
  minFrameIntervalMs: number;
  pageSize: number;
  maxRetries: number;
  followCadence: boolean;
}

/** One WebSocket and what is tied to it. */
interface Link {
  ws: WebSocketLike;
  open: boolean;
  openedAt: number;
  lastSentAt: number;
  /** No frame before this time (after a `rate_limited`). */
  pausedUntil: number;
  flushTimer: unknown;
  connectTimer: unknown;
  lastKind: "position" | "request" | null;
  /** This connection has to send `init` before anything but requests made without a position. */
  initNeeded: boolean;
  /** The sequence number of the last `init` sent on this connection (0: none). */
  initSeq: number;
  /** It answered something successfully (the backoff starts over after it). */
  healthy: boolean;
}

type RequestFrame =
  | { action: "nearbyFriends"; cursor: string; limit?: number }
  | { action: "subscribe"; friendId: string }
  | { action: "unsubscribe"; friendId: string }
  | { action: "ping" }
  | { action: "nearbyPeople"; limit?: number };

interface Pending {
  frame: RequestFrame;
  expect: ServerFrame["type"];
  resolve: (reply: ServerFrame) => void;
  reject: (error: Error) => void;
  attempts: number;
  deadline: unknown;
  retryTimer: unknown;
  /** The connection it went out on, while waiting for the reply. */
  link: Link | null;
  /** Fail with ClosedError rather than resend when its connection is lost. */
  boundToLink: boolean;
  /** The keepalive ping: a timeout means the connection is dead. */
  keepalive: boolean;
}

interface StoredPosition {
  lat: number;
  lon: number;
  accuracyM: number | undefined;
  ts: number;
}

type TimerName =
  | "reconnect"
  | "handover"
  | "age"
  | "idle"
  | "heartbeat"
  | "locationRetry"
  | "cadence"
  | "initRetry"
  | "initReply"
  | "retire";

const WS_OPEN = 1;

/**
 * A live session: create it with `connect()`. It keeps one WebSocket open (reconnecting as needed)
 * and `friends` up to date; see the README's "Client SDK" section.
 */
export class NearbyFriendsClient {
  private readonly o: Resolved;
  private readonly events: Emitter<ClientEvents>;
  private readonly model = new FriendsModel();
  private currentState: ConnectionState = "connecting";
  private link: Link | null = null;
  /** A connection being opened (a reconnect, or the replacement of an old one). */
  private connecting: Link | null = null;
  /** The connection being replaced, kept until the new one has its snapshot. */
  private retiring: Link | null = null;
  private attemptId = 0;
  private connectAttempts = 0;
  private replaceAttempts = 0;
  /** The last attempt did not open: the server may have refused the token. */
  private lastAttemptFailed = false;
  private everOpened = false;

  private position: StoredPosition | null = null;
  private locationDirty = false;
  /** The reporting cadence in force (ms; null: none asked for), and when a position last went. */
  private reportEveryMs: number | null = null;
  private lastPositionSentAt = Number.NEGATIVE_INFINITY;
  /** The next position goes whatever the cadence (a heartbeat, or the resend of a refused one). */
  private positionDue = false;
  private lastPositionSeq = 0;
  private locationAttempts = 0;
  private initAttempts = 0;
  private latestInitSeq = 0;
  private snapshotGeneration = 0;
  private seq = 0;

  private readonly queue: Pending[] = [];
  private readonly inFlight = new Map<string, Pending>();
  private readonly initWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  private sessionInfo: SessionInfo | null = null;
  private readonly timers: Record<TimerName, unknown> = {
    reconnect: null,
    handover: null,
    age: null,
    idle: null,
    heartbeat: null,
    locationRetry: null,
    cadence: null,
    initRetry: null,
    initReply: null,
    retire: null,
  };

  constructor(options: ConnectOptions) {
    const clock = options.clock ?? systemClock;
    this.o = {
      url: options.url,
      token: options.token,
      WebSocket: options.WebSocket ?? defaultWebSocket(),
      clock,
      random: options.random ?? Math.random,
      backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      pingIntervalMs: options.pingIntervalMs ?? 300_000,
      heartbeatMs: options.heartbeatMs ?? 55_000,
      maxConnectionAgeMs: options.maxConnectionAgeMs ?? 115 * 60_000,
      minFrameIntervalMs: options.minFrameIntervalMs ?? 110,
      pageSize: Math.min(100, Math.max(1, Math.floor(options.pageSize ?? 100))),
      maxRetries: options.maxRetries ?? 3,
      followCadence: options.followCadence ?? true,
    };
    // A listener's exception surfaces on its own turn, as an uncaught error, without
    // breaking the session's state.
    this.events = new Emitter<ClientEvents>((error) =>
      clock.setTimeout(() => {
        throw error;
      }, 0),
    );
    if (options.position) this.setPosition(options.position);
    void this.openLink();
  }

  // ---------------------------------------------------------------- public API

  /** The nearby friends by userId: a live read-only view (copy it to keep a snapshot). */
  get friends(): ReadonlyMap<string, FriendPosition> {
    return this.model.friends;
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** What the last applied `init` reply said (own stored position, radius), or null before it. */
  get session(): SessionInfo | null {
    return this.sessionInfo;
  }

  /** The reporting cadence the server asked for (§2.11), in seconds, or null before it did. */
  get reportEveryS(): number | null {
    return this.reportEveryMs === null ? null : this.reportEveryMs / 1000;
  }

  /** Listen to an event; returns a function that stops listening. */
  on<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): () => void {
    return this.events.on(event, listener);
  }

  /** Listen to the next occurrence of an event only. */
  once<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): () => void {
    return this.events.once(event, listener);
  }

  off<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): void {
    this.events.off(event, listener);
  }

  /**
   * Report the device's position. Fire and forget: frames are paced, so when several updates
   * wait for their turn only the latest is sent. The first one (when `connect` had no
   * `position`) is sent as `init`. Throws NearbyFriendsError `invalid_request` on a bad value.
   */
  updateLocation(location: LocationInput): void {
    this.assertOpen();
    this.setPosition(location);
    this.locationAttempts = 0;
    this.clear("locationRetry");
    if (!this.link?.initNeeded) this.locationDirty = true;
    this.flush();
  }

  /**
   * Follow a friend (for a friendship made after the connection's `init`): resolves with their
   * position when they are nearby, else null; the model follows the reply. Fails with
   * NearbyFriendsError `not_friends` for someone who is not a friend.
   */
  async subscribe(friendId: string): Promise<FriendPosition | null> {
    const reply = (await this.request(
      { action: "subscribe", friendId },
      "subscribed",
    )) as SubscribedReply;
    this.applyDiffs(this.model.applySubscribed(friendId, reply.friend));
    return reply.friend;
  }

  /**
   * Stop following a friend: they leave `friends` at once (an `away` with reason "unsubscribed"),
   * and stay unfollowed after reconnects until `subscribe`.
   */
  async unsubscribe(friendId: string): Promise<void> {
    this.assertOpen();
    this.applyDiffs(this.model.unfollow(friendId));
    await this.request({ action: "unsubscribe", friendId }, "unsubscribed");
  }

  /**
   * A further page of the snapshot (§2.2). The SDK fetches every page after each `init` itself,
   * so this is only for reading a cursor on one's own; it does not change `friends`.
   */
  async nearbyFriends(cursor: string, limit?: number): Promise<NearbyFriendsPage> {
    const reply = (await this.request(
      { action: "nearbyFriends", cursor, ...(limit === undefined ? {} : { limit }) },
      "nearbyFriends",
    )) as NearbyFriendsReply;
    return { friends: reply.friends, cursor: reply.cursor };
  }
  /**
   * Discoverable strangers nearby (§2.12), nearest first, at most `limit` (1–50, default 20),
   * each at the centre of a ~1.2 km cell. Not kept up to date: ask again to refresh.
   */
  async nearbyPeople(limit?: number): Promise<NearbyPerson[]> {
    const reply = (await this.request(
      { action: "nearbyPeople", ...(limit === undefined ? {} : { limit }) },
      "nearbyPeople",
    )) as NearbyPeopleReply;
    return reply.people;
  }

  /** A round trip; resolves with the server's time. */
  async ping(): Promise<{ serverTime: number }> {
    const reply = (await this.request({ action: "ping" }, "pong")) as PongReply;
    return { serverTime: reply.serverTime };
  }

  /**
   * Send `init` again (e.g. to have distances measured from a new own position at once, §2.6);
   * resolves once the new snapshot is applied. Needs a position.
   */
  resync(): Promise<void> {
    this.assertOpen();
    if (!this.position) {
      return Promise.reject(
        new NearbyFriendsError("invalid_request", "resync needs a position: call updateLocation"),
      );
    }
    const done = this.nextInit();
    if (this.link) {
      this.link.initNeeded = true;
      this.flush();
    }
    return done;
  }

  /** Close the connection for good: pending requests fail with ClosedError, `friends` empties. */
  close(): void {
    if (this.currentState === "closed") return;
    this.setState("closed");
    for (const key of Object.keys(this.timers) as TimerName[]) this.clear(key);
    for (const link of [this.link, this.connecting, this.retiring]) {
      if (link) this.detach(link, 1000, "client closed");
    }
    this.link = null;
    this.connecting = null;
    this.retiring = null;
    this.attemptId++;
    const closed = new ClosedError();
    for (const p of [...this.queue, ...this.inFlight.values()]) this.settle(p, closed);
    this.queue.length = 0;
    this.inFlight.clear();
    for (const w of this.initWaiters.splice(0)) w.reject(closed);
    this.applyDiffs(this.model.clear("closed"));
  }

  // ---------------------------------------------------------------- connections

  private async openLink(): Promise<void> {
    const attempt = ++this.attemptId;
    let token: string;
    try {
      const source = this.o.token;
      token =
        typeof source === "string"
          ? source
          : await source({ forceRefresh: this.lastAttemptFailed });
    } catch (err) {
      if (attempt !== this.attemptId || this.currentState === "closed") return;
      this.emitError(
        new NearbyFriendsError("unauthorized", "the token provider failed", { cause: err }),
      );
      this.connectFailed();
      return;
    }
    if (attempt !== this.attemptId || this.currentState === "closed") return;
    const url = `${this.o.url}${this.o.url.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
    let ws: WebSocketLike;
    try {
      ws = new this.o.WebSocket(url);
    } catch (err) {
      this.emitError(err instanceof Error ? err : new Error(String(err)));
      this.connectFailed();
      return;
    }
    const link: Link = {
      ws,
      open: false,
      openedAt: 0,
      lastSentAt: Number.NEGATIVE_INFINITY,
      pausedUntil: 0,
      flushTimer: null,
      connectTimer: null,
      lastKind: null,
      initNeeded: true,
      initSeq: 0,
      healthy: false,
    };
    this.connecting = link;
    link.connectTimer = this.o.clock.setTimeout(() => {
      link.connectTimer = null;
      this.lost(link, 4000, "connect timeout");
    }, this.o.connectTimeoutMs);
    ws.onopen = () => this.opened(link);
    ws.onmessage = (event) => this.received(link, event.data);
    ws.onclose = () => this.lost(link);
    ws.onerror = () => undefined; // a close event follows
  }

  private opened(link: Link): void {
    if (link !== this.connecting) return;
    this.o.clock.clearTimeout(link.connectTimer);
    this.connecting = null;
    link.open = true;
    link.openedAt = this.o.clock.now();
    const previous = this.link;
    this.link = link;
    this.everOpened = true;
    this.lastAttemptFailed = false;
    this.clear("reconnect");
    this.clear("handover");
    if (previous) {
      // A replacement: the old connection stays until this one has its snapshot (no gap, and
      // the user does not go offline in between).
      this.replaceAttempts = 0;
      if (this.retiring) this.retire();
      this.retiring = previous;
      this.clear("retire");
      if (this.position) {
        this.timers.retire = this.o.clock.setTimeout(() => this.retire(), this.o.requestTimeoutMs);
      } else {
        this.retire();
      }
    }
    this.setState("open");
    this.clear("age");
    if (this.o.maxConnectionAgeMs > 0) {
      this.timers.age = this.o.clock.setTimeout(() => {
        this.timers.age = null;
        this.replace();
      }, this.o.maxConnectionAgeMs);
    }
    this.armIdle();
    this.flush();
  }

  /** Open a new connection before the old one reaches its age limit. */
  private replace(): void {
    if (this.currentState === "closed" || this.connecting) return;
    void this.openLink();
  }

  private retire(): void {
    this.clear("retire");
    const old = this.retiring;
    if (!old) return;
    this.retiring = null;
    this.detach(old, 1000, "replaced");
    this.requeueFrom(old);
  }

  /** A connection closed, failed to open, or was given up on. */
  private lost(link: Link, code?: number, reason?: string): void {
    this.detach(link, code ?? 1000, reason ?? "");
    if (this.currentState === "closed") return;
    if (link === this.connecting) {
      this.connecting = null;
      this.connectFailed();
      return;
    }
    if (link === this.retiring) {
      this.retiring = null;
      this.requeueFrom(link);
      return;
    }
    if (link !== this.link) return;
    const old = this.retiring;
    if (old?.open) {
      // The replacement died before its snapshot: the old connection carries on.
      this.retiring = null;
      for (const key of ["retire", "age", "initReply", "initRetry"] as const) this.clear(key);
      this.link = old;
      this.requeueFrom(link);
      this.armIdle();
      this.replaceLater();
      return;
    }
    this.link = null;
    for (const key of ["age", "idle", "heartbeat", "initReply", "initRetry"] as const) {
      this.clear(key);
    }
    if (link.healthy || this.o.clock.now() - link.openedAt >= 60_000) this.connectAttempts = 0;
    this.requeueFrom(link);
    this.setState("reconnecting");
    if (!this.connecting) this.scheduleReconnect();
  }

  private connectFailed(): void {
    this.lastAttemptFailed = true;
    if (this.link?.open) {
      // A replacement failed while the old connection still works: try again later.
      this.replaceLater();
      return;
    }
    if (this.everOpened) this.setState("reconnecting");
    this.scheduleReconnect();
  }

  private replaceLater(): void {
    this.clear("handover");
    const delay = backoffDelay(this.replaceAttempts++, this.o.backoff, this.o.random);
    this.timers.handover = this.o.clock.setTimeout(() => {
      this.timers.handover = null;
      this.replace();
    }, delay);
  }

  private scheduleReconnect(): void {
    this.clear("reconnect");
    const delay = backoffDelay(this.connectAttempts++, this.o.backoff, this.o.random);
    this.timers.reconnect = this.o.clock.setTimeout(() => {
      this.timers.reconnect = null;
      void this.openLink();
    }, delay);
  }

  /** Stop listening to a socket and close it. */
  private detach(link: Link, code: number, reason: string): void {
    link.open = false;
    this.o.clock.clearTimeout(link.flushTimer);
    this.o.clock.clearTimeout(link.connectTimer);
    link.flushTimer = null;
    link.connectTimer = null;
    const ws = link.ws;
    ws.onopen = null;
    ws.onmessage = null;
    ws.onclose = null;
    ws.onerror = () => undefined;
    try {
      ws.close(code, reason);
    } catch {
      // already closing
    }
  }

  /** Requests waiting for a reply on a lost connection go out again on the next one. */
  private requeueFrom(link: Link): void {
    const again: Pending[] = [];
    for (const [id, p] of this.inFlight) {
      if (p.link !== link) continue;
      this.inFlight.delete(id);
      p.link = null;
      if (p.keepalive) this.settle(p, null);
      else if (p.boundToLink) this.settle(p, new ClosedError("the connection was lost"));
      else again.push(p);
    }
    this.queue.unshift(...again);
    this.flush();
  }

  // ---------------------------------------------------------------- sending

  /** Send the next frame when the pacing allows, and schedule the one after. */
  private flush(): void {
    const link = this.link;
    if (!link?.open || link.flushTimer !== null) return;
    const next = this.nextFrame(link);
    if (!next) return;
    const now = this.o.clock.now();
    const readyAt = Math.max(link.lastSentAt + this.o.minFrameIntervalMs, link.pausedUntil);
    if (now < readyAt) {
      link.flushTimer = this.o.clock.setTimeout(() => {
        link.flushTimer = null;
        this.flush();
      }, readyAt - now);
      return;
    }
    next();
    if (this.nextFrame(link)) {
      link.flushTimer = this.o.clock.setTimeout(() => {
        link.flushTimer = null;
        this.flush();
      }, this.o.minFrameIntervalMs);
    }
  }

  /** What goes next on `link`: init first, then location and requests in turn. */
  private nextFrame(link: Link): (() => void) | null {
    if (link.initNeeded && this.position) return () => this.sendInit(link);
    const location = this.locationDirty && this.position !== null && this.cadenceAllows();
    const request = this.queue.length > 0;
    if (location && (!request || link.lastKind !== "position")) {
      return () => this.sendLocation(link);
    }
    if (request) return () => this.sendRequest(link);
    return null;
  }

  /**
   * Whether the cadence lets a position go now (§2.11); if not, a timer flushes when it does. The
   * position waiting meanwhile is replaced by newer ones (the latest goes).
   */
  private cadenceAllows(): boolean {
    if (!this.o.followCadence || this.reportEveryMs === null || this.positionDue) return true;
    const dueAt = this.lastPositionSentAt + this.reportEveryMs;
    const wait = dueAt - this.o.clock.now();
    if (wait <= 0) return true;
    if (this.timers.cadence === null) {
      this.timers.cadence = this.o.clock.setTimeout(() => {
        this.timers.cadence = null;
        this.flush();
      }, wait);
    }
    return false;
  }

  /** A new cadence from the server: in force at once (a position waiting may go now). */
  private setCadence(reportEveryS: unknown): void {
    if (typeof reportEveryS !== "number" || !Number.isFinite(reportEveryS) || reportEveryS <= 0)
      return;
    const ms = reportEveryS * 1000;
    if (ms === this.reportEveryMs) return;
    this.reportEveryMs = ms;
    this.clear("cadence");
    this.armHeartbeat();
    this.events.emit("cadence", reportEveryS);
    this.flush();
  }

  private write(link: Link, frame: Record<string, unknown>, kind: "position" | "request"): void {
    link.lastSentAt = this.o.clock.now();
    if (kind === "position") {
      this.lastPositionSentAt = link.lastSentAt;
      this.positionDue = false;
    }
    link.lastKind = kind;
    if (link.ws.readyState === WS_OPEN) link.ws.send(JSON.stringify(frame));
    this.armIdle();
  }

  private positionFields(): Record<string, unknown> {
    const p = this.position as StoredPosition;
    return {
      lat: p.lat,
      lon: p.lon,
      ...(p.accuracyM === undefined ? {} : { accuracyM: p.accuracyM }),
      ts: p.ts,
    };
  }

  private sendInit(link: Link): void {
    const seq = ++this.seq;
    link.initNeeded = false;
    link.initSeq = seq;
    this.latestInitSeq = seq;
    this.lastPositionSeq = seq;
    this.locationDirty = false;
    this.clear("initRetry");
    this.write(
      link,
      { action: "init", requestId: `i${seq}`, ...this.positionFields(), limit: this.o.pageSize },
      "position",
    );
    this.armHeartbeat();
    this.clear("initReply");
    this.timers.initReply = this.o.clock.setTimeout(() => {
      this.timers.initReply = null;
      // No snapshot in time: the connection is taken as dead.
      if (link === this.link) this.lost(link, 4000, "init timeout");
    }, this.o.requestTimeoutMs);
  }

  private sendLocation(link: Link): void {
    const seq = ++this.seq;
    this.lastPositionSeq = seq;
    this.locationDirty = false;
    this.write(
      link,
      { action: "location", requestId: `l${seq}`, ...this.positionFields() },
      "position",
    );
    this.armHeartbeat();
  }

  private sendRequest(link: Link): void {
    const p = this.queue.shift();
    if (!p) return;
    const requestId = `r${++this.seq}`;
    p.attempts++;
    p.link = link;
    this.inFlight.set(requestId, p);
    this.write(link, { ...p.frame, requestId }, "request");
  }

  private request(
    frame: RequestFrame,
    expect: ServerFrame["type"],
    flags: { boundToLink?: boolean; keepalive?: boolean } = {},
  ): Promise<ServerFrame> {
    if (this.currentState === "closed") return Promise.reject(new ClosedError());
    return new Promise<ServerFrame>((resolve, reject) => {
      const p: Pending = {
        frame,
        expect,
        resolve,
        reject,
        attempts: 0,
        deadline: null,
        retryTimer: null,
        link: null,
        boundToLink: flags.boundToLink ?? false,
        keepalive: flags.keepalive ?? false,
      };
      p.deadline = this.o.clock.setTimeout(() => {
        p.deadline = null;
        const link = p.link;
        this.forget(p);
        this.settle(p, new TimeoutError(frame.action, this.o.requestTimeoutMs));
        if (p.keepalive && link && link === this.link) this.lost(link, 4000, "ping timeout");
      }, this.o.requestTimeoutMs);
      this.queue.push(p);
      this.flush();
    });
  }

  /** Take a request out of the queue and of the in-flight table. */
  private forget(p: Pending): void {
    const i = this.queue.indexOf(p);
    if (i >= 0) this.queue.splice(i, 1);
    for (const [id, q] of this.inFlight) if (q === p) this.inFlight.delete(id);
  }

  /** Resolve (error null and a reply) or reject a request, once. */
  private settle(p: Pending, error: Error | null, reply?: ServerFrame): void {
    this.o.clock.clearTimeout(p.deadline);
    this.o.clock.clearTimeout(p.retryTimer);
    p.deadline = null;
    p.retryTimer = null;
    if (p.keepalive && error) {
      p.resolve({ type: "pong", serverTime: 0 });
      return;
    }
    if (error) p.reject(error);
    else if (reply) p.resolve(reply);
  }

  private retryLater(p: Pending, delayMs: number): void {
    p.link = null;
    p.retryTimer = this.o.clock.setTimeout(() => {
      p.retryTimer = null;
      this.queue.unshift(p);
      this.flush();
    }, delayMs);
  }

  /** A ping after `pingIntervalMs` without any frame sent (§2.5). */
  private armIdle(): void {
    this.clear("idle");
    if (!this.link?.open || this.o.pingIntervalMs <= 0) return;
    this.timers.idle = this.o.clock.setTimeout(() => {
      this.timers.idle = null;
      this.request({ action: "ping" }, "pong", { keepalive: true }).catch(() => undefined);
    }, this.o.pingIntervalMs);
  }

  /**
   * The latest position again after `heartbeatMs` without sending one (§2.3), or after the
   * reporting cadence when that is slower (§2.11: nobody watches closely, presence is enough),
   * but 1 s before the keepalive `ping` would be due, so that one frame does for both.
   */
  private armHeartbeat(): void {
    this.clear("heartbeat");
    if (this.o.heartbeatMs <= 0) return;
    const cadence = this.o.followCadence ? (this.reportEveryMs ?? 0) : 0;
    let every = Math.max(this.o.heartbeatMs, cadence);
    if (this.o.pingIntervalMs > 0 && every >= this.o.pingIntervalMs)
      every = Math.max(this.o.heartbeatMs, this.o.pingIntervalMs - 1000);
    const sinceLast = Math.max(0, this.o.clock.now() - this.lastPositionSentAt);
    const after = Math.max(0, every - sinceLast);
    this.timers.heartbeat = this.o.clock.setTimeout(() => {
      this.timers.heartbeat = null;
      if (!this.position) return;
      this.positionDue = true;
      this.locationDirty = true;
      this.flush();
    }, after);
  }

  // ---------------------------------------------------------------- receiving

  private received(link: Link, data: unknown): void {
    let frame: unknown;
    try {
      frame = JSON.parse(typeof data === "string" ? data : String(data));
    } catch {
      this.emitError(
        new NearbyFriendsError("internal", "the server sent a frame that is not JSON"),
      );
      return;
    }
    if (typeof frame !== "object" || frame === null) return;
    const f = frame as ServerFrame | { type?: undefined; message?: unknown };
    if (typeof f.type !== "string") {
      // API Gateway's own frame when a route function crashed (§2.7): like `internal`.
      const message = typeof f.message === "string" ? f.message : "the server failed";
      this.emitError(new NearbyFriendsError("internal", message));
      return;
    }
    const known = f as ServerFrame;
    if (known.type === "friends") {
      this.applyDiffs(this.model.applyPush((known as FriendsPush).updates ?? []));
      return;
    }
    if (known.type === "cadence") {
      this.setCadence(known.reportEveryS);
      return;
    }
    if (known.type === "error") {
      this.failed(link, known);
      return;
    }
    link.healthy = true;
    const requestId = known.requestId;
    if (!requestId) return;
    if (known.type === "init" && requestId.startsWith("i")) {
      this.initReplied(link, known, seqOf(requestId));
      return;
    }
    const p = this.inFlight.get(requestId);
    if (!p) return; // a reply after its request timed out
    this.inFlight.delete(requestId);
    if (known.type !== p.expect) {
      this.settle(
        p,
        new NearbyFriendsError("internal", `expected a ${p.expect} reply, got ${known.type}`),
      );
      return;
    }
    this.settle(p, null, known);
  }

  private failed(link: Link, frame: ErrorFrame): void {
    const error = new NearbyFriendsError(frame.code, frame.message ?? frame.code, {
      ...(frame.retryAfterMs === undefined ? {} : { retryAfterMs: frame.retryAfterMs }),
      ...(frame.requestId === undefined ? {} : { requestId: frame.requestId }),
    });
    // Over the connection's rate limit: nothing more on it for the rest of the 1 s window.
    if (frame.code === "rate_limited" && frame.retryAfterMs === undefined) {
      link.pausedUntil = this.o.clock.now() + 1000;
    }
    const id = frame.requestId ?? "";
    if (frame.code === "init_required") this.needInit(link, seqOf(id));
    const p = this.inFlight.get(id);
    if (id.startsWith("i")) this.initFailed(link, error, seqOf(id));
    else if (id.startsWith("l")) this.locationFailed(error, seqOf(id));
    else if (p) {
      this.inFlight.delete(id);
      this.requestFailed(p, error);
    } else this.emitError(error);
  }

  /** The server lost the session: `init` again, unless one went out after the refused frame. */
  private needInit(link: Link, refusedSeq: number): void {
    if (link !== this.link || link.initSeq > refusedSeq) return;
    link.initNeeded = true;
    this.flush();
  }

  private requestFailed(p: Pending, error: NearbyFriendsError): void {
    const retriesLeft = p.attempts <= this.o.maxRetries;
    if (error.code === "init_required" && this.position) {
      this.retryLater(p, 0); // after the init that needInit queued
    } else if (error.code === "rate_limited" && retriesLeft) {
      this.retryLater(p, error.retryAfterMs ?? 1000);
    } else if (error.code === "unavailable" && retriesLeft) {
      const delay = backoffDelay(p.attempts - 1, this.o.backoff, this.o.random);
      this.retryLater(p, error.retryAfterMs ?? delay);
    } else {
      this.settle(p, error);
    }
  }

  private locationFailed(error: NearbyFriendsError, seq: number): void {
    if (error.code === "init_required") return; // the init carries the latest position
    if (error.code !== "rate_limited" && error.code !== "unavailable") {
      this.emitError(error);
      return;
    }
    // Resend the latest position after the delay, unless a newer frame carries it by then.
    if (this.lastPositionSeq > seq) return;
    const delay =
      error.retryAfterMs ??
      (error.code === "rate_limited"
        ? 1000
        : backoffDelay(this.locationAttempts++, this.o.backoff, this.o.random));
    this.clear("locationRetry");
    this.timers.locationRetry = this.o.clock.setTimeout(() => {
      this.timers.locationRetry = null;
      if (this.lastPositionSeq > seq) return;
      // The refused position did not count: the resend does not wait for the cadence.
      this.positionDue = true;
      this.locationDirty = true;
      this.flush();
    }, delay);
  }

  private initFailed(link: Link, error: NearbyFriendsError, seq: number): void {
    if (seq !== this.latestInitSeq || link !== this.link) return;
    this.clear("initReply");
    let delay: number;
    switch (error.code) {
      case "rate_limited":
        delay = error.retryAfterMs ?? 1000;
        break;
      case "unavailable":
      case "internal":
      case "init_required":
        delay =
          error.retryAfterMs ?? backoffDelay(this.initAttempts++, this.o.backoff, this.o.random);
        break;
      default:
        this.emitError(error);
        return;
    }
    this.clear("initRetry");
    this.timers.initRetry = this.o.clock.setTimeout(() => {
      this.timers.initRetry = null;
      if (link !== this.link) return;
      link.initNeeded = true;
      this.flush();
    }, delay);
  }

  private initReplied(link: Link, reply: InitReply, seq: number): void {
    if (seq !== this.latestInitSeq) return; // a newer init is on its way
    if (link === this.link) this.clear("initReply");
    this.initAttempts = 0;
    this.setCadence(reply.reportEveryS);
    const generation = ++this.snapshotGeneration;
    this.model.beginSnapshot();
    void this.completeSnapshot(link, reply, generation);
  }

  /** Fetch the snapshot's further pages, then apply it whole. */
  private async completeSnapshot(link: Link, reply: InitReply, generation: number): Promise<void> {
    const friends = [...reply.friends];
    let cursor = reply.cursor;
    let complete = true;
    while (cursor !== null) {
      try {
        const page = (await this.request(
          { action: "nearbyFriends", cursor, limit: this.o.pageSize },
          "nearbyFriends",
          { boundToLink: true },
        )) as NearbyFriendsReply;
        if (generation !== this.snapshotGeneration) return;
        friends.push(...page.friends);
        cursor = page.cursor;
      } catch (err) {
        if (generation !== this.snapshotGeneration || this.currentState === "closed") return;
        // The connection was lost: the next one sends init and takes a new snapshot.
        if (err instanceof ClosedError) return;
        this.emitError(err instanceof Error ? err : new Error(String(err)));
        complete = false;
        break;
      }
    }
    if (generation !== this.snapshotGeneration || this.currentState === "closed") return;
    this.sessionInfo = {
      self: reply.self,
      radiusM: reply.radiusM,
      serverTime: reply.serverTime,
      ...(reply.reportEveryS === undefined ? {} : { reportEveryS: reply.reportEveryS }),
    };
    this.applyDiffs(this.model.applySnapshot(friends, complete));
    // init followed every friend again: repeat the unsubscribes.
    for (const friendId of this.model.unfollowedIds) {
      this.request({ action: "unsubscribe", friendId }, "unsubscribed").catch(() => undefined);
    }
    if (this.retiring && link === this.link) this.retire();
    this.events.emit("init", this.sessionInfo);
    for (const w of this.initWaiters.splice(0)) w.resolve();
  }

  private nextInit(): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          this.o.clock.clearTimeout(timer);
          resolve();
        },
        reject: (e: Error) => {
          this.o.clock.clearTimeout(timer);
          reject(e);
        },
      };
      const timer = this.o.clock.setTimeout(() => {
        const i = this.initWaiters.indexOf(waiter);
        if (i >= 0) this.initWaiters.splice(i, 1);
        reject(new TimeoutError("init", this.o.requestTimeoutMs * 2));
      }, this.o.requestTimeoutMs * 2);
      this.initWaiters.push(waiter);
    });
  }

  // ---------------------------------------------------------------- helpers

  private setPosition(location: LocationInput): void {
    const { lat, lon, accuracyM, ts } = location;
    if (typeof lat !== "number" || !Number.isFinite(lat) || lat < -90 || lat > 90) {
      throw new NearbyFriendsError("invalid_request", "lat must be a number between -90 and 90");
    }
    if (typeof lon !== "number" || !Number.isFinite(lon) || lon < -180 || lon > 180) {
      throw new NearbyFriendsError("invalid_request", "lon must be a number between -180 and 180");
    }
    if (accuracyM !== undefined && !(Number.isFinite(accuracyM) && accuracyM >= 0)) {
      throw new NearbyFriendsError("invalid_request", "accuracyM must be a number >= 0");
    }
    if (ts !== undefined && !(Number.isInteger(ts) && ts >= 0)) {
      throw new NearbyFriendsError(
        "invalid_request",
        "ts must be a timestamp in epoch milliseconds",
      );
    }
    this.position = { lat, lon, accuracyM, ts: ts ?? Math.floor(this.o.clock.now()) };
  }

  private applyDiffs(diffs: ModelDiff[]): void {
    if (diffs.length === 0) return;
    for (const d of diffs) {
      if (d.type === "nearby") this.events.emit("nearby", d.friend, d.previous);
      else this.events.emit("away", d.friend, d.reason);
    }
    this.events.emit("change", this.model.friends, diffs);
  }

  private setState(state: ConnectionState): void {
    const previous = this.currentState;
    if (previous === state || previous === "closed") return;
    this.currentState = state;
    this.events.emit("state", state, previous);
  }

  private emitError(error: Error): void {
    this.events.emit("error", error);
  }

  private assertOpen(): void {
    if (this.currentState === "closed") throw new ClosedError();
  }

  private clear(key: TimerName): void {
    this.o.clock.clearTimeout(this.timers[key]);
    this.timers[key] = null;
  }
}

/** The sequence number in a requestId the SDK made (`i12`, `l13`, `r14`); 0 for any other. */
function seqOf(requestId: string): number {
  const n = Number(requestId.slice(1));
  return Number.isInteger(n) && n > 0 ? n : 0;
}
