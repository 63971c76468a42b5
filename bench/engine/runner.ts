// The frame shared by `npm run load` and `npm run simulate`: options, the stack (started as a child
// process, or one already running), a progress line on stderr, phases that are each bounded in
// time, Ctrl+C, a hard cap as the last resort, a clean shutdown, and one JSON line on stdout last.
import { writeSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "./options.ts";
import {
  existingStack,
  logSize,
  StackStartError,
  stackLogErrors,
  startChildStack,
  type Target,
} from "./stack.ts";

export const STACK_START_TIMEOUT_MS = 90_000;
/** After setup, a run ends within its planned time + this, shutdown included. */
export const SLACK_MS = 60_000;
/** Of that slack, what the final phase, closing the sessions and stopping the stack may use. */
export const SHUTDOWN_MS = 25_000;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const seconds = (ms: number) => Math.round(ms / 100) / 10;
export const round2 = (x: number) => Math.round(x * 100) / 100;

/** A line on stderr, prefixed with the tool's name: `[load] …`. */
export const logger =
  (name: string) =>
  (line: string): void => {
    process.stderr.write(`[${name}] ${line}\n`);
  };

export class Aborted extends Error {
  override readonly name = "Aborted";
}

/** A run's control: abort, phases bounded in time, timers cleared on abort. */
export abstract class ToolRun {
  stopped = false;
  private readonly startedAt = performance.now();
  private abortWith: ((err: Error) => void) | null = null;
  private readonly abortedPromise: Promise<never>;
  protected readonly timers = new Set<NodeJS.Timeout>();

  constructor() {
    this.abortedPromise = new Promise<never>((_, reject) => {
      this.abortWith = reject;
    });
    this.abortedPromise.catch(() => undefined);
  }

  /** A line every few seconds on stderr while the run lasts. */
  abstract progress(): void;
  /** Close every session (called once, whatever happened before). */
  abstract closeAll(): Promise<void>;
  /** The JSON object printed last; `extra` holds the runner's fields. */
  abstract report(extra: Record<string, unknown>): Record<string, unknown>;

  /** Stop everything in flight: the running phase rejects with `reason`. */
  abort(reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.clearTimers();
    this.abortWith?.(new Aborted(reason));
  }

  /** Run `work`, or reject when the run is aborted or `capMs` passes. */
  async bounded<T>(work: Promise<T>, capMs: number, what: string): Promise<T> {
    const timer = setTimeout(
      () => this.abort(`${what} did not finish within ${seconds(capMs)} s`),
      capMs,
    );
    try {
      return await Promise.race([work, this.abortedPromise]);
    } finally {
      clearTimeout(timer);
    }
  }

  elapsedS(): number {
    return seconds(performance.now() - this.startedAt);
  }

  /** A timer cleared when the run is aborted or closed. */
  schedule(fn: () => void, delayMs: number): void {
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        fn();
      },
      Math.max(0, delayMs),
    );
    this.timers.add(t);
  }

  protected clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

export interface Tool<O, R extends ToolRun> {
  /** `load` or `simulate`: the log prefix and the child stack's log name. */
  name: string;
  parse(argv: readonly string[], env: NodeJS.ProcessEnv): O;
  create(options: O): R;
  /** A running stack to use, or null to start one. */
  target(options: O): Promise<{ httpUrl: string; wsUrl: string } | null>;
  /** The whole setup phase is abandoned after this. */
  setupTimeoutS(options: O): number;
  progressEveryMs: number;
  /**
   * The run itself, each phase inside `run.bounded`. `armHardCap(ms)` replaces the backstop that
   * exits (printing the report) when the run hangs.
   */
  phases(run: R, target: Target, armHardCap: (ms: number) => void): Promise<void>;
}

/** Runs a tool from the command line; resolves with the exit code. */
export async function runTool<O, R extends ToolRun>(tool: Tool<O, R>): Promise<number> {
  const log = logger(tool.name);
  let opts: O;
  try {
    opts = tool.parse(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }

  const run = tool.create(opts);
  let target: Target | null = null;
  let interrupted: string | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    // A second signal does not wait for the clean shutdown (the exit hook still kills the stack).
    if (interrupted !== null) process.exit(130);
    interrupted = signal;
    run.abort(`interrupted by ${signal}`);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const progress = setInterval(() => run.progress(), tool.progressEveryMs);
  // Every phase is bounded; this is the backstop for a shutdown that hangs. The exit hook of the
  // child stack SIGKILLs its process group.
  let hardCap: NodeJS.Timeout | null = null;
  const armHardCap = (ms: number) => {
    if (hardCap !== null) clearTimeout(hardCap);
    hardCap = setTimeout(() => {
      log(`hard cap of ${seconds(ms)} s reached: exiting`);
      writeSync(1, `${JSON.stringify(run.report({ error: "hard cap reached" }))}\n`);
      process.exit(1);
    }, ms);
    hardCap.unref();
  };
  armHardCap(STACK_START_TIMEOUT_MS + 15_000 + tool.setupTimeoutS(opts) * 1000 + SHUTDOWN_MS);

  let error: string | null = null;
  let stackLeftovers = 0;
  let logMark = 0;
  const loadavgStart = loadavg().map(round2);
  try {
    const running = await run.bounded(tool.target(opts), 15_000, "looking for a stack");
    if (running !== null) {
      log(`target: ${running.httpUrl} and ${running.wsUrl} (already running)`);
      target = await run.bounded(
        existingStack(running.httpUrl, running.wsUrl),
        STACK_START_TIMEOUT_MS,
        "checking the stack",
      );
    } else {
      const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
      // One log per run: several runs may share the machine.
      const logPath = join(tmpdir(), `nf-${tool.name}-stack-${process.pid}.log`);
      log(`starting the local stack (its output: ${logPath})`);
      target = await run.bounded(
        startChildStack(repoRoot, logPath, STACK_START_TIMEOUT_MS, (count) => {
          stackLeftovers = count;
          log(`${count} processes spawned by the stack outlived it: terminating them`);
        }),
        STACK_START_TIMEOUT_MS + 15_000,
        "starting the stack",
      );
      log(`stack ready: ${target.httpUrl} ${target.wsUrl}`);
    }
    await tool.phases(run, target, armHardCap);
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
    log(`failed: ${error}`);
    if (err instanceof StackStartError) process.stderr.write(`${err.detail}\n`);
  } finally {
    clearInterval(progress);
    if (target?.logPath) logMark = logSize(target.logPath);
    run.stopped = true;
    await run.closeAll();
    if (target !== null) {
      if (target.logPath !== null) log("stopping the stack");
      await target.stop();
    }
  }

  const extra: Record<string, unknown> = {};
  extra.loadavgStart = loadavgStart;
  if (target?.logPath) {
    extra.stackLeftovers = stackLeftovers;
    const { load, shutdown } = stackLogErrors(target.logPath, logMark);
    extra.stackLogErrors = load.length;
    extra.stackLogErrorsAtShutdown = shutdown.length;
    extra.stackLog = target.logPath;
    for (const line of load.slice(0, 5)) log(`stack log: ${line.slice(0, 300)}`);
    for (const line of shutdown.slice(0, 2)) log(`stack log (shutdown): ${line.slice(0, 300)}`);
  }
  if (error !== null) extra.error = error;
  const result = run.report(extra);
  await new Promise<void>((resolve) =>
    process.stdout.write(`${JSON.stringify(result)}\n`, () => resolve()),
  );
  if (interrupted !== null) return 130;
  return error === null ? 0 : 1;
}

/** The entry point of a tool script: runs it and exits with its code. */
export function main<O, R extends ToolRun>(tool: Tool<O, R>): void {
  runTool(tool).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(
        `[${tool.name}] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exit(1);
    },
  );
}
