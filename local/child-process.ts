// Parts of the local stack that run in processes of their own (the emulators, the consumers, the
// functions), and both ends of the small IPC protocol that starts, watches, asks and stops them.
// Processes, not worker threads: a worker's logs pass through the very event loop being relieved.
import { fork } from "node:child_process";
import { createRequire } from "node:module";
import { setPriority } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";

export type Log = (msg: string, detail?: object) => void;

type ToChild =
  | { type: "stop" }
  | { type: "dependencies-ready" }
  | { type: "request"; id: number; request: unknown };
/** A request's failure as it crosses the channel: what callers branch on, never a stack. */
type RemoteError = { name: string; message: string };
type FromChild =
  | { type: "ready"; info: unknown }
  | { type: "failed"; error: string }
  | { type: "log"; msg: string; detail?: object }
  | { type: "response"; id: number; value?: unknown; error?: RemoteError }
  | { type: "stopped" };

/** tsx's loader, resolved from here: the child runs its .ts entry whatever runs the parent (tsx, vitest). */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

export interface ChildOptions {
  /** Names the process in errors and logs ("emulators", "consumers"). */
  name: string;
  /** The child's entry module, which calls `runAsChild`. */
  entry: URL;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** What the child waits for after its own preparation (its `dependenciesReady`), if anything. */
  dependencies?: Promise<unknown>;
  /**
   * The process's scheduling priority (nice value, 0 to 19; higher yields the CPU to the others):
   * work that is not latency-sensitive gives way to the rest on a busy machine.
   * @default 0
   */
  niceness?: number;
  log: Log;
  startTimeoutMs?: number;
  /** After this the child is killed (SIGKILL), so a stop always completes. */
  stopTimeoutMs?: number;
}

export interface LocalChild<Info> {
  /** What the child reported once ready (its endpoints). */
  readonly info: Info;
  readonly pid: number;
  /** Started and not exited since. */
  alive(): boolean;
  /**
   * Ask the child's `serve` (requests are served concurrently); rejects with the child's error
   * (its name and message), or if the child exits first.
   */
  request(request: unknown): Promise<unknown>;
  /** Ask the child to stop in order, and wait for it to exit. */
  stop(): Promise<void>;
}

const isMessage = (m: unknown): m is FromChild =>
  typeof m === "object" && m !== null && typeof (m as { type?: unknown }).type === "string";

/** Fork `entry` under tsx and resolve once it reported ready; reject (with the child gone) if it cannot. */
export async function startChild<Info>(opts: ChildOptions): Promise<LocalChild<Info>> {
  const { name, log } = opts;
  const startTimeoutMs = opts.startTimeoutMs ?? 30_000;
  const stopTimeoutMs = opts.stopTimeoutMs ?? 10_000;
  const child = fork(fileURLToPath(opts.entry), opts.args ?? [], {
    // CPU profiling flags of the gateway (`node --cpu-prof --import tsx local/main.ts`) apply to
    // every process of the stack.
    execArgv: [
      ...process.execArgv.filter((a) => a.startsWith("--cpu-prof")),
      "--import",
      TSX_LOADER,
    ],
    env: opts.env ?? process.env,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  if (opts.niceness && child.pid !== undefined) {
    try {
      setPriority(child.pid, opts.niceness);
    } catch (err) {
      log(`the ${name} process keeps the default priority`, { error: String(err) });
    }
  }
  let started = false;
  let exited = false;
  let stopping = false;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let lastRequestId = 0;
  const exit = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = true;
      process.off("exit", killNow);
      for (const { reject } of pending.values())
        reject(new Error(`the ${name} process exited before answering`));
      pending.clear();
      if (started && !stopping) log(`the ${name} process exited`, { code, signal });
      resolve();
    });
  });
  child.on("error", (err) => {
    if (started) log(`the ${name} process failed`, { error: String(err) });
  });
  // However the parent ends (an uncaught error, process.exit), the child ends with it; a parent
  // killed outright closes the IPC channel instead, which the child answers by exiting.
  const killNow = () => child.kill("SIGKILL");
  process.once("exit", killNow);
  child.on("message", (m: unknown) => {
    if (!isMessage(m)) return;
    if (m.type === "log") log(m.msg, { process: name, ...m.detail });
    if (m.type !== "response") return;
    const waiting = pending.get(m.id);
    if (!waiting) return;
    pending.delete(m.id);
    if (m.error) waiting.reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
    else waiting.resolve(m.value);
  });
  // A closed channel means the child is on its way out: nothing to tell it.
  const tell = (m: ToChild) => {
    if (child.connected) child.send(m, () => undefined);
  };
  void (opts.dependencies ?? Promise.resolve()).then(
    () => tell({ type: "dependencies-ready" }),
    () => undefined, // the start fails where that promise is awaited, and stops this child
  );

  const request = (payload: unknown) =>
    new Promise<unknown>((resolve, reject) => {
      if (!child.connected) return reject(new Error(`the ${name} process is not running`));
      const id = ++lastRequestId;
      pending.set(id, { resolve, reject });
      child.send({ type: "request", id, request: payload } satisfies ToChild, (err) => {
        if (!err || !pending.delete(id)) return;
        reject(new Error(`the ${name} process could not be asked: ${err.message}`));
      });
    });

  const stop = async () => {
    stopping = true;
    if (exited) return;
    tell({ type: "stop" });
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      exit.then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), stopTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!inTime) {
      log(`the ${name} process did not stop within ${stopTimeoutMs} ms: killed`);
      child.kill("SIGKILL");
      await exit;
    }
  };

  let timer: NodeJS.Timeout | undefined;
  try {
    const info = await new Promise<Info>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the ${name} process did not start within ${startTimeoutMs} ms`)),
        startTimeoutMs,
      );
      child.on("message", (m: unknown) => {
        if (!isMessage(m)) return;
        if (m.type === "ready") resolve(m.info as Info);
        if (m.type === "failed")
          reject(new Error(`the ${name} process failed to start: ${m.error}`));
      });
      child.once("error", reject);
      void exit.then(() =>
        reject(
          new Error(
            `the ${name} process exited during start (${child.signalCode ?? `code ${child.exitCode}`})`,
          ),
        ),
      );
    });
    const pid = child.pid;
    if (pid === undefined) throw new Error(`the ${name} process has no pid`);
    started = true;
    return { info, pid, alive: () => !exited, request, stop };
  } catch (err) {
    await stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The child's side: start, report ready (or why not), forward the stack's log lines to the parent,
 * serve the parent's requests (if it has a `serve`), stop on request, and exit as soon as the
 * parent is gone.
 */
export function runAsChild<Info>(
  start: (parent: {
    log: Log;
    /** Resolves once what the parent started this child after is ready. */
    dependenciesReady: Promise<void>;
  }) => Promise<{
    info: Info;
    stop(): Promise<void>;
    serve?: (request: unknown) => Promise<unknown>;
  }>,
): void {
  if (!process.send) throw new Error("this module is run by the local stack (local/stack.ts)");
  const send = (m: FromChild, then?: () => void) => {
    if (!process.connected) return then?.();
    process.send?.(m, undefined, {}, () => then?.());
  };
  // The parent closes the channel when it exits, however it exits (even SIGKILL).
  process.on("disconnect", () => process.exit(0));
  // Ctrl+C (SIGINT), and a SIGTERM sent to the whole process group (as `timeout` and process
  // managers do), reach this process too: the parent stops it in its turn, after the entry points
  // that still depend on it. Without a parent, a SIGTERM ends it at once.
  process.on("SIGINT", () => undefined);
  process.on("SIGTERM", () => {
    if (!process.connected) process.exit(0);
  });
  const log: Log = (msg, detail) => send({ type: "log", msg, ...(detail ? { detail } : {}) });

  let stopper: (() => Promise<void>) | null = null;
  let server: ((request: unknown) => Promise<unknown>) | null = null;
  let stopping = false;
  const answer = (id: number, request: unknown) => {
    if (!server) {
      const error = { name: "Error", message: "not serving requests" };
      return send({ type: "response", id, error });
    }
    server(request).then(
      (value) => send({ type: "response", id, value }),
      (err: unknown) => {
        const e = err instanceof Error ? err : new Error(String(err));
        send({ type: "response", id, error: { name: e.name, message: e.message } });
      },
    );
  };
  let markDependenciesReady: () => void = () => undefined;
  const dependenciesReady = new Promise<void>((resolve) => {
    markDependenciesReady = resolve;
  });
  process.on("message", (m: unknown) => {
    const type = (m as ToChild | null)?.type;
    if (type === "request") {
      const { id, request } = m as Extract<ToChild, { type: "request" }>;
      return answer(id, request);
    }
    if (type === "dependencies-ready") markDependenciesReady();
    if (type !== "stop" || stopping) return;
    stopping = true;
    if (!stopper) process.exit(0); // still starting: nothing to stop in order
    stopper()
      .catch((err: unknown) => log("stop failed", { error: String(err) }))
      .finally(() => send({ type: "stopped" }, () => process.exit(0)));
  });
  start({ log, dependenciesReady }).then(
    ({ info, stop, serve }) => {
      stopper = stop;
      server = serve ?? null;
      send({ type: "ready", info });
    },
    (err: unknown) =>
      send({ type: "failed", error: (err as Error)?.stack ?? String(err) }, () => process.exit(1)),
  );
}
