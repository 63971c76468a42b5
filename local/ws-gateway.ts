// A WebSocket gateway that behaves like API Gateway's WebSocket API: the Lambda authorizer and
// $connect on upgrade, route selection on `action`, route replies, $disconnect, and the
// `@connections` Management API over HTTP (410 + x-amzn-errortype: GoneException for a gone id).
// API Gateway's limits as a client meets them (gateway-options.ts has the values):
// - a single frame over 32 KB closes the connection with 1009, as does a message over 128 KB (in
//   frames of at most 32 KB each, it reaches the routes); a binary frame closes it with 1003. The
//   frame header is checked as the `ws` receiver reads it, before any of the payload;
// - messages to the client (route replies, @connections posts) over 32 KB go out in frames of
//   32 KB, as API Gateway splits them;
// - a connection's frames are dispatched as they arrive, concurrently, or one after another;
// - a connection is closed (1001 "Going away") after the idle timeout without a frame from the
//   client, and at its maximum age; $disconnect runs, with the close code and reason;
// - `@connections` calls over the account's rate get 429 LimitExceededException;
// - GetConnection answers in API Gateway's JSON (camelCase), as the SDK reads it.
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import * as wsModule from "ws";
import { WebSocket, WebSocketServer } from "ws";
import type { WsEvent, WsResult } from "../functions/middleware/ws.ts";
import { AWS_GATEWAY_OPTIONS, type GatewayOptions } from "./gateway-options.ts";
import { closeServer, HOST, listen } from "./ports.ts";

export interface GatewayHandlers {
  authorizer: (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;
  /** Route key ($connect, $disconnect, $default, or an action) → handler. */
  routes: Record<string, (event: WsEvent) => Promise<WsResult | undefined>>;
}

interface Connection {
  id: string;
  ws: WebSocket;
  authorizer: Record<string, unknown>;
  connectedAt: number;
  lastActiveAt: number;
  sourceIp: string;
  userAgent: string;
  /** Serial dispatch: the frames of the connection, one after another, in arrival order. */
  queue: Promise<void>;
  /** The idle timeout and the maximum age. */
  timers: NodeJS.Timeout[];
  /** Why the gateway closed the connection (the client's close frame says it otherwise). */
  closedBy?: { code: number; reason: string };
  /** Lost without $disconnect (as when API Gateway drops a connection it cannot report). */
  lost?: boolean;
}

export interface WsGateway {
  port: number;
  server: Server;
  /** Open connection ids (for tests and diagnostics). */
  connectionIds(): string[];
  /** Drop a user's connections without calling $disconnect; returns how many. */
  loseConnections(userId: string): number;
  /** Open connections, and the @connections calls answered and throttled (GET /dev/gateway). */
  stats(): GatewayStats;
  stop(): Promise<void>;
}

export interface GatewayStats {
  connections: number;
  connectionsApi: { calls: number; throttled: number };
}

const STAGE = "local";
/** API Gateway's limits: a frame (either way), and a message (frames of one message together). */
export const MAX_FRAME_BYTES = 32 * 1024;
export const MAX_MESSAGE_BYTES = 128 * 1024;
/** How long a close the gateway started waits for the client's close frame before it drops the socket. */
const CLOSE_WAIT_MS = 1000;

/** The parts of `ws`'s Receiver (lib/receiver.js) the frame checks hook into. */
interface ReceiverInternals {
  _opcode: number;
  _payloadLength: number;
  haveLength(cb: (err?: Error) => void): void;
  createError(
    ctor: ErrorConstructor,
    message: string,
    prefix: boolean,
    statusCode: number,
    errorCode: string,
  ): Error;
}

/** Whether `ws`'s Receiver still has what the frame checks hook into: checked once at start. */
function receiverHooksAvailable(): boolean {
  const receiver = (wsModule as unknown as { Receiver?: { prototype: Partial<ReceiverInternals> } })
    .Receiver;
  return (
    typeof receiver?.prototype.haveLength === "function" &&
    typeof receiver.prototype.createError === "function"
  );
}

/**
 * Check each frame's header as the receiver reads it, before its payload: a binary frame closes the
 * connection with 1003, a data frame over 32 KB with 1009, through the receiver's own error path
 * (which sends the close frame with that code). The message limit is `maxPayload`.
 */
function enforceFrameLimits(ws: WebSocket, closed: (code: number, reason: string) => void): void {
  const receiver = (ws as unknown as { _receiver?: ReceiverInternals })._receiver;
  if (typeof receiver?.haveLength !== "function" || typeof receiver.createError !== "function")
    throw new Error("the ws receiver's internals changed: frame limits cannot be enforced");
  const haveLength = receiver.haveLength;
  receiver.haveLength = function (this: ReceiverInternals, cb) {
    // A continuation frame has its message's opcode here.
    if (this._opcode === 0x02) {
      closed(1003, "Binary frames are not supported");
      return cb(this.createError(Error, "binary frame", false, 1003, "WS_ERR_UNSUPPORTED_DATA"));
    }
    if (this._opcode < 0x08 && this._payloadLength > MAX_FRAME_BYTES) {
      closed(1009, "Frame size exceeded");
      return cb(
        this.createError(RangeError, "frame over 32 KB", false, 1009, "WS_ERR_FRAME_TOO_LARGE"),
      );
    }
    return haveLength.call(this, cb);
  };
}

/** A text message as API Gateway sends it: in frames of at most 32 KB. */
function sendText(ws: WebSocket, text: string): void {
  const data = Buffer.from(text, "utf8");
  if (data.length <= MAX_FRAME_BYTES) {
    ws.send(data, { binary: false });
    return;
  }
  for (let at = 0; at < data.length; at += MAX_FRAME_BYTES) {
    const end = Math.min(at + MAX_FRAME_BYTES, data.length);
    ws.send(data.subarray(at, end), { binary: false, fin: end === data.length });
  }
}

/** A token bucket: `ratePerS` tokens a second, at most `burst` at once; rate 0 never refuses. */
function tokenBucket(ratePerS: number, burst: number): () => boolean {
  let tokens = burst;
  let last = performance.now();
  return () => {
    if (ratePerS <= 0) return true;
    const now = performance.now();
    tokens = Math.min(burst, tokens + ((now - last) / 1000) * ratePerS);
    last = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

const newConnectionId = () => randomBytes(11).toString("base64");

function queryOf(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of url.searchParams) out[k] = v;
  return out;
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") out[k] = v;
  return out;
}

function rejectUpgrade(socket: Duplex, status: number, message: string) {
  const body = JSON.stringify({ message });
  socket.end(
    `HTTP/1.1 ${status} ${message}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export async function startWsGateway(
  port: number,
  handlers: () => GatewayHandlers | null,
  log: (msg: string, detail?: object) => void,
  options: GatewayOptions = AWS_GATEWAY_OPTIONS,
): Promise<WsGateway> {
  if (!receiverHooksAvailable())
    throw new Error("the ws package's Receiver changed: the frame limits cannot be enforced");
  const connections = new Map<string, Connection>();
  /** Invocations under way (frames, $disconnect): a stop waits for them. */
  const pending = new Set<Promise<void>>();
  const track = (work: Promise<void>) => {
    pending.add(work);
    void work.finally(() => pending.delete(work));
    return work;
  };
  const allowCall = tokenBucket(options.connectionsRatePerS, options.connectionsBurst);
  const callCounts = { calls: 0, throttled: 0 };
  const server = createServer((req, res) => {
    managementApi(req, res).catch((err: unknown) => {
      log("management API request failed", { error: String(err) });
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
  });
  let domainName = `${HOST}:${port}`;

  const requestContext = (
    routeKey: string,
    eventType: string,
    c: Pick<Connection, "id" | "authorizer" | "connectedAt" | "sourceIp" | "userAgent">,
  ) => ({
    routeKey,
    eventType,
    connectionId: c.id,
    authorizer: c.authorizer,
    messageId: randomBytes(8).toString("base64"),
    extendedRequestId: randomUUID(),
    requestId: randomUUID(),
    requestTime: new Date().toISOString(),
    requestTimeEpoch: Date.now(),
    connectedAt: c.connectedAt,
    domainName,
    stage: STAGE,
    apiId: "local",
    messageDirection: "IN",
    identity: { sourceIp: c.sourceIp, userAgent: c.userAgent },
  });

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgrade(req, socket, head).catch((err: unknown) => {
      log("upgrade failed", { error: String(err) });
      rejectUpgrade(socket, 500, "Internal server error");
    });
  });

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    const h = handlers();
    if (!h) return rejectUpgrade(socket, 503, "Service Unavailable");
    const url = new URL(req.url ?? "/", `http://${domainName}`);
    const query = queryOf(url);
    const headers = headersOf(req);
    const sourceIp = req.socket.remoteAddress ?? HOST;
    const userAgent = headers["user-agent"] ?? "";
    const id = newConnectionId();
    let policy: APIGatewayAuthorizerResult;
    try {
      policy = await h.authorizer({
        type: "REQUEST",
        methodArn: `arn:aws:execute-api:local:000000000000:local/${STAGE}/$connect`,
        resource: "$connect",
        path: url.pathname,
        httpMethod: "GET",
        headers,
        multiValueHeaders: {},
        pathParameters: {},
        queryStringParameters: query,
        multiValueQueryStringParameters: {},
        stageVariables: {},
        requestContext: requestContext("$connect", "CONNECT", {
          id,
          authorizer: {},
          connectedAt: Date.now(),
          sourceIp,
          userAgent,
        }) as unknown as APIGatewayRequestAuthorizerEvent["requestContext"],
      });
    } catch (err) {
      // API Gateway: the authorizer's "Unauthorized" error is a 401; any other failure a 500.
      return (err as Error)?.message === "Unauthorized"
        ? rejectUpgrade(socket, 401, "Unauthorized")
        : rejectUpgrade(socket, 500, "Internal server error");
    }
    const allowed = policy.policyDocument.Statement.every((s) => s.Effect === "Allow");
    if (!allowed) return rejectUpgrade(socket, 403, "Forbidden");
    const authorizer = { ...(policy.context ?? {}), principalId: policy.principalId };
    const conn = { id, authorizer, connectedAt: Date.now(), sourceIp, userAgent };
    const connect = h.routes.$connect;
    const result = connect
      ? await connect({
          requestContext: requestContext("$connect", "CONNECT", conn),
          headers,
          queryStringParameters: query,
          isBase64Encoded: false,
        } as unknown as WsEvent)
      : { statusCode: 200 };
    if (!result || result.statusCode < 200 || result.statusCode > 299) {
      // API Gateway answers the handshake with the status the $connect integration returned.
      const status = result?.statusCode ?? 500;
      return rejectUpgrade(
        socket,
        status >= 400 && status <= 599 ? status : 500,
        "Connection refused",
      );
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const c: Connection = {
        ...conn,
        ws,
        lastActiveAt: Date.now(),
        queue: Promise.resolve(),
        timers: [],
      };
      connections.set(id, c);
      enforceFrameLimits(ws, (code, reason) => {
        c.closedBy ??= { code, reason };
        c.timers.push(setTimeout(() => c.ws.terminate(), CLOSE_WAIT_MS));
      });
      const idle = setTimeout(() => goAway(c), options.idleTimeoutS * 1000);
      c.timers.push(
        idle,
        setTimeout(() => goAway(c), options.maxConnectionAgeS * 1000),
      );
      ws.on("message", (data) => {
        c.lastActiveAt = Date.now();
        idle.refresh();
        const text = Buffer.isBuffer(data)
          ? data.toString("utf8")
          : Buffer.concat(data as Buffer[]).toString("utf8");
        if (options.frameDispatch === "serial")
          c.queue = track(c.queue.then(() => dispatch(c, text)));
        else track(dispatch(c, text));
      });
      ws.on("close", (code, reason) => {
        connections.delete(id);
        for (const t of c.timers) clearTimeout(t);
        if (c.lost) return;
        const why = c.closedBy ?? { code, reason: reason.toString("utf8") };
        // Serial: after the frames before it; concurrent: at once, as API Gateway invokes it.
        if (options.frameDispatch === "serial")
          c.queue = track(c.queue.then(() => disconnect(c, why)));
        else track(disconnect(c, why));
      });
      ws.on("error", (err) => log("websocket error", { connectionId: id, error: String(err) }));
    });
  }

  /** The gateway closes a connection (idle, too old): 1001, then the socket if the client lingers. */
  function goAway(c: Connection) {
    if (c.ws.readyState !== WebSocket.OPEN) return;
    c.closedBy ??= { code: 1001, reason: "Going away" };
    c.ws.close(1001, "Going away");
    c.timers.push(setTimeout(() => c.ws.terminate(), CLOSE_WAIT_MS));
  }

  async function dispatch(c: Connection, text: string) {
    const h = handlers();
    if (!h) return;
    let routeKey = "$default";
    try {
      const value: unknown = JSON.parse(text);
      const action = (value as { action?: unknown })?.action;
      if (typeof action === "string" && !action.startsWith("$") && Object.hasOwn(h.routes, action))
        routeKey = action;
    } catch {
      // not JSON: $default
    }
    const route = h.routes[routeKey];
    if (!route) return;
    try {
      const result = await route({
        requestContext: requestContext(routeKey, "MESSAGE", c),
        body: text,
        isBase64Encoded: false,
      } as unknown as WsEvent);
      if (result?.body !== undefined && c.ws.readyState === WebSocket.OPEN)
        sendText(c.ws, result.body);
    } catch (err) {
      log("route handler threw", { routeKey, error: String(err) });
      if (c.ws.readyState === WebSocket.OPEN) {
        sendText(
          c.ws,
          JSON.stringify({
            message: "Internal server error",
            connectionId: c.id,
            requestId: randomUUID(),
          }),
        );
      }
    }
  }

  async function disconnect(c: Connection, why: { code: number; reason: string }) {
    const route = handlers()?.routes.$disconnect;
    if (!route) return;
    try {
      await route({
        requestContext: {
          ...requestContext("$disconnect", "DISCONNECT", c),
          disconnectStatusCode: why.code,
          disconnectReason: why.reason,
        },
        isBase64Encoded: false,
      } as unknown as WsEvent);
    } catch (err) {
      log("$disconnect handler threw", { connectionId: c.id, error: String(err) });
    }
  }

  async function readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  function gone(res: ServerResponse) {
    res
      .writeHead(410, { "content-type": "application/json", "x-amzn-errortype": "GoneException" })
      .end(JSON.stringify({ message: null }));
  }

  async function managementApi(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", `http://${domainName}`);
    const match = /^(?:\/[^/]+)?\/@connections\/([^/]+)$/.exec(url.pathname);
    if (!match?.[1]) {
      res
        .writeHead(404, { "content-type": "application/json" })
        .end(JSON.stringify({ message: "Not Found" }));
      return;
    }
    const body = await readBody(req);
    callCounts.calls++;
    if (!allowCall()) {
      callCounts.throttled++;
      res
        .writeHead(429, {
          "content-type": "application/json",
          "x-amzn-errortype": "LimitExceededException",
        })
        .end(JSON.stringify({ message: "Too Many Requests" }));
      return;
    }
    const id = decodeURIComponent(match[1]);
    const c = connections.get(id);
    if (!c || c.ws.readyState !== WebSocket.OPEN) return gone(res);
    switch (req.method) {
      case "POST":
        if (body.length > MAX_MESSAGE_BYTES) {
          res
            .writeHead(413, {
              "content-type": "application/json",
              "x-amzn-errortype": "PayloadTooLargeException",
            })
            .end(JSON.stringify({ message: "Payload too large" }));
          return;
        }
        sendText(c.ws, body.toString("utf8"));
        res.writeHead(200).end();
        return;
      case "GET":
        // API Gateway's JSON names (the SDK maps them to ConnectedAt, Identity, LastActiveAt).
        res.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({
            connectedAt: new Date(c.connectedAt).toISOString(),
            identity: { sourceIp: c.sourceIp, userAgent: c.userAgent },
            lastActiveAt: new Date(c.lastActiveAt).toISOString(),
          }),
        );
        return;
      case "DELETE":
        c.closedBy ??= { code: 1000, reason: "Connection Closed Normally" };
        c.ws.close(1000);
        res.writeHead(204).end();
        return;
      default:
        res
          .writeHead(405, {
            "content-type": "application/json",
            "x-amzn-errortype": "ForbiddenException",
          })
          .end(JSON.stringify({ message: "Method not allowed" }));
    }
  }

  const bound = await listen(server, port, "WS_PORT");
  domainName = `${HOST}:${bound}`;
  return {
    port: bound,
    server,
    connectionIds: () => [...connections.keys()],
    stats: () => ({ connections: connections.size, connectionsApi: { ...callCounts } }),
    loseConnections: (userId) => {
      let n = 0;
      for (const c of connections.values()) {
        if (c.authorizer.userId !== userId) continue;
        c.lost = true;
        c.ws.terminate();
        n++;
      }
      return n;
    },
    stop: async () => {
      const open = [...connections.values()];
      await Promise.all(
        open.map(
          (c) =>
            new Promise<void>((resolve) => {
              c.ws.once("close", () => resolve());
              c.ws.terminate();
            }),
        ),
      );
      // Every frame and $disconnect under way, the closes' $disconnect included.
      while (pending.size > 0) await Promise.all([...pending]);
      wss.close();
      await closeServer(server);
    },
  };
}
