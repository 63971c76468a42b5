// Options of `npm run load`: CLI flags, each with an environment fallback and a default, checked
// once so a bad value stops the run before anything is started.

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

interface NumberSpec {
  key: keyof LoadOptions;
  env: string;
  fallback: number;
  integer: boolean;
  min: number;
  max: number;
  help: string;
}

const NUMBERS: Record<string, NumberSpec> = {
  users: {
    key: "users",
    env: "LOAD_USERS",
    fallback: 200,
    integer: true,
    min: 2,
    max: 20_000,
    help: "simulated users, one WebSocket each",
  },
  group: {
    key: "group",
    env: "LOAD_GROUP",
    fallback: 10,
    integer: true,
    min: 2,
    // `init` returns at most 100 friends a page; a bigger group would need paging to seed the view.
    max: 100,
    help: "size of each group of mutual friends",
  },
  rate: {
    key: "rate",
    env: "LOAD_RATE",
    fallback: 1,
    integer: false,
    min: 0.01,
    // The protocol allows 10 frames/s per connection; the sender also guards every 1 s window.
    max: 10,
    help: "location frames per user per second",
  },
  duration: {
    key: "durationS",
    env: "LOAD_DURATION",
    fallback: 30,
    integer: false,
    min: 1,
    max: 3600,
    help: "seconds of moving",
  },
  settle: {
    key: "settleS",
    env: "LOAD_SETTLE",
    fallback: 5,
    integer: false,
    min: 0,
    max: 600,
    help: "seconds to wait after the last move before checking final positions",
  },
  seed: {
    key: "seed",
    env: "LOAD_SEED",
    fallback: 42,
    integer: true,
    min: 0,
    max: 2 ** 32 - 1,
    help: "seed of the positions and moves",
  },
  concurrency: {
    key: "concurrency",
    env: "LOAD_CONCURRENCY",
    fallback: 16,
    integer: true,
    min: 1,
    max: 256,
    help: "concurrent requests and handshakes during setup",
  },
  "setup-timeout": {
    key: "setupTimeoutS",
    env: "LOAD_SETUP_TIMEOUT",
    fallback: 300,
    integer: false,
    min: 5,
    max: 3600,
    help: "seconds after which setup is abandoned",
  },
};

const STRINGS: Record<string, { key: "httpUrl" | "wsUrl"; env: string; help: string }> = {
  "http-url": {
    key: "httpUrl",
    env: "LOAD_HTTP_URL",
    help: "HTTP API of a running stack (127.0.0.1 only)",
  },
  "ws-url": {
    key: "wsUrl",
    env: "LOAD_WS_URL",
    help: "WebSocket API of a running stack (127.0.0.1 only)",
  },
};

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export function usage(): string {
  const lines = ["usage: npm run load -- [options]", ""];
  for (const [flag, s] of Object.entries(NUMBERS))
    lines.push(`  --${flag.padEnd(14)} ${s.help} (env ${s.env}, default ${s.fallback})`);
  for (const [flag, s] of Object.entries(STRINGS))
    lines.push(`  --${flag.padEnd(14)} ${s.help} (env ${s.env}; default: start a local stack)`);
  lines.push(
    "",
    "Without --http-url/--ws-url a local stack is started as a child process (its output goes to",
    "$TMPDIR/nf-load-stack-<pid>.log). The last line on stdout is one JSON object with the figures.",
  );
  return lines.join("\n");
}

function parseNumber(flag: string, spec: NumberSpec, raw: string): number {
  const n = Number(raw);
  const ok =
    raw.trim() !== "" &&
    Number.isFinite(n) &&
    (!spec.integer || Number.isInteger(n)) &&
    n >= spec.min &&
    n <= spec.max;
  if (!ok)
    throw new UsageError(
      `--${flag} (${spec.env}) must be ${spec.integer ? "an integer" : "a number"} in [${spec.min}, ${spec.max}], got "${raw}"`,
    );
  return n;
}

/** The loopback URL with its path and query removed; anything but 127.0.0.1 is refused. */
export function loopbackUrl(flag: string, raw: string, protocols: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--${flag} is not a URL: "${raw}"`);
  }
  if (!protocols.includes(url.protocol))
    throw new UsageError(`--${flag} must use ${protocols.join(" or ")}, got "${url.protocol}"`);
  if (url.hostname !== "127.0.0.1")
    throw new UsageError(`--${flag} must target 127.0.0.1 (the load tool refuses other hosts)`);
  return `${url.protocol}//${url.host}`;
}

/** Options from argv (flags `--name value` or `--name=value`), then the environment, then defaults. */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): LoadOptions {
  const given = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--help" || arg === "-h") throw new UsageError(usage());
    if (!arg.startsWith("--")) throw new UsageError(`unexpected argument "${arg}"\n${usage()}`);
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (!(name in NUMBERS) && !(name in STRINGS))
      throw new UsageError(`unknown option --${name}\n${usage()}`);
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    given.set(name, value);
  }

  const numbers: Partial<Record<keyof LoadOptions, number>> = {};
  for (const [flag, spec] of Object.entries(NUMBERS)) {
    const raw = given.get(flag) ?? env[spec.env];
    numbers[spec.key] =
      raw === undefined || raw === "" ? spec.fallback : parseNumber(flag, spec, raw);
  }
  const num = (key: keyof LoadOptions): number => {
    const n = numbers[key];
    if (n === undefined) throw new Error(`option ${key} has no value`);
    return n;
  };

  const rawHttp = given.get("http-url") ?? env.LOAD_HTTP_URL ?? "";
  const rawWs = given.get("ws-url") ?? env.LOAD_WS_URL ?? "";
  if ((rawHttp === "") !== (rawWs === ""))
    throw new UsageError("--http-url and --ws-url go together: give both or neither");

  return {
    users: num("users"),
    group: num("group"),
    rate: num("rate"),
    durationS: num("durationS"),
    settleS: num("settleS"),
    seed: num("seed"),
    concurrency: num("concurrency"),
    setupTimeoutS: num("setupTimeoutS"),
    httpUrl: rawHttp === "" ? null : loopbackUrl("http-url", rawHttp, ["http:"]),
    wsUrl: rawWs === "" ? null : loopbackUrl("ws-url", rawWs, ["ws:"]),
  };
}
