// The local HTTP API: the routes of functions/routes.ts behind a JWT check (as API Gateway's JWT
// authorizer does), plus the local-only endpoints: GET /health, POST /dev/token, the JWKS, and the
// fault injections POST /dev/lose-connections and POST /dev/redis/restart.
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
  jwks: object;
  /** Pages served beside the API (local/map-page.ts); resolves true when one answered. */
  pages?: (req: IncomingMessage, url: URL, res: ServerResponse) => Promise<boolean>;
}

export interface HttpApi {
  port: number;
  server: Server;
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

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

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function startHttpApi(
  port: number,
  handlers: () => HttpApiHandlers | null,
  log: (msg: string, detail?: object) => void,
): Promise<HttpApi> {
  let compiled: CompiledRoute[] | null = null;
  let domainName = `${HOST}:${port}`;

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log("HTTP request failed", { error: String(err) });
      if (!res.headersSent) error(res, 500, "internal", "internal error");
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", `http://${domainName}`);
    const method = req.method ?? "GET";
    const h = handlers();
    if (method === "GET" && url.pathname === "/health") {
      if (!h) return send(res, 503, { status: "starting" });
      const components = await h.health();
      const ok = Object.values(components).every((c) => c === "ok");
      return send(res, ok ? 200 : 503, { status: ok ? "ok" : "degraded", components });
    }
    if (!h) return error(res, 503, "unavailable", "the local stack is starting");
    if (await h.pages?.(req, url, res)) return;
    const body = await readBody(req);
    if (body === null) return error(res, 413, "payload_too_large", "the body is over 1 MB");

    if (method === "GET" && url.pathname === "/.well-known/jwks.json")
      return send(res, 200, h.jwks);
    if (method === "POST" && url.pathname === "/dev/token") return devToken(h, body, res);
    if (method === "POST" && url.pathname === "/dev/lose-connections") {
      const userId = url.searchParams.get("userId") ?? "";
      if (!USER_ID_PATTERN.test(userId))
        return error(res, 400, "invalid_request", "userId must be a user id");
      return send(res, 200, { lost: h.loseConnections(userId) });
    }
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
    if (!route) return error(res, 404, "not_found", `no route ${method} ${url.pathname}`);
    if (undecodable !== undefined)
      return error(
        res,
        400,
        "invalid_request",
        `${undecodable} in the path is not valid percent-encoded UTF-8`,
      );

    const auth = req.headers.authorization ?? "";
    const token = /^Bearer (.+)$/i.exec(auth)?.[1];
    let sub: string;
    try {
      if (!token) throw new Error("no token");
      sub = await h.verify(token);
    } catch {
      return error(res, 401, "unauthorized", "a valid bearer token is required");
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
    if (!handler) return error(res, 404, "not_found", `no route ${route.routeKey}`);
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
