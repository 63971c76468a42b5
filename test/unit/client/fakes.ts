// Fakes for the client SDK's unit tests: a clock whose time moves only when told, and a
// WebSocket "network" whose sockets the test opens, feeds and drops by hand.
import type {
  Clock,
  FriendPosition,
  WebSocketConstructor,
  WebSocketLike,
} from "../../../client/types.ts";

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/** Let promise callbacks (token providers, awaited replies) run. */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

export class FakeClock implements Clock {
  private t = 1_700_000_000_000;
  private nextId = 1;
  private timers: Timer[] = [];

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { id: this.nextId++, at: this.t + Math.max(0, ms), fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Move time forward by `ms`, running every timer that falls due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const due = this.timers
        .filter((t) => t.at <= end)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
    await settle();
  }

  pending(): number {
    return this.timers.length;
  }
}

export type SentFrame = Record<string, unknown> & { action: string; requestId?: string };

export class FakeSocket implements WebSocketLike {
  readyState = 0;
  readonly sent: { at: number; frame: SentFrame }[] = [];
  closedWith: { code?: number; reason?: string } | null = null;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code?: number; reason?: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(
    readonly url: string,
    private readonly clock: FakeClock,
    readonly createdAt: number,
  ) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("send on a socket that is not open");
    this.sent.push({ at: this.clock.now(), frame: JSON.parse(data) as SentFrame });
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }

  // ---- the server's side

  /** The handshake succeeds. */
  accept(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  /** The handshake fails (401, 503, network): error then close, as browsers report it. */
  refuse(): void {
    this.readyState = 3;
    this.onerror?.({});
    this.onclose?.({ code: 1006 });
  }

  /** The server (or the network) closes an open connection. */
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code });
  }

  receive(frame: object): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  frames(action?: string): SentFrame[] {
    return this.sent.map((s) => s.frame).filter((f) => action === undefined || f.action === action);
  }

  last(action: string): SentFrame {
    const f = this.frames(action).at(-1);
    if (!f) throw new Error(`no ${action} frame sent; sent ${JSON.stringify(this.frames())}`);
    return f;
  }

  /** Answer the last `init` with a snapshot (and `extra` fields: `reportEveryS`). */
  replyInit(
    friends: FriendPosition[] = [],
    cursor: string | null = null,
    radiusM = 8047,
    extra: object = {},
  ): void {
    const init = this.last("init");
    this.receive({
      ...extra,
      type: "init",
      requestId: init.requestId,
      serverTime: this.clock.now(),
      radiusM,
      self: { lat: init.lat, lon: init.lon, at: this.clock.now() },
      friends,
      cursor,
    });
  }

  /** Answer the last frame of `action` with `reply` (its requestId added). */
  replyTo(action: string, reply: object): void {
    this.receive({ ...reply, requestId: this.last(action).requestId });
  }
}

/** A WebSocket constructor whose every socket is recorded. */
export class FakeNet {
  readonly sockets: FakeSocket[] = [];
  readonly WebSocket: WebSocketConstructor;

  constructor(clock: FakeClock) {
    const sockets = this.sockets;
    this.WebSocket = class {
      constructor(url: string) {
        const s = new FakeSocket(url, clock, clock.now());
        sockets.push(s);
        // biome-ignore lint/correctness/noConstructorReturn: the fake hands out the recorded socket
        return s;
      }
    } as unknown as WebSocketConstructor;
  }

  get last(): FakeSocket {
    const s = this.sockets.at(-1);
    if (!s) throw new Error("no socket was opened");
    return s;
  }
}

export const friend = (userId: string, at: number, distanceM = 100): FriendPosition => ({
  userId,
  lat: 37.5665,
  lon: 126.978,
  distanceM,
  at,
  precision: "precise",
});
