// The deployment settings of one stage (cell): read once from CDK context and validated. Each comes
// from an explicit context value, else the profile's value (lib/profiles.ts, `-c profile=dev|prod`)
// where the profile holds it, else its built-in default. The tunables come from the one table of functions/config.ts (context
// key, default, bounds), so no name or default is spelled twice. Every physical name is derived
// from the stage (`namePrefix`).
import type { Node } from "constructs";
import {
  TUNABLES,
  type TunableName,
  type TunableSpec,
  type Tunables,
} from "../functions/config.ts";
import {
  ACCESS_LOGS,
  APP_LOG_LEVELS,
  DEFAULT_PROFILE,
  isProfileName,
  LOG_FORMATS,
  PROFILE_NAMES,
  PROFILES,
  type ProfileName,
  type ProfileSettings,
  SYSTEM_LOG_LEVELS,
} from "./profiles.ts";

export type { Tunables } from "../functions/config.ts";

/** The rows of the tunables table, typed (Object.entries widens the keys to string). */
export const TUNABLE_SPECS = Object.entries(TUNABLES) as [TunableName, TunableSpec][];

export interface Throttle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/** A stage's settings: the profile's (each overridable by the context key of its name), and the rest. */
export interface StageConfig extends ProfileSettings {
  readonly stage: string;
  /** The profile whose values fill the settings no context value sets. */
  readonly profile: ProfileName;
  /** `nearby-friends-<stage>`: the prefix of every physical resource name. */
  readonly namePrefix: string;
  /** `dev` stages may be destroyed with their data; every other stage retains it. */
  readonly retainData: boolean;
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
  /** Origins whose pages may call the HTTP API from a browser (CORS), e.g. the live map's. */
  readonly webOrigins: readonly string[];
  /**
   * The live map page a share link's `url` opens (`<base>?share=<token>`), e.g. the static build
   * of web/ on the stage's site; undefined: the HTTP API's `/map` path.
   */
  readonly shareLinkBaseUrl: string | undefined;
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

const isUnset = (raw: unknown): boolean => raw === undefined || raw === null || raw === "";

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

function contextChoice<T extends string>(
  ctx: Context,
  key: string,
  choices: readonly T[],
  fallback: T,
): T {
  const raw = contextString(ctx, key);
  if (raw === undefined) return fallback;
  const found = choices.find((choice) => choice === raw);
  if (found === undefined) {
    throw new StageConfigError(`context ${key} must be one of ${choices.join(", ")}, got "${raw}"`);
  }
  return found;
}

function contextBoolean(ctx: Context, key: string, fallback: boolean): boolean {
  const raw: unknown = ctx.tryGetContext(key);
  if (raw === undefined || raw === null || raw === "") return fallback;
  if (raw === true || raw === "true") return true;
  if (raw === false || raw === "false") return false;
  throw new StageConfigError(`context ${key} must be true or false, got "${String(raw)}"`);
}

/** A comma-separated list of origins (`https://host[:port]`; `http://` for localhost only). */
function contextOrigins(ctx: Context, key: string): string[] {
  const raw = contextString(ctx, key);
  if (raw === undefined) return [];
  return raw.split(",").map((item) => {
    const origin = item.trim();
    let url: URL | null = null;
    try {
      url = new URL(origin);
    } catch {
      // reported below
    }
    const local = url?.hostname === "localhost" || url?.hostname === "127.0.0.1";
    if (
      url === null ||
      url.origin !== origin ||
      !(url.protocol === "https:" || (url.protocol === "http:" && local))
    ) {
      throw new StageConfigError(
        `context ${key} must be comma-separated origins like https://map.example.com (http:// for localhost only), got "${origin}"`,
      );
    }
    return origin;
  });
}

function contextProfile(ctx: Context): ProfileName {
  const name = contextString(ctx, "profile") ?? DEFAULT_PROFILE;
  if (!isProfileName(name)) {
    throw new StageConfigError(
      `context profile must be one of ${PROFILE_NAMES.join(", ")}, got "${name}"`,
    );
  }
  return name;
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
  const profile = contextProfile(ctx);
  // The profile's value of each setting it holds, where no context value is given.
  const preset = PROFILES[profile];
  const stage = contextString(ctx, "stage") ?? "dev";
  if (!STAGE_PATTERN.test(stage) || stage.length > STAGE_MAX_LENGTH) {
    throw new StageConfigError(
      `context stage must be 1-${STAGE_MAX_LENGTH} lowercase letters, digits and single hyphens (it names resources), got "${stage}"`,
    );
  }
  const logFormat = contextChoice(ctx, "logFormat", LOG_FORMATS, preset.logFormat);
  if (logFormat === "Text" && !isUnset(ctx.tryGetContext("systemLogLevel"))) {
    throw new StageConfigError(
      "context systemLogLevel needs logFormat=JSON (Lambda filters its own lines only in JSON)",
    );
  }
  const logLevel = contextChoice(ctx, "logLevel", APP_LOG_LEVELS, preset.logLevel);
  if (logFormat === "JSON" && (logLevel === "WARN" || logLevel === "ERROR")) {
    throw new StageConfigError(
      `context logLevel ${logLevel} drops every metric with logFormat=JSON (Lambda filters the EMF lines, which carry no level, as INFO): use INFO or lower, or logFormat=Text`,
    );
  }
  const shardsRaw = contextString(ctx, "shards");
  return {
    stage,
    profile,
    namePrefix: `nearby-friends-${stage}`,
    retainData: stage !== "dev",
    natGateways: contextInteger(ctx, "natGateways", preset.natGateways, 1, 2),
    logFormat,
    logLevel,
    systemLogLevel: contextChoice(ctx, "systemLogLevel", SYSTEM_LOG_LEVELS, preset.systemLogLevel),
    accessLogs: contextChoice(ctx, "accessLogs", ACCESS_LOGS, preset.accessLogs),
    detailedMetrics: contextBoolean(ctx, "detailedMetrics", preset.detailedMetrics),
    historyPitr: contextBoolean(ctx, "historyPitr", preset.historyPitr),
    shards: shardsRaw === undefined ? undefined : contextInteger(ctx, "shards", 1, 1),
    parallelizationFactor: contextInteger(ctx, "parallelizationFactor", 1, 1, 10),
    cacheNodeType: contextString(ctx, "cacheNodeType") ?? "cache.t4g.small",
    cacheNumNodeGroups: contextInteger(ctx, "numNodeGroups", 1, 1, 500),
    cacheReplicasPerNodeGroup: contextInteger(ctx, "replicasPerNodeGroup", 1, 1, 5),
    ...apiGatewayLogging(ctx),
    alarmEmail: contextString(ctx, "alarmEmail"),
    ...sesSender(ctx),
    webOrigins: contextOrigins(ctx, "webOrigins"),
    shareLinkBaseUrl: contextString(ctx, "shareLinkBaseUrl"),
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
