// Assembles the local stack: real redis-server, dynalite, kinesalite, the WebSocket gateway, the
// HTTP API, the token issuer and the stream poller, all running the handler modules Lambda runs.
// Processes: this one runs the gateway's and the HTTP API's I/O and dispatch; the handlers both
// invoke run in "functions" child processes (as Lambda runs apart from API Gateway); each emulator
// and each stream consumer (its poller and handler) runs in a process of its own, and
// redis-server in another. What is not latency-sensitive (DynamoDB, written mostly by the history
// consumer, and that consumer) runs at a lower priority, so that on a busy machine it gives way
// to the path from a frame to the friends' pushes, as in AWS where it runs on other machines.
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { Redis } from "ioredis";
import type { TokenVerifier } from "../functions/adapters/jwt-verifier.ts";
import type { HttpEvent, HttpResult } from "../functions/middleware/http.ts";
import type { WsEvent, WsResult } from "../functions/middleware/ws.ts";
import {
  AUTHORIZER_ENTRY,
  HTTP_ROUTES,
  type STREAM_CONSUMERS,
  WS_ROUTES,
} from "../functions/routes.ts";
import { type LocalChild, startChild } from "./child-process.ts";
import type { ConsumersRequest } from "./consumers-process.ts";
import { LOCAL_NAMES } from "./emulators.ts";
import type { EmulatorKind } from "./emulators-process.ts";
import type { FunctionsRequest } from "./functions-process.ts";
import { type GatewayOptions, gatewayOptionsFromEnv } from "./gateway-options.ts";
import { type HttpApiHandlers, startHttpApi } from "./http-api.ts";
import { mapPages } from "./map-page.ts";
import { freePorts, HOST } from "./ports.ts";
import { startRedis } from "./redis-server.ts";
import { createTokenIssuer } from "./token-issuer.ts";
import { type GatewayHandlers, startWsGateway } from "./ws-gateway.ts";

/**
 * Shards of the local stream. One: the fan-out's batch then holds every mover, so each recipient
 * gets one push a cycle carrying all its friends' news; with two, each shard's batch pushes to the
 * same recipients again. Measured at 1000 users x 1 Hz on 2 cores: p99 3.7 s with one shard,
 * 5.4 s with two. `STREAM_SHARDS` sets another count (the tests of the poller use several).
 */
export const LOCAL_SHARDS = 1;

/**
 * The nice value of the processes that are not on the path from a frame to the pushes: dynalite
 * (its load is mostly the history consumer's writes) and the history consumer, which catch up
 * once the machine is less busy. At 1000 users x 1 Hz on 2 cores they take 13 % of a core
 * together while the rest is saturated (docs/ARCHITECTURE.md §14).
 */
export const BACKGROUND_NICENESS = 10;

/** The stream consumers, each in its process, and how nice that process is. */
const CONSUMER_PROCESSES = [
  { consumer: "fanout", niceness: 0 },
  { consumer: "history", niceness: BACKGROUND_NICENESS },
] as const satisfies readonly { consumer: keyof typeof STREAM_CONSUMERS; niceness: number }[];

export interface LocalStackOptions {
  httpPort: number;
  wsPort: number;
  shards?: number;
  /**
   * Processes running the functions, invocations dealt round-robin (a connection's frames still
   * one after another). Two measured better than one on 2 cores at 1000 users x 1 Hz.
   * @default 2
   */
  functionsProcesses?: number;
  /**
   * API Gateway's limits the WebSocket gateway emulates; what is left out is read from the
   * environment (WS_IDLE_TIMEOUT_S, …), else AWS's value (gateway-options.ts).
   */
  gateway?: Partial<GatewayOptions>;
  log?: (msg: string, detail?: object) => void;
}

export interface LocalStack {
  httpUrl: string;
  wsUrl: string;
  redisUrl: string;
  /** The stack's own processes by role (pids), for diagnostics; redis-server is not listed. */
  processes: { gateway: number; emulators: number[]; consumers: number[]; functions: number[] };
  /** Sign a token for a user directly (tests); POST /dev/token also creates the user. */
  signToken(userId: string, ttlS?: number): string;
  stop(): Promise<void>;
}

const defaultLog = (msg: string, detail: object = {}) =>
  console.error(JSON.stringify({ level: "warn", source: "local-stack", msg, ...detail }));

/**
 * GET /health: Redis answers PING on a connection of its own, the emulators answer HTTP; the
 * consumers' and the functions' processes are "down" once they have exited (so a 503).
 */
async function componentHealth(
  redisUrl: string,
  emulators: { dynamodbEndpoint: string; kinesisEndpoint: string },
  children: { consumers: LocalChild<unknown>[]; functions: LocalChild<unknown>[] },
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
  const state = (...processes: LocalChild<unknown>[]) =>
    processes.every((p) => p.alive()) ? ("ok" as const) : ("down" as const);
  return {
    redis,
    dynamodb,
    kinesis,
    consumers: state(...children.consumers),
    functions: state(...children.functions),
  };
}

/** A stop for a child still starting: it waits for the start (a failed start stopped the child). */
const stopWhenStarted = (starting: Promise<{ stop(): Promise<void> }>) => async (): Promise<void> =>
  (await starting.catch(() => null))?.stop();

const CHILD_ENTRY = {
  emulators: new URL("./emulators-process.ts", import.meta.url),
  consumers: new URL("./consumers-process.ts", import.meta.url),
  functions: new URL("./functions-process.ts", import.meta.url),
};

/** The functions' processes as one: each request to the next, round-robin. */
function roundRobin(
  processes: LocalChild<unknown>[],
): (request: FunctionsRequest) => Promise<unknown> {
  let next = 0;
  return (request) => {
    // A process that died is skipped until its replacement is in the list (as Lambda starts a new
    // execution environment after one crashed).
    for (let tried = 0; tried < processes.length; tried++) {
      const target = processes[next++ % processes.length];
      if (target?.alive()) return target.request(request);
    }
    return Promise.reject(new Error("no functions process is running"));
  };
}

/** How often the stack looks for a functions process that died, to start another in its place. */
const FUNCTIONS_CHECK_MS = 500;

/** An entry's handler as the gateway sees it: an invocation in a functions' process. */
const invoker =
  <E, R>(ask: (request: FunctionsRequest) => Promise<unknown>, entry: string) =>
  async (event: E): Promise<R> =>
    (await ask({ op: "invoke", entry, event })) as R;

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const log = opts.log ?? defaultLog;
  // Stopped phase by phase: the entry points first (their last $disconnect invocations still
  // reach the functions, and those Redis), then the functions' process, the poller with its
  // consumers (their process), and last the servers.
  const stops = {
    entryPoints: [] as (() => Promise<void>)[],
    functions: [] as (() => Promise<void>)[],
    poller: [] as (() => Promise<void>)[],
    servers: [] as (() => Promise<void>)[],
  };
  const stopAll = async () => {
    for (const phase of [stops.entryPoints, stops.functions, stops.poller, stops.servers]) {
      for (const stop of phase.splice(0))
        await stop().catch((err: unknown) => log("stop failed", { error: String(err) }));
    }
  };
  try {
    let gatewayHandlers: GatewayHandlers | null = null;
    let httpHandlers: HttpApiHandlers | null = null;
    // Ports first: a port in use fails the start before anything else is spent.
    const ws = await startWsGateway(opts.wsPort, () => gatewayHandlers, log, {
      ...gatewayOptionsFromEnv(),
      ...opts.gateway,
    });
    stops.entryPoints.push(ws.stop);
    const http = await startHttpApi(opts.httpPort, () => httpHandlers, log);
    stops.entryPoints.push(http.stop);
    // The emulators' process takes the longest to start: it goes first, on ports chosen here so
    // that the environment, hence every handler import below, need not wait for it.
    const [dynamodbPort, kinesisPort] = await freePorts(2);
    const emulator = (kind: EmulatorKind, args: string[], niceness: number) => {
      const starting = startChild<{ endpoint: string }>({
        name: kind,
        entry: CHILD_ENTRY.emulators,
        args: [kind, ...args],
        niceness,
        log,
      });
      starting.catch(() => undefined); // awaited below, where a failure fails the start
      stops.servers.push(stopWhenStarted(starting));
      return starting;
    };
    const emulatorsStarting = Promise.all([
      emulator("dynamodb", [String(dynamodbPort)], BACKGROUND_NICENESS),
      emulator("kinesis", [String(kinesisPort), String(opts.shards ?? LOCAL_SHARDS)], 0),
    ]);
    emulatorsStarting.catch(() => undefined);
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
      SHARE_LINKS_TABLE: LOCAL_NAMES.shareLinksTable,
      // A link opens this stack's live map; no table streams here: a timer ends each link.
      SHARE_LINK_BASE_URL: `${httpUrl}/map`,
      SHARE_EXPIRY: "timer",
      BLOCKS_TABLE: LOCAL_NAMES.blocksTable,
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

    // The functions' and the consumers' processes load their handlers with this environment, side
    // by side; the consumers' poller starts once the stream exists.
    const functionsStarting = Array.from({ length: opts.functionsProcesses ?? 2 }, (_, i) => {
      const starting = startChild<unknown>({
        name: `functions-${i + 1}`,
        entry: CHILD_ENTRY.functions,
        env: process.env,
        log,
      });
      starting.catch(() => undefined);
      stops.functions.push(stopWhenStarted(starting));
      return starting;
    });
    const consumersStarting = Promise.all(
      CONSUMER_PROCESSES.map(({ consumer, niceness }) => {
        const starting = startChild<unknown>({
          name: `consumer-${consumer}`,
          entry: CHILD_ENTRY.consumers,
          args: [consumer],
          env: process.env,
          dependencies: emulatorsStarting,
          niceness,
          log,
        });
        starting.catch(() => undefined);
        stops.poller.push(stopWhenStarted(starting));
        return starting;
      }),
    );
    consumersStarting.catch(() => undefined);

    // The HTTP API's JWT check is API Gateway's, not a function: it stays in this process.
    const { verifierFromEnv } = await import("../functions/adapters/jwt-verifier.ts");
    const verifier: TokenVerifier = verifierFromEnv();
    const [dynamodb, kinesis] = await emulatorsStarting;
    const consumers = await consumersStarting;
    const functions = await Promise.all(functionsStarting);
    const ask = roundRobin(functions);
    // A functions process that dies (a crash, the OOM killer) is replaced, one start at a time.
    let replacing = false;
    let stopping = false;
    const supervisor = setInterval(() => {
      const dead = functions.findIndex((f) => !f.alive());
      if (stopping || replacing || dead < 0) return;
      replacing = true;
      const name = `functions-${dead + 1}`;
      log(`starting a new ${name} process in place of the one that exited`);
      const starting = startChild<unknown>({
        name,
        entry: CHILD_ENTRY.functions,
        env: process.env,
        log,
      });
      stops.functions.push(stopWhenStarted(starting));
      starting
        .then((child) => {
          functions[dead] = child;
        })
        .catch((err: unknown) => log(`${name} could not be restarted`, { error: String(err) }))
        .finally(() => {
          replacing = false;
        });
    }, FUNCTIONS_CHECK_MS);
    supervisor.unref();
    stops.entryPoints.unshift(async () => {
      stopping = true;
      clearInterval(supervisor);
    });

    const wsRoutes: GatewayHandlers["routes"] = {};
    for (const [routeKey, entry] of Object.entries(WS_ROUTES))
      wsRoutes[routeKey] = invoker<WsEvent, WsResult>(ask, entry);
    const httpRoutes: HttpApiHandlers["routes"] = {};
    for (const [routeKey, entry] of Object.entries(HTTP_ROUTES))
      httpRoutes[routeKey] = invoker<HttpEvent, HttpResult>(ask, entry);
    const authorizer = invoker<APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult>(
      ask,
      AUTHORIZER_ENTRY,
    );
    gatewayHandlers = { authorizer, routes: wsRoutes };
    httpHandlers = {
      routes: httpRoutes,
      verify: (token) => verifier.verify(token),
      jwks: issuer.jwks,
      loseConnections: (userId) => ws.loseConnections(userId),
      gatewayStats: () => ws.stats(),
      health: () =>
        componentHealth(
          redis.url,
          { dynamodbEndpoint: dynamodb.info.endpoint, kinesisEndpoint: kinesis.info.endpoint },
          { consumers, functions },
        ),
      restartRedis: (downMs) => redis.restart(downMs),
      deadLetters: async () => {
        // Each consumer's process answers for its own mappings.
        const answers = await Promise.all(
          consumers.map((c) => c.request({ op: "dead-letters" } satisfies ConsumersRequest)),
        );
        return Object.assign({}, ...(answers as object[]));
      },
      pages: mapPages({
        wsPort: ws.port,
        position: async (userId) =>
          (await ask({ op: "position", userId })) as {
            lat: number;
            lon: number;
            at: number;
          } | null,
        log,
      }),
      issueToken: async (userId, displayName) => {
        await ask({ op: "create-user", userId, displayName: displayName ?? userId });
        return issuer.sign(userId);
      },
    };
    return {
      httpUrl,
      wsUrl: `ws://${HOST}:${ws.port}`,
      redisUrl: redis.url,
      processes: {
        gateway: process.pid,
        emulators: [dynamodb.pid, kinesis.pid],
        consumers: consumers.map((c) => c.pid),
        get functions() {
          return functions.map((f) => f.pid);
        },
      },
      signToken: (userId, ttlS) => issuer.sign(userId, ttlS),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
