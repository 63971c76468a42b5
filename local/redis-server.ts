// Runs the real redis-server binary as a child process on a free loopback port.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
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
  stop(): Promise<void>;
}

export async function startRedis(extraArgs: string[] = []): Promise<RedisProcess> {
  const bin = redisServerBinary();
  if (!bin) throw new Error(REDIS_MISSING);
  const port = await freePort();
  const child: ChildProcess = spawn(
    bin,
    [
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
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(
      () => reject(new Error(`redis-server did not start:\n${output}`)),
      10_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with code ${code}:\n${output}`));
    });
  });
  child.stdout?.removeAllListeners("data");
  child.stderr?.removeAllListeners("data");
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    port,
    url: `redis://${HOST}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
