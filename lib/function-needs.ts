// What each Lambda entry needs: network placement, resources (with the exact actions its handler
// calls), sizing and tracing. Keyed by every entry of functions/routes.ts, so a new entry does not compile until its
// needs are declared here; the stack turns each need into a grant plus its environment variable.
import { Duration } from "aws-cdk-lib";
import type { HouseEntry } from "./constructs/house-function.ts";
import type { ConnectionsNeed, StreamNeed, TableNeed } from "./grants.ts";

export interface FunctionNeeds {
  readonly description: string;
  /** Redis: puts the function in the VPC behind the cache's client security group. */
  readonly redis?: true;
  /** The location-events stream: `publish` (PutRecord) or its `name` only. */
  readonly stream?: StreamNeed;
  /** The DynamoDB actions the function calls on each table; `[]` for the table's name only. */
  readonly users?: TableNeed;
  readonly friendships?: TableNeed;
  readonly history?: TableNeed;
  readonly shareLinks?: TableNeed;
  readonly blocks?: TableNeed;
  /** Query the share-links table's token index (a viewer's handshake). */
  readonly shareTokenLookup?: true;
  /** Creates share links: their URL's base and the expiry mode (grants.ts useShareLinkCreation). */
  readonly createsShareLinks?: true;
  /**
   * The @connections management API of the WebSocket stage: post to connections (`true`), and
   * also close them (`"post-and-close"`).
   */
  readonly connections?: true | ConnectionsNeed;
  /** Cognito user pool and app client ids (token verification). */
  readonly userPool?: true;
  /** Every tunable of functions/config.ts (`TUNABLES`), from the stage's context. */
  readonly tunables?: true;
  /**
   * `false` turns X-Ray off (no active tracing, no X-Ray grant, Powertools' tracer disabled) for a
   * hot path, where a trace of every frame or record would cost more than the function.
   * @default tracing on
   */
  readonly tracing?: false;
  readonly memorySize?: number;
  readonly timeout?: Duration;
}

/**
 * The WebSocket session routes share one wiring (functions/wiring.ts `sessionWiring`), which reads
 * the names of the stream and both tables and the tunables at cold start, and Redis. Each route
 * then adds the calls its use case makes (functions/app/session.ts, location.ts, snapshot.ts);
 * by default none.
 */
const SESSION = {
  redis: true,
  stream: "name",
  friendships: [],
  users: [],
  tunables: true,
} as const satisfies Omit<FunctionNeeds, "description">;

/**
 * Every WebSocket route is rate-limited per connection, and every HTTP route per user; the counters
 * live in Redis: even the routes that touch no other state need it.
 */
const RATE_LIMITED = { redis: true } as const satisfies Omit<FunctionNeeds, "description">;

/** The nearby-friends snapshot reads the settings the cache misses, in one BatchGetItem. */
const SNAPSHOT_USERS: TableNeed = ["BatchGetItem"];

/**
 * Routes that change who watches whom decide reporting cadences again (functions/app/cadence.ts):
 * the settings the cache misses (BatchGetItem), and a `cadence` push to the connections of a user
 * whose cadence changed.
 */
const CADENCE = {
  users: ["BatchGetItem"],
  connections: true,
} as const satisfies Omit<FunctionNeeds, "description">;

export const FUNCTION_NEEDS: Record<HouseEntry, FunctionNeeds> = {
  "ws-authorizer": {
    description: "WebSocket $connect authorizer (Cognito token or share-link token)",
    userPool: true,
    // A share token: its hash on the token index (Query), confirmed on the link's slot (GetItem).
    shareLinks: ["GetItem"],
    shareTokenLookup: true,
    timeout: Duration.seconds(5),
  },
  // Registers the connection in Redis. A share-link viewer's: checks the link again (a consistent
  // Query of the owner's slots) and publishes the shared user's position, or `offline`, for it;
  // the shared user now has a viewer: their cadence is decided again.
  "ws-connect": {
    description: "WebSocket $connect",
    ...SESSION,
    ...CADENCE,
    stream: "publish",
    shareLinks: ["Query"],
  },
  // Forgets the connection; the user's last one publishes `offline`; the friends it followed (or
  // the user a viewer watched) get their cadence decided again.
  "ws-disconnect": {
    description: "WebSocket $disconnect",
    ...SESSION,
    ...CADENCE,
    stream: "publish",
  },
  "ws-default": {
    description: "WebSocket $default (unknown actions)",
    ...RATE_LIMITED,
    timeout: Duration.seconds(5),
  },
  // Lists the friends (Query), stores and publishes the position, replies with the snapshot and
  // the user's cadence (and tells the friends within reach theirs).
  "ws-init": {
    description: "WebSocket init: position and nearby-friends snapshot",
    ...SESSION,
    ...CADENCE,
    stream: "publish",
    friendships: ["Query"],
    users: SNAPSHOT_USERS,
  },
  // Lists the friends (Query) and pages the snapshot of the stored position; publishes nothing.
  "ws-nearby-friends": {
    description: "WebSocket nearbyFriends: next snapshot page",
    ...SESSION,
    friendships: ["Query"],
    users: SNAPSHOT_USERS,
  },
  // The hottest route: one invocation per location frame of every online user. Stores (Redis) and
  // publishes; no table.
  "ws-location": {
    description: "WebSocket location update",
    ...SESSION,
    stream: "publish",
    tracing: false,
  },
  // Checks the one friendship (GetItem), follows, replies with the friend's snapshot entry.
  "ws-subscribe": {
    description: "WebSocket subscribe to one friend",
    ...SESSION,
    ...CADENCE,
    friendships: ["GetItem"],
    users: SNAPSHOT_USERS,
  },
  // Unfollows in Redis; the friend's cadence is decided again.
  "ws-unsubscribe": {
    description: "WebSocket unsubscribe from one friend",
    ...SESSION,
    ...CADENCE,
  },
  "ws-ping": { description: "WebSocket ping", ...RATE_LIMITED, timeout: Duration.seconds(5) },
  "stream-fanout": {
    description: "Fans location events out to friends' connections",
    redis: true,
    // `offline` for the users whose last connection turned out gone.
    stream: "publish",
    // Sharing settings of the movers the Redis cache misses.
    users: ["BatchGetItem"],
    connections: true,
    tunables: true,
    // One invocation per stream batch, all day, each with hundreds of pushes: tracing them would
    // cost more than the function.
    tracing: false,
    memorySize: 1024,
    timeout: Duration.seconds(60),
  },
  "stream-history": {
    description: "Writes location events to the history table",
    history: ["BatchWriteItem"],
    tunables: true,
    memorySize: 512,
    timeout: Duration.seconds(60),
  },
  // GET /me (GetItem), PUT /me (UpdateItem of the profile's fields); the HTTP rate limit in Redis.
  "http-profile": {
    description: "HTTP /me profile",
    users: ["GetItem", "UpdateItem"],
    ...RATE_LIMITED,
  },
  "http-friends": {
    description: "HTTP friend requests and friendships",
    // Does the other user exist (GetItem); display names of the friends list (BatchGetItem).
    users: ["GetItem", "BatchGetItem"],
    // One relation (GetItem), all of a user's (Query), both directions written or deleted.
    friendships: ["GetItem", "Query", "PutItem", "DeleteItem"],
    // A block either way refuses a friend request (one GetItem: both directions on one item).
    blocks: ["GetItem"],
    // Unfriending stops the two following each other (Redis) and tells their connections.
    redis: true,
    connections: true,
    // The cadence rule (app/cadence.ts) reads the tunables.
    tunables: true,
  },
  "http-settings": {
    description: "HTTP /me/settings",
    // Settings live on the user item (GetItem, UpdateItem) and are cached in Redis; a change
    // republishes the position and decides the user's cadence again (BatchGetItem on a cache
    // miss, a `cadence` push when it changed).
    users: ["GetItem", "UpdateItem", "BatchGetItem"],
    redis: true,
    stream: "publish",
    tunables: true,
    connections: true,
  },
  "http-history": {
    description: "HTTP /me/history",
    // GET pages the history (Query); DELETE reads the keys (Query) and deletes them in batches
    // (BatchWriteItem), erases the current position (Redis) and tells friends the user is offline.
    history: ["Query", "BatchWriteItem"],
    redis: true,
    stream: "publish",
  },
  "http-share-links": {
    description: "HTTP /share-links",
    // The owner's slots (Query), a new link (a conditional PutItem), a revocation (DeleteItem).
    shareLinks: ["Query", "PutItem", "DeleteItem"],
    createsShareLinks: true,
    // A revocation ends the link's viewers: their registry in Redis, `shareEnded`, then closed;
    // the user's cadence is decided again (settings the cache misses: BatchGetItem).
    redis: true,
    connections: "post-and-close",
    users: ["BatchGetItem"],
    // The cadence rule (app/cadence.ts) reads the tunables.
    tunables: true,
  },
  // The expiry workflow's target: ends a link's viewers (Redis, `shareEnded`, closed).
  "share-expiry": {
    description: "Ends an expired share link's viewers",
    redis: true,
    connections: "post-and-close",
    // The user's cadence is decided again (settings the cache misses).
    users: ["BatchGetItem"],
    timeout: Duration.seconds(30),
    // The cadence rule (app/cadence.ts) reads the tunables.
    tunables: true,
  },
  // The caller's position and the cell index (Redis), their friends (Query) and blocks either way
  // (Query), the candidates' settings the cache misses and the shown people's names (BatchGetItem).
  "ws-nearby-people": {
    description: "WebSocket nearbyPeople: discoverable strangers nearby",
    redis: true,
    friendships: ["Query"],
    users: ["BatchGetItem"],
    blocks: ["Query"],
    tunables: true,
  },
  "http-blocks": {
    description: "HTTP /blocks",
    // Does the other user exist (GetItem); display names of the list (BatchGetItem).
    users: ["GetItem", "BatchGetItem"],
    // The caller's blocks (Query: the list, the cap); a block or unblock updates both directions'
    // items (UpdateItem) and deletes an item left empty (DeleteItem).
    blocks: ["Query", "UpdateItem", "DeleteItem"],
    // A block ends the friendship or the pending request (GetItem, DeleteItem of both items), stops
    // the two following each other (Redis) and tells their connections (`away`).
    friendships: ["GetItem", "DeleteItem"],
    redis: true,
    connections: true,
    // The cadence rule (app/cadence.ts) reads the tunables.
    tunables: true,
  },
  "cognito-post-confirmation": {
    description: "Cognito post-confirmation: creates the profile",
    // A conditional PutItem: creates the profile unless it exists.
    users: ["PutItem"],
  },
};
