// Options of `npm run load`: CLI flags, each with an environment fallback and a default, checked
// once so a bad value stops the run before anything is started.
import {
  type NumberSpec,
  type OptionTable,
  parseArgs,
  targetUrls,
  usage as usageOf,
} from "./engine/options.ts";

export { UsageError } from "./engine/options.ts";

export interface LoadOptions {
  users: number;
  /** Size of each group of mutual friends (the last group may be smaller). */
  group: number;
  /** Location frames per user per second. */
  rate: number;
  durationS: number;
  settleS: number;
  seed: number;
  /** Concurrent HTTP requests and WebSocket handshakes during setup. */
  concurrency: number;
  /** Setup (users, friendships, connections, init) is abandoned after this. */
  setupTimeoutS: number;
  /** An already-running stack; both null: the tool starts its own. */
  httpUrl: string | null;
  wsUrl: string | null;
}

const NUMBERS = {
  users: {
    env: "LOAD_USERS",
    fallback: 200,
    integer: true,
    min: 2,
    max: 20_000,
    help: "simulated users, one WebSocket each",
  },
  group: {
    env: "LOAD_GROUP",
    fallback: 10,
    integer: true,
    min: 2,
    // `init` returns at most 100 friends a page; a bigger group would need paging to seed the view.
    max: 100,
    help: "size of each group of mutual friends",
  },
  rate: {
    env: "LOAD_RATE",
    fallback: 1,
    integer: false,
    min: 0.01,
    // The protocol allows 10 frames/s per connection; the sender also guards every 1 s window.
    max: 10,
    help: "location frames per user per second",
  },
  duration: {
    env: "LOAD_DURATION",
    fallback: 30,
    integer: false,
    min: 1,
    max: 3600,
    help: "seconds of moving",
  },
  settle: {
    env: "LOAD_SETTLE",
    fallback: 5,
    integer: false,
    min: 0,
    max: 600,
    help: "seconds to wait after the last move before checking final positions",
  },
  seed: {
    env: "LOAD_SEED",
    fallback: 42,
    integer: true,
    min: 0,
    max: 2 ** 32 - 1,
    help: "seed of the positions and moves",
  },
  concurrency: {
    env: "LOAD_CONCURRENCY",
    fallback: 16,
    integer: true,
    min: 1,
    max: 256,
    help: "concurrent requests and handshakes during setup",
  },
  "setup-timeout": {
    env: "LOAD_SETUP_TIMEOUT",
    fallback: 300,
    integer: false,
    min: 5,
    max: 3600,
    help: "seconds after which setup is abandoned",
  },
} satisfies Record<string, NumberSpec>;

const TABLE: OptionTable<keyof typeof NUMBERS, "http-url" | "ws-url"> = {
  command: "npm run load",
  numbers: NUMBERS,
  strings: {
    "http-url": {
      env: "LOAD_HTTP_URL",
      help: "HTTP API of a running stack (127.0.0.1 only)",
      fallbackHelp: "start a local stack",
      fallback: "",
    },
    "ws-url": {
      env: "LOAD_WS_URL",
      help: "WebSocket API of a running stack (127.0.0.1 only)",
      fallbackHelp: "start a local stack",
      fallback: "",
    },
  },
  footer: [
    "Without --http-url/--ws-url a local stack is started as a child process (its output goes to",
    "$TMPDIR/nf-load-stack-<pid>.log). The last line on stdout is one JSON object with the figures.",
  ],
};

export const usage = (): string => usageOf(TABLE);

/** Options from argv (flags `--name value` or `--name=value`), then the environment, then defaults. */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): LoadOptions {
  const o = parseArgs(TABLE, argv, env);
  return {
    users: o.number("users"),
    group: o.number("group"),
    rate: o.number("rate"),
    durationS: o.number("duration"),
    settleS: o.number("settle"),
    seed: o.number("seed"),
    concurrency: o.number("concurrency"),
    setupTimeoutS: o.number("setup-timeout"),
    ...targetUrls(o.string("http-url"), o.string("ws-url")),
  };
}
