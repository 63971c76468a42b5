// The protocol's limits and time windows (docs/PROTOCOL.md §2), each named once.

/** A frame (its UTF-8 text) larger than this is refused with `payload_too_large`. */
export const MAX_FRAME_BYTES = 32 * 1024;

/** Frames a connection may send in one rate window; more get `rate_limited` (every route). */
export const FRAMES_PER_WINDOW = 10;
export const RATE_WINDOW_MS = 1000;

/** What a client is asked to wait before sending its latest position again after a location frame
 * the server was too busy to take (`rate_limited` with `retryAfterMs`, docs/PROTOCOL.md §2.9). */
export const BUSY_RETRY_AFTER_MS = 1000;
