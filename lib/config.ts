// The deployment settings of one stage (cell): read once from CDK context, validated, with the
// defaults of PROTOCOL.md §4. Every physical name is derived from the stage through `namePrefix`.
import type { Node } from "constructs";

export interface Tunables {
  readonly radiusM: number;
  readonly leaveMarginM: number;
  readonly locationTtlS: number;
  readonly minMoveM: number;
  readonly heartbeatS: number;
  readonly historyRetentionDays: number;
  /** Bounded concurrency of the fan-out's PostToConnection calls. */
  readonly postConcurrency: number;
}

export interface Throttle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface StageConfig {
  readonly stage: string;
  /** `nearby-friends-<stage>`: the prefix of every physical resource name. */
  readonly namePrefix: string;
  /** `dev` stages may be destroyed with their data; every other stage retains it. */
  readonly retainData: boolean;
  readonly natGateways: number;
  /** Provisioned shard count; undefined means on-demand capacity. */
  readonly shards: number | undefined;
  readonly parallelizationFactor: number;
  readonly cacheNodeType: string;
  readonly cacheNumNodeGroups: number;
  readonly cacheReplicasPerNodeGroup: number;
  /** Create the account-level CloudWatch role API Gateway needs for WebSocket access logs. */
  readonly apiGatewayAccountRole: boolean;
  readonly alarmEmail: string | undefined;
  readonly wsThrottle: Throttle;
  readonly httpThrottle: Throttle;
  readonly tunables: Tunables;
}

export class StageConfigError extends Error {
  override readonly name = "StageConfigError";
}

const STAGE_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const STAGE_MAX_LENGTH = 16;

type Context = Pick<Node, "tryGetContext">;

function contextNumber(
  ctx: Context,
  key: string,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw: unknown = ctx.tryGetContext(key);
  if (raw === undefined || raw === null || raw === "") return fallback;
  const value = typeof raw === "number" ? raw : Number(String(raw));
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new StageConfigError(
      `context ${key} must be a number in [${min}, ${max}], got "${String(raw)}"`,
    );
  }
  return value;
}

function contextInteger(
  ctx: Context,
  key: string,
  fallback: number,
  min: number,
  max?: number,
): number {
  const value = contextNumber(ctx, key, fallback, min, max);
  if (!Number.isInteger(value))
    throw new StageConfigError(`context ${key} must be an integer, got ${value}`);
  return value;
}

function contextString(ctx: Context, key: string): string | undefined {
  const raw: unknown = ctx.tryGetContext(key);
  if (raw === undefined || raw === null || raw === "") return undefined;
  return String(raw);
}

function contextBoolean(ctx: Context, key: string, fallback: boolean): boolean {
  const raw: unknown = ctx.tryGetContext(key);
  if (raw === undefined || raw === null || raw === "") return fallback;
  if (raw === true || raw === "true") return true;
  if (raw === false || raw === "false") return false;
  throw new StageConfigError(`context ${key} must be true or false, got "${String(raw)}"`);
}

export function stageConfigFromContext(ctx: Context): StageConfig {
  const stage = contextString(ctx, "stage") ?? "dev";
  if (!STAGE_PATTERN.test(stage) || stage.length > STAGE_MAX_LENGTH) {
    throw new StageConfigError(
      `context stage must be 1-${STAGE_MAX_LENGTH} lowercase letters, digits and single hyphens (it names resources), got "${stage}"`,
    );
  }
  const shardsRaw = contextString(ctx, "shards");
  return {
    stage,
    namePrefix: `nearby-friends-${stage}`,
    retainData: stage !== "dev",
    natGateways: contextInteger(ctx, "natGateways", 1, 1, 2),
    shards: shardsRaw === undefined ? undefined : contextInteger(ctx, "shards", 1, 1),
    parallelizationFactor: contextInteger(ctx, "parallelizationFactor", 1, 1, 10),
    cacheNodeType: contextString(ctx, "cacheNodeType") ?? "cache.t4g.small",
    cacheNumNodeGroups: contextInteger(ctx, "numNodeGroups", 1, 1, 500),
    cacheReplicasPerNodeGroup: contextInteger(ctx, "replicasPerNodeGroup", 1, 1, 5),
    apiGatewayAccountRole: contextBoolean(ctx, "apiGatewayAccountRole", true),
    alarmEmail: contextString(ctx, "alarmEmail"),
    wsThrottle: {
      rateLimit: contextInteger(ctx, "wsRateLimit", 1000, 1),
      burstLimit: contextInteger(ctx, "wsBurstLimit", 2000, 1),
    },
    httpThrottle: {
      rateLimit: contextInteger(ctx, "httpRateLimit", 200, 1),
      burstLimit: contextInteger(ctx, "httpBurstLimit", 400, 1),
    },
    tunables: {
      radiusM: contextNumber(ctx, "radiusM", 8047, 1),
      leaveMarginM: contextNumber(ctx, "leaveMarginM", 500, 0),
      locationTtlS: contextInteger(ctx, "locationTtlS", 600, 1),
      minMoveM: contextNumber(ctx, "minMoveM", 30, 0),
      heartbeatS: contextInteger(ctx, "heartbeatS", 60, 0),
      historyRetentionDays: contextInteger(ctx, "historyRetentionDays", 30, 1),
      postConcurrency: contextInteger(ctx, "postConcurrency", 32, 1),
    },
  };
}
