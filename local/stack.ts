// Assembles the local stack: real redis-server, dynalite, kinesalite, the WebSocket gateway, the
// HTTP API, the token issuer and the stream poller, all running the handler modules Lambda runs.
// Processes: this one runs the gateway, the HTTP API and their handlers; the emulators run in a
// child process, the poller and both stream consumers in another, redis-server in a third.
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { Redis } from "ioredis";
import type { TokenVerifier } from "../functions/adapters/jwt-verifier.ts";
import type { HttpEvent, HttpResult } from "../functions/middleware/http.ts";
import type { WsEvent, WsResult } from "../functions/middleware/ws.ts";
import { AUTHORIZER_ENTRY, HTTP_ROUTES, WS_ROUTES } from "../functions/routes.ts";
import { type LocalChild, startChild } from "./child-process.ts";
import { type EmulatorEndpoints, LOCAL_NAMES } from "./emulators.ts";
import { type HttpApiHandlers, startHttpApi } from "./http-api.ts";
import { loadHandler } from "./lambda-context.ts";
import { freePorts, HOST } from "./ports.ts";
import { startRedis } from "./redis-server.ts";
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
  /** The stack's own processes by role (pids), for diagnostics; redis-server is not listed. */
  processes: { gateway: number; emulators: number; consumers: number };
  /** Sign a token for a user directly (tests); POST /dev/token also creates the user. */
  signToken(userId: string, ttlS?: number): string;
  stop(): Promise<void>;
}

const defaultLog = (msg: string, detail: object = {}) =>
  console.error(JSON.stringify({ level: "warn", source: "local-stack", msg, ...detail }));

/**
 * GET /health: Redis answers PING on a connection of its own, the emulators answer HTTP; the
 * consumers' process is listed only when it has exited (`consumers: "down"`, so a 503).
 */
async function componentHealth(
  redisUrl: string,
  emulators: { dynamodbEndpoint: string; kinesisEndpoint: string },
  consumers: LocalChild<unknown>,
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
  return { redis, dynamodb, kinesis, consumers: consumers.alive() ? "ok" : "down" };
}

/** A stop for a child still starting: it waits for the start (a failed start stopped the child). */
const stopWhenStarted = (starting: Promise<{ stop(): Promise<void> }>) => async (): Promise<void> =>
  (await starting.catch(() => null))?.stop();

const CHILD_ENTRY = {
  emulators: new URL("./emulators-process.ts", import.meta.url),
  consumers: new URL("./consumers-process.ts", import.meta.url),
};

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const log = opts.log ?? defaultLog;
  // Stopped phase by phase: the entry points first (so $disconnect still reaches Redis), then the
  // poller with its consumers (their process), the clients, and last the servers.
  const stops = {
    entryPoints: [] as (() => Promise<void>)[],
    poller: [] as (() => Promise<void>)[],
    clients: [] as (() => Promise<void>)[],
    servers: [] as (() => Promise<void>)[],
  };
  const stopAll = async () => {
    for (const phase of [stops.entryPoints, stops.poller, stops.clients, stops.servers]) {
      for (const stop of phase.splice(0))
        await stop().catch((err: unknown) => log("stop failed", { error: String(err) }));
    }
  };
  try {
    let gatewayHandlers: GatewayHandlers | null = null;
    let httpHandlers: HttpApiHandlers | null = null;
    // Ports first: a port in use fails the start before anything else is spent.
    const ws = await startWsGateway(opts.wsPort, () => gatewayHandlers, log);
    stops.entryPoints.push(ws.stop);
    const http = await startHttpApi(opts.httpPort, () => httpHandlers, log);
    stops.entryPoints.push(http.stop);
    // The emulators' process takes the longest to start: it goes first, on ports chosen here so
    // that the environment, hence every handler import below, need not wait for it.
    const [dynamodbPort, kinesisPort] = await freePorts(2);
    const emulatorsStarting = startChild<EmulatorEndpoints>({
      name: "emulators",
      entry: CHILD_ENTRY.emulators,
      args: [String(opts.shards ?? 2), String(dynamodbPort), String(kinesisPort)],
      log,
    });
    emulatorsStarting.catch(() => undefined); // awaited below, where a failure fails the start
    stops.servers.push(stopWhenStarted(emulatorsStarting));
    const redis = await startRedis();
    stops.servers.unshift(redis.stop);

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
      DYNAMODB_ENDPOINT: `http://${HOST}:${dynamodbPort}`,
      KINESIS_ENDPOINT: `http://${HOST}:${kinesisPort}`,
      CONNECTIONS_ENDPOINT: `http://${HOST}:${ws.port}`,
      AUTH_ISSUER: issuer.issuer,
      AUTH_AUDIENCE: issuer.audience,
      AUTH_JWKS: JSON.stringify(issuer.jwks),
      STAGE: "local",
      // EMF lines for every invocation would bury the stack's own output; set it to false to see them.
      POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? "true",
    });

    // The consumers' process loads its handlers with this environment while this one loads its
    // own; its poller starts once the stream exists.
    const consumersStarting = startChild<unknown>({
      name: "consumers",
      entry: CHILD_ENTRY.consumers,
      env: process.env,
      dependencies: emulatorsStarting,
      log,
    });
    consumersStarting.catch(() => undefined);
    stops.poller.push(stopWhenStarted(consumersStarting));

    // The handler modules read their configuration at import, as at a Lambda cold start.
    const wsRoutes: GatewayHandlers["routes"] = {};
    for (const [routeKey, entry] of Object.entries(WS_ROUTES)) {
      wsRoutes[routeKey] = await loadHandler<(e: WsEvent) => Promise<WsResult>>(entry);
    }
    const httpRoutes: HttpApiHandlers["routes"] = {};
    for (const [routeKey, entry] of Object.entries(HTTP_ROUTES)) {
      httpRoutes[routeKey] = await loadHandler<(e: HttpEvent) => Promise<HttpResult>>(entry);
    }
    const authorizer =
      await loadHandler<
        (e: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>
      >(AUTHORIZER_ENTRY);
    const { verifierFromEnv } = await import("../functions/adapters/jwt-verifier.ts");
    const verifier: TokenVerifier = verifierFromEnv();
    const { usersRepo } = await import("../functions/wiring.ts");
    const { closeSharedRedis } = await import("../functions/adapters/redis/client.ts");
    stops.clients.push(closeSharedRedis);
    const emulators = await emulatorsStarting;
    const consumers = await consumersStarting;

    gatewayHandlers = { authorizer, routes: wsRoutes };
    httpHandlers = {
      routes: httpRoutes,
      verify: (token) => verifier.verify(token),
      jwks: issuer.jwks,
      loseConnections: (userId) => ws.loseConnections(userId),
      health: () => componentHealth(redis.url, emulators.info, consumers),
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
      processes: { gateway: process.pid, emulators: emulators.pid, consumers: consumers.pid },
      signToken: (userId, ttlS) => issuer.sign(userId, ttlS),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
