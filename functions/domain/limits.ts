// The protocol's limits and time windows (docs/PROTOCOL.md §2), each named once.

/** A frame (its UTF-8 text) larger than this is refused with `payload_too_large`. */
export const MAX_FRAME_BYTES = 32 * 1024;

/** Frames a connection may send in one rate window; more get `rate_limited` (every route). */
export const FRAMES_PER_WINDOW = 10;
export const RATE_WINDOW_MS = 1000;

/** What a client is asked to wait before sending its latest position again after a location frame
 * the server was too busy to take (`rate_limited` with `retryAfterMs`, docs/PROTOCOL.md §2.9). */
export const BUSY_RETRY_AFTER_MS = 1000;

/**
 * WebSocket connections one user may hold open at once (several devices); a further handshake is
 * refused with HTTP 429. Counted in Redis at $connect, atomically with the registration.
 */
export const MAX_CONNECTIONS_PER_USER = 5;

/** Handshakes one user may make in one connect window (refused ones too); more are refused (429). */
export const CONNECTS_PER_WINDOW = 10;
export const CONNECT_WINDOW_MS = 60_000;

/**
 * HTTP requests one user may make in one HTTP rate window, on every route together; more get 429
 * `rate_limited`. About 10 a second on average, with room for a burst (a screen that loads
 * several lists, a client paging its history).
 */
export const HTTP_REQUESTS_PER_WINDOW = 100;
export const HTTP_RATE_WINDOW_MS = 10_000;

/**
 * Users one user may block; a further block is refused with 409 `conflict` (unblock someone first).
 * Bounds the reads of the user's block list, done by every nearby-people search.
 */
export const MAX_BLOCKS_PER_USER = 1000;
