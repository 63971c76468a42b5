// The deployment settings of one stage (cell): read once from CDK context and validated. The
// tunables come from the one table of functions/config.ts (context key, default, bounds), so no
// name or default is spelled twice. Every physical name is derived from the stage (`namePrefix`).
import type { Node } from "constructs";
import {
  TUNABLES,
  type TunableName,
  type TunableSpec,
  type Tunables,
} from "../functions/config.ts";

export type { Tunables } from "../functions/config.ts";

/** The rows of the tunables table, typed (Object.entries widens the keys to string). */
export const TUNABLE_SPECS = Object.entries(TUNABLES) as [TunableName, TunableSpec][];

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
  /**
   * Create and set the account-level CloudWatch role API Gateway needs for WebSocket logs. It is
   * account-wide (one per account and region, shared with every other API), so it is opt-in.
   */
  readonly apiGatewayAccountRole: boolean;
  /**
   * Access logs of the WebSocket stage. API Gateway refuses them unless the account has the role
   * above (created here, or already set); defaults to `apiGatewayAccountRole`.
   */
  readonly webSocketAccessLogs: boolean;
  readonly alarmEmail: string | undefined;
  /** The user pool's From address through SES; undefined: Cognito's default email sender. */
  readonly sesFromEmail: string | undefined;
  /** The SES-verified domain of `sesFromEmail`, when the domain rather than the address is verified. */
  readonly sesVerifiedDomain: string | undefined;
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

interface NumberRule {
  readonly min: number;
  readonly max?: number;
  readonly integer: boolean;
  /** Appended to the error message, so that whoever set the value learns what it means. */
  readonly meaning?: string;
}

function contextNumber(
  ctx: Context,
  key: string,
  fallback: number,
  { min, max, integer, meaning }: NumberRule,
): number {
  const raw: unknown = ctx.tryGetContext(key);
  if (raw === undefined || raw === null || raw === "") return fallback;
  const value = typeof raw === "number" ? raw : Number(String(raw));
  const inRange = Number.isFinite(value) && value >= min && (max === undefined || value <= max);
  if (!inRange || (integer && !Number.isInteger(value))) {
    const kind = integer ? "an integer" : "a number";
    const range = max === undefined ? `>= ${min}` : `in [${min}, ${max}]`;
    const why = meaning === undefined ? "" : ` (${meaning})`;
    throw new StageConfigError(
      `context ${key} must be ${kind} ${range}${why}, got "${String(raw)}"`,
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
  return contextNumber(ctx, key, fallback, { min, max, integer: true });
}

/** Every tunable of the table, from its context key, bounded as the functions bound it. */
function contextTunables(ctx: Context): Tunables {
  const tunables = {} as Tunables;
  for (const [name, spec] of TUNABLE_SPECS) {
    tunables[name] = contextNumber(ctx, spec.context, spec.default, spec);
  }
  return tunables;
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

function apiGatewayLogging(
  ctx: Context,
): Pick<StageConfig, "apiGatewayAccountRole" | "webSocketAccessLogs"> {
  const apiGatewayAccountRole = contextBoolean(ctx, "apiGatewayAccountRole", false);
  return {
    apiGatewayAccountRole,
    webSocketAccessLogs: contextBoolean(ctx, "webSocketAccessLogs", apiGatewayAccountRole),
  };
}

function sesSender(ctx: Context): Pick<StageConfig, "sesFromEmail" | "sesVerifiedDomain"> {
  const sesFromEmail = contextString(ctx, "sesFromEmail");
  const sesVerifiedDomain = contextString(ctx, "sesVerifiedDomain");
  if (sesVerifiedDomain !== undefined && sesFromEmail?.split("@")[1] !== sesVerifiedDomain) {
    throw new StageConfigError(
      `context sesVerifiedDomain needs a sesFromEmail address of that domain, got "${sesFromEmail ?? ""}"`,
    );
  }
  return { sesFromEmail, sesVerifiedDomain };
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
    ...apiGatewayLogging(ctx),
    alarmEmail: contextString(ctx, "alarmEmail"),
    ...sesSender(ctx),
    wsThrottle: {
      rateLimit: contextInteger(ctx, "wsRateLimit", 1000, 1),
      burstLimit: contextInteger(ctx, "wsBurstLimit", 2000, 1),
    },
    httpThrottle: {
      rateLimit: contextInteger(ctx, "httpRateLimit", 200, 1),
      burstLimit: contextInteger(ctx, "httpBurstLimit", 400, 1),
    },
    tunables: contextTunables(ctx),
  };
}
