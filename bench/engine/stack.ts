// The stack the load tool and the simulator run against: a local stack started as a child process
// (its own event loop, so the tool does not slow it down), or one already running on 127.0.0.1.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, readdirSync, readFileSync, statSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

export interface Target {
  httpUrl: string;
  wsUrl: string;
  /** Where the child stack's output goes; null for a stack this tool did not start. */
  logPath: string | null;
  stop(): Promise<void>;
}

const HTTP_LINE = /HTTP API\s+(http:\/\/127\.0\.0\.1:\d+)/;
const WS_LINE = /WebSocket\s+(ws:\/\/127\.0\.0\.1:\d+)\/?\?token=/;
const STOP_GRACE_MS = 10_000;

/** The stack did not start; `detail` holds the last lines of its log. */
export class StackStartError extends Error {
  override readonly name = "StackStartError";
  constructor(
    message: string,
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once GET /health answers 200; throws after `timeoutMs`. */
export async function waitHealthy(httpUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${httpUrl}/health`, { signal: AbortSignal.timeout(2000) });
      await res.text();
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = String(err);
    }
    await sleep(200);
  }
  throw new Error(`${httpUrl}/health did not answer 200 within ${timeoutMs} ms (${last})`);
}

function tail(path: string, lines: number): string {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** Child pids of `pid` (every thread's list in Linux's /proc); empty where /proc cannot tell. */
function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const task of tasks) {
    try {
      for (const word of readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").split(/\s+/)) {
        const n = Number(word);
        if (word !== "" && Number.isInteger(n) && n > 0) out.push(n);
      }
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

/** Every process below `pid`: the stack spawns redis-server and helper processes of its own. */
function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  const queue = childrenOf(pid);
  for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
    out.push(p);
    queue.push(...childrenOf(p));
  }
  return out;
}

/** Running (a zombie waiting for its reaper does not count). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone already.
    }
  }
}

/**
 * A detached watcher that stops the stack if this process dies without doing it (SIGKILL, or
 * tsx's wrapper force-killing it on a second Ctrl+C): SIGTERM to the stack's process, then
 * SIGKILL to its group after 10 s. It exits by itself once the stack is gone.
 */
const REAPER = `
const [owner, tsx] = process.argv.slice(1).map(Number);
const fs = require("node:fs");
const alive = (p) => { try { process.kill(p, 0); return true; } catch { return false; } };
const children = (p) => { try { return fs.readFileSync("/proc/" + p + "/task/" + p + "/children", "utf8").split(/\\s+/).filter(Boolean).map(Number); } catch { return []; } };
const timer = setInterval(() => {
  if (!alive(tsx)) process.exit(0);
  if (alive(owner)) return;
  clearInterval(timer);
  const kids = children(tsx);
  try { process.kill(kids.length === 1 ? kids[0] : tsx, "SIGTERM"); } catch {}
  const deadline = Date.now() + 10000;
  setInterval(() => {
    if (!alive(tsx)) process.exit(0);
    if (Date.now() < deadline) return;
    try { process.kill(-tsx, "SIGKILL"); } catch {}
    process.exit(0);
  }, 200);
}, 500);
`;

function spawnReaper(tsxPid: number): ChildProcess {
  const reaper = spawn(process.execPath, ["-e", REAPER, String(process.pid), String(tsxPid)], {
    stdio: "ignore",
    detached: true,
  });
  reaper.unref();
  return reaper;
}

/** A stack already running (given by URL): nothing to start or stop. */
export async function existingStack(httpUrl: string, wsUrl: string): Promise<Target> {
  await waitHealthy(httpUrl, 10_000);
  return { httpUrl, wsUrl, logPath: null, stop: async () => undefined };
}

/**
 * Start `tsx local/main.ts` on free ports in its own process group and wait for its ready lines.
 * The stack is stopped with SIGTERM, and with SIGKILL (its group and every process below it)
 * after 10 s; processes it spawned that are still running after it exited get SIGTERM, then
 * SIGKILL (`onLeftovers` is told how many). When this process exits without having stopped the
 * stack, all of them get SIGKILL.
 */
export async function startChildStack(
  repoRoot: string,
  logPath: string,
  timeoutMs: number,
  onLeftovers: (count: number) => void = () => undefined,
): Promise<Target> {
  const log: WriteStream = createWriteStream(logPath, { flags: "w" });
  const child: ChildProcess = spawn(join(repoRoot, "node_modules/.bin/tsx"), ["local/main.ts"], {
    cwd: repoRoot,
    env: { ...process.env, HTTP_PORT: "0", WS_PORT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so that a SIGKILL also reaches tsx's node child and redis-server.
    detached: true,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error("could not start the local stack (no pid)");

  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once("exit", () => {
      exited = true;
      resolve();
    });
  });
  /** SIGKILL the process group and `tree` (spawned processes may have groups of their own). */
  const killAll = (tree: readonly number[]) => {
    signalAll([-pid, pid, ...tree], "SIGKILL");
  };
  const reaper = spawnReaper(pid);
  const onExit = () => {
    if (!exited) killAll(descendantsOf(pid));
    reaper.kill();
  };
  process.on("exit", onExit);

  child.stderr?.pipe(log, { end: false });
  const urls: { http: string | null; ws: string | null } = { http: null, ws: null };
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the local stack did not print its URLs within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const stdout = child.stdout;
    if (!stdout) return reject(new Error("the local stack has no stdout"));
    createInterface({ input: stdout }).on("line", (line) => {
      log.write(`${line}\n`);
      urls.http ??= HTTP_LINE.exec(line)?.[1] ?? null;
      urls.ws ??= WS_LINE.exec(line)?.[1] ?? null;
      if (urls.http !== null && urls.ws !== null) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exitedPromise.then(() => {
      clearTimeout(timer);
      reject(new Error(`the local stack exited during start (see ${logPath})`));
    });
  });

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Taken before any signal: once a parent exits, its children are re-parented and lost.
    const tree = exited ? [] : descendantsOf(pid);
    if (!exited) {
      // SIGTERM goes to the stack's own process (tsx's one child): tsx relays a signal it gets
      // itself, but SIGKILLs its child when the child does not acknowledge it within 30 ms,
      // which a busy stack often fails to do (nothing then shuts down cleanly).
      const [first, ...others] = childrenOf(pid);
      const stackPid = first !== undefined && others.length === 0 ? first : pid;
      try {
        process.kill(stackPid, "SIGTERM");
      } catch {
        child.kill("SIGTERM");
      }
      const inTime = await Promise.race([
        exitedPromise.then(() => true),
        sleep(STOP_GRACE_MS).then(() => false),
      ]);
      if (!inTime) {
        killAll(tree);
        await Promise.race([exitedPromise, sleep(2000)]);
      }
    }
    // What the stack spawned (redis-server, emulators) must not outlive it; processes that are
    // exiting by themselves get a moment first.
    const running = () => tree.filter(isAlive);
    for (let i = 0; i < 30 && running().length > 0; i++) await sleep(100);
    const leftovers = running();
    if (leftovers.length > 0) {
      onLeftovers(leftovers.length);
      signalAll(leftovers, "SIGTERM");
      for (let i = 0; i < 20 && running().length > 0; i++) await sleep(100);
      signalAll(running(), "SIGKILL");
    }
    process.off("exit", onExit);
    reaper.kill();
    await new Promise<void>((resolve) => log.end(resolve));
  };

  try {
    await ready;
    const { http: httpUrl, ws: wsUrl } = urls;
    if (httpUrl === null || wsUrl === null) throw new Error("the local stack printed no URLs");
    await waitHealthy(httpUrl, timeoutMs);
    return { httpUrl, wsUrl, logPath, stop };
  } catch (err) {
    await stop();
    const message = err instanceof Error ? err.message : String(err);
    throw new StackStartError(message, tail(logPath, 30), { cause: err });
  }
}

/** Bytes of the stack's log so far (0 when unreadable): marks where the shutdown begins. */
export function logSize(logPath: string): number {
  try {
    return statSync(logPath).size;
  } catch {
    return 0;
  }
}

/**
 * Lines of the stack's log that report errors (JSON `level` ERROR/CRITICAL/FATAL, "… threw",
 * or "Error:"), split at byte `mark`: before it (under load) and from it on (during shutdown).
 */
export function stackLogErrors(
  logPath: string,
  mark: number,
): { load: string[]; shutdown: string[] } {
  let text: Buffer;
  try {
    text = readFileSync(logPath);
  } catch {
    return { load: [], shutdown: [] };
  }
  const errors = (part: Buffer) =>
    part
      .toString("utf8")
      .split("\n")
      .filter(
        (l) =>
          /"level"\s*:\s*"(error|critical|fatal)"/i.test(l) ||
          /\bthrew\b/.test(l) ||
          /\bError:/.test(l),
      );
  return { load: errors(text.subarray(0, mark)), shutdown: errors(text.subarray(mark)) };
}
