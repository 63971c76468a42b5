// The local WebSocket gateway against API Gateway's behaviour, with routes of its own (no
// functions): frame and message limits, binary frames, concurrent dispatch, the idle timeout and
// the maximum connection age with their $disconnect, outgoing frames of at most 32 KB, and the
// @connections API (throttling, GetConnection's JSON as the SDK reads it).
import {
  ApiGatewayManagementApiClient,
  GetConnectionCommand,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import type { APIGatewayAuthorizerResult } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { WsEvent, WsResult } from "../../functions/middleware/ws.ts";
import { AWS_GATEWAY_OPTIONS, type GatewayOptions } from "../../local/gateway-options.ts";
import { startWsGateway, type WsGateway } from "../../local/ws-gateway.ts";

const KB = 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let gateway: WsGateway | undefined;
const clients: WebSocket[] = [];
afterEach(async () => {
  for (const ws of clients.splice(0)) ws.terminate();
  await gateway?.stop();
  gateway = undefined;
});

interface Seen {
  /** Bodies the $default route received. */
  bodies: string[];
  /** $disconnect events' request contexts. */
  disconnects: Record<string, unknown>[];
  /** Connection ids, as $connect saw them. */
  connected: string[];
}

const allow: APIGatewayAuthorizerResult = {
  principalId: "u1",
  policyDocument: {
    Version: "2012-10-17",
    Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: "*" }],
  },
  context: { userId: "u1" },
};

/** A gateway whose routes record what they get; `slow`/`fast` answer after 300 ms / at once. */
async function start(options: Partial<GatewayOptions> = {}): Promise<Seen> {
  const seen: Seen = { bodies: [], disconnects: [], connected: [] };
  const reply = (body: string): WsResult => ({ statusCode: 200, body });
  gateway = await startWsGateway(
    0,
    () => ({
      authorizer: async () => allow,
      routes: {
        $connect: async (e: WsEvent) => {
          seen.connected.push(e.requestContext.connectionId);
          return { statusCode: 200 };
        },
        $disconnect: async (e: WsEvent) => {
          seen.disconnects.push(e.requestContext as unknown as Record<string, unknown>);
          return undefined;
        },
        $default: async (e: WsEvent) => {
          seen.bodies.push(e.body ?? "");
          return reply(JSON.stringify({ bytes: Buffer.byteLength(e.body ?? "") }));
        },
        slow: async () => {
          await sleep(300);
          return reply("slow");
        },
        fast: async () => reply("fast"),
        big: async () => reply(JSON.stringify({ pad: "x".repeat(70 * KB) })),
      },
    }),
    () => undefined,
    { ...AWS_GATEWAY_OPTIONS, ...options },
  );
  return seen;
}

interface Client {
  ws: WebSocket;
  messages: string[];
  /** Payload sizes of the data frames received (continuations included). */
  frames: number[];
  closed: Promise<{ code: number; reason: string }>;
}

async function connect(): Promise<Client> {
  const ws = new WebSocket(`ws://127.0.0.1:${gateway?.port}/?token=t`);
  clients.push(ws);
  const messages: string[] = [];
  const frames: number[] = [];
  ws.on("message", (data) => messages.push(data.toString()));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  ws.on("error", () => undefined);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  // The frame sizes, as the client's receiver reads each header.
  const receiver = (ws as unknown as { _receiver: Record<string, unknown> })._receiver as {
    _opcode: number;
    _payloadLength: number;
    haveLength(cb: unknown): void;
  };
  const haveLength = receiver.haveLength;
  receiver.haveLength = function (this: typeof receiver, cb) {
    if (this._opcode < 8) frames.push(this._payloadLength);
    return haveLength.call(this, cb);
  };
  return { ws, messages, frames, closed };
}

/** Send `parts` as one text message, one frame each. */
function sendFragmented(ws: WebSocket, parts: string[]) {
  parts.forEach((p, i) => {
    ws.send(p, { binary: false, fin: i === parts.length - 1 });
  });
}

async function until(check: () => boolean, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await sleep(10);
}

describe("frame and message limits", () => {
  it("closes the connection with 1009 on a single frame over 32 KB, unread, and runs $disconnect", async () => {
    const seen = await start();
    const c = await connect();

    c.ws.send("x".repeat(32 * KB + 1));

    expect((await c.closed).code).toBe(1009);
    await until(() => seen.disconnects.length > 0);
    expect(seen.bodies).toEqual([]);
    expect(seen.disconnects[0]).toMatchObject({ disconnectStatusCode: 1009 });
  });

  it("passes a message of frames of 32 KB each, up to 128 KB, to the route", async () => {
    const seen = await start();
    const c = await connect();

    sendFragmented(
      c.ws,
      Array.from({ length: 4 }, () => "y".repeat(32 * KB)),
    );

    await until(() => c.messages.length > 0);
    expect(c.messages).toEqual([JSON.stringify({ bytes: 128 * KB })]);
    expect(seen.bodies[0]).toHaveLength(128 * KB);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it("closes the connection with 1009 on a message over 128 KB in small frames", async () => {
    const seen = await start();
    const c = await connect();

    sendFragmented(c.ws, [...Array.from({ length: 4 }, () => "z".repeat(32 * KB)), "z"]);

    expect((await c.closed).code).toBe(1009);
    expect(seen.bodies).toEqual([]);
  });

  it("closes the connection with 1003 on a binary frame", async () => {
    const seen = await start();
    const c = await connect();

    c.ws.send(Buffer.from('{"action":"fast"}'), { binary: true });

    expect((await c.closed).code).toBe(1003);
    expect(seen.bodies).toEqual([]);
    expect(c.messages).toEqual([]);
  });

  it("sends messages over 32 KB to the client in frames of at most 32 KB", async () => {
    await start();
    const c = await connect();

    c.ws.send(JSON.stringify({ action: "big" }));

    await until(() => c.messages.length > 0);
    expect(JSON.parse(c.messages[0] ?? "{}").pad).toHaveLength(70 * KB);
    expect(c.frames.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...c.frames)).toBeLessThanOrEqual(32 * KB);
  });
});

describe("frame dispatch", () => {
  it("runs a connection's frames concurrently, as API Gateway does: a fast frame overtakes a slow one", async () => {
    await start();
    const c = await connect();

    c.ws.send(JSON.stringify({ action: "slow" }));
    c.ws.send(JSON.stringify({ action: "fast" }));

    await until(() => c.messages.length === 2);
    expect(c.messages).toEqual(["fast", "slow"]);
  });

  it("runs them one after another when configured serial", async () => {
    await start({ frameDispatch: "serial" });
    const c = await connect();

    c.ws.send(JSON.stringify({ action: "slow" }));
    c.ws.send(JSON.stringify({ action: "fast" }));

    await until(() => c.messages.length === 2);
    expect(c.messages).toEqual(["slow", "fast"]);
  });
});

describe("connection life", () => {
  it("closes a connection idle for the idle timeout with 1001 Going away, and runs $disconnect", async () => {
    const seen = await start({ idleTimeoutS: 0.4 });
    const c = await connect();
    const opened = Date.now();

    // Frames keep it open past the timeout...
    for (let i = 0; i < 4; i++) {
      await sleep(200);
      c.ws.send("{}");
    }
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    // ...silence closes it.
    const closed = await c.closed;

    expect(closed).toEqual({ code: 1001, reason: "Going away" });
    expect(Date.now() - opened).toBeGreaterThanOrEqual(1200);
    await until(() => seen.disconnects.length > 0);
    expect(seen.disconnects[0]).toMatchObject({
      eventType: "DISCONNECT",
      connectionId: seen.connected[0],
      disconnectStatusCode: 1001,
      disconnectReason: "Going away",
    });
  });

  it("closes a connection at its maximum age with 1001, however busy, and runs $disconnect", async () => {
    const seen = await start({ maxConnectionAgeS: 0.6 });
    const c = await connect();
    const opened = Date.now();
    const busy = setInterval(() => c.ws.readyState === WebSocket.OPEN && c.ws.send("{}"), 100);

    const closed = await c.closed;
    clearInterval(busy);

    expect(closed.code).toBe(1001);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(550);
    await until(() => seen.disconnects.length > 0);
    expect(seen.disconnects[0]).toMatchObject({ disconnectStatusCode: 1001 });
  });
});

describe("@connections", () => {
  const management = () =>
    new ApiGatewayManagementApiClient({
      endpoint: `http://127.0.0.1:${gateway?.port}`,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      maxAttempts: 1,
    });

  it("answers GetConnection in API Gateway's JSON, which the SDK reads", async () => {
    const seen = await start();
    const c = await connect();
    c.ws.send("{}");
    await until(() => c.messages.length > 0);

    const out = await management().send(
      new GetConnectionCommand({ ConnectionId: seen.connected[0] }),
    );

    expect(out.ConnectedAt).toBeInstanceOf(Date);
    expect(out.LastActiveAt).toBeInstanceOf(Date);
    expect(out.LastActiveAt?.getTime()).toBeGreaterThanOrEqual(out.ConnectedAt?.getTime() ?? 0);
    expect(out.Identity).toEqual({ SourceIp: "127.0.0.1", UserAgent: "" });
  });

  it("throttles calls over the account's rate with 429 LimitExceededException", async () => {
    const seen = await start({ connectionsRatePerS: 5, connectionsBurst: 5 });
    const c = await connect();
    const client = management();

    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        client.send(
          new PostToConnectionCommand({
            ConnectionId: seen.connected[0],
            Data: Buffer.from(`m${i}`),
          }),
        ),
      ),
    );

    const refused = results.filter((r) => r.status === "rejected");
    expect(results.length - refused.length).toBe(5);
    expect(refused).toHaveLength(3);
    for (const r of refused) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({
        name: "LimitExceededException",
        $metadata: { httpStatusCode: 429 },
      });
    }
    await until(() => c.messages.length === 5);
    expect(c.messages).toHaveLength(5);
    // The bucket refills at the rate: a call a quarter of a second later is let through.
    await sleep(250);
    await client.send(
      new PostToConnectionCommand({ ConnectionId: seen.connected[0], Data: Buffer.from("later") }),
    );
  });
});
