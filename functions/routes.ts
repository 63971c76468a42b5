// The routes of both APIs and the Lambda entry serving each: one table read by the CDK stack and
// by the local stack, so the two cannot drift apart.

/** WebSocket route key → entry file (under functions/, without extension). */
export const WS_ROUTES = {
  $connect: "ws-connect",
  $disconnect: "ws-disconnect",
  $default: "ws-default",
  init: "ws-init",
  nearbyFriends: "ws-nearby-friends",
  location: "ws-location",
  subscribe: "ws-subscribe",
  unsubscribe: "ws-unsubscribe",
  ping: "ws-ping",
  nearbyPeople: "ws-nearby-people",
} as const;

/** HTTP API route key ("METHOD /path") → entry file. Every route requires a valid JWT. */
export const HTTP_ROUTES = {
  "GET /me": "http-profile",
  "PUT /me": "http-profile",
  "POST /friends/requests": "http-friends",
  "GET /friends/requests": "http-friends",
  "POST /friends/requests/{userId}/accept": "http-friends",
  "DELETE /friends/requests/{userId}": "http-friends",
  "GET /friends": "http-friends",
  "DELETE /friends/{userId}": "http-friends",
  "GET /me/settings": "http-settings",
  "PUT /me/settings": "http-settings",
  "GET /me/history": "http-history",
  "DELETE /me/history": "http-history",
  "POST /share-links": "http-share-links",
  "GET /share-links": "http-share-links",
  "DELETE /share-links/{id}": "http-share-links",
  "POST /blocks": "http-blocks",
  "GET /blocks": "http-blocks",
  "DELETE /blocks/{userId}": "http-blocks",
} as const;

export const AUTHORIZER_ENTRY = "ws-authorizer";

/** Ends a share link's viewers at its expiry (the expiry timer's target). */
export const SHARE_EXPIRY_ENTRY = "share-expiry";

/** Stream consumers of the location-events stream. */
export const STREAM_CONSUMERS = {
  fanout: "stream-fanout",
  history: "stream-history",
} as const;

export type EntryName =
  | (typeof WS_ROUTES)[keyof typeof WS_ROUTES]
  | (typeof HTTP_ROUTES)[keyof typeof HTTP_ROUTES]
  | typeof AUTHORIZER_ENTRY
  | typeof SHARE_EXPIRY_ENTRY
  | (typeof STREAM_CONSUMERS)[keyof typeof STREAM_CONSUMERS];
