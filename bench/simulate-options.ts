// Options of `npm run simulate`: CLI flags, each with an environment fallback and a default.
import { USER_ID_PATTERN } from "../functions/domain/frames.ts";
import {
  type NumberSpec,
  type OptionTable,
  parseArgs,
  targetUrls,
  UsageError,
  usage as usageOf,
} from "./engine/options.ts";

export interface SimulateOptions {
  users: number;
  /** Size of each group of mutual friends (the last group may be smaller). */
  group: number;
  /** Positions per moving user per second. */
  hz: number;
  minutes: number;
  /** Users are `<prefix>-1` … `<prefix>-<users>`. */
  prefix: string;
  seed: number;
  /** Where the groups are: within a few km of this point. */
  centre: { lat: number; lon: number };
  concurrency: number;
  setupTimeoutS: number;
  /** A running stack given by URL; both null: `stack` decides. */
  httpUrl: string | null;
  wsUrl: string | null;
  /** `auto`: the stack `npm start` runs, if one answers on HTTP_PORT/WS_PORT; `new`: start one. */
  stack: "auto" | "new";
  /**
   * `on`: the SDK reports at the cadence the server asks for (PROTOCOL §2.10); `off`: every
   * position (the SDK's `followCadence: false`); `compare`: the same people and paths twice, off
   * then on, and the messages per user-hour of both.
   */
  cadence: "on" | "off" | "compare";
}

const CADENCE_MODES = ["on", "off", "compare"] as const;

const NUMBERS = {
  users: {
    env: "SIM_USERS",
    fallback: 200,
    integer: true,
    min: 2,
    max: 5000,
    help: "simulated people, one SDK session each",
  },
  group: {
    env: "SIM_GROUP",
    fallback: 10,
    integer: true,
    min: 2,
    max: 100,
    help: "size of each group of mutual friends",
  },
  hz: {
    env: "SIM_HZ",
    fallback: 1,
    integer: false,
    min: 0.05,
    max: 5,
    help: "positions per moving person per second",
  },
  minutes: {
    env: "SIM_MINUTES",
    fallback: 5,
    integer: false,
    min: 0.1,
    max: 1440,
    help: "minutes of simulation",
  },
  seed: {
    env: "SIM_SEED",
    fallback: 42,
    integer: true,
    min: 0,
    max: 2 ** 32 - 1,
    help: "seed of the places, paths and events",
  },
  lat: {
    env: "SIM_LAT",
    fallback: 37.5665,
    integer: false,
    min: -80,
    max: 80,
    help: "latitude the groups are around",
  },
  lon: {
    env: "SIM_LON",
    fallback: 126.978,
    integer: false,
    min: -180,
    max: 180,
    help: "longitude the groups are around",
  },
  concurrency: {
    env: "SIM_CONCURRENCY",
    fallback: 16,
    integer: true,
    min: 1,
    max: 256,
    help: "concurrent requests and connections during setup",
  },
  "setup-timeout": {
    env: "SIM_SETUP_TIMEOUT",
    fallback: 300,
    integer: false,
    min: 5,
    max: 3600,
    help: "seconds after which setup is abandoned",
  },
} satisfies Record<string, NumberSpec>;

const PREFIX = /^[A-Za-z0-9_.@-]{1,100}$/;

const TABLE: OptionTable<
  keyof typeof NUMBERS,
  "prefix" | "stack" | "http-url" | "ws-url" | "cadence"
> = {
  command: "npm run simulate",
  numbers: NUMBERS,
  strings: {
    prefix: {
      env: "SIM_PREFIX",
      help: "user ids are <prefix>-1 … <prefix>-<users>",
      fallbackHelp: "sim",
      fallback: "sim",
      check: (flag, raw) => {
        if (!PREFIX.test(raw) || !USER_ID_PATTERN.test(`${raw}-1`))
          throw new UsageError(`--${flag} must be 1-100 characters from letters, digits and -_.@`);
        return raw;
      },
    },
    stack: {
      env: "SIM_STACK",
      help: "auto: the stack `npm start` runs (HTTP_PORT/WS_PORT) if it answers, else a new one; new: always a new one",
      fallbackHelp: "auto",
      fallback: "auto",
      check: (flag, raw) => {
        if (raw !== "auto" && raw !== "new")
          throw new UsageError(`--${flag} must be auto or new, got "${raw}"`);
        return raw;
      },
    },
    cadence: {
      env: "SIM_CADENCE",
      help: "on: report at the cadence the server asks for; off: every position; compare: both, one after the other, same people and paths",
      fallbackHelp: "on",
      fallback: "on",
      check: (flag, raw) => {
        if (!(CADENCE_MODES as readonly string[]).includes(raw))
          throw new UsageError(`--${flag} must be on, off or compare, got "${raw}"`);
        return raw;
      },
    },
    "http-url": {
      env: "SIM_HTTP_URL",
      help: "HTTP API of a running stack (127.0.0.1 only)",
      fallbackHelp: "see --stack",
      fallback: "",
    },
    "ws-url": {
      env: "SIM_WS_URL",
      help: "WebSocket API of a running stack (127.0.0.1 only)",
      fallbackHelp: "see --stack",
      fallback: "",
    },
  },
  footer: [
    "People walk (half of them), cycle or drive around groups of friends, stop now and then, go",
    "offline and come back, and turn ghost mode on for a while, all through the client SDK; every",
    "fifth shares only an approximate position with the first member of their group.",
    "Progress goes to stderr every 5 s; the last line on stdout is one JSON object with the figures.",
    "A stack started for the run logs to $TMPDIR/nf-simulate-stack-<pid>.log.",
  ],
};

export const usage = (): string => usageOf(TABLE);

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): SimulateOptions {
  const o = parseArgs(TABLE, argv, env);
  return {
    users: o.number("users"),
    group: o.number("group"),
    hz: o.number("hz"),
    minutes: o.number("minutes"),
    prefix: o.string("prefix"),
    seed: o.number("seed"),
    centre: { lat: o.number("lat"), lon: o.number("lon") },
    concurrency: o.number("concurrency"),
    setupTimeoutS: o.number("setup-timeout"),
    stack: o.string("stack") === "new" ? "new" : "auto",
    cadence: CADENCE_MODES.find((m) => m === o.string("cadence")) ?? "on",
    ...targetUrls(o.string("http-url"), o.string("ws-url")),
  };
}
