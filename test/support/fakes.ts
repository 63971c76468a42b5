// In-memory fakes of the ports the use cases own (functions/app/ports.ts), faithful to the Redis and
// DynamoDB adapters where the use cases depend on it, and `world()`, which wires them into the deps
// shapes the use cases take. Plain classes: nothing here patches a module.
import type { BlockDeps } from "../../functions/app/blocks.ts";
import { type CadenceDeps, reviewCadences } from "../../functions/app/cadence.ts";
import { type FanoutDeps, type FanoutResult, fanOut } from "../../functions/app/fanout.ts";
import type { FriendsDeps, UnfriendDeps } from "../../functions/app/friends.ts";
import type { EraseDeps, HistoryWriteDeps } from "../../functions/app/history.ts";
import { republishLocation } from "../../functions/app/location.ts";
import type { PeopleDeps } from "../../functions/app/people.ts";
import type {
  Audience,
  BlockEntry,
  BlockRepository,
  CadenceState,
  CadenceStore,
  CellIndex,
  Clock,
  ConnectionRegistry,
  ConnectRefusal,
  EventPublisher,
  FlagChange,
  Friendship,
  FriendshipRepository,
  HistoryItem,
  HistoryPage,
  HistoryRepository,
  LocationWrite,
  MoverAudience,
  Notifier,
  PositionStore,
  PostResult,
  PublishedMarker,
  PushBudget,
  SettingsCache,
  ShareLinkRepository,
  ShareViewerRegistry,
  StoredPosition,
  UserProfile,
  UserRepository,
  WriteOutcome,
  WritePolicy,
} from "../../functions/app/ports.ts";
import { type CadenceAware, connect, init, type SessionDeps } from "../../functions/app/session.ts";
import type { UpdateSettingsDeps } from "../../functions/app/settings.ts";
import type {
  EndLinkDeps,
  ShareLinksDeps,
  ViewerConnectDeps,
} from "../../functions/app/share-links.ts";
import { DEFAULT_TUNABLES, type Tunables } from "../../functions/config.ts";
import type { LocationEvent } from "../../functions/domain/events.ts";
import type { FriendUpdate, StreamRecord, Subscriber } from "../../functions/domain/fanout-plan.ts";
import { haversineM, type LatLon } from "../../functions/domain/geo.ts";
import { MAX_CONNECTIONS_PER_USER } from "../../functions/domain/limits.ts";
import { decideWrite, type PublishedPosition } from "../../functions/domain/movement.ts";
import {
  DEFAULT_SETTINGS,
  normalizeSettings,
  type Settings,
} from "../../functions/domain/settings.ts";
import type { ShareLink, ShareViewer } from "../../functions/domain/share-links.ts";
import { RecordingLog, RecordingTelemetry } from "./observability.ts";

/** 2025-11-22T00:06:40Z: the time every world starts at unless told otherwise. */
export const T0 = 1_763_770_000_000;

// ---- Faults and time ---------------------------------------------------------------------------

/** Failures a test schedules for a fake's operations: the next `times` calls of `op` throw. */
export class Faults<Op extends string> {
  private readonly planned = new Map<Op, { error: Error; times: number }>();

  fail(op: Op, error: Error = new Error(`${op} failed`), times = Number.POSITIVE_INFINITY): void {
    this.planned.set(op, { error, times });
  }

  /** Called first by every faultable operation. */
  check(op: Op): void {
    const plan = this.planned.get(op);
    if (!plan) return;
    plan.times -= 1;
    if (plan.times <= 0) this.planned.delete(op);
    throw plan.error;
  }
}

export class ManualClock {
  constructor(private t: number = T0) {}

  /** The port: pass `clock.now` wherever a Clock is wanted. */
  readonly now: Clock = () => this.t;

  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }

  set(t: number): void {
    this.t = t;
  }
}

// ---- Push budget -------------------------------------------------------------------------------

/** The shared push budget: `perSecond` pushes per second of the clock, as the Redis counter. */
export class InMemoryPushBudget implements PushBudget {
  private second = -1;
  private used = 0;
  readonly takes: { wanted: number; granted: number }[] = [];

  constructor(
    private readonly perSecond: number,
    private readonly now: Clock,
  ) {}

  async take(wanted: number): Promise<number> {
    const second = Math.floor(this.now() / 1000);
    if (second !== this.second) {
      this.second = second;
      this.used = 0;
    }
    const granted = Math.max(0, Math.min(wanted, this.perSecond - this.used));
    this.used += wanted;
    this.takes.push({ wanted, granted });
    return granted;
  }
}

// ---- Positions ---------------------------------------------------------------------------------

/** What `loc:{userId}` holds, plus the time its TTL runs out. */
export interface PositionEntry {
  lat: number;
  lon: number;
  at: number;
  cell: string;
  accuracyM?: number;
  ts?: number;
  tsConnectionId?: string;
  published?: PublishedPosition;
  /** `fanAt`: the newest published position the fan-out sent out. */
  fannedAt?: number;
  expiresAt: number;
}

const toMarker = (p: PublishedPosition | undefined): PublishedMarker | null =>
  p === undefined ? null : { lat: String(p.lat), lon: String(p.lon), at: String(p.at) };

/**
 * Positions as the Redis store keeps them: the movement filter is the reference `decideWrite` the
 * Lua script mirrors, the published marker is kept so a rollback compares and resets it, every
 * write (stale ones too) refreshes the TTL, and the cell index follows `indexCell` and `erase`.
 */
export class InMemoryPositions implements PositionStore, CellIndex {
  private readonly entries = new Map<string, PositionEntry>();
  /** `geo:{cell}`: the users indexed in each cell. */
  readonly cells = new Map<string, Set<string>>();
  /** `geo:{cell}` positions and `geoexp:{cell}` expiries, per user (a user is in one cell). */
  readonly indexed = new Map<
    string,
    { lat: number; lon: number; cell: string; expiresAt: number }
  >();
  /** The calls of `indexCell`, in order (which writes cost an index write). */
  readonly indexWrites: string[] = [];
  readonly faults = new Faults<"write" | "indexCell" | "rollbackPublish" | "positions" | "erase">();

  constructor(
    private readonly now: Clock,
    /** Whether the connection closed already (`closed:{userId}`, read by the same script). */
    private readonly closed: (userId: string, connectionId: string) => boolean = () => false,
  ) {}

  async write(w: LocationWrite, policy: WritePolicy): Promise<WriteOutcome> {
    this.faults.check("write");
    const prev = this.live(w.userId);
    if (w.connectionId !== undefined && this.closed(w.userId, w.connectionId)) {
      return {
        stale: false,
        gone: true,
        at: 0,
        publish: false,
        prevCell: null,
        previousPublished: null,
      };
    }
    const expiresAt = this.now() + policy.ttlS * 1000;
    const decision = decideWrite(
      prev ?? null,
      {
        lat: w.lat,
        lon: w.lon,
        at: w.at,
        ...(w.clientTs === undefined ? {} : { clientTs: w.clientTs }),
        ...(w.connectionId === undefined ? {} : { connectionId: w.connectionId }),
      },
      policy,
    );
    const prevCell = prev?.cell ?? null;
    if (decision.stale && prev) {
      prev.expiresAt = expiresAt;
      return {
        stale: true,
        gone: false,
        at: prev.at,
        publish: false,
        prevCell,
        previousPublished: null,
      };
    }
    const { next } = decision;
    this.entries.set(w.userId, {
      lat: w.lat,
      lon: w.lon,
      at: decision.at,
      cell: w.cell,
      ...(w.accuracyM === undefined ? {} : { accuracyM: w.accuracyM }),
      ...(next.ts === undefined ? {} : { ts: next.ts, tsConnectionId: next.tsConnectionId }),
      ...(next.published === undefined ? {} : { published: next.published }),
      ...(prev?.fannedAt === undefined ? {} : { fannedAt: prev.fannedAt }),
      expiresAt,
    });
    return {
      stale: false,
      gone: false,
      at: decision.at,
      publish: decision.publish,
      prevCell,
      previousPublished: toMarker(prev?.published),
    };
  }

  async indexCell(
    userId: string,
    w: { lat: number; lon: number; cell: string; at: number; expiresAt: number },
    prevCell: string | null,
  ): Promise<void> {
    this.faults.check("indexCell");
    this.indexWrites.push(userId);
    const members = this.cells.get(w.cell) ?? new Set<string>();
    members.add(userId);
    this.cells.set(w.cell, members);
    this.indexed.set(userId, { lat: w.lat, lon: w.lon, cell: w.cell, expiresAt: w.expiresAt });
    if (prevCell !== null && prevCell !== w.cell) this.cells.get(prevCell)?.delete(userId);
  }

  /** The search script: members of these cells within the radius, unexpired, nearest first per cell. */
  async near(
    cells: readonly string[],
    centre: LatLon,
    radiusM: number,
    perCell: number,
    now: number,
  ): Promise<string[]> {
    const out = new Set<string>();
    for (const cell of cells) {
      const found = [...(this.cells.get(cell) ?? [])]
        .flatMap((u) => {
          const e = this.indexed.get(u);
          if (!e || e.cell !== cell) return [];
          if (e.expiresAt <= now) {
            this.cells.get(cell)?.delete(u);
            this.indexed.delete(u);
            return [];
          }
          const d = haversineM(centre, e);
          return d <= radiusM ? [{ u, d }] : [];
        })
        .sort((a, b) => a.d - b.d)
        .slice(0, perCell);
      for (const f of found) out.add(f.u);
    }
    return [...out];
  }

  /** Compare-and-reset, as the rollback script: only while the marker is still this write's. */
  async rollbackPublish(userId: string, outcome: WriteOutcome): Promise<boolean> {
    this.faults.check("rollbackPublish");
    const entry = this.live(userId);
    if (entry?.published === undefined || String(entry.published.at) !== String(outcome.at)) {
      return false;
    }
    const p = outcome.previousPublished;
    if (p === null) delete entry.published;
    else entry.published = { lat: Number(p.lat), lon: Number(p.lon), at: Number(p.at) };
    return true;
  }

  async positions(userIds: readonly string[]): Promise<Map<string, StoredPosition>> {
    this.faults.check("positions");
    const out = new Map<string, StoredPosition>();
    for (const u of userIds) {
      const e = this.live(u);
      if (!e) continue;
      out.set(u, {
        lat: e.lat,
        lon: e.lon,
        at: e.at,
        ...(e.accuracyM === undefined ? {} : { accuracyM: e.accuracyM }),
      });
    }
    return out;
  }

  async erase(userId: string): Promise<void> {
    this.faults.check("erase");
    const e = this.entries.get(userId);
    if (e) this.cells.get(e.cell)?.delete(userId);
    this.indexed.delete(userId);
    this.entries.delete(userId);
  }

  // ---- for the tests and the other fakes ----

  /** The stored entry (undefined when absent or expired). */
  stored(userId: string): PositionEntry | undefined {
    return this.live(userId);
  }

  /** `pubLat`/`pubLon`/`pubAt` and `fanAt`, as the fan-out's mover-state script reads them. */
  fanoutState(userId: string): { published?: PublishedPosition; fannedAt?: number } {
    const e = this.live(userId);
    return {
      ...(e?.published === undefined ? {} : { published: { ...e.published } }),
      ...(e?.fannedAt === undefined ? {} : { fannedAt: e.fannedAt }),
    };
  }

  /** The mark-fanned script: raise `fanAt`, only while the position exists. */
  markFanned(userId: string, at: number): void {
    const e = this.live(userId);
    if (e && (e.fannedAt === undefined || e.fannedAt < at)) e.fannedAt = at;
  }

  private live(userId: string): PositionEntry | undefined {
    const e = this.entries.get(userId);
    if (e && e.expiresAt <= this.now()) {
      this.entries.delete(userId);
      return undefined;
    }
    return e;
  }
}

// ---- Settings cache ----------------------------------------------------------------------------

export class InMemorySettingsCache implements SettingsCache {
  readonly entries = new Map<string, Settings>();

  async cached(userIds: readonly string[]): Promise<Map<string, Settings>> {
    const out = new Map<string, Settings>();
    for (const u of userIds) {
      const s = this.entries.get(u);
      if (s) out.set(u, s);
    }
    return out;
  }

  async put(entries: ReadonlyMap<string, Settings>): Promise<void> {
    for (const [u, s] of entries) this.entries.set(u, s);
  }
}

// ---- Audience ----------------------------------------------------------------------------------

type SubscriberKey = Pick<Subscriber, "connectionId" | "userId">;

/** The field of `subs:{userId}`: the connection and its user. */
const field = (s: SubscriberKey): string => `${s.connectionId} ${s.userId}`;

/**
 * `subs:{userId}` (each follower connection with its nearby flag) and `follows:{connectionId}`, with
 * the semantics of the Redis audience: subscribing resets the flag, flags are set only on existing
 * subscriptions, `unlink` goes through the viewer's registered connections, and `moverStates` reads
 * the published marker and the cached settings beside the subscribers.
 */
export class InMemoryAudience implements Audience {
  private readonly subs = new Map<string, Map<string, Subscriber>>();
  private readonly follows = new Map<string, Set<string>>();

  constructor(
    private readonly deps: {
      positions: InMemoryPositions;
      settingsCache: InMemorySettingsCache;
      /** `conns:{userId}`: the user's registered connections. */
      connectionsOf: (userId: string) => readonly string[];
      /** `sview:{userId}`: the user's share-link viewers. */
      viewersOf?: (userId: string) => readonly ShareViewer[];
    },
  ) {}

  async subscribe(
    viewerId: string,
    connectionId: string,
    userIds: readonly string[],
  ): Promise<void> {
    if (userIds.length === 0) return;
    const sub = { connectionId, userId: viewerId, nearby: false };
    for (const u of userIds) this.subsOf(u).set(field(sub), { ...sub });
    const followed = this.follows.get(connectionId) ?? new Set<string>();
    for (const u of userIds) followed.add(u);
    this.follows.set(connectionId, followed);
  }

  async unsubscribe(viewerId: string, connectionId: string, userId: string): Promise<void> {
    this.subs.get(userId)?.delete(field({ connectionId, userId: viewerId }));
    this.follows.get(connectionId)?.delete(userId);
  }

  async setNearbyFlags(changes: readonly FlagChange[]): Promise<void> {
    for (const [user, sub, nearby] of changes) {
      const existing = this.subs.get(user)?.get(field(sub));
      if (existing) existing.nearby = nearby;
    }
  }

  async unlink(viewer: string, friend: string): Promise<string[]> {
    const shown: string[] = [];
    for (const c of this.deps.connectionsOf(viewer)) {
      const key = field({ connectionId: c, userId: viewer });
      if (this.subs.get(friend)?.get(key)?.nearby) shown.push(c);
      this.subs.get(friend)?.delete(key);
      this.follows.get(c)?.delete(friend);
    }
    return shown;
  }

  async moverStates(userIds: readonly string[]): Promise<Map<string, MoverAudience>> {
    const cached = await this.deps.settingsCache.cached(userIds);
    const out = new Map<string, MoverAudience>();
    for (const u of userIds) {
      const settings = cached.get(u);
      const viewers = this.deps.viewersOf?.(u) ?? [];
      out.set(u, {
        ...(viewers.length > 0 ? { viewers: viewers.map((v) => ({ ...v })) } : {}),
        subscribers: [...(this.subs.get(u)?.values() ?? [])].map((s) => ({ ...s })),
        published: this.deps.positions.fanoutState(u).published,
        fannedAt: this.deps.positions.fanoutState(u).fannedAt,
        ...(settings ? { settings } : {}),
      });
    }
    return out;
  }

  async markFanned(entries: readonly (readonly [string, number])[]): Promise<void> {
    for (const [user, at] of entries) this.deps.positions.markFanned(user, at);
  }

  async removeSubscriptions(pairs: readonly (readonly [string, SubscriberKey])[]): Promise<void> {
    for (const [user, sub] of pairs) this.subs.get(user)?.delete(field(sub));
  }

  // ---- for the connection registry ----

  /** What removing a connection does through `follows:`: drop exactly its subscriptions. */
  forgetConnection(userId: string, connectionId: string): void {
    for (const u of this.follows.get(connectionId) ?? []) {
      this.subs.get(u)?.delete(field({ connectionId, userId }));
    }
    this.follows.delete(connectionId);
  }

  /** A connection whose user is unknown: only its `follows:` index goes. */
  forgetFollows(connectionId: string): void {
    this.follows.delete(connectionId);
  }

  // ---- for the tests ----

  /** The subscriptions of connections following `userId`. */
  subscribersOf(userId: string): Subscriber[] {
    return [...(this.subs.get(userId)?.values() ?? [])].map((s) => ({ ...s }));
  }

  /** Whether `userId` is shown nearby on the connection (undefined: not subscribed). */
  nearbyFlag(userId: string, sub: SubscriberKey): boolean | undefined {
    return this.subs.get(userId)?.get(field(sub))?.nearby;
  }

  followedBy(connectionId: string): string[] {
    return [...(this.follows.get(connectionId) ?? [])];
  }

  private subsOf(userId: string): Map<string, Subscriber> {
    let m = this.subs.get(userId);
    if (!m) {
      m = new Map();
      this.subs.set(userId, m);
    }
    return m;
  }
}

// ---- Connections -------------------------------------------------------------------------------

/**
 * `conns:{userId}` and `cx:{connectionId}`. Opening a connection is refused at the user's connection
 * cap (the connect rate is the Redis script's alone); removing a connection drops its subscriptions
 * from the audience; removing a user's last one deletes their position (the user is offline), as the
 * Redis script does.
 */
export class InMemoryConnections implements ConnectionRegistry {
  private readonly byUser = new Map<string, Set<string>>();
  private readonly userOf = new Map<string, string>();
  /** `closed:{userId}`: connections removed (their late frames store nothing). */
  private readonly closedOf = new Map<string, Set<string>>();

  constructor(
    private readonly deps: { audience: InMemoryAudience; positions: InMemoryPositions },
  ) {}

  async open(
    userId: string,
    connectionId: string,
    connectedAt: number,
  ): Promise<ConnectRefusal | null> {
    if (this.of(userId).length >= MAX_CONNECTIONS_PER_USER) return "too_many_connections";
    await this.add(userId, connectionId, connectedAt);
    return null;
  }

  async add(userId: string, connectionId: string, _connectedAt: number): Promise<boolean> {
    if (this.closed(userId, connectionId)) return false;
    const set = this.byUser.get(userId) ?? new Set<string>();
    set.add(connectionId);
    this.byUser.set(userId, set);
    this.userOf.set(connectionId, userId);
    return true;
  }

  /** Whether the connection closed (was removed) already. */
  closed(userId: string, connectionId: string): boolean {
    return this.closedOf.get(userId)?.has(connectionId) ?? false;
  }

  async remove(
    userId: string,
    connectionId: string,
  ): Promise<{ offline: boolean; followed: string[] }> {
    const followed = this.deps.audience.followedBy(connectionId);
    const set = this.byUser.get(userId);
    set?.delete(connectionId);
    const closed = this.closedOf.get(userId) ?? new Set<string>();
    closed.add(connectionId);
    this.closedOf.set(userId, closed);
    const offline = (set?.size ?? 0) === 0;
    if (offline) {
      this.byUser.delete(userId);
      await this.deps.positions.erase(userId);
    }
    this.deps.audience.forgetConnection(userId, connectionId);
    this.userOf.delete(connectionId);
    return { offline, followed };
  }

  async forgetDead(connectionId: string): Promise<{ userId: string | null; offline: boolean }> {
    const userId = this.userOf.get(connectionId);
    if (userId === undefined) {
      this.deps.audience.forgetFollows(connectionId);
      return { userId: null, offline: false };
    }
    const { offline } = await this.remove(userId, connectionId);
    return { userId, offline };
  }

  /** The user's registered connections. */
  of(userId: string): string[] {
    return [...(this.byUser.get(userId) ?? [])];
  }
}

// ---- Reporting cadence -------------------------------------------------------------------------

/**
 * `cad:{userId}`, read with the user's subscribers, position and cached settings as the Redis
 * script does; `shareViewers` stands for `sview:{userId}`.
 */
export class InMemoryCadence implements CadenceStore {
  private readonly decided = new Map<string, { s: number; at: number }>();
  readonly shareViewers = new Map<string, number>();

  constructor(
    private readonly deps: {
      audience: InMemoryAudience;
      positions: InMemoryPositions;
      settingsCache: InMemorySettingsCache;
      connectionsOf: (userId: string) => readonly string[];
    },
  ) {}

  async states(userIds: readonly string[]): Promise<Map<string, CadenceState>> {
    const positions = await this.deps.positions.positions(userIds);
    const cached = await this.deps.settingsCache.cached(userIds);
    const out = new Map<string, CadenceState>();
    for (const u of userIds) {
      const settings = cached.get(u);
      out.set(u, {
        position: positions.get(u),
        ...(settings ? { settings } : {}),
        watcherIds: [...new Set(this.deps.audience.subscribersOf(u).map((s) => s.userId))],
        shareViewers: this.shareViewers.get(u) ?? 0,
        current: this.decided.get(u)?.s,
        decidedAt: this.decided.get(u)?.at,
      });
    }
    return out;
  }

  async record(
    entries: readonly { userId: string; reportEveryS: number; at: number }[],
  ): Promise<void> {
    for (const e of entries) this.decided.set(e.userId, { s: e.reportEveryS, at: e.at });
  }

  async decidedBefore(userIds: readonly string[], before: number): Promise<string[]> {
    return userIds.filter((u) => {
      const at = this.decided.get(u)?.at;
      return at === undefined || at < before;
    });
  }

  async connectionsOf(userIds: readonly string[]): Promise<Map<string, string[]>> {
    return new Map(userIds.map((u) => [u, [...this.deps.connectionsOf(u)]]));
  }

  /** The cadence last decided for the user (undefined: never). */
  current(userId: string): number | undefined {
    return this.decided.get(userId)?.s;
  }
}

// ---- Stream and connections out ----------------------------------------------------------------

/** Records what was appended to the stream, as stream records with increasing sequence numbers. */
export class RecordingPublisher implements EventPublisher {
  readonly records: StreamRecord[] = [];
  readonly faults = new Faults<"publish">();
  private taken = 0;

  async publish(event: LocationEvent): Promise<void> {
    this.faults.check("publish");
    this.records.push({ sequenceNumber: String(this.records.length + 1).padStart(8, "0"), event });
  }

  get events(): LocationEvent[] {
    return this.records.map((r) => r.event);
  }

  /** The records appended since the last `take`: the next batch a consumer would receive. */
  take(): StreamRecord[] {
    const batch = this.records.slice(this.taken);
    this.taken = this.records.length;
    return batch;
  }
}

export interface FriendsFrame {
  type: "friends";
  updates: FriendUpdate[];
}

/** Records every post; each connection answers "sent" unless a test scripted otherwise. */
export class RecordingNotifier implements Notifier {
  readonly posts: { connectionId: string; frame: object }[] = [];
  private readonly results = new Map<string, PostResult[]>();

  /** Script a connection's next answers; the last one repeats. */
  respond(connectionId: string, ...results: PostResult[]): void {
    this.results.set(connectionId, results);
  }

  async post(connectionId: string, frame: object): Promise<PostResult> {
    this.posts.push({ connectionId, frame });
    const scripted = this.results.get(connectionId);
    if (!scripted || scripted.length === 0) return "sent";
    return (scripted.length > 1 ? scripted.shift() : scripted[0]) ?? "sent";
  }

  /** The frames posted to one connection. */
  framesTo(connectionId: string): FriendsFrame[] {
    return this.posts
      .filter((p) => p.connectionId === connectionId)
      .map((p) => p.frame as FriendsFrame);
  }

  /** Every update posted to one connection, in order. */
  updatesTo(connectionId: string): FriendUpdate[] {
    return this.framesTo(connectionId).flatMap((f) => f.updates);
  }

  clear(): void {
    this.posts.length = 0;
  }
}

/** `sview:{userId}`: each shared user's viewers, capped per link as the Redis script does. */
export class InMemoryShareViewers implements ShareViewerRegistry {
  private readonly byUser = new Map<string, Map<string, ShareViewer>>();

  async add(sharedUserId: string, viewer: ShareViewer, maxPerLink: number): Promise<boolean> {
    const all = this.byUser.get(sharedUserId) ?? new Map<string, ShareViewer>();
    const same = [...all.values()].filter(
      (v) => v.linkId === viewer.linkId && v.connectionId !== viewer.connectionId,
    );
    if (same.length >= maxPerLink) return false;
    all.set(viewer.connectionId, { ...viewer });
    this.byUser.set(sharedUserId, all);
    return true;
  }

  async remove(sharedUserId: string, connectionId: string): Promise<void> {
    this.byUser.get(sharedUserId)?.delete(connectionId);
  }

  async takeLink(sharedUserId: string, linkId: string): Promise<string[]> {
    const all = this.byUser.get(sharedUserId);
    const taken = [...(all?.values() ?? [])].filter((v) => v.linkId === linkId);
    for (const v of taken) all?.delete(v.connectionId);
    return taken.map((v) => v.connectionId);
  }

  of(sharedUserId: string): ShareViewer[] {
    return [...(this.byUser.get(sharedUserId)?.values() ?? [])];
  }
}

/** The share-links table: slots per user, as the DynamoDB adapter keeps them. */
export class InMemoryShareLinks implements ShareLinkRepository {
  private readonly links = new Map<string, ShareLink[]>();

  async list(userId: string): Promise<ShareLink[]> {
    return (this.links.get(userId) ?? []).map((l) => ({ ...l }));
  }

  async create(link: ShareLink, maxActive: number, now: number): Promise<boolean> {
    const kept = (this.links.get(link.userId) ?? []).filter((l) => l.expiresAt > now);
    if (kept.length >= maxActive) return false;
    this.links.set(link.userId, [...kept, { ...link }]);
    return true;
  }

  async delete(userId: string, linkId: string): Promise<ShareLink | null> {
    const all = this.links.get(userId) ?? [];
    const found = all.find((l) => l.linkId === linkId);
    if (!found) return null;
    this.links.set(
      userId,
      all.filter((l) => l !== found),
    );
    return { ...found };
  }

  async byTokenHash(tokenHash: string): Promise<ShareLink | null> {
    for (const all of this.links.values()) {
      const found = all.find((l) => l.tokenHash === tokenHash);
      if (found) return { ...found };
    }
    return null;
  }

  async get(userId: string, linkId: string): Promise<ShareLink | null> {
    const found = (this.links.get(userId) ?? []).find((l) => l.linkId === linkId);
    return found ? { ...found } : null;
  }
}

/** Records closes (DeleteConnection) in order. */
export class RecordingCloser {
  readonly closed: string[] = [];
  async close(connectionId: string): Promise<void> {
    this.closed.push(connectionId);
  }
}

// ---- Tables ------------------------------------------------------------------------------------

/**
 * The Users table: an item per user holding the profile and the settings. As with DynamoDB's
 * UpdateItem, storing either part creates the item, and a user "exists" when the item does.
 */
export class InMemoryUsers implements UserRepository {
  private readonly items = new Map<string, { displayName?: string | null; settings?: Settings }>();
  /** The users each `settingsOf` batch asked for (table reads of the hot paths). */
  readonly settingsReads: string[][] = [];

  async get(userId: string): Promise<UserProfile | null> {
    const item = this.items.get(userId);
    return item ? { userId, displayName: item.displayName ?? null } : null;
  }

  async put(profile: UserProfile): Promise<void> {
    this.items.set(profile.userId, {
      ...this.items.get(profile.userId),
      displayName: profile.displayName,
    });
  }

  async createIfMissing(profile: UserProfile): Promise<void> {
    if (!this.items.has(profile.userId))
      this.items.set(profile.userId, { displayName: profile.displayName });
  }

  async displayNames(userIds: readonly string[]): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
    for (const u of userIds) {
      const item = this.items.get(u);
      if (item) out.set(u, item.displayName ?? null);
    }
    return out;
  }

  async getSettings(userId: string): Promise<Settings> {
    return normalizeSettings(this.items.get(userId)?.settings);
  }

  async putSettings(userId: string, settings: Settings): Promise<void> {
    this.items.set(userId, { ...this.items.get(userId), settings });
  }

  async settingsOf(userIds: readonly string[]): Promise<Map<string, Settings>> {
    this.settingsReads.push([...userIds]);
    const out = new Map<string, Settings>();
    for (const u of userIds) {
      const stored = this.items.get(u)?.settings;
      out.set(u, stored === undefined ? DEFAULT_SETTINGS : normalizeSettings(stored));
    }
    return out;
  }
}

/** The Friendships table: one item per direction, listed in sort-key (friendId) order. */
export class InMemoryFriendships implements FriendshipRepository {
  private readonly items = new Map<string, Friendship>();
  readonly faults = new Faults<"get" | "list" | "friendIds" | "putPair" | "deletePair">();

  async get(userId: string, friendId: string): Promise<Friendship | null> {
    this.faults.check("get");
    const f = this.items.get(pairKey(userId, friendId));
    return f ? { ...f } : null;
  }

  async list(userId: string): Promise<Friendship[]> {
    this.faults.check("list");
    return this.listOf(userId);
  }

  async friendIds(userId: string): Promise<string[]> {
    this.faults.check("friendIds");
    return this.listOf(userId)
      .filter((f) => f.status === "friends")
      .map((f) => f.friendId);
  }

  async putPair(mine: Friendship, theirs: Friendship): Promise<void> {
    this.faults.check("putPair");
    this.items.set(pairKey(theirs.userId, theirs.friendId), { ...theirs });
    this.items.set(pairKey(mine.userId, mine.friendId), { ...mine });
  }

  async deletePair(userId: string, friendId: string): Promise<void> {
    this.faults.check("deletePair");
    this.items.delete(pairKey(userId, friendId));
    this.items.delete(pairKey(friendId, userId));
  }

  /** Make two users friends (both items), for a test's setup. */
  befriend(a: string, b: string, since = T0): void {
    this.items.set(pairKey(a, b), { userId: a, friendId: b, status: "friends", since });
    this.items.set(pairKey(b, a), { userId: b, friendId: a, status: "friends", since });
  }

  private listOf(userId: string): Friendship[] {
    return [...this.items.values()]
      .filter((f) => f.userId === userId)
      .sort((x, y) => (x.friendId < y.friendId ? -1 : x.friendId > y.friendId ? 1 : 0))
      .map((f) => ({ ...f }));
  }
}

const pairKey = (userId: string, friendId: string): string => `${userId}\u0000${friendId}`;

/** The Blocks table: item (userId, otherId) with `blockedAt` and/or `blockedByAt`. */
export class InMemoryBlocks implements BlockRepository {
  private readonly items = new Map<string, { blockedAt?: number; blockedByAt?: number }>();
  readonly faults = new Faults<"block" | "between" | "eitherWay">();

  async block(blocker: string, blocked: string, at: number): Promise<void> {
    this.faults.check("block");
    const theirs = this.items.get(pairKey(blocked, blocker)) ?? {};
    this.items.set(pairKey(blocked, blocker), { ...theirs, blockedByAt: theirs.blockedByAt ?? at });
    const mine = this.items.get(pairKey(blocker, blocked)) ?? {};
    this.items.set(pairKey(blocker, blocked), { ...mine, blockedAt: mine.blockedAt ?? at });
  }

  async unblock(blocker: string, blocked: string): Promise<void> {
    this.unmark(pairKey(blocker, blocked), "blockedAt");
    this.unmark(pairKey(blocked, blocker), "blockedByAt");
  }

  async between(a: string, b: string): Promise<boolean> {
    this.faults.check("between");
    return this.items.has(pairKey(a, b));
  }

  async blockedBy(userId: string): Promise<BlockEntry[]> {
    return this.partition(userId).flatMap(([otherId, i]) =>
      i.blockedAt === undefined ? [] : [{ userId: otherId, since: i.blockedAt }],
    );
  }

  async eitherWay(userId: string): Promise<Set<string>> {
    this.faults.check("eitherWay");
    return new Set(this.partition(userId).map(([otherId]) => otherId));
  }

  /** How many items the table holds (an unblock leaves none behind). */
  size(): number {
    return this.items.size;
  }

  private unmark(key: string, field: "blockedAt" | "blockedByAt"): void {
    const item = this.items.get(key);
    if (!item) return;
    const rest = { ...item };
    delete rest[field];
    if (rest.blockedAt === undefined && rest.blockedByAt === undefined) this.items.delete(key);
    else this.items.set(key, rest);
  }

  private partition(userId: string): [string, { blockedAt?: number; blockedByAt?: number }][] {
    const prefix = `${userId}\u0000`;
    return [...this.items]
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v] as [string, typeof v])
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  }
}

/** The LocationHistory table; `rejects` picks items a write leaves unwritten (after "retries"). */
export class InMemoryHistory implements HistoryRepository {
  private readonly partitions = new Map<string, Map<string, HistoryItem>>();
  rejects: (item: HistoryItem) => boolean = () => false;

  async putAll(items: readonly HistoryItem[]): Promise<HistoryItem[]> {
    const failed: HistoryItem[] = [];
    for (const item of items) {
      if (this.rejects(item)) {
        failed.push(item);
        continue;
      }
      const p = this.partitions.get(item.userId) ?? new Map<string, HistoryItem>();
      p.set(item.sk, { ...item });
      this.partitions.set(item.userId, p);
    }
    return failed;
  }

  /** Newest first between the bounds (inclusive), after `startKey`, at most `limit` items. */
  async query(
    userId: string,
    range: { fromSk: string; toSk: string },
    limit: number,
    startKey: { userId: string; sk: string } | null,
  ): Promise<HistoryPage> {
    const all = this.itemsOf(userId)
      .filter((i) => i.sk >= range.fromSk && i.sk <= range.toSk)
      .filter((i) => startKey === null || i.sk < startKey.sk);
    const items = all.slice(0, limit);
    const last = items.at(-1);
    // Like DynamoDB, a page that reached the limit has a last key, even when nothing follows.
    return { items, lastKey: items.length === limit && last ? { userId, sk: last.sk } : null };
  }

  async deleteAll(userId: string): Promise<void> {
    this.partitions.delete(userId);
  }

  /** A user's items, newest first. */
  itemsOf(userId: string): HistoryItem[] {
    return [...(this.partitions.get(userId)?.values() ?? [])]
      .sort((a, b) => (a.sk < b.sk ? 1 : a.sk > b.sk ? -1 : 0))
      .map((i) => ({ ...i }));
  }
}

// ---- The world ---------------------------------------------------------------------------------

export interface WorldOptions {
  start?: number;
  tunables?: Partial<Tunables>;
}

/**
 * Every fake, wired once, and the deps of each group of use cases built from them, as
 * functions/wiring.ts and the entry files build them from the adapters.
 */
export function world(options: WorldOptions = {}) {
  const clock = new ManualClock(options.start ?? T0);
  const now = clock.now;
  const tunables: Tunables = { ...DEFAULT_TUNABLES, ...options.tunables };
  const telemetry = new RecordingTelemetry();
  const log = new RecordingLog();
  const positions: InMemoryPositions = new InMemoryPositions(now, (userId, connectionId) =>
    connections.closed(userId, connectionId),
  );
  const settingsCache = new InMemorySettingsCache();
  const users = new InMemoryUsers();
  const friendships = new InMemoryFriendships();
  const blocks = new InMemoryBlocks();
  const history = new InMemoryHistory();
  const budget = new InMemoryPushBudget(tunables.pushBudgetPerS, now);
  const publisher = new RecordingPublisher();
  const notifier = new RecordingNotifier();
  const shareViewers = new InMemoryShareViewers();
  const shareLinks = new InMemoryShareLinks();
  const closer = new RecordingCloser();
  const scheduled: Pick<ShareLink, "userId" | "linkId" | "expiresAt">[] = [];
  const audience: InMemoryAudience = new InMemoryAudience({
    positions,
    settingsCache,
    connectionsOf: (userId) => connections.of(userId),
    viewersOf: (userId) => shareViewers.of(userId),
  });
  const connections = new InMemoryConnections({ audience, positions });
  const settings = { users, cache: settingsCache };
  const cadenceStore = new InMemoryCadence({
    audience,
    positions,
    settingsCache,
    connectionsOf: (userId) => connections.of(userId),
  });
  // `cadence` pushes go to a recorder of their own, so that tests of friends' pushes see only those.
  const cadenceNotifier = new RecordingNotifier();
  const cadence: CadenceDeps = {
    cadence: cadenceStore,
    positions,
    settings,
    notifier: cadenceNotifier,
    rule: tunables,
    now,
    telemetry,
    log,
  };

  const session: SessionDeps & CadenceAware = {
    cadence,
    positions,
    connections,
    audience,
    friends: friendships,
    settings,
    publisher,
    tunables,
    now,
    telemetry,
    log,
  };
  const fanout: FanoutDeps = {
    audience,
    positions,
    connections,
    settings,
    notifier,
    publisher,
    config: { radiusM: tunables.radiusM, leaveMarginM: tunables.leaveMarginM },
    budget,
    now,
    sleep: async (ms) => {
      clock.advance(ms);
    },
    concurrency: tunables.postConcurrency,
    telemetry,
    shares: { names: users, viewers: shareViewers },
  };
  let randomCalls = 0;
  const reviewAll = async (userIds: readonly string[]) =>
    void (await reviewCadences(cadence, userIds));
  const shares: ShareLinksDeps & EndLinkDeps = {
    links: shareLinks,
    expiry: { schedule: async (link) => void scheduled.push(link) },
    // Distinct, predictable bytes per call.
    random: (bytes) => Buffer.alloc(bytes, ++randomCalls),
    baseUrl: "https://map.example/map",
    now,
    viewers: shareViewers,
    notifier,
    closer,
    reviewCadences: reviewAll,
  };
  const viewer: ViewerConnectDeps = { ...session, links: shareLinks, viewers: shareViewers };
  const friends: FriendsDeps = { users, friendships, blocks, now };
  const unfriend: UnfriendDeps = { ...friends, audience, notifier, reviewCadences: reviewAll };
  const blocking: BlockDeps = {
    users,
    friendships,
    blocks,
    audience,
    notifier,
    now,
    reviewCadences: reviewAll,
  };
  const people: PeopleDeps = {
    positions,
    index: positions,
    settings,
    friends: friendships,
    blocks,
    users,
    tunables,
    now,
  };
  const erase: EraseDeps = { history, positions, publisher, now };
  const updateSettings: UpdateSettingsDeps = {
    ...settings,
    republish: async (userId) => void (await republishLocation(session, userId)),
    reviewCadences: reviewAll,
  };
  const historyWrite: HistoryWriteDeps = {
    history,
    retentionDays: tunables.historyRetentionDays,
  };

  return {
    clock,
    tunables,
    telemetry,
    log,
    positions,
    settingsCache,
    users,
    friendships,
    blocks,
    history,
    publisher,
    notifier,
    budget,
    audience,
    connections,
    cadenceStore,
    cadenceNotifier,
    cadence,
    session,
    fanout,
    friends,
    unfriend,
    blocking,
    people,
    erase,
    updateSettings,
    historyWrite,
    shareViewers,
    shareLinks,
    closer,
    scheduled,
    shares,
    viewer,
    /** Connect and send `init` from `at`: the user is online and follows their friends. */
    async online(userId: string, connectionId: string, at: LatLon) {
      await connect(session, userId, connectionId);
      return init(session, { userId, connectionId, lat: at.lat, lon: at.lon });
    },
    /** Fan out what was published since the last delivery, as the next stream batch. */
    deliver(): Promise<FanoutResult> {
      return fanOut(fanout, publisher.take());
    },
  };
}

export type World = ReturnType<typeof world>;
