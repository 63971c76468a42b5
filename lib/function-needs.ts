// What each Lambda entry needs: network placement, resources (with the access level) and sizing.
// Keyed by every entry of functions/routes.ts, so a new entry does not compile until its needs are
// declared here; the stack turns each need into a grant plus its environment variable.
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
  /** The tunables of PROTOCOL.md §4; `fanout` adds the post concurrency. */
  readonly tunables?: "protocol" | "fanout";
  readonly memorySize?: number;
  readonly timeout?: Duration;
}

/** The WebSocket session routes: Redis state, the stream, friendships, settings (read-through), tunables. */
const SESSION: Omit<FunctionNeeds, "description"> = {
  redis: true,
  stream: true,
  friendships: "read",
  users: "read",
  tunables: "protocol",
};

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
    timeout: Duration.seconds(5),
  },
  "ws-init": { description: "WebSocket init: position and nearby-friends snapshot", ...SESSION },
  "ws-nearby-friends": { description: "WebSocket nearbyFriends: next snapshot page", ...SESSION },
  "ws-location": { description: "WebSocket location update", ...SESSION },
  "ws-subscribe": { description: "WebSocket subscribe to one friend", ...SESSION },
  "ws-unsubscribe": { description: "WebSocket unsubscribe from one friend", ...SESSION },
  "ws-ping": { description: "WebSocket ping", timeout: Duration.seconds(5) },
  "stream-fanout": {
    description: "Fans location events out to friends' connections",
    redis: true,
    stream: true,
    // Sharing settings of the movers, read through the Redis cache.
    users: "read",
    connections: true,
    tunables: "fanout",
    memorySize: 1024,
    timeout: Duration.seconds(60),
  },
  "stream-history": {
    description: "Writes location events to the history table",
    history: "write",
    tunables: "protocol",
    memorySize: 512,
    timeout: Duration.seconds(60),
  },
  "http-profile": { description: "HTTP /me profile", users: "read-write" },
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
    tunables: "protocol",
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
