// A short run of `npm run simulate` against the test stack (local only: it signs users up through
// POST /dev/token): people connect through the SDK, move, and the summary says so.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { httpUrl, wsUrl } from "./client.ts";

const ROOT = join(import.meta.dirname, "../..");

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(ROOT, "node_modules/.bin/tsx"), ["bench/simulate.ts", ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("simulator (local stack)", () => {
  it("moves 10 friends for 12 s through the SDK, without then with the reporting cadence, and ends with its JSON summary", async () => {
    // Act
    const prefix = `smoke-${randomUUID().slice(0, 8)}`;
    const { code, stdout, stderr } = await run([
      ...["--users", "10", "--group", "5", "--minutes", "0.2", "--prefix", prefix],
      ...["--cadence", "compare", "--http-url", httpUrl(), "--ws-url", wsUrl()],
    ]);

    // Assess
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/\[simulate\] \+[\d.]+s running connected=\d+\/10 .*updates\/s=/);
    expect(stderr).toContain(`/map?as=${prefix}-1`);
    const summary = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as Record<string, unknown>;
    expect(summary).toMatchObject({
      users: 10,
      prefix,
      usersCreated: 10,
      friendships: 20, // two groups of 5
      errors: {},
      setupErrors: {},
    });
    expect(summary.pushes).toBeGreaterThan(0);
    expect(summary.latencySamples).toBeGreaterThan(0);
    // Without the cadence, about one location a second per moving person; with it (friends close
    // by: the fast cadence, 10 s), about a tenth.
    const without = summary.messagesPerUserHourWithoutCadence as number;
    const withCadence = summary.messagesPerUserHourWithCadence as number;
    expect(without).toBeGreaterThan(1000);
    expect(withCadence).toBeGreaterThan(0);
    expect(withCadence).toBeLessThan(without / 3);
  }, 120_000);
});
