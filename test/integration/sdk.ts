// The client SDK (client/) in integration tests: sessions with the stack under test, closed after
// each test, and waiting for an SDK event.
import WebSocket from "ws";
import {
  type ClientEvents,
  type ConnectOptions,
  connect,
  type NearbyFriendsClient,
} from "../../client/index.ts";
import { type TestUser, wsUrl } from "./client.ts";

/** SDK sessions with the stack under test; `closeAll` after each test. */
export class SdkSessions {
  private readonly open: NearbyFriendsClient[] = [];

  /**
   * A session of `user` (Node 20 has no global WebSocket: the `ws` package's is passed). It sends
   * every position at once (`followCadence: false`): tests follow moves, not the reporting
   * cadence, unless they ask for it.
   */
  connect(user: TestUser, options: Partial<ConnectOptions> = {}): NearbyFriendsClient {
    const client = connect({
      url: wsUrl(),
      token: async () => user.token,
      WebSocket,
      followCadence: false,
      ...options,
    });
    this.open.push(client);
    return client;
  }

  closeAll(): void {
    for (const c of this.open.splice(0)) c.close();
  }
}

/** The next `event` of `client` whose arguments match, within `timeoutMs`. */
export function next<K extends keyof ClientEvents>(
  client: NearbyFriendsClient,
  event: K,
  match: (...args: Parameters<ClientEvents[K]>) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<Parameters<ClientEvents[K]>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching ${String(event)} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (...args: Parameters<ClientEvents[K]>) => {
      if (!match(...args)) return;
      clearTimeout(timer);
      off();
      resolve(args);
    };
    const off = client.on(event, listener as unknown as ClientEvents[K]);
  });
}
