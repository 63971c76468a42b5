// The local HTTP API: the routes of functions/routes.ts behind a JWT check (as API Gateway's JWT
// authorizer does), plus the local-only endpoints: GET /health, POST /dev/token, the JWKS,
// GET /dev/dead-letters, GET /dev/gateway, and the fault injections POST /dev/lose-connections and
// POST /dev/redis/restart.
// What API Gateway's HTTP API answers itself, before any function, it answers with its own body
// `{"message":…}`: 401 Unauthorized (the JWT authorizer: the Authorization header holds the token,
// with or without "Bearer "), 404 Not Found (no route, an unknown method included), 413 (a body
// over its 10 MB payload quota) and 431 (a request line and header values over its 10 240 bytes:
// the quota is documented, the status it answers is not).
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { USER_ID_PATTERN } from "../functions/domain/frames.ts";
import type { HttpEvent, HttpResult } from "../functions/middleware/http.ts";
import { closeServer, HOST, listen } from "./ports.ts";

export interface HttpApiHandlers {
  /** Route key → handler. */
  routes: Record<string, (event: HttpEvent) => Promise<HttpResult>>;
  verify(token: string): Promise<string>;
  issueToken(userId: string, displayName: string | null): Promise<string>;
  /** Drop a user's WebSocket connections without $disconnect (tests of dead-connection cleanup). */
  loseConnections(userId: string): number;
  /** Each component's state, for GET /health. */
  health(): Promise<Record<string, "ok" | "down">>;
  /** Kill Redis and start an empty one on the same port (fault-injection tests). */
  restartRedis(downMs: number): Promise<void>;
  /** What the stream consumers' event-source mappings gave up (their on-failure destinations). */
  deadLetters(): Promise<unknown>;
  /** The WebSocket gateway's counts (GET /dev/gateway). */
  gatewayStats(): unknown;
  jwks: object;
  /** Pages served beside the API (local/map-page.ts); resolves true when one answered. */
  pages?: (req: IncomingMessage, url: URL, res: ServerResponse) => Promise<boolean>;
}

export interface HttpApi {
  port: number;
  server: Server;
  stop(): Promise<void>;
}

/** API Gateway's HTTP API quotas: "Payload size" and "Total combined size of request line and header values". */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const MAX_REQUEST_LINE_AND_HEADER_VALUES_BYTES = 10_240;
/** Node's own limit on the header section, above which it answers before any handler (clientError). */
const NODE_MAX_HEADER_BYTES = 64 * 1024;

interface CompiledRoute {
  routeKey: string;
  method: string;
  pattern: RegExp;
  params: string[];
}

export function compileRoutes(routeKeys: readonly string[]): CompiledRoute[] {
  return routeKeys.map((routeKey) => {
    const [method = "", path = ""] = routeKey.split(" ");
    const params: string[] = [];
    const source = path
      .replace(/[.*+?^$()|[\]\\]/g, "\\$&")
      .replace(/\\?\{(\w+)\\?\}|\{(\w+)\}/g, (_m, a, b) => {
        params.push(a ?? b);
        return "([^/]+)";
      });
    return { routeKey, method, pattern: new RegExp(`^${source}$`), params };
  });
}

/** A path segment percent-decoded as UTF-8; null when it is not valid percent-encoding. */
function decodePathSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

function send(
  res: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  if (body === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  res
    .writeHead(status, { "content-type": "application/json", ...headers })
    .end(JSON.stringify(body));
}

const error = (res: ServerResponse, status: number, code: string, message: string) =>
  send(res, status, { error: { code, message } });

/** A reply of API Gateway itself: its status and `{"message":…}`. */
const gatewayReply = (
  res: ServerResponse,
  status: 401 | 404 | 413 | 431,
  headers: Record<string, string> = {},
) => send(res, status, { message: GATEWAY_MESSAGES[status] }, headers);

const GATEWAY_MESSAGES = {
  401: "Unauthorized",
  404: "Not Found",
  413: "Request Entity Too Large",
  431: "Request Header Fields Too Large",
} as const;

/** The same reply written on a socket the HTTP parser gave up on (`clientError`). */
function rawGatewayReply(status: 404 | 431, reason: string): string {
  const body = JSON.stringify({ message: GATEWAY_MESSAGES[status] });
  return `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}

/** What the HTTP API's quota counts: the request line and the header values. */
function requestLineAndHeaderValuesBytes(req: IncomingMessage): number {
  let n = Buffer.byteLength(`${req.method} ${req.url} HTTP/${req.httpVersion}`);
  for (let i = 1; i < req.rawHeaders.length; i += 2)
    n += Buffer.byteLength(req.rawHeaders[i] ?? "");
  return n;
}

/** The JWT authorizer's identity source, `$request.header.Authorization`: the token, or "Bearer <token>". */
export function tokenOf(authorization: string | undefined): string | undefined {
  const value = authorization?.trim() ?? "";
  const token = /^Bearer\s+(.+)$/i.exec(value)?.[1] ?? value;
  return token === "" ? undefined : token;
}

/** The body, or null when it is over the payload quota (read to its end all the same, then dropped). */
async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  return size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString("utf8");
}

export async function startHttpApi(
  port: number,
  handlers: () => HttpApiHandlers | null,
  log: (msg: string, detail?: object) => void,
): Promise<HttpApi> {
  let compiled: CompiledRoute[] | null = null;
  let domainName = `${HOST}:${port}`;

  const server = createServer({ maxHeaderSize: NODE_MAX_HEADER_BYTES }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      log("HTTP request failed", { error: String(err) });
      if (!res.headersSent) error(res, 500, "internal", "internal error");
    });
  });
  // Requests Node's parser refuses before any handler: a method it does not know has no route
  // (404), a header section over Node's own limit is over API Gateway's too (431).
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    // Read (and drop) what the client is still sending, so that closing does not reset the
    // connection before it reads the reply.
    const reply = (text: string) => {
      socket.resume();
      socket.end(text);
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    if (err.code === "HPE_HEADER_OVERFLOW")
      return reply(rawGatewayReply(431, "Request Header Fields Too Large"));
    if (err.code === "HPE_INVALID_METHOD") return reply(rawGatewayReply(404, "Not Found"));
    reply("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", `http://${domainName}`);
    const method = req.method ?? "GET";
    const h = handlers();
    if (requestLineAndHeaderValuesBytes(req) > MAX_REQUEST_LINE_AND_HEADER_VALUES_BYTES)
      return gatewayReply(res, 431);
    if (method === "GET" && url.pathname === "/health") {
      if (!h) return send(res, 503, { status: "starting" });
      const components = await h.health();
      const ok = Object.values(components).every((c) => c === "ok");
      return send(res, ok ? 200 : 503, { status: ok ? "ok" : "degraded", components });
    }
    if (!h) return error(res, 503, "unavailable", "the local stack is starting");
    if (await h.pages?.(req, url, res)) return;
    const body = await readBody(req);
    if (body === null) return gatewayReply(res, 413);

    if (method === "GET" && url.pathname === "/.well-known/jwks.json")
      return send(res, 200, h.jwks);
    if (method === "POST" && url.pathname === "/dev/token") return devToken(h, body, res);
    if (method === "POST" && url.pathname === "/dev/lose-connections") {
      const userId = url.searchParams.get("userId") ?? "";
      if (!USER_ID_PATTERN.test(userId))
        return error(res, 400, "invalid_request", "userId must be a user id");
      return send(res, 200, { lost: h.loseConnections(userId) });
    }
    if (method === "GET" && url.pathname === "/dev/gateway")
      return send(res, 200, h.gatewayStats());
    if (method === "GET" && url.pathname === "/dev/dead-letters")
      return send(res, 200, await h.deadLetters());
    if (method === "POST" && url.pathname === "/dev/redis/restart") {
      const downMs = Number(url.searchParams.get("downMs") ?? "0");
      if (!Number.isInteger(downMs) || downMs < 0 || downMs > 60_000)
        return error(res, 400, "invalid_request", "downMs must be an integer from 0 to 60000");
      await h.restartRedis(downMs);
      return send(res, 200, { restarted: "redis", downMs });
    }

    compiled ??= compileRoutes(Object.keys(h.routes));
    let pathParameters: Record<string, string> | undefined;
    let undecodable: string | undefined;
    const route = compiled.find((r) => {
      if (r.method !== method) return false;
      const m = r.pattern.exec(url.pathname);
      if (!m) return false;
      // As API Gateway's HTTP API, handlers get path parameters decoded; one that is not valid
      // percent-encoding (`%ff`, `%zz`, a lone `%`) is the client's error, not a URIError's 500.
      pathParameters = {};
      for (const [i, p] of r.params.entries()) {
        const value = decodePathSegment(m[i + 1] ?? "");
        if (value === null) undecodable ??= p;
        else pathParameters[p] = value;
      }
      return true;
    });
    if (!route) return gatewayReply(res, 404);
    if (undecodable !== undefined)
      return error(
        res,
        400,
        "invalid_request",
        `${undecodable} in the path is not valid percent-encoded UTF-8`,
      );

    const token = tokenOf(req.headers.authorization);
    if (!token) return gatewayReply(res, 401, { "www-authenticate": "Bearer" });
    let sub: string;
    try {
      sub = await h.verify(token);
    } catch (err) {
      const why = String((err as Error)?.message ?? "invalid token").replace(/["\\\r\n]/g, "'");
      return gatewayReply(res, 401, {
        "www-authenticate": `Bearer scope="" error="invalid_token" error_description="${why}"`,
      });
    }

    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams)
      query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
    const now = Date.now();
    const event = {
      version: "2.0",
      routeKey: route.routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.replace(/^\?/, ""),
      headers,
      ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
      ...(route.params.length ? { pathParameters } : {}),
      requestContext: {
        accountId: "000000000000",
        apiId: "local",
        domainName,
        domainPrefix: "local",
        requestId: randomUUID(),
        routeKey: route.routeKey,
        stage: "$default",
        time: new Date(now).toISOString(),
        timeEpoch: now,
        http: {
          method,
          path: url.pathname,
          protocol: "HTTP/1.1",
          sourceIp: req.socket.remoteAddress ?? HOST,
          userAgent: headers["user-agent"] ?? "",
        },
        authorizer: {
          principalId: "",
          integrationLatency: 0,
          jwt: { claims: { sub }, scopes: [] },
        },
      },
      ...(body ? { body } : {}),
      isBase64Encoded: false,
    } as HttpEvent;
    const handler = h.routes[route.routeKey];
    if (!handler) return gatewayReply(res, 404);
    const result = await handler(event);
    const status = result.statusCode ?? 200;
    const outHeaders: Record<string, string> = {};
    for (const [k, v] of Object.entries(result.headers ?? {})) outHeaders[k] = String(v);
    res.writeHead(status, outHeaders).end(result.body ?? undefined);
  }

  async function devToken(h: HttpApiHandlers, body: string, res: ServerResponse) {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return error(res, 400, "invalid_request", "the body must be a JSON object");
    }
    const { userId, displayName } = (value ?? {}) as { userId?: unknown; displayName?: unknown };
    if (typeof userId !== "string" || !USER_ID_PATTERN.test(userId)) {
      return error(
        res,
        400,
        "invalid_request",
        "userId must be 1-128 characters from letters, digits and -_.@",
      );
    }
    if (
      displayName !== undefined &&
      displayName !== null &&
      (typeof displayName !== "string" || displayName.length > 64)
    ) {
      return error(
        res,
        400,
        "invalid_request",
        "displayName must be a string of at most 64 characters",
      );
    }
    const token = await h.issueToken(userId, typeof displayName === "string" ? displayName : null);
    return send(res, 200, { token });
  }

  const bound = await listen(server, port, "HTTP_PORT");
  domainName = `${HOST}:${bound}`;
  return { port: bound, server, stop: () => closeServer(server) };
}
