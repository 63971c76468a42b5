// The interfaces the use cases need, owned here and implemented by the adapters (Redis, Kinesis,
// DynamoDB, the Management API, Powertools) and by in-memory fakes in the tests. Nothing in app
// imports an adapter.
import type { LocationEvent } from "../domain/events.ts";
import type { MoverState, Subscriber } from "../domain/fanout-plan.ts";
import type { LatLon } from "../domain/geo.ts";
import type { MovementPolicy } from "../domain/movement.ts";
import type { Settings } from "../domain/settings.ts";
import type { ShareLink, ShareViewer } from "../domain/share-links.ts";
import type { AppMetricName } from "../metric-names.ts";

// ---- Positions (Redis `loc:{user}`, GEO cell index) ------------------------------------------

export interface StoredPosition {
  lat: number;
  lon: number;
  at: number;
  accuracyM?: number;
}

export interface LocationWrite {
  userId: string;
  lat: number;
  lon: number;
  at: number;
  accuracyM?: number;
  cell: string;
  /** The device's time and the connection that sent it, to detect frames arriving out of order. */
  clientTs?: number;
  connectionId?: string;
}

/** The movement filter's settings (domain/movement.ts) and the position's time to live. */
export interface WritePolicy extends MovementPolicy {
  ttlS: number;
}

export interface PublishedMarker {
  lat: string;
  lon: string;
  at: string;
}

export interface WriteOutcome {
  /** The frame arrived after a newer one of the same connection: nothing but presence was stored. */
  stale: boolean;
  /**
   * The frame's connection closed already ($disconnect ran before it, as API Gateway may run a
   * connection's last frames and its $disconnect concurrently): nothing was stored, so a user who
   * went offline does not come back online with a late frame.
   */
  gone: boolean;
  /** The stored (server) time of the position, strictly increasing per user. */
  at: number;
  publish: boolean;
  prevCell: string | null;
  /** The published marker before this write (null when there was none), for a rollback. */
  previousPublished: PublishedMarker | null;
}

export interface PositionStore {
  /** Store a position and apply the movement filter, atomically per user. */
  write(w: LocationWrite, policy: WritePolicy): Promise<WriteOutcome>;
  /**
   * Keep the coarse cell index in step with a write (server time `w.at`): the user is indexed in
   * `w.cell` until `w.expiresAt` (unless indexed again), and no longer in `prevCell`.
   */
  indexCell(
    userId: string,
    w: { lat: number; lon: number; cell: string; at: number; expiresAt: number },
    prevCell: string | null,
  ): Promise<void>;
  /** Undo the published marker of a write whose publication failed (unless a newer write won). */
  rollbackPublish(userId: string, outcome: WriteOutcome): Promise<boolean>;
  /** Current positions of many users (absent: offline). */
  positions(userIds: readonly string[]): Promise<Map<string, StoredPosition>>;
  /** Delete a user's current position (the user erased their data). */
  erase(userId: string): Promise<void>;
}

/** The coarse cell index (`geo:{cell}`), read by the nearby-people search. */
export interface CellIndex {
  /**
   * The users indexed in these cells whose indexed position is within `radiusM` of `centre`, at
   * most `perCell` of them from each cell (the nearest), deduplicated. Entries whose expiry passed
   * (`now`) are never returned, and are pruned from the index.
   */
  near(
    cells: readonly string[],
    centre: LatLon,
    radiusM: number,
    perCell: number,
    now: number,
  ): Promise<string[]>;
}

// ---- Connections ------------------------------------------------------------------------------

/** Why a new connection was refused: the user's connection cap, or their handshake rate. */
export type ConnectRefusal = "too_many_connections" | "too_many_connects";

export interface ConnectionRegistry {
  /**
   * Register a new connection ($connect) unless the user is over a limit (domain/limits.ts); the
   * count and the registration are one atomic step, so concurrent handshakes cannot pass the cap.
   */
  open(userId: string, connectionId: string, connectedAt: number): Promise<ConnectRefusal | null>;
  /** (Re-)register a connection that is open already (`init`, after Redis lost it): no limit. */
  /** Register an open connection (`init`); false when it closed already (nothing registered). */
  add(userId: string, connectionId: string, connectedAt: number): Promise<boolean>;
  /**
   * Forget a connection and what it followed; `offline` when it was the user's last one, and
   * `followed` the users it was subscribed to.
   */
  remove(userId: string, connectionId: string): Promise<{ offline: boolean; followed: string[] }>;
  /** Forget a connection the Management API reported gone (closed without $disconnect). */
  forgetDead(connectionId: string): Promise<{ userId: string | null; offline: boolean }>;
}

// ---- Audience: who follows whom, and what each connection is shown ------------------------------

/** A change of the "nearby" flag of one subscription: [the followed user, the subscriber, nearby]. */
export type FlagChange = readonly [string, Pick<Subscriber, "connectionId" | "userId">, boolean];

export type MoverAudience = MoverState & { settings?: Settings };

export interface Audience {
  /** Subscribe a viewer's connection to each of these users (not nearby yet). */
  subscribe(viewerId: string, connectionId: string, userIds: readonly string[]): Promise<void>;
  unsubscribe(viewerId: string, connectionId: string, userId: string): Promise<void>;
  /** Record which followed users are shown nearby to which connections (existing subscriptions only). */
  setNearbyFlags(changes: readonly FlagChange[]): Promise<void>;
  /** Stop every connection of `viewer` following `friend`; returns those that showed `friend` nearby. */
  unlink(viewer: string, friend: string): Promise<string[]>;
  /** Fan-out: each mover's subscribers, newest published position, what of it went out already,
   * and cached settings. */
  moverStates(userIds: readonly string[]): Promise<Map<string, MoverAudience>>;
  /** Fan-out: these movers' published positions (user, at) went out to their subscribers. */
  markFanned(entries: readonly (readonly [string, number])[]): Promise<void>;
  /** Remove subscriptions whose connection is gone: [followed user, subscriber]. */
  removeSubscriptions(
    pairs: readonly (readonly [string, Pick<Subscriber, "connectionId" | "userId">])[],
  ): Promise<void>;
}

/**
 * The budget of pushes (PostToConnection calls) all fan-out invocations share per second, so that
 * the account's API Gateway request quota is never exceeded: under load, pushes wait, and the
 * batches they wait behind grow (more friend updates per push), instead of calls being throttled.
 */
export interface PushBudget {
  /** Take up to `wanted` pushes from the current second's budget; returns how many were granted. */
  take(wanted: number): Promise<number>;
}

export interface SettingsCache {
  cached(userIds: readonly string[]): Promise<Map<string, Settings>>;
  put(entries: ReadonlyMap<string, Settings>): Promise<void>;
}

// ---- Reporting cadence (domain/cadence.ts) ------------------------------------------------------

/** What deciding one user's reporting cadence reads. */
export interface CadenceState {
  /** The user's stored position (absent: offline). */
  position: StoredPosition | undefined;
  /** Cached settings (absent on a cache miss). */
  settings?: Settings;
  /** The users with a connection subscribed to this user. */
  watcherIds: string[];
  /** Connections watching the user through a live share link. */
  shareViewers: number;
  /** The cadence last decided (and told), and when it was decided. */
  current: number | undefined;
  decidedAt: number | undefined;
}

export interface CadenceStore {
  states(userIds: readonly string[]): Promise<Map<string, CadenceState>>;
  /** Record the cadence decided for each user, and when. */
  record(entries: readonly { userId: string; reportEveryS: number; at: number }[]): Promise<void>;
  /** The users among these whose cadence was last decided before `before` (or never). */
  decidedBefore(userIds: readonly string[], before: number): Promise<string[]>;
  /** The open connections of each user. */
  connectionsOf(userIds: readonly string[]): Promise<Map<string, string[]>>;
}

// ---- Stream and connections out ---------------------------------------------------------------

export interface EventPublisher {
  publish(event: LocationEvent): Promise<void>;
}

export type PostResult = "sent" | "gone" | "failed";

export interface Notifier {
  post(connectionId: string, frame: object): Promise<PostResult>;
}

// ---- Tables -----------------------------------------------------------------------------------

export interface UserProfile {
  userId: string;
  displayName: string | null;
}

export interface UserRepository {
  get(userId: string): Promise<UserProfile | null>;
  put(profile: UserProfile): Promise<void>;
  /** Create the user unless it exists (sign-up is idempotent). */
  createIfMissing(profile: UserProfile): Promise<void>;
  displayNames(userIds: readonly string[]): Promise<Map<string, string | null>>;
  getSettings(userId: string): Promise<Settings>;
  putSettings(userId: string, settings: Settings): Promise<void>;
  /** Settings of many users (defaults for users without any). */
  settingsOf(userIds: readonly string[]): Promise<Map<string, Settings>>;
}

export type FriendshipStatus = "friends" | "outgoing" | "incoming";

export interface Friendship {
  userId: string;
  friendId: string;
  status: FriendshipStatus;
  since: number;
}

export interface FriendshipRepository {
  get(userId: string, friendId: string): Promise<Friendship | null>;
  /** All relations of a user (friends and requests both ways). */
  list(userId: string): Promise<Friendship[]>;
  friendIds(userId: string): Promise<string[]>;
  putPair(mine: Friendship, theirs: Friendship): Promise<void>;
  deletePair(userId: string, friendId: string): Promise<void>;
}

export interface BlockEntry {
  /** The blocked user. */
  userId: string;
  /** When the block was made (the first time, for a repeated block). */
  since: number;
}

/** Blocks between users (both directions stored, so "blocked either way" is one read). */
export interface BlockRepository {
  /** Record that `blocker` blocked `blocked`; idempotent, a repeat keeps the first time. */
  block(blocker: string, blocked: string, at: number): Promise<void>;
  /** Remove that block (if any); a block the other way stays. */
  unblock(blocker: string, blocked: string): Promise<void>;
  /** Whether either of the two has blocked the other. */
  between(a: string, b: string): Promise<boolean>;
  /** The users `userId` blocked (never those who blocked `userId`), ordered by userId. */
  blockedBy(userId: string): Promise<BlockEntry[]>;
  /** Every user `userId` blocked or was blocked by. */
  eitherWay(userId: string): Promise<Set<string>>;
}

export interface HistoryItem {
  userId: string;
  sk: string;
  lat: number;
  lon: number;
  at: number;
  clientTs?: number;
  accuracyM?: number;
  expiresAt: number;
}

export interface HistoryPage {
  items: HistoryItem[];
  lastKey: { userId: string; sk: string } | null;
}

export interface HistoryRepository {
  /** Write items; returns those that could not be written after retries. */
  putAll(items: readonly HistoryItem[]): Promise<HistoryItem[]>;
  query(
    userId: string,
    range: { fromSk: string; toSk: string },
    limit: number,
    startKey: { userId: string; sk: string } | null,
  ): Promise<HistoryPage>;
  deleteAll(userId: string): Promise<void>;
}

// ---- Share links (table `share-links`, Redis `sview:{user}`) ----------------------------------

export interface ShareLinkRepository {
  /** The user's stored links, expired ones included (until the table's TTL removes them). */
  list(userId: string): Promise<ShareLink[]>;
  /**
   * Store a new link unless the user holds `maxActive` active links already (counted atomically
   * with the write): false at the cap.
   */
  create(link: ShareLink, maxActive: number, now: number): Promise<boolean>;
  /** Delete one of the user's links; the deleted link, or null when the user has none by that id. */
  delete(userId: string, linkId: string): Promise<ShareLink | null>;
  /** The link whose token has this hash, read consistently (null: none, or deleted). */
  byTokenHash(tokenHash: string): Promise<ShareLink | null>;
  /** One link, read consistently (null: revoked, or its slot reused by a newer link). */
  get(userId: string, linkId: string): Promise<ShareLink | null>;
}

/** The viewers' connections of each shared user (`sview:{userId}`), which the fan-out reads. */
export interface ShareViewerRegistry {
  /** Register a viewer's connection unless its link has `maxPerLink` already: false at the cap. */
  add(sharedUserId: string, viewer: ShareViewer, maxPerLink: number): Promise<boolean>;
  remove(sharedUserId: string, connectionId: string): Promise<void>;
  /** Remove every viewer of one link; returns their connections. */
  takeLink(sharedUserId: string, linkId: string): Promise<string[]>;
}

/** Close a WebSocket connection from the server side (DeleteConnection); a gone one is no error. */
export interface ConnectionCloser {
  close(connectionId: string): Promise<void>;
}

/**
 * Ends each link's viewers at its expiry, within a second (docs/ARCHITECTURE.md, "Share links"): a
 * timer that runs `endShareLink` at `expiresAt`.
 */
export interface ShareExpiryScheduler {
  schedule(link: Pick<ShareLink, "userId" | "linkId" | "expiresAt">): Promise<void>;
}

// ---- Observability ----------------------------------------------------------------------------

/** The counters the use cases keep (metric-names.ts and docs/ARCHITECTURE.md say what each means). */
export type CountMetric = Extract<
  AppMetricName,
  | "LocationsReceived"
  | "LocationsPublished"
  | "LocationsFiltered"
  | "FanoutRecords"
  | "FanoutPushes"
  | "FanoutFriendUpdates"
  | "FanoutStaleDropped"
  | "GoneConnections"
  | "CadenceChanges"
>;

export type DurationMetric = Extract<AppMetricName, "FanoutLagMs">;

export interface Telemetry {
  count(metric: CountMetric, value?: number): void;
  milliseconds(metric: DurationMetric, value: number): void;
}

export interface Log {
  error(message: string, detail: Record<string, unknown>): void;
}

export type Clock = () => number;
