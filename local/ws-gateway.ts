// A WebSocket gateway that behaves like API Gateway's WebSocket API: the Lambda authorizer and
// $connect on upgrade, route selection on `action`, route replies, $disconnect, and the
// `@connections` Management API over HTTP (410 + x-amzn-errortype: GoneException for a gone id).
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { WebSocket, WebSocketServer } from "ws";
import type { WsEvent, WsResult } from "../functions/middleware/ws.ts";
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
  /** Frames of one connection are handled one after another, in arrival order. */
  queue: Promise<void>;
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
  stop(): Promise<void>;
}

const STAGE = "local";
/** API Gateway's own limit is 128 KB a message; the protocol's 32 KB limit is the handlers' to enforce. */
const MAX_MESSAGE_BYTES = 128 * 1024;

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
): Promise<WsGateway> {
  const connections = new Map<string, Connection>();
  const server = createServer((req, res) => {
    managementApi(req, res).catch((err: unknown) => {
      log("management API request failed", { error: String(err) });
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
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
      const c: Connection = { ...conn, ws, lastActiveAt: Date.now(), queue: Promise.resolve() };
      connections.set(id, c);
      // Binary frames are read as UTF-8 text too; the handlers refuse what is not JSON.
      ws.on("message", (data) => {
        c.lastActiveAt = Date.now();
        const text = Buffer.isBuffer(data)
          ? data.toString("utf8")
          : Buffer.concat(data as Buffer[]).toString("utf8");
        c.queue = c.queue.then(() => dispatch(c, text));
      });
      ws.on("close", () => {
        connections.delete(id);
        if (!c.lost) c.queue = c.queue.then(() => disconnect(c));
      });
      ws.on("error", (err) => log("websocket error", { connectionId: id, error: String(err) }));
    });
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
      if (result?.body !== undefined && c.ws.readyState === WebSocket.OPEN) c.ws.send(result.body);
    } catch (err) {
      log("route handler threw", { routeKey, error: String(err) });
      if (c.ws.readyState === WebSocket.OPEN) {
        c.ws.send(
          JSON.stringify({
            message: "Internal server error",
            connectionId: c.id,
            requestId: randomUUID(),
          }),
        );
      }
    }
  }

  async function disconnect(c: Connection) {
    const route = handlers()?.routes.$disconnect;
    if (!route) return;
    try {
      await route({
        requestContext: requestContext("$disconnect", "DISCONNECT", c),
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
    const id = decodeURIComponent(match[1]);
    const c = connections.get(id);
    const body = await readBody(req);
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
        c.ws.send(body.toString("utf8"));
        res.writeHead(200).end();
        return;
      case "GET":
        res.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({
            ConnectedAt: new Date(c.connectedAt).toISOString(),
            Identity: { SourceIp: c.sourceIp, UserAgent: c.userAgent },
            LastActiveAt: new Date(c.lastActiveAt).toISOString(),
          }),
        );
        return;
      case "DELETE":
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
      // Each close queued its $disconnect behind the connection's pending frames.
      await Promise.all(open.map((c) => c.queue));
      wss.close();
      await closeServer(server);
    },
  };
}
