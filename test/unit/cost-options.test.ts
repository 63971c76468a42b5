// The options of `npm run cost`: workload flags over their defaults, and the stack's context
// (cdk.json's, then -c, then --profile and --stage).
import { describe, expect, it } from "vitest";
import { parseCostOptions, UsageError } from "../../bench/cost-options.ts";
import { DEFAULT_WORKLOAD } from "../../lib/cost-model.ts";

describe("npm run cost options", () => {
  const CDK = { stage: "dev", "@aws-cdk/core:checkSecretUsage": true };

  it("reads the workload flags over the defaults", () => {
    const o = parseCostOptions(["--users", "500", "--interval-s=15", "--nearby", "4"], CDK);
    expect(o.workload).toEqual({ ...DEFAULT_WORKLOAD, users: 500, intervalS: 15, nearby: 4 });
    expect(o.json).toBe(false);
    expect(parseCostOptions([], CDK).workload.users).toBe(10_000);
  });

  it("layers -c values, then --profile and --stage, over cdk.json's context", () => {
    const o = parseCostOptions(
      ["-c", "shards=2", "--context", "natGateways=1", "--profile", "prod", "--stage", "eu1"],
      CDK,
    );
    expect(o.context).toMatchObject({
      stage: "eu1",
      profile: "prod",
      shards: "2",
      natGateways: "1",
      "@aws-cdk/core:checkSecretUsage": true,
    });
  });

  it("refuses unknown flags, values out of range and -c without key=value", () => {
    expect(() => parseCostOptions(["--userz", "1"], CDK)).toThrow(UsageError);
    expect(() => parseCostOptions(["--published-share", "2"], CDK)).toThrow(
      /--published-share must be a number in \[0, 1\]/,
    );
    expect(() => parseCostOptions(["-c", "shards"], CDK)).toThrow(/takes key=value/);
    expect(() => parseCostOptions(["--users"], CDK)).toThrow(/needs a value/);
  });
});
