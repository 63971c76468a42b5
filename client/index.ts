// Nearby Friends client SDK: a live WebSocket session (`connect`) that keeps the user's nearby
// friends up to date, and the HTTP API (`createHttpClient`). Dependency-free TypeScript for
// browsers, React Native and Node 20+ (where `ws` supplies the WebSocket until Node 22).
// The wire contract is docs/PROTOCOL.md; usage is in the README's "Client SDK" section.
//
//   const client = connect({ url: wsUrl, token: () => auth.accessToken() });
//   client.on("nearby", (friend) => map.show(friend));
//   client.on("away", (friend) => map.hide(friend.userId));
//   client.updateLocation({ lat, lon, accuracyM });
//
// Session (NearbyFriendsClient):
//   friends: ReadonlyMap<userId, FriendPosition>   state: ConnectionState   session: SessionInfo | null
//   on/once/off(event, listener)   events: nearby, away, change, error, state, init, cadence
//   updateLocation(LocationInput): void   reportEveryS: number | null (followCadence option)
//   subscribe(friendId): Promise<FriendPosition | null>   unsubscribe(friendId): Promise<void>
//   nearbyFriends(cursor, limit?): Promise<NearbyFriendsPage>   ping(): Promise<{serverTime}>
//   nearbyPeople(limit?): Promise<NearbyPerson[]>   resync(): Promise<void>   close(): void
// HTTP (HttpClient): getProfile, updateProfile, listFriends, removeFriend, sendFriendRequest,
//   listFriendRequests, acceptFriendRequest, deleteFriendRequest, getSettings, updateSettings,
//   getHistory, deleteHistory, block, unblock, listBlocks, createShareLink, listShareLinks,
//   revokeShareLink.
// Errors: NearbyFriendsError (code, status, retryAfterMs, requestId), TimeoutError, ClosedError.
import { type ConnectOptions, NearbyFriendsClient } from "./connection.ts";
import { HttpClient, type HttpClientOptions } from "./http.ts";

export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from "./backoff.ts";
export type { ClientEvents, ConnectionState, ConnectOptions, SessionInfo } from "./connection.ts";
export { NearbyFriendsClient } from "./connection.ts";
export { ClosedError, NearbyFriendsError, TimeoutError } from "./errors.ts";
export { distanceM } from "./geo.ts";
export type { HttpClientOptions } from "./http.ts";
export { HttpClient } from "./http.ts";
export { type AwayReason, FriendsModel, type ModelDiff } from "./model.ts";
export { systemClock } from "./platform.ts";
export type * from "./types.ts";

/**
 * Open a session: connects at once (and again after every drop), sends `init` with the
 * position as soon as one is known, and keeps `client.friends` current. Call `close()` to end it.
 */
export function connect(options: ConnectOptions): NearbyFriendsClient {
  return new NearbyFriendsClient(options);
}

/** A client of the HTTP API for one user. */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  return new HttpClient(options);
}
