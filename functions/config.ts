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

/** The tunables of PROTOCOL.md §4, with the defaults used in AWS. */
export interface Tunables {
  radiusM: number;
  leaveMarginM: number;
  locationTtlS: number;
  minMoveM: number;
  heartbeatS: number;
  historyRetentionDays: number;
}

export function readTunables(env: Env = process.env): Tunables {
  return {
    radiusM: numberEnv("RADIUS_M", 8047, env, { min: 1 }),
    leaveMarginM: numberEnv("LEAVE_MARGIN_M", 500, env),
    locationTtlS: numberEnv("LOCATION_TTL_S", 600, env, { min: 1 }),
    minMoveM: numberEnv("MIN_MOVE_M", 30, env),
    heartbeatS: numberEnv("HEARTBEAT_S", 60, env),
    historyRetentionDays: numberEnv("HISTORY_RETENTION_DAYS", 30, env, { min: 1 }),
  };
}

/** Names of the environment variables that wire functions to resources (set by the CDK stack and the local stack). */
export const ENV = {
  redisUrl: "REDIS_URL",
  redisCluster: "REDIS_CLUSTER",
  redisAuthSecretArn: "REDIS_AUTH_SECRET_ARN",
  usersTable: "USERS_TABLE",
  friendshipsTable: "FRIENDSHIPS_TABLE",
  historyTable: "HISTORY_TABLE",
  locationStream: "LOCATION_STREAM",
  connectionsEndpoint: "CONNECTIONS_ENDPOINT",
  dynamodbEndpoint: "DYNAMODB_ENDPOINT",
  kinesisEndpoint: "KINESIS_ENDPOINT",
  userPoolId: "USER_POOL_ID",
  userPoolClientId: "USER_POOL_CLIENT_ID",
  authIssuer: "AUTH_ISSUER",
  authAudience: "AUTH_AUDIENCE",
  authJwks: "AUTH_JWKS",
} as const;
