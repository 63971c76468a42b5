// Runs the real redis-server binary as a child process on a free loopback port.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { freePort, HOST } from "./ports.ts";

export const REDIS_MISSING =
  "redis-server was not found: install the Debian/Ubuntu package redis-server (apt-get install redis-server), or set REDIS_SERVER_BIN";

export function redisServerBinary(): string | null {
  const configured = process.env.REDIS_SERVER_BIN;
  if (configured) return existsSync(configured) ? configured : null;
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(`${dir}/redis-server`)) return `${dir}/redis-server`;
  }
  return existsSync("/usr/bin/redis-server") ? "/usr/bin/redis-server" : null;
}

export interface RedisProcess {
  port: number;
  url: string;
  /** Kill the server (SIGKILL: no clean shutdown, as a crashed node), and start a new, empty one on
   * the same port after `downMs` — what a failover or node replacement looks like to clients. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * util-linux `setpriv --pdeathsig KILL`, where it works: the kernel then kills redis-server when the
 * process that started it ends, however it ends (SIGKILL included). Without it (not Linux), a
 * parent killed outright leaves redis-server running.
 */
let pdeathsigPrefix: string[] | undefined;
function parentDeathPrefix(): string[] {
  pdeathsigPrefix ??=
    ["/usr/bin/setpriv", "/bin/setpriv"]
      .filter((setpriv) => existsSync(setpriv))
      .map((setpriv) => [setpriv, "--pdeathsig", "KILL", "--"])
      .find(([setpriv = "", ...args]) => spawnSync(setpriv, [...args, "true"]).status === 0) ?? [];
  return pdeathsigPrefix;
}

function spawnRedis(bin: string, port: number, extraArgs: string[]): Promise<ChildProcess> {
  const prefix = parentDeathPrefix();
  const [command = bin, ...prefixArgs] = [...prefix, bin];
  const child: ChildProcess = spawn(
    command,
    [
      ...prefixArgs,
      "--port",
      String(port),
      "--bind",
      HOST,
      "--save",
      "",
      "--appendonly",
      "no",
      "--protected-mode",
      "yes",
      ...extraArgs,
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
      // Bound to its parent's life, it can leave the terminal's process group: Ctrl+C then reaches
      // the stack alone, which stops Redis after the handlers that still use it.
      detached: prefix.length > 0,
    },
  );
  return new Promise<ChildProcess>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(
      () => reject(new Error(`redis-server did not start:\n${output}`)),
      10_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        child.stdout?.removeAllListeners("data");
        child.stderr?.removeAllListeners("data");
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(child);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with code ${code}:\n${output}`));
    });
  });
}

const ended = (child: ChildProcess, signal: NodeJS.Signals): Promise<void> =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill(signal);
  });

export async function startRedis(extraArgs: string[] = []): Promise<RedisProcess> {
  const bin = redisServerBinary();
  if (!bin) throw new Error(REDIS_MISSING);
  const port = await freePort();
  let child = await spawnRedis(bin, port, extraArgs);
  return {
    port,
    url: `redis://${HOST}:${port}`,
    restart: async (downMs = 0) => {
      await ended(child, "SIGKILL");
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      child = await spawnRedis(bin, port, extraArgs);
    },
    stop: () => ended(child, "SIGTERM"),
  };
}

export interface RedisClusterProcess {
  ports: number[];
  /** A seed URL for the cluster client. */
  url: string;
  stop(): Promise<void>;
}

/**
 * A Redis Cluster of `masters` nodes (no replicas) from redis-server and `redis-cli --cluster
 * create`, for tests and benchmarks of cluster mode (ElastiCache cluster mode enabled).
 */
export async function startRedisCluster(masters = 3): Promise<RedisClusterProcess> {
  const dir = mkdtempSync(join(tmpdir(), "nf-redis-cluster-"));
  const nodes: RedisProcess[] = [];
  try {
    for (let i = 0; i < masters; i++) {
      nodes.push(
        await startRedis([
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          join(dir, `nodes-${i}.conf`),
          "--cluster-node-timeout",
          "2000",
          "--dir",
          dir,
        ]),
      );
    }
    const cli = join(dirname(redisServerBinary() ?? "/usr/bin/redis-server"), "redis-cli");
    const create = spawnSync(
      existsSync(cli) ? cli : "redis-cli",
      [
        "--cluster",
        "create",
        ...nodes.map((n) => `${HOST}:${n.port}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ],
      { encoding: "utf8", timeout: 30_000 },
    );
    if (create.status !== 0)
      throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    const first = nodes[0];
    if (!first) throw new Error("no cluster nodes");
    for (let i = 0; ; i++) {
      const info = spawnSync(
        existsSync(cli) ? cli : "redis-cli",
        ["-p", String(first.port), "cluster", "info"],
        {
          encoding: "utf8",
        },
      );
      if (info.stdout.includes("cluster_state:ok")) break;
      if (i > 100) throw new Error(`the cluster did not become ready: ${info.stdout}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    ports: nodes.map((n) => n.port),
    url: nodes[0]?.url ?? "",
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
