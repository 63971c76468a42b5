// Assembles the local stack: real redis-server, dynalite, kinesalite, the WebSocket gateway, the
// HTTP API, the token issuer and the stream poller, all running the handler modules Lambda runs.
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from "aws-lambda";
import { Redis } from "ioredis";
import type { TokenVerifier } from "../functions/adapters/jwt-verifier.ts";
import type { HttpEvent, HttpResult } from "../functions/middleware/http.ts";
import type { WsEvent, WsResult } from "../functions/middleware/ws.ts";
import { AUTHORIZER_ENTRY, HTTP_ROUTES, STREAM_CONSUMERS, WS_ROUTES } from "../functions/routes.ts";
import { LOCAL_NAMES, startEmulators } from "./emulators.ts";
import { type HttpApiHandlers, startHttpApi } from "./http-api.ts";
import { lambdaContext } from "./lambda-context.ts";
import { HOST } from "./ports.ts";
import { startRedis } from "./redis-server.ts";
import { type StreamHandler, startPoller } from "./stream-poller.ts";
import { createTokenIssuer } from "./token-issuer.ts";
import { type GatewayHandlers, startWsGateway } from "./ws-gateway.ts";

export interface LocalStackOptions {
  httpPort: number;
  wsPort: number;
  shards?: number;
  log?: (msg: string, detail?: object) => void;
}

export interface LocalStack {
  httpUrl: string;
  wsUrl: string;
  redisUrl: string;
  /** Sign a token for a user directly (tests); POST /dev/token also creates the user. */
  signToken(userId: string, ttlS?: number): string;
  stop(): Promise<void>;
}

type Module = { handler: (event: unknown, context: Context) => Promise<unknown> };

/** An entry's handler, invoked as Lambda invokes it: with an invocation context of its own. */
async function load<H>(entry: string): Promise<H> {
  const mod = (await import(`../functions/${entry}.ts`)) as Module;
  if (typeof mod.handler !== "function")
    throw new Error(`functions/${entry}.ts exports no handler`);
  const handler = mod.handler;
  return ((event: unknown) => handler(event, lambdaContext(`local-${entry}`))) as H;
}

const defaultLog = (msg: string, detail: object = {}) =>
  console.error(JSON.stringify({ level: "warn", source: "local-stack", msg, ...detail }));

/** GET /health: Redis answers PING on a connection of its own, the emulators answer HTTP. */
async function componentHealth(
  redisUrl: string,
  emulators: { dynamodbEndpoint: string; kinesisEndpoint: string },
): Promise<Record<string, "ok" | "down">> {
  const http = (url: string) =>
    fetch(url, { signal: AbortSignal.timeout(500) }).then(
      () => "ok" as const,
      () => "down" as const,
    );
  const redisState = async () => {
    const probe = new Redis(redisUrl, {
      lazyConnect: true,
      connectTimeout: 500,
      commandTimeout: 500,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on("error", () => undefined);
    try {
      await probe.connect();
      return (await probe.ping()) === "PONG" ? ("ok" as const) : ("down" as const);
    } catch {
      return "down" as const;
    } finally {
      probe.disconnect();
    }
  };
  const [redis, dynamodb, kinesis] = await Promise.all([
    redisState(),
    http(emulators.dynamodbEndpoint),
    http(emulators.kinesisEndpoint),
  ]);
  return { redis, dynamodb, kinesis };
}

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const log = opts.log ?? defaultLog;
  // Stopped in this order: entry points first (so $disconnect still reaches Redis), then the poller,
  // the clients, and last the servers.
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0))
      await stop().catch((err: unknown) => log("stop failed", { error: String(err) }));
  };
  try {
    let gatewayHandlers: GatewayHandlers | null = null;
    let httpHandlers: HttpApiHandlers | null = null;
    // Ports first: a port in use fails the start before anything else is spent.
    const ws = await startWsGateway(opts.wsPort, () => gatewayHandlers, log);
    stops.push(ws.stop);
    const http = await startHttpApi(opts.httpPort, () => httpHandlers, log);
    stops.push(http.stop);
    const [redis, emulators] = await Promise.all([startRedis(), startEmulators(opts.shards ?? 2)]);
    stops.push(redis.stop, emulators.stop);

    const httpUrl = `http://${HOST}:${http.port}`;
    const issuer = createTokenIssuer(`${httpUrl}/local`);
    Object.assign(process.env, {
      AWS_REGION: process.env.AWS_REGION ?? "us-east-1",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      REDIS_URL: redis.url,
      REDIS_CLUSTER: "false",
      USERS_TABLE: LOCAL_NAMES.usersTable,
      FRIENDSHIPS_TABLE: LOCAL_NAMES.friendshipsTable,
      HISTORY_TABLE: LOCAL_NAMES.historyTable,
      LOCATION_STREAM: LOCAL_NAMES.stream,
      DYNAMODB_ENDPOINT: emulators.dynamodbEndpoint,
      KINESIS_ENDPOINT: emulators.kinesisEndpoint,
      CONNECTIONS_ENDPOINT: `http://${HOST}:${ws.port}`,
      AUTH_ISSUER: issuer.issuer,
      AUTH_AUDIENCE: issuer.audience,
      AUTH_JWKS: JSON.stringify(issuer.jwks),
      STAGE: "local",
      // EMF lines for every invocation would bury the stack's own output; set it to false to see them.
      POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? "true",
    });

    // The handler modules read their configuration at import, as at a Lambda cold start.
    const wsRoutes: GatewayHandlers["routes"] = {};
    for (const [routeKey, entry] of Object.entries(WS_ROUTES)) {
      wsRoutes[routeKey] = await load<(e: WsEvent) => Promise<WsResult>>(entry);
    }
    const httpRoutes: HttpApiHandlers["routes"] = {};
    for (const [routeKey, entry] of Object.entries(HTTP_ROUTES)) {
      httpRoutes[routeKey] = await load<(e: HttpEvent) => Promise<HttpResult>>(entry);
    }
    const authorizer =
      await load<(e: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>>(
        AUTHORIZER_ENTRY,
      );
    const consumers: Record<string, StreamHandler> = {};
    for (const [name, entry] of Object.entries(STREAM_CONSUMERS))
      consumers[name] = await load<StreamHandler>(entry);
    const { verifierFromEnv } = await import("../functions/adapters/jwt-verifier.ts");
    const verifier: TokenVerifier = verifierFromEnv();
    const { usersRepo } = await import("../functions/wiring.ts");
    const { closeSharedRedis } = await import("../functions/adapters/redis/client.ts");
    stops.splice(2, 0, closeSharedRedis);

    const kinesis = new KinesisClient({
      endpoint: emulators.kinesisEndpoint,
      requestHandler: new NodeHttpHandler(),
    });
    const poller = await startPoller({ kinesis, streamName: LOCAL_NAMES.stream, consumers, log });
    stops.splice(2, 0, async () => {
      await poller.stop();
      kinesis.destroy();
    });

    gatewayHandlers = { authorizer, routes: wsRoutes };
    httpHandlers = {
      routes: httpRoutes,
      verify: (token) => verifier.verify(token),
      jwks: issuer.jwks,
      loseConnections: (userId) => ws.loseConnections(userId),
      health: () => componentHealth(redis.url, emulators),
      restartRedis: (downMs) => redis.restart(downMs),
      issueToken: async (userId, displayName) => {
        await usersRepo().createIfMissing({ userId, displayName: displayName ?? userId });
        return issuer.sign(userId);
      },
    };
    return {
      httpUrl,
      wsUrl: `ws://${HOST}:${ws.port}`,
      redisUrl: redis.url,
      signToken: (userId, ttlS) => issuer.sign(userId, ttlS),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
