// A functions process that dies (a crash, the OOM killer) is replaced, as Lambda starts a new
// execution environment: invocations go to the live processes meanwhile, and /health recovers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    httpPort: 0,
    wsPort: 0,
    functionsProcesses: 2,
    log: () => undefined,
  });
});
afterAll(async () => {
  await stack.stop();
});

const health = async () => {
  const res = await fetch(`${stack.httpUrl}/health`);
  return {
    status: res.status,
    body: (await res.json()) as { components?: { functions?: string } },
  };
};

const token = (userId: string) =>
  fetch(`${stack.httpUrl}/dev/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ userId }),
  });

const waitFor = async (check: () => Promise<boolean>, ms: number) => {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
};

describe("a functions process that dies", () => {
  it("is routed around at once and replaced, and /health recovers", async () => {
    const [victim, survivor] = stack.processes.functions;
    if (victim === undefined || survivor === undefined) throw new Error("expected two processes");
    process.kill(victim, "SIGKILL");
    // Once the stack has seen the exit (health says so, or the replacement is already in).
    const seen = await waitFor(
      async () =>
        (await health()).body.components?.functions === "down" ||
        !stack.processes.functions.includes(victim),
      5000,
    );
    expect(seen).toBe(true);

    // Every invocation meanwhile reaches a live process.
    const replies = await Promise.all(
      Array.from({ length: 6 }, (_, i) => token(`crash-${i}-${Date.now()}`)),
    );
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);

    // A new process takes the dead one's place.
    const replaced = await waitFor(async () => {
      const pids = stack.processes.functions;
      return !pids.includes(victim) && pids.length === 2 && (await health()).status === 200;
    }, 20_000);
    expect(replaced).toBe(true);
    expect(stack.processes.functions).toContain(survivor);
    expect((await health()).body.components?.functions).toBe("ok");
    expect((await token(`after-${Date.now()}`)).status).toBe(200);
  });
});
