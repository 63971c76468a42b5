// The tracer is loaded only where tracing is on and the code runs in Lambda: loading it enables
// the X-Ray SDK's async hooks for the whole process, a cost on every promise of the hot paths.
import { afterEach, describe, expect, it, vi } from "vitest";

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
  vi.resetModules();
});

async function observabilityWith(env: Record<string, string | undefined>) {
  vi.resetModules();
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return import("../../functions/observability.ts");
}

describe("tracer", () => {
  it("is not loaded in a Lambda function whose tracing is off", async () => {
    const o = await observabilityWith({
      AWS_LAMBDA_FUNCTION_NAME: "nearby-friends-dev-ws-location",
      POWERTOOLS_TRACE_ENABLED: "false",
    });
    expect(o.tracingOn).toBe(false);
    expect(o.tracer).toBeUndefined();
  });

  it("is not loaded outside Lambda (the local stack, tests)", async () => {
    const o = await observabilityWith({
      AWS_LAMBDA_FUNCTION_NAME: undefined,
      POWERTOOLS_TRACE_ENABLED: "true",
    });
    expect(o.tracer).toBeUndefined();
  });

  it("is loaded in a Lambda function with tracing on", async () => {
    const o = await observabilityWith({
      AWS_LAMBDA_FUNCTION_NAME: "nearby-friends-dev-ws-init",
      POWERTOOLS_TRACE_ENABLED: "true",
    });
    expect(o.tracingOn).toBe(true);
    expect(o.tracer?.constructor.name).toBe("Tracer");
  });
});
