// The cost estimate's arithmetic on a small case worked out by hand, what the profiles and settings
// change in it, and the tiered prices.
import { describe, expect, it } from "vitest";
import { stageConfigFromContext } from "../../lib/config.ts";
import {
  accessLogLineBytes,
  DEFAULT_WORKLOAD,
  type Deployment,
  deploymentOf,
  type Estimate,
  estimateMonthly,
  type LineItem,
  trafficOf,
  type Workload,
} from "../../lib/cost-model.ts";
import { costOf, PRICES } from "../../lib/prices.ts";

const GB = 2 ** 30;
const config = (values: Record<string, unknown> = {}) =>
  stageConfigFromContext({ tryGetContext: (key: string) => values[key] });

/** The dev stage's deployment, with round access-log line sizes for the hand computation. */
const DEV: Deployment = {
  ...deploymentOf(config()),
  wsAccessLogBytes: 400,
  httpAccessLogBytes: 300,
};

/** 1 000 users all day, a frame a minute, half of them published, two friends' connections each. */
const SMALL: Workload = {
  ...DEFAULT_WORKLOAD,
  users: 1000,
  intervalS: 60,
  nearby: 2,
  hoursPerDay: 24,
  publishedShare: 0.5,
  httpRequestsPerUserDay: 0,
  frameBytes: 90,
  pushBytes: 180,
  recordBytes: 160,
};

function lineOf(estimate: Estimate, service: string, item: RegExp): LineItem {
  const found = estimate.lines.filter((l) => l.service === service && item.test(l.item));
  if (found.length !== 1 || !found[0]) {
    throw new Error(`expected one ${service} line matching ${item}, found ${found.length}`);
  }
  return found[0];
}

describe("traffic of a workload", () => {
  it("counts frames, sessions (a reconnect every 2 hours), records and pushes for a 730-hour month", () => {
    const t = trafficOf(SMALL);
    // 1 000 users × 730 h × 3 600 s = 2.628e9 user-seconds; a frame a minute.
    expect(t.connectionMinutes).toBeCloseTo(43_800_000, 0);
    expect(t.frames).toBeCloseTo(43_800_000, 0);
    // 12 sessions a day × 730/24 days × 1 000 users.
    expect(t.sessions).toBeCloseTo(365_000, 0);
    expect(t.published).toBeCloseTo(21_900_000, 0);
    // Each session's end publishes an `offline` record too.
    expect(t.records).toBeCloseTo(22_265_000, 0);
    expect(t.pushes).toBeCloseTo(44_530_000, 0);
    expect(t.pings).toBe(0);
    expect(t.messagesIn).toBeCloseTo(43_800_000 + 365_000, 0);
    expect(t.messagesOut).toBeCloseTo(44_530_000 + 365_000, 0);
  });

  it("adds a ping every 5 minutes when frames come less often", () => {
    const t = trafficOf({ ...SMALL, intervalS: 600 });
    expect(t.pings).toBeCloseTo(2.628e9 / 300, 0);
  });

  it("reports at the slow cadence while not watched closely, never faster than the app", () => {
    const cadence = { fastS: 10, slowS: 300 };
    // A quarter of the time watched (a frame a minute, the app's pace), the rest every 300 s.
    const quarter = trafficOf({ ...SMALL, watchedShare: 0.25 }, cadence);
    expect(quarter.frames).toBeCloseTo((0.25 * 2.628e9) / 60 + (0.75 * 2.628e9) / 300, 0);
    expect(quarter.pings).toBe(0); // a slow report goes before the keepalive would
    // An app reporting every 5 s is held to the fast cadence while watched.
    const eager = trafficOf({ ...SMALL, intervalS: 5, watchedShare: 1 }, cadence);
    expect(eager.frames).toBeCloseTo(2.628e9 / 10, 0);
    // Fully watched at the app's pace: as without the cadence.
    expect(trafficOf({ ...SMALL, watchedShare: 1 }, cadence).frames).toBeCloseTo(2.628e9 / 60, 0);
  });
});

describe("monthly estimate, by hand", () => {
  const estimate = estimateMonthly(DEV, SMALL);

  it("prices WebSocket messages and connection minutes", () => {
    const messages = lineOf(estimate, "API Gateway", /WebSocket messages/);
    // (43.8 M frames + 0.365 M inits) in, 44.53 M pushes + 0.365 M init replies out.
    expect(messages.quantity).toBeCloseTo(89_060_000, 0);
    expect(messages.usd).toBeCloseTo(89.06, 2);
    expect(lineOf(estimate, "API Gateway", /connection minutes/).usd).toBeCloseTo(10.95, 2);
  });

  it("prices the location route's requests and GB-seconds at its memory", () => {
    const location = lineOf(estimate, "Lambda", /^ws-location \(20 ms × 256 MB\)$/);
    expect(location.quantity).toBeCloseTo(43_800_000, 0);
    // 43.8 M × $0.20/M + 43.8 M × 0.020 s × 0.25 GB × $0.0000133334.
    expect(location.usd).toBeCloseTo(8.76 + 219_000 * 0.0000133334, 4);
  });

  it("prices the on-demand stream per hour and per GB, each record rounded up to 1 KB", () => {
    const gb = 22_265_000 / 1024 / 1024;
    expect(lineOf(estimate, "Kinesis", /stream hours/).usd).toBeCloseTo(730 * 0.04, 6);
    expect(lineOf(estimate, "Kinesis", /data in/).usd).toBeCloseTo(gb * 0.08, 6);
    expect(lineOf(estimate, "Kinesis", /history writer/).usd).toBeCloseTo(gb * 0.04, 6);
    expect(lineOf(estimate, "Kinesis", /fan-out/).usd).toBeCloseTo(gb * 0.05, 6);
  });

  it("writes one history item per published position and stores 30 days of them", () => {
    expect(lineOf(estimate, "DynamoDB", /history writes/).usd).toBeCloseTo(13.6875, 6);
    const storedGb = (21_900_000 * (30 / (730 / 24)) * 300) / GB;
    const storage = lineOf(estimate, "DynamoDB", /history storage/);
    expect(storage.quantity).toBeCloseTo(storedGb, 6);
    expect(storage.usd).toBeCloseTo(storedGb * 0.25, 6);
    expect(estimate.lines.some((l) => /point-in-time/.test(l.item))).toBe(false);
  });

  it("prices the NAT gateway's hours and every push through it, and the other AZ's crossing", () => {
    expect(lineOf(estimate, "VPC", /^1 NAT gateway/).usd).toBeCloseTo(32.85, 6);
    // A push: 1 350 bytes of request, headers and response around a 180-byte frame.
    const natGb = (44_530_000 * 1530) / GB;
    expect(lineOf(estimate, "VPC", /NAT data processed/).usd).toBeCloseTo(natGb * 0.045, 6);
    // Half the pushes start in the AZ without the NAT gateway; charged on both sides.
    expect(lineOf(estimate, "VPC", /cross-AZ traffic to the NAT/).usd).toBeCloseTo(
      natGb * 0.5 * 2 * 0.01,
      6,
    );
  });

  it("prices one access-log line per frame, init, $connect and $disconnect", () => {
    const gb = ((43_800_000 + 3 * 365_000) * 400) / GB;
    expect(lineOf(estimate, "CloudWatch Logs", /WebSocket access logs/).usd).toBeCloseTo(
      gb * 0.5,
      6,
    );
  });

  it("counts the fixed charges, and nothing else, for an idle stage", () => {
    const idle = estimateMonthly(DEV, { ...SMALL, users: 0 });
    const fixed =
      730 * 0.04 + // on-demand stream
      2 * 730 * 0.0256 + // two cache nodes
      730 * 0.045 + // one NAT gateway
      2 * 2 * 730 * 0.01 + // two interface endpoints in two AZs
      DEV.alarms * 0.1 +
      3 + // dashboard
      2 * 1 + // two KMS keys
      0.4; // one secret
    expect(idle.total).toBeCloseTo(fixed, 6);
    expect(idle.lines.filter((l) => l.usd > 0).map((l) => l.service)).toEqual([
      "Kinesis",
      "ElastiCache",
      "VPC",
      "VPC",
      "CloudWatch",
      "CloudWatch",
      "KMS",
      "Secrets Manager",
    ]);
  });

  it("sums its lines into the total", () => {
    expect(estimate.total).toBeCloseTo(
      estimate.lines.reduce((sum, l) => sum + l.usd, 0),
      9,
    );
  });
});

describe("what the settings change", () => {
  const load: Workload = { ...DEFAULT_WORKLOAD, users: 10_000, intervalS: 30, nearby: 3 };
  const dev = estimateMonthly(deploymentOf(config()), load);
  const prod = estimateMonthly(deploymentOf(config({ profile: "prod" })), load);

  it("runs two NAT gateways in prod, with no push crossing an AZ to reach one", () => {
    expect(lineOf(dev, "VPC", /^\d NAT gateways?$/).quantity).toBe(730);
    expect(lineOf(prod, "VPC", /^\d NAT gateways?$/).quantity).toBe(2 * 730);
    expect(lineOf(dev, "VPC", /cross-AZ traffic to the NAT/).usd).toBeGreaterThan(0);
    expect(lineOf(prod, "VPC", /cross-AZ traffic to the NAT/).usd).toBe(0);
  });

  it("drops Lambda's platform lines with JSON logs at WARN, and trims the access-log lines", () => {
    expect(lineOf(dev, "CloudWatch Logs", /platform lines \(text\)/).usd).toBeGreaterThan(50);
    expect(lineOf(prod, "CloudWatch Logs", /platform lines \(JSON at WARN\)/).usd).toBe(0);
    const ws = (e: Estimate) => lineOf(e, "CloudWatch Logs", /WebSocket access logs/).usd;
    // WebSocket access logs exist only with API Gateway's account role (off by default).
    expect(ws(dev)).toBe(0);
    const logged = (c: Record<string, unknown>) =>
      estimateMonthly(deploymentOf(config({ ...c, webSocketAccessLogs: "true" })), load);
    expect(ws(logged({}))).toBeGreaterThan(50);
    expect(ws(logged({ profile: "prod" }))).toBeLessThan(ws(logged({})) / 2);
    const jsonInfo = estimateMonthly(
      deploymentOf(config({ logFormat: "JSON", systemLogLevel: "INFO" })),
      load,
    );
    expect(
      lineOf(jsonInfo, "CloudWatch Logs", /platform lines \(JSON at INFO\)/).usd,
    ).toBeGreaterThan(lineOf(dev, "CloudWatch Logs", /platform lines/).usd);
  });

  it("bills prod less than dev under load, though more idle (the second NAT gateway)", () => {
    expect(prod.total).toBeLessThan(dev.total);
    const idle = (c: Record<string, unknown>) =>
      estimateMonthly(deploymentOf(config(c)), { ...load, users: 0 }).total;
    expect(idle({ profile: "prod" }) - idle({})).toBeCloseTo(730 * 0.045, 6);
  });

  it("prices provisioned shards per shard-hour and PUT payload unit, and says when they are too few", () => {
    const two = estimateMonthly(deploymentOf(config({ shards: "2" })), load);
    expect(lineOf(two, "Kinesis", /^2 provisioned shards$/).usd).toBeCloseTo(2 * 730 * 0.015, 6);
    expect(lineOf(two, "Kinesis", /consumer-shard hours/).usd).toBeCloseTo(2 * 730 * 0.015, 6);
    const records = trafficOf(load).records;
    expect(lineOf(two, "Kinesis", /PUT payload units/).usd).toBeCloseTo((records / 1e6) * 0.014, 6);
    expect(two.lines.some((l) => /on-demand/.test(l.item))).toBe(false);
    expect(two.notes).toEqual([]);
    const busier = { ...load, users: 100_000, intervalS: 10 };
    const one = estimateMonthly(deploymentOf(config({ shards: "1" })), busier);
    expect(one.notes).toEqual([
      expect.stringMatching(/^1 provisioned shard cannot take \d+ records\/s: \d+ needed$/),
    ]);
  });

  it("adds point-in-time recovery of the history only when asked", () => {
    const pitr = estimateMonthly(deploymentOf(config({ historyPitr: "true" })), load);
    const storage = lineOf(pitr, "DynamoDB", /history storage/);
    expect(lineOf(pitr, "DynamoDB", /point-in-time/).usd).toBeCloseTo(storage.quantity * 0.2, 6);
  });

  it("adds the per-route metrics only when asked", () => {
    expect(dev.lines.some((l) => /per-route/.test(l.item))).toBe(false);
    const detailed = estimateMonthly(deploymentOf(config({ detailedMetrics: "true" })), load);
    expect(lineOf(detailed, "CloudWatch", /per-route/).usd).toBeGreaterThan(0);
  });

  it("takes memory and tracing from the functions' needs: the hot paths are not traced", () => {
    const d = deploymentOf(config());
    expect(d.functions["ws-location"]).toEqual({ memoryMb: 256, tracing: false });
    expect(d.functions["stream-fanout"]).toEqual({ memoryMb: 1024, tracing: false });
    expect(d.functions["ws-init"].tracing).toBe(true);
  });

  it("refuses a cache node type it has no price for", () => {
    const d = deploymentOf(config({ cacheNodeType: "cache.x9.huge" }));
    expect(() => estimateMonthly(d, load)).toThrow(/no price for cache node type cache.x9.huge/);
  });
});

describe("prices and access-log lines", () => {
  it("applies volume tiers: past a billion messages, $0.80 a million", () => {
    expect(costOf(PRICES.wsMessages, 1_500_000_000)).toBeCloseTo(1000 + 400, 6);
    expect(costOf(PRICES.wsMessages, 2_000_000)).toBeCloseTo(2, 6);
    expect(costOf(PRICES.wsMessages, 0)).toBe(0);
  });

  it("sizes an access-log line as the JSON object of its fields' sample values", () => {
    expect(accessLogLineBytes({ status: "$context.status" })).toBe('{"status":"200"}'.length);
    expect(() => accessLogLineBytes({ x: "$context.nothing" })).toThrow(/\$context.nothing/);
  });
});
