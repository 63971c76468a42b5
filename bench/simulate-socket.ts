// The WebSocket the simulator hands the SDK: the `ws` package's, with a tap on every frame in and
// out, so that the simulator measures what went over the wire (frames sent, pushes received, the
// latency from a position's send to its push) while the SDK alone drives the session.
import WebSocket from "ws";
import type { WebSocketConstructor, WebSocketLike } from "../client/index.ts";

export interface FrameTap {
  sent(text: string): void;
  received(text: string, at: number): void;
  opened(): void;
  closed(): void;
}

type Handler<E> = ((event: E) => void) | null;

/** A WebSocket constructor whose sockets report to `tap`. */
export function tappedWebSocket(tap: FrameTap): WebSocketConstructor {
  return class TappedWebSocket implements WebSocketLike {
    private readonly ws: WebSocket;
    private wasOpen = false;
    onopen: Handler<unknown> = null;
    onmessage: Handler<{ data: unknown }> = null;
    onclose: Handler<{ code?: number; reason?: string }> = null;
    onerror: Handler<unknown> = null;

    constructor(url: string) {
      this.ws = new WebSocket(url);
      this.ws.onopen = (event) => {
        this.wasOpen = true;
        tap.opened();
        this.onopen?.(event);
      };
      this.ws.onmessage = (event) => {
        tap.received(String(event.data), performance.now());
        this.onmessage?.(event);
      };
      this.ws.onclose = (event) => {
        if (this.wasOpen) tap.closed();
        this.onclose?.(event);
      };
      this.ws.onerror = (event) => this.onerror?.(event);
    }

    get readyState(): number {
      return this.ws.readyState;
    }

    send(data: string): void {
      tap.sent(data);
      this.ws.send(data);
    }

    close(code?: number, reason?: string): void {
      this.ws.close(code, reason);
    }
  };
}
