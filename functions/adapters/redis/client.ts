// Creates the one Redis client of a process: a single node or a cluster (ElastiCache cluster mode),
// TLS for rediss:// URLs, the auth token fetched from Secrets Manager at cold start when configured.
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Cluster, Redis } from "ioredis";
import { ConfigError, ENV, numberEnv, optionalEnv, requireEnv } from "../../config.ts";
import { describeError, logger, tracer } from "../../observability.ts";

export type RedisClient = Redis | Cluster;

export interface RedisSettings {
  url: string;
  cluster: boolean;
  password?: string;
  /** A command without a reply by then fails (the caller answers `unavailable`): a stalled or
   * lost Redis never hangs a request. */
  commandTimeoutMs?: number;
}

/** docs/ARCHITECTURE.md, "Faults": a stalled Redis is reported within this time. */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 2000;

export function redisSettingsFromEnv(env = process.env): Omit<RedisSettings, "password"> {
  const url = requireEnv(ENV.redisUrl, env);
  if (!/^rediss?:\/\/[^/]+/.test(url)) {
    throw new ConfigError(
      `environment variable ${ENV.redisUrl} must be a redis:// or rediss:// URL`,
    );
  }
  const cluster = optionalEnv(ENV.redisCluster, env) === "true";
  const commandTimeoutMs = numberEnv(
    ENV.redisCommandTimeoutMs,
    DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
    env,
    { min: 1 },
  );
  return { url, cluster, commandTimeoutMs };
}

export function connectRedis(settings: RedisSettings): RedisClient {
  return reportingErrors(connect(settings));
}

/**
 * ioredis reconnects by itself; its connection errors are logged once per outage (not once per
 * retry), and the recovery once when it is ready again.
 */
function reportingErrors(client: RedisClient): RedisClient {
  let down = false;
  client.on("error", (err: unknown) => {
    if (down) return;
    down = true;
    logger.error("redis connection lost; reconnecting", describeError(err));
  });
  client.on("ready", () => {
    if (!down) return;
    down = false;
    logger.info("redis connection ready again");
  });
  return client;
}

function connect(settings: RedisSettings): RedisClient {
  const url = new URL(settings.url);
  const tls = url.protocol === "rediss:" ? {} : undefined;
  const port = Number(url.port || 6379);
  const common = {
    enableAutoPipelining: true,
    maxRetriesPerRequest: 2,
    connectTimeout: 2000,
    commandTimeout: settings.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
    password: settings.password ?? (url.password ? decodeURIComponent(url.password) : undefined),
    username: url.username ? decodeURIComponent(url.username) : undefined,
    tls,
  };
  if (settings.cluster) {
    return new Cluster([{ host: url.hostname, port }], {
      enableAutoPipelining: true,
      // ElastiCache's TLS certificates name the configuration endpoint, not node IPs.
      dnsLookup: (address, callback) => callback(null, address),
      redisOptions: common,
      slotsRefreshTimeout: 2000,
    });
  }
  return new Redis({ host: url.hostname, port, ...common });
}

async function fetchSecret(arn: string): Promise<string> {
  const plain = new SecretsManagerClient({});
  const client = tracer ? tracer.captureAWSv3Client(plain) : plain;
  const out = await client.send(new GetSecretValueCommand({ SecretId: arn }));
  const secret = out.SecretString ?? "";
  // A generated secret is JSON ({"password": "..."}); a plain secret is the token itself.
  try {
    const parsed: unknown = JSON.parse(secret);
    if (typeof parsed === "object" && parsed !== null && "password" in parsed) {
      return String((parsed as { password: unknown }).password);
    }
  } catch {
    // a plain string secret
  }
  return secret;
}

let shared: Promise<RedisClient> | undefined;

/** The process-wide Redis client, created on first use from the environment. */
export function sharedRedis(): Promise<RedisClient> {
  shared ??= (async () => {
    const settings = redisSettingsFromEnv();
    const arn = optionalEnv(ENV.redisAuthSecretArn);
    const password = arn ? await fetchSecret(arn) : undefined;
    return connectRedis(password ? { ...settings, password } : settings);
  })();
  return shared;
}

/**
 * Close the process-wide client (the local stack's shutdown; Lambda never needs it): politely when
 * Redis answers, at once when it does not (it may be the dependency that died).
 */
export async function closeSharedRedis(): Promise<void> {
  const pending = shared;
  shared = undefined;
  if (!pending) return;
  const client = await pending.catch(() => undefined);
  if (!client) return;
  const quit = client.quit().catch(() => undefined);
  const timeout = new Promise((resolve) => setTimeout(resolve, 1000).unref());
  await Promise.race([quit, timeout]);
  client.disconnect();
}
