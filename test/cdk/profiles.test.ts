// Assertion tests of the deployment profiles on the synthesized stack: what `-c profile=dev|prod`
// and the single settings that override it change in the template (NAT gateways, Lambda's logging
// configuration, access-log format, route metrics, the history table's backups, the stream's
// capacity mode). Bundling is skipped: these syntheses only check configuration.
import { readFileSync } from "node:fs";
import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { describe, expect, it } from "vitest";
import { stageConfigFromContext } from "../../lib/config.ts";
import { NearbyFriendsStack } from "../../lib/nearby-friends-stack.ts";

const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as {
    context: Record<string, unknown>;
  }
).context;

const stacks = new Map<string, NearbyFriendsStack>();

/** The stack of a stage built with these context values (cached per context). */
function stackOf(context: Record<string, string>): NearbyFriendsStack {
  const key = JSON.stringify(context);
  const cached = stacks.get(key);
  if (cached) return cached;
  const app = new App({
    // The WebSocket stage logs only where the account has API Gateway's CloudWatch role: these
    // syntheses check the log format, so they say it has.
    context: {
      ...CDK_JSON_CONTEXT,
      stage: "qa",
      webSocketAccessLogs: "true",
      ...context,
      "aws:cdk:bundling-stacks": [],
    },
  });
  const stack = new NearbyFriendsStack(app, "NearbyFriends-qa", {
    config: stageConfigFromContext(app.node),
  });
  stacks.set(key, stack);
  return stack;
}

const synth = (context: Record<string, string> = {}): Template =>
  Template.fromStack(stackOf(context));

type Resources = Record<string, { Properties: Record<string, unknown> }>;

const functions = (t: Template): Resources =>
  t.findResources("AWS::Lambda::Function", {
    Properties: { FunctionName: Match.stringLikeRegexp("^nearby-friends-qa-") },
  }) as Resources;

const stages = (t: Template): Resources => t.findResources("AWS::ApiGatewayV2::Stage") as Resources;

/** The access-log line format of a stage, parsed (both stages log one JSON object per request). */
function accessLogFields(t: Template, stageName: string): string[] {
  const stage = Object.values(stages(t)).find((s) => s.Properties.StageName === stageName);
  const format = (stage?.Properties.AccessLogSettings as { Format: string } | undefined)?.Format;
  if (format === undefined) throw new Error(`no access-log format on stage ${stageName}`);
  return Object.keys(JSON.parse(format) as Record<string, string>);
}

const pitrOf = (t: Template): Record<string, boolean> =>
  Object.fromEntries(
    Object.values(t.findResources("AWS::DynamoDB::Table") as Resources).map((table) => [
      String(table.Properties.TableName),
      (table.Properties.PointInTimeRecoverySpecification as { PointInTimeRecoveryEnabled: boolean })
        .PointInTimeRecoveryEnabled,
    ]),
  );

describe("dev profile (the default)", () => {
  it("runs one NAT gateway", () => {
    synth().resourceCountIs("AWS::EC2::NatGateway", 1);
  });

  it("leaves Lambda's logs in text format, without log-level filtering", () => {
    for (const [id, fn] of Object.entries(functions(synth()))) {
      expect(fn.Properties.LoggingConfig, id).toEqual({ LogGroup: expect.anything() });
      expect(fn.Properties.Environment, id).toMatchObject({
        Variables: { POWERTOOLS_LOG_LEVEL: "INFO" },
      });
    }
  });

  it("logs every access-log field and no per-route metrics", () => {
    expect(accessLogFields(synth(), "qa")).toEqual(expect.arrayContaining(["ip", "principalId"]));
    expect(accessLogFields(synth(), "$default")).toEqual(
      expect.arrayContaining(["ip", "userAgent"]),
    );
    for (const stage of Object.values(stages(synth()))) {
      expect(stage.Properties.DefaultRouteSettings).toMatchObject({
        DetailedMetricsEnabled: false,
      });
    }
  });

  it("backs up the users, friendships and blocks continuously, not the expiring history", () => {
    expect(pitrOf(synth())).toEqual({
      "nearby-friends-qa-users": true,
      "nearby-friends-qa-friendships": true,
      "nearby-friends-qa-blocks": true,
      "nearby-friends-qa-location-history": false,
      "nearby-friends-qa-share-links": true,
    });
  });
});

describe("prod profile", () => {
  const prod = () => synth({ profile: "prod" });

  it("runs a NAT gateway in each of the two AZs, each private subnet routed to its own", () => {
    prod().resourceCountIs("AWS::EC2::NatGateway", 2);
    const natRoutes = Object.values(
      prod().findResources("AWS::EC2::Route", {
        Properties: { NatGatewayId: Match.anyValue() },
      }) as Resources,
    ).map((r) => JSON.stringify(r.Properties.NatGatewayId));
    expect(natRoutes).toHaveLength(2);
    expect(new Set(natRoutes).size).toBe(2);
  });

  it("gives every function JSON logs at INFO, and Lambda's own lines only from WARN", () => {
    const fns = Object.entries(functions(prod()));
    expect(fns.length).toBeGreaterThan(10);
    for (const [id, fn] of fns) {
      expect(fn.Properties.LoggingConfig, id).toEqual({
        LogGroup: expect.anything(),
        LogFormat: "JSON",
        ApplicationLogLevel: "INFO",
        SystemLogLevel: "WARN",
      });
      expect(fn.Properties.Environment, id).toMatchObject({
        Variables: { POWERTOOLS_LOG_LEVEL: "INFO" },
      });
    }
  });

  it("trims the access logs to the request, connection, route and outcome", () => {
    const ws = accessLogFields(prod(), "qa");
    expect(ws).toEqual(expect.arrayContaining(["requestId", "connectionId", "routeKey", "status"]));
    for (const dropped of ["ip", "principalId", "extendedRequestId", "eventType", "requestTime"]) {
      expect(ws).not.toContain(dropped);
    }
    expect(ws.length).toBeLessThan(accessLogFields(synth(), "qa").length);
    const http = accessLogFields(prod(), "$default");
    expect(http).toEqual(expect.arrayContaining(["requestId", "routeKey", "status"]));
    expect(http).not.toContain("ip");
    expect(http).not.toContain("userAgent");
  });

  it("keeps route metrics off and the history table without point-in-time recovery", () => {
    for (const stage of Object.values(stages(prod()))) {
      expect(stage.Properties.DefaultRouteSettings).toMatchObject({
        DetailedMetricsEnabled: false,
      });
    }
    expect(pitrOf(prod())["nearby-friends-qa-location-history"]).toBe(false);
  });

  it("has nothing cdk-nag's AwsSolutions pack reports without an acknowledged reason", () => {
    const report = new AwsSolutionsChecks().validateScope(stackOf({ profile: "prod" }));
    expect(
      report.violations.map(
        (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(", ")}`,
      ),
    ).toEqual([]);
  });

  it("keeps tracing as each function's needs say: off on the hot paths", () => {
    const fns = functions(prod());
    const tracingOf = (entry: string) =>
      Object.values(fns).find((f) => f.Properties.FunctionName === `nearby-friends-qa-${entry}`)
        ?.Properties.TracingConfig;
    expect(tracingOf("ws-location")).toBeUndefined();
    expect(tracingOf("stream-fanout")).toBeUndefined();
    expect(tracingOf("ws-init")).toEqual({ Mode: "Active" });
  });
});

describe("single settings over a profile", () => {
  it("turns the history table's point-in-time recovery on with historyPitr=true", () => {
    expect(pitrOf(synth({ profile: "prod", historyPitr: "true" }))).toMatchObject({
      "nearby-friends-qa-location-history": true,
    });
  });

  it("turns per-route metrics on both APIs on with detailedMetrics=true", () => {
    const all = Object.values(stages(synth({ detailedMetrics: "true" })));
    expect(all).toHaveLength(2);
    for (const stage of all) {
      expect(stage.Properties.DefaultRouteSettings).toMatchObject({
        DetailedMetricsEnabled: true,
      });
    }
  });

  it("provisions the stream with the given shards, and is on-demand without a shard count", () => {
    synth({ shards: "2" }).hasResourceProperties("AWS::Kinesis::Stream", {
      ShardCount: 2,
      StreamModeDetails: { StreamMode: "PROVISIONED" },
    });
    synth({ profile: "prod" }).hasResourceProperties("AWS::Kinesis::Stream", {
      ShardCount: Match.absent(),
      StreamModeDetails: { StreamMode: "ON_DEMAND" },
    });
  });

  it("takes a profile's value back one by one: one NAT gateway, full access logs on prod", () => {
    const t = synth({ profile: "prod", natGateways: "1", accessLogs: "full" });
    t.resourceCountIs("AWS::EC2::NatGateway", 1);
    expect(accessLogFields(t, "qa")).toContain("ip");
    // The logging stays as the profile set it.
    for (const fn of Object.values(functions(t))) {
      expect(fn.Properties.LoggingConfig).toMatchObject({ LogFormat: "JSON" });
    }
  });
});
