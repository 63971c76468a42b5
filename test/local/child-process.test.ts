// The parent's requests to a child process (as the gateway invokes the functions' process):
// answered concurrently and matched by id, errors passed by name and message, and pending
// requests rejected when the child exits.
import { afterEach, describe, expect, it } from "vitest";
import { type LocalChild, startChild } from "../../local/child-process.ts";

const ENTRY = new URL("./fixtures/echo-child.ts", import.meta.url);
let child: LocalChild<{ pid: number }> | undefined;

afterEach(async () => {
  await child?.stop();
  child = undefined;
});

const start = () =>
  startChild<{ pid: number }>({ name: "echo", entry: ENTRY, log: () => undefined });

describe("child process requests", () => {
  it("answers requests concurrently, each with its own result", async () => {
    // Prepare
    child = await start();
    const answered: string[] = [];
    const ask = (value: string, delayMs: number) =>
      child?.request({ value, delayMs }).then((v) => {
        answered.push(v as string);
        return v;
      });

    // Act
    const results = await Promise.all([ask("slow", 300), ask("fast", 0)]);

    // Assess
    expect(results).toEqual(["slow", "fast"]);
    expect(answered).toEqual(["fast", "slow"]);
  });

  it("rejects with the child's error name and message", async () => {
    // Prepare
    child = await start();

    // Act
    const failure = child.request({ delayMs: 0, fail: { name: "Error", message: "Unauthorized" } });

    // Assess
    await expect(failure).rejects.toMatchObject({ name: "Error", message: "Unauthorized" });
  });

  it("rejects pending requests when the child exits, and later ones at once", async () => {
    // Prepare
    child = await start();
    const pending = child.request({ value: "never", delayMs: 10_000 });

    // Act
    process.kill(child.pid, "SIGKILL");

    // Assess
    await expect(pending).rejects.toThrow(/exited before answering/);
    expect(child.alive()).toBe(false);
    await expect(child.request({ delayMs: 0 })).rejects.toThrow(/not running/);
  });
});
