// The platform's own timers, WebSocket and fetch, found on globalThis (browsers, React Native,
// Node 22+; on Node 20 pass the `ws` package's WebSocket). Typed here, not by the DOM or Node.
import type { Clock, FetchLike, WebSocketConstructor } from "./types.ts";

interface Host {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  WebSocket?: WebSocketConstructor;
  fetch?: FetchLike;
}

const host = globalThis as unknown as Host;

/** Date.now and the platform's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => host.setTimeout(fn, ms),
  clearTimeout: (handle) => host.clearTimeout(handle),
};

export function defaultWebSocket(): WebSocketConstructor {
  const ctor = host.WebSocket;
  if (!ctor) {
    throw new TypeError(
      "no global WebSocket: pass options.WebSocket (on Node 20, the ws package's WebSocket)",
    );
  }
  return ctor;
}

export function defaultFetch(): FetchLike {
  if (!host.fetch) throw new TypeError("no global fetch: pass options.fetch");
  // Called through globalThis: browsers refuse a detached fetch ("Illegal invocation").
  return (url, init) => (host.fetch as FetchLike).call(globalThis, url, init);
}
