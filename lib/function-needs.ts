// What each Lambda entry needs: network placement, resources (with the access level), sizing and
// tracing. Keyed by every entry of functions/routes.ts, so a new entry does not compile until its
// needs are declared here; the stack turns each need into a grant plus its environment variable.
import { Duration } from "aws-cdk-lib";
import type { HouseEntry } from "./constructs/house-function.ts";
import type { TableAccess } from "./grants.ts";

export interface FunctionNeeds {
  readonly description: string;
  /** Redis: puts the function in the VPC behind the cache's client security group. */
  readonly redis?: true;
  /** PutRecord on the location-events stream. */
  readonly stream?: true;
  readonly users?: TableAccess;
  readonly friendships?: TableAccess;
  readonly history?: TableAccess;
  /** The @connections management API of the WebSocket stage. */
  readonly connections?: true;
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

/** The WebSocket session routes: Redis state, the stream, friendships, settings (read-through), tunables. */
const SESSION: Omit<FunctionNeeds, "description"> = {
  redis: true,
  stream: true,
  friendships: "read",
  users: "read",
  tunables: true,
};

/**
 * Every WebSocket route is rate-limited per connection, and every HTTP route per user; the counters
 * live in Redis: even the routes that touch no other state need it.
 */
const RATE_LIMITED: Omit<FunctionNeeds, "description"> = { redis: true };

export const FUNCTION_NEEDS: Record<HouseEntry, FunctionNeeds> = {
  "ws-authorizer": {
    description: "WebSocket $connect authorizer (Cognito token)",
    userPool: true,
    timeout: Duration.seconds(5),
  },
  "ws-connect": { description: "WebSocket $connect", ...SESSION },
  "ws-disconnect": { description: "WebSocket $disconnect", ...SESSION },
  "ws-default": {
    description: "WebSocket $default (unknown actions)",
    ...RATE_LIMITED,
    timeout: Duration.seconds(5),
  },
  "ws-init": { description: "WebSocket init: position and nearby-friends snapshot", ...SESSION },
  "ws-nearby-friends": { description: "WebSocket nearbyFriends: next snapshot page", ...SESSION },
  // The hottest route: one invocation per location frame of every online user.
  "ws-location": { description: "WebSocket location update", ...SESSION, tracing: false },
  "ws-subscribe": { description: "WebSocket subscribe to one friend", ...SESSION },
  "ws-unsubscribe": { description: "WebSocket unsubscribe from one friend", ...SESSION },
  "ws-ping": { description: "WebSocket ping", ...RATE_LIMITED, timeout: Duration.seconds(5) },
  "stream-fanout": {
    description: "Fans location events out to friends' connections",
    redis: true,
    stream: true,
    // Sharing settings of the movers, read through the Redis cache.
    users: "read",
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
    history: "write",
    tunables: true,
    memorySize: 512,
    timeout: Duration.seconds(60),
  },
  "http-profile": { description: "HTTP /me profile", users: "read-write", ...RATE_LIMITED },
  "http-friends": {
    description: "HTTP friend requests and friendships",
    users: "read",
    friendships: "read-write",
    redis: true,
    connections: true,
  },
  "http-settings": {
    description: "HTTP /me/settings",
    // Settings live on the user item and are cached in Redis; a change republishes the position.
    users: "read-write",
    redis: true,
    stream: true,
    tunables: true,
  },
  "http-history": {
    description: "HTTP /me/history",
    // DELETE /me/history erases the stored history and the current position (Redis), and tells
    // friends the user is offline (a stream record).
    history: "read-write",
    redis: true,
    stream: true,
  },
  "cognito-post-confirmation": {
    description: "Cognito post-confirmation: creates the profile",
    users: "write",
  },
};
