// Command-line options of the load tool and the simulator: flags (`--name value` or
// `--name=value`), each with an environment fallback and a default, checked once so that a bad
// value stops the run before anything is started.

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export interface NumberSpec {
  env: string;
  fallback: number;
  integer: boolean;
  min: number;
  max: number;
  help: string;
}

export interface StringSpec {
  env: string;
  help: string;
  /** Shown as the default in the usage text. */
  fallbackHelp: string;
  /** The value when neither the flag nor the variable is given. */
  fallback: string;
  /** Checks and normalises a given value; throws UsageError. */
  check?: (flag: string, raw: string) => string;
}

export interface OptionTable<N extends string, S extends string> {
  /** The command in the usage text: `npm run load`. */
  command: string;
  numbers: Record<N, NumberSpec>;
  strings: Record<S, StringSpec>;
  /** Lines after the options in the usage text. */
  footer: readonly string[];
}

export interface ParsedOptions<N extends string, S extends string> {
  number(flag: N): number;
  /** The given value, or the spec's fallback (often ""). */
  string(flag: S): string;
}

export function usage<N extends string, S extends string>(table: OptionTable<N, S>): string {
  const lines = [`usage: ${table.command} -- [options]`, ""];
  for (const [flag, s] of Object.entries<NumberSpec>(table.numbers))
    lines.push(`  --${flag.padEnd(14)} ${s.help} (env ${s.env}, default ${s.fallback})`);
  for (const [flag, s] of Object.entries<StringSpec>(table.strings))
    lines.push(`  --${flag.padEnd(14)} ${s.help} (env ${s.env}; default: ${s.fallbackHelp})`);
  lines.push("", ...table.footer);
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

/** Options from argv, then the environment, then the defaults. */
export function parseArgs<N extends string, S extends string>(
  table: OptionTable<N, S>,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): ParsedOptions<N, S> {
  const given = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--help" || arg === "-h") throw new UsageError(usage(table));
    if (!arg.startsWith("--"))
      throw new UsageError(`unexpected argument "${arg}"\n${usage(table)}`);
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (!(name in table.numbers) && !(name in table.strings))
      throw new UsageError(`unknown option --${name}\n${usage(table)}`);
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    given.set(name, value);
  }

  const numbers = new Map<string, number>();
  for (const [flag, spec] of Object.entries<NumberSpec>(table.numbers)) {
    const raw = given.get(flag) ?? env[spec.env];
    numbers.set(
      flag,
      raw === undefined || raw === "" ? spec.fallback : parseNumber(flag, spec, raw),
    );
  }
  const strings = new Map<string, string>();
  for (const [flag, spec] of Object.entries<StringSpec>(table.strings)) {
    const raw = given.get(flag) ?? env[spec.env] ?? "";
    strings.set(flag, raw === "" ? spec.fallback : (spec.check?.(flag, raw) ?? raw));
  }
  return {
    number: (flag) => {
      const n = numbers.get(flag);
      if (n === undefined) throw new Error(`option --${flag} has no value`);
      return n;
    },
    string: (flag) => strings.get(flag) ?? "",
  };
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
    throw new UsageError(`--${flag} must target 127.0.0.1 (only a local stack is driven)`);
  return `${url.protocol}//${url.host}`;
}

/** `--http-url` and `--ws-url` of a running stack: both or neither. */
export function targetUrls(
  rawHttp: string,
  rawWs: string,
): { httpUrl: string | null; wsUrl: string | null } {
  if ((rawHttp === "") !== (rawWs === ""))
    throw new UsageError("--http-url and --ws-url go together: give both or neither");
  return {
    httpUrl: rawHttp === "" ? null : loopbackUrl("http-url", rawHttp, ["http:"]),
    wsUrl: rawWs === "" ? null : loopbackUrl("ws-url", rawWs, ["ws:"]),
  };
}
