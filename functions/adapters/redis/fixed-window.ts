// The fixed-window counter every rate limit uses (frames per connection, handshakes and HTTP
// requests per user), as one Lua fragment spliced into the scripts that need it: the count and the
// window's expiry are set in the same atomic step, so a counter can never be left without an
// expiry (a `SET NX` + `INCR` pair could, freezing the limit for good).

/**
 * Lua statements that count one more event in the window kept at `key` (a KEYS[i] expression) of
 * `windowMs` (an ARGV[j] expression), leaving the count in the local `n`.
 */
export const countInWindowLua = (key: string, windowMs: string): string =>
  `local n = redis.call('INCR', ${key})
if n == 1 or redis.call('PTTL', ${key}) < 0 then redis.call('PEXPIRE', ${key}, ${windowMs}) end`;
