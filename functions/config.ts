// Configuration read once at cold start. A missing or malformed variable throws with its name, so
// a misconfigured function fails at start with a clear message instead of on some later request.

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

type Env = Record<string, string | undefined>;

export function requireEnv(name: string, env: Env = process.env): string {
  const value = env[name];
  if (value === undefined || value === "")
    throw new ConfigError(`environment variable ${name} is required`);
  return value;
}

export function optionalEnv(name: string, env: Env = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

export function numberEnv(
  name: string,
  fallback: number,
  env: Env = process.env,
  { min = 0 }: { min?: number } = {},
): number {
  const raw = optionalEnv(name, env);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    throw new ConfigError(`environment variable ${name} must be a number >= ${min}, got "${raw}"`);
  }
  return value;
}

/** How one tunable is named (environment variable, CDK context key), defaulted and bounded. */
export interface TunableSpec {
  readonly env: string;
  readonly context: string;
  readonly default: number;
  readonly min: number;
  readonly integer: boolean;
  readonly meaning: string;
}

/**
 * The tunables (docs/PROTOCOL.md §4 and the fan-out's post concurrency), with the defaults used in
 * AWS: the one table that the functions, the CDK app (context → environment) and the tests read.
 */
export const TUNABLES = {
  radiusM: {
    env: "RADIUS_M",
    context: "radiusM",
    default: 8047,
    min: 1,
    integer: false,
    meaning: "a friend within this distance is `nearby`",
  },
  leaveMarginM: {
    env: "LEAVE_MARGIN_M",
    context: "leaveMarginM",
    default: 500,
    min: 0,
    integer: false,
    meaning: "a nearby friend becomes `away` only beyond radius + margin",
  },
  locationTtlS: {
    env: "LOCATION_TTL_S",
    context: "locationTtlS",
    default: 600,
    min: 1,
    integer: true,
    meaning: "a position older than this is offline",
  },
  minMoveM: {
    env: "MIN_MOVE_M",
    context: "minMoveM",
    default: 30,
    min: 0,
    integer: false,
    meaning: "smaller moves are not pushed or stored in history …",
  },
  heartbeatS: {
    env: "HEARTBEAT_S",
    context: "heartbeatS",
    default: 60,
    min: 0,
    integer: true,
    meaning: "… unless this long has passed since the last published one",
  },
  historyRetentionDays: {
    env: "HISTORY_RETENTION_DAYS",
    context: "historyRetentionDays",
    default: 30,
    min: 1,
    integer: true,
    meaning: "history items expire (DynamoDB TTL) after this",
  },
  postConcurrency: {
    env: "POST_CONCURRENCY",
    context: "postConcurrency",
    default: 32,
    min: 1,
    integer: true,
    meaning: "PostToConnection calls one fan-out invocation keeps in flight",
  },
  locationMaxWaitMs: {
    env: "LOCATION_MAX_WAIT_MS",
    context: "locationMaxWaitMs",
    default: 2000,
    min: 0,
    integer: true,
    meaning:
      "a `location` frame that waited longer than this between the gateway and its handler is not stored but answered `rate_limited` (0: never)",
  },
  pushBudgetPerS: {
    env: "PUSH_BUDGET_PER_S",
    context: "pushBudgetPerS",
    default: 5000,
    min: 1,
    integer: true,
    meaning:
      "pushes per second all fan-out invocations share (the account's API Gateway quota, 10 000 requests/s by default, is shared by @connections calls)",
  },
  reportFastS: {
    env: "REPORT_FAST_S",
    context: "reportFastS",
    default: 10,
    min: 1,
    integer: true,
    meaning:
      "the reporting cadence (`reportEveryS`) asked of a client while a friend who may see it is online and close",
  },
  reportSlowS: {
    env: "REPORT_SLOW_S",
    context: "reportSlowS",
    default: 300,
    min: 1,
    integer: true,
    meaning:
      "the reporting cadence asked otherwise (never above LOCATION_TTL_S minus a safety margin: domain/cadence.ts)",
  },
  cadenceMarginM: {
    env: "CADENCE_MARGIN_M",
    context: "cadenceMarginM",
    default: 5000,
    min: 0,
    integer: false,
    meaning:
      "a watching friend within radius + this distance asks for the fast cadence (it covers the distance covered between slow reports)",
  },
} as const satisfies Record<string, TunableSpec>;

export type TunableName = keyof typeof TUNABLES;
export type Tunables = { [K in TunableName]: number };

/** The defaults of every tunable (what a function reads when no variable is set). */
export const DEFAULT_TUNABLES: Tunables = Object.fromEntries(
  Object.entries(TUNABLES).map(([name, spec]) => [name, spec.default]),
) as Tunables;

export function readTunables(env: Env = process.env): Tunables {
  const out = {} as Tunables;
  for (const [name, spec] of Object.entries(TUNABLES) as [TunableName, TunableSpec][]) {
    const value = numberEnv(spec.env, spec.default, env, { min: spec.min });
    if (spec.integer && !Number.isInteger(value))
      throw new ConfigError(`environment variable ${spec.env} must be an integer, got "${value}"`);
    out[name] = value;
  }
  return out;
}

/** Names of the environment variables that wire functions to resources (set by the CDK stack and the local stack). */
export const ENV = {
  redisUrl: "REDIS_URL",
  redisCluster: "REDIS_CLUSTER",
  redisAuthSecretArn: "REDIS_AUTH_SECRET_ARN",
  redisCommandTimeoutMs: "REDIS_COMMAND_TIMEOUT_MS",
  usersTable: "USERS_TABLE",
  friendshipsTable: "FRIENDSHIPS_TABLE",
  historyTable: "HISTORY_TABLE",
  blocksTable: "BLOCKS_TABLE",
  locationStream: "LOCATION_STREAM",
  connectionsEndpoint: "CONNECTIONS_ENDPOINT",
  dynamodbEndpoint: "DYNAMODB_ENDPOINT",
  kinesisEndpoint: "KINESIS_ENDPOINT",
  userPoolId: "USER_POOL_ID",
  userPoolClientId: "USER_POOL_CLIENT_ID",
  authIssuer: "AUTH_ISSUER",
  authAudience: "AUTH_AUDIENCE",
  authJwks: "AUTH_JWKS",
  shareLinksTable: "SHARE_LINKS_TABLE",
  /** The map page a share link's `url` opens (`<base>?share=<token>`). */
  shareLinkBaseUrl: "SHARE_LINK_BASE_URL",
  /** How link expiry is timed: `stream` (AWS: the table's stream starts a timer) or `timer` (local). */
  shareExpiry: "SHARE_EXPIRY",
  /** Local stack and tests only: a lower minimum `expiresInS` than the protocol's 60 s. */
  shareLinkMinExpiresS: "SHARE_LINK_MIN_EXPIRES_S",
} as const;
