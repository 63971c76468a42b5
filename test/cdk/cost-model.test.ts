// The cost estimate counts what the synthesized template holds: alarms, NAT gateways, interface
// endpoints and their AZs, keys, secrets, dashboards, cache nodes, each function's memory and
// tracing, and the access-log format it sizes. A change to the stack that the estimate does not
// follow fails here. Bundling is skipped: these syntheses only check configuration.
import { readFileSync } from "node:fs";
import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { stageConfigFromContext } from "../../lib/config.ts";
import {
  AZS,
  accessLogLineBytes,
  DASHBOARDS,
  deploymentOf,
  INTERFACE_ENDPOINTS,
  KMS_KEYS,
  SECRETS,
} from "../../lib/cost-model.ts";
import { NearbyFriendsStack } from "../../lib/nearby-friends-stack.ts";

const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as {
    context: Record<string, unknown>;
  }
).context;

type Resources = Record<string, { Properties: Record<string, unknown> }>;

function synth(context: Record<string, string>) {
  const app = new App({
    context: { ...CDK_JSON_CONTEXT, stage: "qa", ...context, "aws:cdk:bundling-stacks": [] },
  });
  const config = stageConfigFromContext(app.node);
  const stack = new NearbyFriendsStack(app, "NearbyFriends-qa", { config });
  return { deployment: deploymentOf(config), template: Template.fromStack(stack) };
}

const count = (t: Template, type: string, props?: Record<string, unknown>): number =>
  Object.keys(t.findResources(type, props ? { Properties: props } : undefined)).length;

describe.each([
  ["dev", {}],
  [
    "prod with 2 node groups of 2 replicas",
    { profile: "prod", numNodeGroups: "2", replicasPerNodeGroup: "2" },
  ],
])("the estimate's deployment matches the template (%s)", (_name, context) => {
  const { deployment, template } = synth(context);

  it("counts the alarms, dashboards, NAT gateways, keys and secrets", () => {
    expect(deployment.alarms).toBe(count(template, "AWS::CloudWatch::Alarm"));
    expect(DASHBOARDS).toBe(count(template, "AWS::CloudWatch::Dashboard"));
    expect(deployment.natGateways).toBe(count(template, "AWS::EC2::NatGateway"));
    expect(KMS_KEYS).toBe(count(template, "AWS::KMS::Key"));
    expect(SECRETS).toBe(count(template, "AWS::SecretsManager::Secret"));
  });

  it("counts the interface endpoints and the AZs each is in", () => {
    const endpoints = Object.values(
      template.findResources("AWS::EC2::VPCEndpoint", {
        Properties: { VpcEndpointType: "Interface" },
      }) as Resources,
    );
    expect(endpoints).toHaveLength(INTERFACE_ENDPOINTS);
    for (const endpoint of endpoints) {
      expect(endpoint.Properties.SubnetIds).toHaveLength(AZS);
    }
  });

  it("counts the cache nodes and prices the node type deployed", () => {
    const [group] = Object.values(
      template.findResources("AWS::ElastiCache::ReplicationGroup") as Resources,
    );
    const p = group?.Properties ?? {};
    expect(deployment.cacheNodes).toBe(
      Number(p.NumNodeGroups) * (Number(p.ReplicasPerNodeGroup) + 1),
    );
    expect(deployment.cacheNodeType).toBe(p.CacheNodeType);
  });

  it("takes each function's memory and tracing as deployed", () => {
    for (const [entry, { memoryMb, tracing }] of Object.entries(deployment.functions)) {
      const [fn] = Object.values(
        template.findResources("AWS::Lambda::Function", {
          Properties: { FunctionName: `nearby-friends-qa-${entry}` },
        }) as Resources,
      );
      expect(fn?.Properties.MemorySize, entry).toBe(memoryMb);
      expect(fn?.Properties.TracingConfig, entry).toEqual(tracing ? { Mode: "Active" } : undefined);
    }
  });

  it("sizes the access-log lines of the format deployed", () => {
    const formats = Object.values(
      template.findResources("AWS::ApiGatewayV2::Stage", {
        Properties: { AccessLogSettings: Match.anyValue() },
      }) as Resources,
    ).map((s) => ({
      name: s.Properties.StageName,
      fields: JSON.parse((s.Properties.AccessLogSettings as { Format: string }).Format) as Record<
        string,
        string
      >,
    }));
    const ws = formats.find((f) => f.name === "qa");
    const http = formats.find((f) => f.name === "$default");
    // No WebSocket access logs without API Gateway's account role (the default): nothing billed.
    expect(deployment.wsAccessLogBytes).toBe(ws ? accessLogLineBytes(ws.fields) : 0);
    expect(deployment.httpAccessLogBytes).toBe(accessLogLineBytes(http?.fields ?? {}));
  });
});
