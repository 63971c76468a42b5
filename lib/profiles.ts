// The deployment profiles: named sets of setting values (`-c profile=dev|prod`, default dev) between
// an explicit context value and the built-in default. One table, read by lib/config.ts, the cost
// estimate (bench/cost.ts) and the README's profiles table.

export type LogFormat = "Text" | "JSON";
/**
 * The functions' own log level (Powertools, and Lambda's application log level with JSON logs).
 * With JSON logs, nothing above INFO: Lambda counts a line without a `level` as INFO, and the EMF
 * metric lines have none, so a WARN filter would silently drop every metric.
 */
export type AppLogLevel = "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR";
/** Lambda's own lines (START/END/REPORT as platform events); WARN drops them. JSON logs only. */
export type SystemLogLevel = "DEBUG" | "INFO" | "WARN";
/** `full`: every field an investigation may want; `trimmed`: enough to follow a request. */
export type AccessLogs = "full" | "trimmed";

export const LOG_FORMATS: readonly LogFormat[] = ["Text", "JSON"];
export const APP_LOG_LEVELS: readonly AppLogLevel[] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];
export const SYSTEM_LOG_LEVELS: readonly SystemLogLevel[] = ["DEBUG", "INFO", "WARN"];
export const ACCESS_LOGS: readonly AccessLogs[] = ["full", "trimmed"];

/** The settings a profile sets; each is also a context key of the same name. */
export interface ProfileSettings {
  /** 1, or one per AZ (2): a NAT gateway carries every `@connections` push. */
  readonly natGateways: number;
  readonly logFormat: LogFormat;
  readonly logLevel: AppLogLevel;
  /** Applies with `logFormat` JSON only. */
  readonly systemLogLevel: SystemLogLevel;
  readonly accessLogs: AccessLogs;
  /** API Gateway per-route metrics (billed as custom metrics). */
  readonly detailedMetrics: boolean;
  /** Point-in-time recovery of the history table, whose items expire anyway. */
  readonly historyPitr: boolean;
}

export type ProfileName = "dev" | "prod";

export const DEFAULT_PROFILE: ProfileName = "dev";

export const PROFILES: Readonly<Record<ProfileName, ProfileSettings>> = {
  // Readable and cheap to idle: Lambda's text lines, every access-log field, one NAT gateway.
  dev: {
    natGateways: 1,
    logFormat: "Text",
    logLevel: "INFO",
    systemLogLevel: "INFO",
    accessLogs: "full",
    detailedMetrics: false,
    historyPitr: false,
  },
  // What a production bill should carry: no per-invocation platform lines, short access-log lines,
  // and a NAT gateway per AZ, so that an AZ failure does not cut every push (and no push crosses an
  // AZ to reach its NAT).
  prod: {
    natGateways: 2,
    logFormat: "JSON",
    logLevel: "INFO",
    systemLogLevel: "WARN",
    accessLogs: "trimmed",
    detailedMetrics: false,
    historyPitr: false,
  },
};

export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];

export const isProfileName = (name: string): name is ProfileName => Object.hasOwn(PROFILES, name);
