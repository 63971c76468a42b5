// Options of `npm run cost`: the workload flags, and the stack's own context (`-c key=value`,
// `--profile`, `--stage`) on top of cdk.json's, so that the estimate reads the settings `cdk deploy`
// would build with the same flags.
import { DEFAULT_WORKLOAD, type Workload } from "../lib/cost-model.ts";

export interface CostOptions {
  readonly workload: Workload;
  /** CDK context: cdk.json's, then each `-c`, then `--profile` and `--stage`. */
  readonly context: Readonly<Record<string, unknown>>;
  /** Print the estimate as one JSON object instead of a table. */
  readonly json: boolean;
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}

interface NumberFlag {
  readonly key: keyof Workload;
  readonly min: number;
  readonly max: number;
  readonly help: string;
}

const NUMBERS: Readonly<Record<string, NumberFlag>> = {
  users: { key: "users", min: 0, max: 1e9, help: "users connected during their connected hours" },
  "interval-s": { key: "intervalS", min: 1, max: 86_400, help: "seconds between location frames" },
  "watched-share": {
    key: "watchedShare",
    min: 0,
    max: 1,
    help: "share of connected time a user is watched closely; the rest reports at the slow cadence",
  },
  nearby: {
    key: "nearby",
    min: 0,
    max: 10_000,
    help: "friends' connections each published position is pushed to",
  },
  "hours-per-day": { key: "hoursPerDay", min: 0, max: 24, help: "hours a day a user is connected" },
  "published-share": {
    key: "publishedShare",
    min: 0,
    max: 1,
    help: "share of frames the movement filter publishes",
  },
  "http-per-user-day": {
    key: "httpRequestsPerUserDay",
    min: 0,
    max: 1e6,
    help: "HTTP API requests per user per day",
  },
};

export function usage(): string {
  const lines = ["usage: npm run cost -- [options]", ""];
  for (const [flag, spec] of Object.entries(NUMBERS)) {
    lines.push(`  --${flag.padEnd(18)} ${spec.help} (default ${DEFAULT_WORKLOAD[spec.key]})`);
  }
  lines.push(
    `  --${"profile NAME".padEnd(18)} the deployment profile (-c profile=NAME)`,
    `  --${"stage NAME".padEnd(18)} the stage (-c stage=NAME)`,
    `  ${"-c, --context K=V".padEnd(20)} any context value the stack reads (repeatable)`,
    `  --${"json".padEnd(18)} print one JSON object`,
  );
  return lines.join("\n");
}

/** Parse argv (`--name value` or `--name=value`) over cdk.json's context. */
export function parseCostOptions(
  argv: readonly string[],
  cdkContext: Readonly<Record<string, unknown>>,
): CostOptions {
  let workload: Workload = { ...DEFAULT_WORKLOAD, users: 10_000 };
  const context: Record<string, unknown> = { ...cdkContext };
  const shorthand: Record<string, string> = {};
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--help" || arg === "-h") throw new UsageError(usage());
    if (arg === "--json") {
      json = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const inline = arg.startsWith("--") && eq !== -1;
    const name = arg.startsWith("--") ? arg.slice(2, inline ? eq : undefined) : arg;
    const value = inline ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`${arg} needs a value\n${usage()}`);
    if (name === "-c" || name === "context") {
      const sep = value.indexOf("=");
      if (sep < 1) throw new UsageError(`${arg} takes key=value, got "${value}"`);
      context[value.slice(0, sep)] = value.slice(sep + 1);
    } else if (name === "profile" || name === "stage") {
      shorthand[name] = value;
    } else {
      const spec = NUMBERS[name];
      if (spec === undefined) throw new UsageError(`unknown option ${arg}\n${usage()}`);
      const n = Number(value);
      if (value.trim() === "" || !Number.isFinite(n) || n < spec.min || n > spec.max) {
        throw new UsageError(
          `--${name} must be a number in [${spec.min}, ${spec.max}], got "${value}"`,
        );
      }
      workload = { ...workload, [spec.key]: n };
    }
  }
  return { workload, context: { ...context, ...shorthand }, json };
}
