// Assertion tests of the CDK stack: routes and functions follow functions/routes.ts, every function
// is bundled, IAM stays least-privilege, tracing and Powertools are configured per function, data is
// encrypted, consumers fail safely, alarms watch the platform's and the functions' own metrics, and
// cdk-nag's AwsSolutions pack finds nothing unacknowledged. The stack is synthesized once.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { App, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_TUNABLES, ENV, TUNABLES } from "../../functions/config.ts";
import { APP_METRICS, METRICS_NAMESPACE, SERVICE_NAME } from "../../functions/metric-names.ts";
import {
  AUTHORIZER_ENTRY,
  HTTP_ROUTES,
  SHARE_EXPIRY_ENTRY,
  STREAM_CONSUMERS,
  WS_ROUTES,
} from "../../functions/routes.ts";
import { StageConfigError, stageConfigFromContext } from "../../lib/config.ts";
import { FUNCTION_NEEDS, type FunctionNeeds } from "../../lib/function-needs.ts";
import { NearbyFriendsStack } from "../../lib/nearby-friends-stack.ts";
import { STREAM_CONSUMER_SETTINGS } from "../../lib/stream-consumers.ts";

const STAGE = "test";
const PREFIX = `nearby-friends-${STAGE}`;

/** Every entry the stack must deploy, recomputed here from the route table. */
const ENTRIES = [
  ...new Set<string>([
    AUTHORIZER_ENTRY,
    ...Object.values(WS_ROUTES),
    ...Object.values(HTTP_ROUTES),
    ...Object.values(STREAM_CONSUMERS),
    SHARE_EXPIRY_ENTRY,
    "cognito-post-confirmation",
  ]),
];
/** The routes on the session wiring (nearbyPeople has its own: no stream, it publishes nothing). */
const SESSION_ENTRIES = Object.values(WS_ROUTES).filter(
  (e) => e !== "ws-default" && e !== "ws-ping" && e !== "ws-nearby-people",
);
const needing = (need: keyof FunctionNeeds): string[] =>
  Object.entries(FUNCTION_NEEDS).flatMap(([entry, needs]) => (needs[need] ? [entry] : []));
const REDIS_ENTRIES = needing("redis");
/** Functions that must stay out of the VPC (no Redis; the authorizer fetches Cognito's JWKS). */
const OUTSIDE_VPC = [AUTHORIZER_ENTRY, STREAM_CONSUMERS.history, "cognito-post-confirmation"];
/** The hot paths, which X-Ray must not trace: one invocation per location frame, per stream batch. */
const UNTRACED = ["ws-location", STREAM_CONSUMERS.fanout];
const traced = (entry: string): boolean => !UNTRACED.includes(entry);
/** The tunables' variables with their default values, as every function that takes them gets them. */
const DEFAULT_TUNABLE_ENV = Object.fromEntries(
  Object.values(TUNABLES).map((spec) => [spec.env, String(spec.default)]),
);
/** What the house construct sets on every function (the tracing switch aside). */
const HOUSE_ENV = {
  NODE_OPTIONS: "--enable-source-maps",
  POWERTOOLS_SERVICE_NAME: "nearby-friends",
  POWERTOOLS_METRICS_NAMESPACE: "NearbyFriends",
  POWERTOOLS_LOG_LEVEL: "INFO",
  POWERTOOLS_TRACER_CAPTURE_RESPONSE: "false",
  STAGE,
};

/** A stand-in for an environment value that is a CloudFormation token in the template. */
function placeholder(name: string, value: unknown): string {
  if (typeof value === "string") return value;
  switch (name) {
    case ENV.redisUrl:
      return "rediss://cache.test.internal:6379";
    case ENV.connectionsEndpoint:
      return "https://abc123.execute-api.us-east-1.amazonaws.com/test";
    case ENV.userPoolId:
      return "us-east-1_TestPool1";
    default:
      return `placeholder-${name.toLowerCase().replace(/_/g, "-")}`;
  }
}

interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** A statement of a resource policy (topic, key, endpoint): with its principal and conditions. */
interface PolicyStatementJson extends Statement {
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** The ARN pattern of this stage's alarms, as the template renders it. */
const ALARM_ARN_PATTERN = `arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:${PREFIX}.*`;

/** Conditions that admit CloudWatch acting for this stage's alarms, in this account, only. */
function expectThisStagesAlarms(condition: PolicyStatementJson["Condition"]): void {
  expect(condition?.StringEquals).toEqual({ "aws:SourceAccount": { Ref: "AWS::AccountId" } });
  expect(Object.keys(condition?.ArnLike ?? {})).toEqual(["aws:SourceArn"]);
  expect(rendered(condition?.ArnLike?.["aws:SourceArn"])).toBe(ALARM_ARN_PATTERN);
  expect(Object.keys(condition ?? {}).sort()).toEqual(["ArnLike", "StringEquals"]);
}

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** A template string value as text: `Fn::Join` flattened, `Ref`s and `Fn::GetAtt`s as `${...}`. */
function rendered(value: unknown): string {
  if (typeof value === "string") return value;
  const v = value as {
    Ref?: string;
    "Fn::GetAtt"?: [string, string];
    "Fn::Join"?: [string, unknown[]];
  };
  if (v.Ref !== undefined) return `\${${v.Ref}}`;
  if (v["Fn::GetAtt"]) return `\${${v["Fn::GetAtt"].join(".")}}`;
  if (v["Fn::Join"]) return v["Fn::Join"][1].map(rendered).join(v["Fn::Join"][0]);
  return JSON.stringify(value);
}

/** The feature flags and defaults of cdk.json, so that the tests synthesize what `cdk synth` does. */
const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as {
    context: Record<string, unknown>;
  }
).context;

function synthStack(
  context: Record<string, unknown>,
  outdir: string,
): { stack: NearbyFriendsStack; app: App } {
  const app = new App({ context: { ...CDK_JSON_CONTEXT, ...context }, outdir });
  const stack = new NearbyFriendsStack(app, `NearbyFriends-${String(context.stage)}`, {
    config: stageConfigFromContext(app.node),
  });
  return { stack, app };
}

let outdir: string;
let stack: NearbyFriendsStack;
let template: Template;
let resources: Record<string, CfnResource>;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), "nearby-friends-cdk-"));
  const synth = synthStack({ stage: STAGE }, outdir);
  stack = synth.stack;
  synth.app.synth();
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources as Record<string, CfnResource>;
});

afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
});

function ofType(type: string): [string, CfnResource][] {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}

function resource(logicalId: string): CfnResource {
  const found = resources[logicalId];
  if (!found) throw new Error(`no resource ${logicalId}`);
  return found;
}

/** The one resource of a type (the template must hold exactly one). */
function only(type: string): [string, CfnResource] {
  const found = ofType(type);
  const first = found[0];
  if (found.length !== 1 || !first) throw new Error(`expected one ${type}, found ${found.length}`);
  return first;
}

function prop<T = unknown>(resource: CfnResource, name: string): T {
  return resource.Properties?.[name] as T;
}

/** The function deployed for an entry (found by its physical name) and its logical id. */
function functionOf(entry: string): [string, CfnResource] {
  const found = ofType("AWS::Lambda::Function").find(
    ([, r]) => prop(r, "FunctionName") === `${PREFIX}-${entry}`,
  );
  if (!found) throw new Error(`no function for ${entry}`);
  return found;
}

const functionId = (entry: string): string => functionOf(entry)[0];

function functionEnv(entry: string): Record<string, unknown> {
  return prop<{ Variables: Record<string, unknown> }>(functionOf(entry)[1], "Environment")
    .Variables;
}

/** The statements of the policies attached to an entry's execution role. */
function statementsOf(entry: string): Statement[] {
  const roleId = prop<{ "Fn::GetAtt": [string, string] }>(functionOf(entry)[1], "Role")[
    "Fn::GetAtt"
  ][0];
  const roleRef = JSON.stringify({ Ref: roleId });
  return ofType("AWS::IAM::Policy")
    .filter(([, p]) => prop<unknown[]>(p, "Roles").some((r) => JSON.stringify(r) === roleRef))
    .flatMap(([, p]) => prop<{ Statement: Statement[] }>(p, "PolicyDocument").Statement);
}

function actionsOf(entry: string): string[] {
  return statementsOf(entry).flatMap((s) => asArray(s.Action));
}

/** Every IAM statement of the template: managed-by-CDK policies and roles' inline policies. */
function allStatements(): Statement[] {
  const fromPolicies = ofType("AWS::IAM::Policy").flatMap(
    ([, p]) => prop<{ Statement: Statement[] }>(p, "PolicyDocument").Statement,
  );
  const fromRoles = ofType("AWS::IAM::Role").flatMap(([, r]) =>
    (
      prop<{ PolicyDocument: { Statement: Statement[] } }[] | undefined>(r, "Policies") ?? []
    ).flatMap((p) => p.PolicyDocument.Statement),
  );
  return [...fromPolicies, ...fromRoles];
}

/** The target integration of a route, resolved through its `integrations/<id>` target. */
function integrationOfRoute(route: CfnResource): CfnResource {
  const target = JSON.stringify(prop(route, "Target"));
  const id = /"Ref":"([^"]+)"/.exec(target)?.[1];
  const integration = id === undefined ? undefined : resources[id];
  if (!integration) throw new Error(`route ${String(prop(route, "RouteKey"))} has no integration`);
  return integration;
}

function routeByKey(routeKey: string): [string, CfnResource] {
  const found = ofType("AWS::ApiGatewayV2::Route").find(
    ([, r]) => prop(r, "RouteKey") === routeKey,
  );
  if (!found) throw new Error(`no route ${routeKey}`);
  return found;
}

interface DashboardWidget {
  properties: { title: string; metrics?: unknown[][] };
}

/** The dashboard's widgets, parsed from its body (CloudFormation tokens replaced by a stand-in). */
function dashboardWidgets(): DashboardWidget[] {
  const body = prop<string | { "Fn::Join": [string, unknown[]] }>(
    only("AWS::CloudWatch::Dashboard")[1],
    "DashboardBody",
  );
  const text =
    typeof body === "string"
      ? body
      : body["Fn::Join"][1].map((part) => (typeof part === "string" ? part : "token")).join("");
  return (JSON.parse(text) as { widgets: DashboardWidget[] }).widgets;
}

describe("functions", () => {
  it("deploys one function per distinct entry of routes.ts, named after the stage", () => {
    const names = ofType("AWS::Lambda::Function")
      .map(([, r]) => prop<string>(r, "FunctionName"))
      .filter((n) => typeof n === "string" && n.startsWith(PREFIX));
    expect(names.sort()).toEqual(ENTRIES.map((e) => `${PREFIX}-${e}`).sort());
    for (const entry of ENTRIES) {
      template.hasResourceProperties("AWS::Lambda::Function", {
        FunctionName: `${PREFIX}-${entry}`,
        Runtime: "nodejs22.x",
        Architectures: ["arm64"],
        Handler: "index.handler",
        LoggingConfig: { LogGroup: Match.anyValue() },
      });
    }
  });

  it("bundles every entry with the local esbuild into an ESM file with a source map", () => {
    for (const entry of ENTRIES) {
      const key = prop<{ S3Key: string }>(functionOf(entry)[1], "Code").S3Key;
      const assetDir = join(outdir, `asset.${key.replace(/\.zip$/, "")}`);
      const bundle = join(assetDir, "index.mjs");
      expect(existsSync(bundle), `${entry} bundle`).toBe(true);
      expect(existsSync(join(assetDir, "index.mjs.map")), `${entry} source map`).toBe(true);
      const code = readFileSync(bundle, "utf8");
      expect(code.startsWith("import { createRequire } from 'module';"), `${entry} banner`).toBe(
        true,
      );
    }
  });

  it("starts every bundle with only the environment the stack gives it", async () => {
    // Handlers read their configuration at module scope and throw on a missing variable, so
    // loading each bundle with the template's environment catches a grant the stack forgot.
    const run = promisify(execFile);
    const failures: string[] = [];
    await Promise.all(
      ENTRIES.map(async (entry) => {
        const key = prop<{ S3Key: string }>(functionOf(entry)[1], "Code").S3Key;
        const bundle = join(outdir, `asset.${key.replace(/\.zip$/, "")}`, "index.mjs");
        const env = Object.fromEntries(
          Object.entries(functionEnv(entry)).map(([name, value]) => [
            name,
            placeholder(name, value),
          ]),
        );
        const url = JSON.stringify(pathToFileURL(bundle).href);
        const script = `const m = await import(${url}); if (typeof m.handler !== "function") throw new Error("no handler export");`;
        try {
          await run(process.execPath, ["--input-type=module", "-e", script], {
            env: { PATH: process.env.PATH ?? "", AWS_REGION: "us-east-1", ...env },
            timeout: 30_000,
          });
        } catch (err) {
          const stderr = (err as { stderr?: string }).stderr ?? String(err);
          failures.push(
            `${entry}: ${stderr.split("\n").find((l) => /Error\]?: /.test(l)) ?? stderr}`,
          );
        }
      }),
    );
    expect(failures).toEqual([]);
  });

  it("puts exactly the Redis users in the VPC, behind the cache's client security group", () => {
    const [, cache] = only("AWS::ElastiCache::ReplicationGroup");
    const cacheSgs = prop<{ "Fn::GetAtt": [string, string] }[]>(cache, "SecurityGroupIds");
    expect(cacheSgs).toHaveLength(1);
    const cacheSgId = cacheSgs[0]?.["Fn::GetAtt"][0] ?? "";
    const cacheSg = resource(cacheSgId);
    // The cache admits its port from one security group only, and that group is the functions'.
    const inline = prop<Record<string, unknown>[] | undefined>(cacheSg, "SecurityGroupIngress");
    const standalone = ofType("AWS::EC2::SecurityGroupIngress")
      .filter(([, r]) => JSON.stringify(prop(r, "GroupId")).includes(`"${cacheSgId}"`))
      .map(([, r]) => r.Properties ?? {});
    const ingress = [...(inline ?? []), ...standalone];
    expect(ingress).toHaveLength(1);
    const rule = ingress[0] ?? {};
    expect(rule.FromPort).toBe(6379);
    expect(rule.ToPort).toBe(6379);
    expect(rule.CidrIp).toBeUndefined();
    expect(prop(cacheSg, "SecurityGroupEgress")).toEqual([
      expect.objectContaining({ CidrIp: "255.255.255.255/32" }),
    ]);
    const clientSg = rule.SourceSecurityGroupId;

    for (const entry of ENTRIES) {
      const vpcConfig = prop<{ SecurityGroupIds: unknown[] } | undefined>(
        functionOf(entry)[1],
        "VpcConfig",
      );
      if (REDIS_ENTRIES.includes(entry)) {
        expect(vpcConfig?.SecurityGroupIds, entry).toEqual([clientSg]);
      } else {
        expect(vpcConfig, entry).toBeUndefined();
      }
    }
    for (const entry of [...SESSION_ENTRIES, STREAM_CONSUMERS.fanout]) {
      expect(REDIS_ENTRIES).toContain(entry);
    }
    // The per-connection rate limit, counted in Redis, applies to every WebSocket route.
    for (const entry of Object.values(WS_ROUTES)) expect(REDIS_ENTRIES).toContain(entry);
    // So does the per-user rate limit of every HTTP route.
    for (const entry of Object.values(HTTP_ROUTES)) expect(REDIS_ENTRIES).toContain(entry);
    for (const entry of OUTSIDE_VPC) expect(REDIS_ENTRIES).not.toContain(entry);
  });

  it("gives Redis users the TLS cluster URL and read access to the AUTH token secret only", () => {
    const [secretId] = Object.keys(template.findResources("AWS::SecretsManager::Secret"));
    for (const entry of REDIS_ENTRIES) {
      const env = functionEnv(entry);
      expect(JSON.stringify(env[ENV.redisUrl]), entry).toMatch(
        /"rediss:\/\/".*ConfigurationEndPoint\.Address/,
      );
      expect(env[ENV.redisCluster], entry).toBe("true");
      expect(env[ENV.redisAuthSecretArn], entry).toEqual({ Ref: secretId });
      const secretStatements = statementsOf(entry).filter((s) =>
        asArray(s.Action).includes("secretsmanager:GetSecretValue"),
      );
      expect(
        secretStatements.map((s) => s.Resource),
        entry,
      ).toEqual([{ Ref: secretId }]);
    }
  });

  it("sets the environment each handler reads, with every tunable at its default", () => {
    const tunableUsers = needing("tunables");
    for (const entry of [...SESSION_ENTRIES, STREAM_CONSUMERS.fanout, STREAM_CONSUMERS.history]) {
      expect(tunableUsers).toContain(entry);
    }
    const tunableNames = Object.keys(DEFAULT_TUNABLE_ENV);
    for (const entry of ENTRIES) {
      const present = tunableNames.filter((name) => name in functionEnv(entry));
      expect(present, entry).toEqual(tunableUsers.includes(entry) ? tunableNames : []);
    }
    for (const entry of tunableUsers) {
      expect(functionEnv(entry), entry).toMatchObject(DEFAULT_TUNABLE_ENV);
    }
    for (const entry of [...SESSION_ENTRIES, STREAM_CONSUMERS.fanout]) {
      expect(functionEnv(entry), entry).toMatchObject({
        [ENV.locationStream]: { Ref: expect.any(String) },
      });
    }
    for (const entry of SESSION_ENTRIES) {
      expect(functionEnv(entry), entry).toHaveProperty(ENV.friendshipsTable);
      expect(functionEnv(entry), entry).toHaveProperty(ENV.usersTable);
    }
    expect(functionEnv(STREAM_CONSUMERS.fanout)).toMatchObject({
      [TUNABLES.postConcurrency.env]: String(DEFAULT_TUNABLES.postConcurrency),
    });
    expect(functionEnv(STREAM_CONSUMERS.history)).toHaveProperty(ENV.historyTable);
    expect(functionEnv(AUTHORIZER_ENTRY)).toMatchObject({
      [ENV.userPoolId]: { Ref: expect.any(String) },
      [ENV.userPoolClientId]: { Ref: expect.any(String) },
    });
    expect(functionEnv("http-profile")).toHaveProperty(ENV.usersTable);
    expect(functionEnv("http-friends")).toHaveProperty(ENV.usersTable);
    expect(functionEnv("http-friends")).toHaveProperty(ENV.friendshipsTable);
    expect(functionEnv("http-history")).toHaveProperty(ENV.historyTable);
    expect(functionEnv("cognito-post-confirmation")).toHaveProperty(ENV.usersTable);
    for (const entry of ["http-blocks", "http-friends", "ws-nearby-people"]) {
      expect(functionEnv(entry), entry).toHaveProperty(ENV.blocksTable);
    }
    expect(needing("blocks").sort()).toEqual(["http-blocks", "http-friends", "ws-nearby-people"]);
    for (const entry of needing("connections")) {
      const endpoint = JSON.stringify(functionEnv(entry)[ENV.connectionsEndpoint]);
      expect(endpoint, entry).toContain('"https://"');
      expect(endpoint, entry).toContain(".execute-api.");
      expect(endpoint, entry).toContain(`/${STAGE}`);
    }
    // ping and $default touch nothing but the rate limiter's counters in Redis.
    for (const entry of ["ws-ping", "ws-default"]) {
      expect(Object.keys(functionEnv(entry)).sort(), entry).toEqual(
        [
          ...Object.keys(HOUSE_ENV),
          "POWERTOOLS_TRACE_ENABLED",
          ENV.redisUrl,
          ENV.redisCluster,
          ENV.redisAuthSecretArn,
        ].sort(),
      );
    }
  });
});

describe("observability", () => {
  it("gives every function the Powertools service, namespace, log level and stage", () => {
    expect(HOUSE_ENV.POWERTOOLS_SERVICE_NAME).toBe(SERVICE_NAME);
    expect(HOUSE_ENV.POWERTOOLS_METRICS_NAMESPACE).toBe(METRICS_NAMESPACE);
    for (const entry of ENTRIES) {
      template.hasResourceProperties("AWS::Lambda::Function", {
        FunctionName: `${PREFIX}-${entry}`,
        Environment: { Variables: Match.objectLike(HOUSE_ENV) },
      });
    }
  });

  it("traces every function but the two hot paths, ws-location and the fan-out", () => {
    const untraced = Object.entries(FUNCTION_NEEDS).flatMap(([entry, needs]) =>
      needs.tracing === false ? [entry] : [],
    );
    expect(untraced.sort()).toEqual([...UNTRACED].sort());
    for (const entry of UNTRACED) {
      template.hasResourceProperties("AWS::Lambda::Function", {
        FunctionName: `${PREFIX}-${entry}`,
        // No TracingConfig is Lambda's PassThrough: nothing is sampled without an upstream trace.
        TracingConfig: Match.absent(),
        Environment: { Variables: Match.objectLike({ POWERTOOLS_TRACE_ENABLED: "false" }) },
      });
    }
    for (const entry of ENTRIES.filter(traced)) {
      template.hasResourceProperties("AWS::Lambda::Function", {
        FunctionName: `${PREFIX}-${entry}`,
        TracingConfig: { Mode: "Active" },
        Environment: { Variables: Match.objectLike({ POWERTOOLS_TRACE_ENABLED: "true" }) },
      });
    }
    expect(ENTRIES.filter(traced)).toContain("ws-init");
  });

  it("grants X-Ray's actions to the traced functions only", () => {
    for (const entry of ENTRIES) {
      const xray = actionsOf(entry).filter((a) => a.startsWith("xray:"));
      if (traced(entry)) expect(xray, entry).toContain("xray:PutTraceSegments");
      else expect(xray, entry).toEqual([]);
    }
  });
});

describe("IAM", () => {
  /**
   * What may be granted on Resource *: X-Ray's segment upload, and what the share-expiry workflow's
   * logging and tracing need (Step Functions documents these actions as taking no resource).
   */
  const ON_EVERYTHING = new Set([
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
  ]);

  it("grants no wildcard action, and nothing on Resource * but X-Ray's segment upload", () => {
    const statements = allStatements();
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      const actions = asArray(s.Action);
      for (const action of actions) expect(action, JSON.stringify(s)).not.toMatch(/^\*$|:\*$/);
      const onEverything = asArray(s.Resource).includes("*");
      if (onEverything) {
        expect(
          actions.every((a) => ON_EVERYTHING.has(a)),
          JSON.stringify(s),
        ).toBe(true);
      }
    }
  });

  it("lets only the fan-out, the friends API and the share-link enders use connections, on this stage's @connections path", () => {
    const managers = ENTRIES.filter((e) => actionsOf(e).includes("execute-api:ManageConnections"));
    expect(managers.sort()).toEqual(needing("connections").sort());
    expect(managers).toContain(STREAM_CONSUMERS.fanout);
    for (const entry of managers) {
      const statement = statementsOf(entry).find((s) =>
        asArray(s.Action).includes("execute-api:ManageConnections"),
      );
      // PostToConnection; DeleteConnection only where a share link's end closes its viewers;
      // nothing reads (GET) a connection.
      const methods =
        FUNCTION_NEEDS[entry as keyof typeof FUNCTION_NEEDS]?.connections === "post-and-close"
          ? ["POST", "DELETE"]
          : ["POST"];
      const resources = asArray(statement?.Resource).map(rendered);
      const pattern = new RegExp(`/${STAGE}/([A-Z]+)/@connections/\\*$`);
      expect(resources.map((r) => pattern.exec(r)?.[1]).sort(), entry).toEqual([...methods].sort());
    }
    expect(needing("connections")).toEqual(
      expect.arrayContaining(["http-share-links", SHARE_EXPIRY_ENTRY]),
    );
  });

  it("lets only the publishers put records, with a data key of the stream's key", () => {
    const producers = ENTRIES.filter((e) => actionsOf(e).includes("kinesis:PutRecord"));
    const publishers = Object.entries(FUNCTION_NEEDS).flatMap(([entry, needs]) =>
      needs.stream === "publish" ? [entry] : [],
    );
    expect(producers.sort()).toEqual(publishers.sort());
    expect(producers).not.toContain(STREAM_CONSUMERS.history);
    for (const entry of producers) expect(actionsOf(entry), entry).toContain("kms:GenerateDataKey");
  });

  /** What each resource of a grant is, by its kind and name (a table by its name's suffix). */
  function resourceLabel(value: unknown): string {
    if (value === "*") return "*";
    const text = rendered(value);
    if (text.includes("@connections")) return "@connections";
    const id = /^\$\{([^.}]+)/.exec(text)?.[1];
    const r = id === undefined ? undefined : resources[id];
    switch (r?.Type) {
      case "AWS::DynamoDB::Table":
        return String(prop(r, "TableName")).replace(`${PREFIX}-`, "");
      case "AWS::Kinesis::Stream":
        return "stream";
      case "AWS::KMS::Key":
        return "stream-key";
      case "AWS::SecretsManager::Secret":
        return "redis-secret";
      default:
        return `${r?.Type ?? "?"} ${text}`;
    }
  }

  /** What Lambda's event source mapping needs to read the stream for a consumer, and its DLQ. */
  const EVENT_SOURCE_ACTIONS = new Set([
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamConsumer",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
    "kinesis:ListStreams",
    "kinesis:SubscribeToShard",
    "kms:Decrypt",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:SendMessage",
  ]);
  const CONSUMERS: string[] = Object.values(STREAM_CONSUMERS);

  const SECRET = "secretsmanager:GetSecretValue redis-secret";
  const PUBLISH = ["kinesis:PutRecord stream", "kms:GenerateDataKey stream-key"];
  const SNAPSHOT = "dynamodb:BatchGetItem users";
  const POST = "execute-api:ManageConnections @connections";
  /** Deciding cadences again: settings the cache misses, and a `cadence` push. */
  const CADENCE = [SNAPSHOT, POST];
  /**
   * Every call each handler makes (read from functions/*.ts through functions/wiring.ts and the use
   * cases), and nothing else: a grant the handler does not use fails this test.
   */
  const HANDLER_CALLS: Record<string, string[]> = {
    "ws-authorizer": ["dynamodb:Query share-links", "dynamodb:GetItem share-links"],
    "ws-connect": [SECRET, ...PUBLISH, "dynamodb:Query share-links", ...CADENCE],
    "ws-disconnect": [SECRET, ...PUBLISH, ...CADENCE],
    "ws-default": [SECRET],
    "ws-init": [SECRET, ...PUBLISH, "dynamodb:Query friendships", SNAPSHOT, POST],
    "ws-nearby-friends": [SECRET, "dynamodb:Query friendships", SNAPSHOT],
    "ws-location": [SECRET, ...PUBLISH],
    "ws-subscribe": [SECRET, "dynamodb:GetItem friendships", SNAPSHOT, POST],
    "ws-unsubscribe": [SECRET, ...CADENCE],
    "ws-ping": [SECRET],
    "ws-nearby-people": [SECRET, "dynamodb:Query friendships", "dynamodb:Query blocks", SNAPSHOT],
    "stream-fanout": [SECRET, ...PUBLISH, SNAPSHOT, "execute-api:ManageConnections @connections"],
    "stream-history": ["dynamodb:BatchWriteItem location-history"],
    "http-profile": [SECRET, "dynamodb:GetItem users", "dynamodb:UpdateItem users"],
    "http-friends": [
      SECRET,
      "dynamodb:GetItem users",
      "dynamodb:BatchGetItem users",
      "dynamodb:GetItem friendships",
      "dynamodb:Query friendships",
      "dynamodb:PutItem friendships",
      "dynamodb:DeleteItem friendships",
      "dynamodb:GetItem blocks",
      "execute-api:ManageConnections @connections",
    ],
    "http-blocks": [
      SECRET,
      "dynamodb:GetItem users",
      "dynamodb:BatchGetItem users",
      "dynamodb:GetItem friendships",
      "dynamodb:DeleteItem friendships",
      "dynamodb:Query blocks",
      "dynamodb:UpdateItem blocks",
      "dynamodb:DeleteItem blocks",
      "execute-api:ManageConnections @connections",
    ],
    "http-settings": [
      SECRET,
      ...PUBLISH,
      "dynamodb:GetItem users",
      "dynamodb:UpdateItem users",
      ...CADENCE,
    ],
    "http-history": [
      SECRET,
      ...PUBLISH,
      "dynamodb:Query location-history",
      "dynamodb:BatchWriteItem location-history",
    ],
    "http-share-links": [
      SECRET,
      "dynamodb:Query share-links",
      "dynamodb:PutItem share-links",
      "dynamodb:DeleteItem share-links",
      "execute-api:ManageConnections @connections",
      "execute-api:ManageConnections @connections",
      SNAPSHOT,
    ],
    "share-expiry": [
      SECRET,
      "execute-api:ManageConnections @connections",
      "execute-api:ManageConnections @connections",
      SNAPSHOT,
    ],
    "cognito-post-confirmation": ["dynamodb:PutItem users"],
  };

  it("grants each function exactly the calls its handler makes", () => {
    expect(Object.keys(HANDLER_CALLS).sort()).toEqual([...ENTRIES].sort());
    for (const entry of ENTRIES) {
      const granted = statementsOf(entry).flatMap((s) =>
        asArray(s.Action)
          .filter((a) => !a.startsWith("xray:"))
          .filter((a) => !(CONSUMERS.includes(entry) && EVENT_SOURCE_ACTIONS.has(a)))
          .flatMap((a) => asArray(s.Resource).map((r) => `${a} ${resourceLabel(r)}`)),
      );
      expect(granted.sort(), entry).toEqual([...(HANDLER_CALLS[entry] ?? [])].sort());
    }
  });

  it("grants no DynamoDB action the repositories do not call: no Scan, DescribeTable or stream reads", () => {
    const repoCalls = new Set(
      [
        "GetItem",
        "BatchGetItem",
        "Query",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
      ].map((a) => `dynamodb:${a}`),
    );
    // Only the share-expiry pipe reads a table's stream (the share-links table's): its own role.
    const pipeRoles = ofType("AWS::IAM::Role")
      .filter(([, r]) => JSON.stringify(prop(r, "AssumeRolePolicyDocument")).includes("pipes."))
      .map(([id]) => id);
    expect(pipeRoles).toHaveLength(1);
    const pipePolicies = new Set(
      ofType("AWS::IAM::Policy")
        .filter(([, p]) => JSON.stringify(prop(p, "Roles")).includes(`"${pipeRoles[0]}"`))
        .map(([id]) => id),
    );
    const dynamo = ofType("AWS::IAM::Policy")
      .filter(([id]) => !pipePolicies.has(id))
      .flatMap(([, p]) => prop<{ Statement: PolicyStatementJson[] }>(p, "PolicyDocument").Statement)
      .flatMap((s) => asArray(s.Action).filter((a) => a.startsWith("dynamodb:")));
    expect(dynamo.length).toBeGreaterThan(0);
    expect(dynamo).not.toContain("dynamodb:Scan");
    expect(dynamo.filter((a) => !repoCalls.has(a))).toEqual([]);
  });

  it("lets the VPC endpoints carry only the in-VPC functions' calls, on this stage's stream, tables and secret", () => {
    const endpoints = ofType("AWS::EC2::VPCEndpoint");
    expect(endpoints).toHaveLength(3);
    const inVpc = ENTRIES.filter((e) => REDIS_ENTRIES.includes(e));
    // What the functions in the VPC are granted, by resource, is what the endpoints let through.
    const grantedInVpc = new Set(
      inVpc.flatMap((entry) =>
        statementsOf(entry).flatMap((s) =>
          asArray(s.Action)
            .filter((a) => /^(dynamodb:|kinesis:Put|secretsmanager:)/.test(a))
            .flatMap((a) => asArray(s.Resource).map((r) => `${a} ${resourceLabel(r)}`)),
        ),
      ),
    );
    const carried = new Set<string>();
    for (const [id, endpoint] of endpoints) {
      const policy = prop<{ Statement: PolicyStatementJson[] } | undefined>(
        endpoint,
        "PolicyDocument",
      );
      expect(policy, `${id} has an endpoint policy`).toBeDefined();
      for (const s of policy?.Statement ?? []) {
        expect(s.Effect, id).toBe("Allow");
        expect(s.Condition, id).toEqual({
          StringEquals: { "aws:PrincipalAccount": { Ref: "AWS::AccountId" } },
        });
        for (const a of asArray(s.Action)) {
          for (const r of asArray(s.Resource)) carried.add(`${a} ${resourceLabel(r)}`);
        }
      }
    }
    expect([...carried].sort()).toEqual([...grantedInVpc].sort());
    expect(carried).toContain("kinesis:PutRecord stream");
    expect(carried).toContain(SECRET);
    expect(carried).not.toContain("dynamodb:PutItem users");
  });

  it("names this stage's own resource on every permission given to a service principal", () => {
    // Lambda permissions: SourceArn names the API (or the user pool), hence the account. Lambda
    // documents SourceAccount as unsupported by some sources; the account is in the ARN anyway.
    const permissions = ofType("AWS::Lambda::Permission");
    expect(permissions.length).toBeGreaterThan(0);
    for (const [id, permission] of permissions) {
      expect(prop(permission, "Principal"), id).toMatch(/\.amazonaws\.com$/);
      const source = rendered(prop(permission, "SourceArn"));
      const api =
        /^arn:\$\{AWS::Partition\}:execute-api:\$\{AWS::Region\}:\$\{AWS::AccountId\}:\$\{([^}]+)\}\//.exec(
          source,
        )?.[1];
      const arnOf = /^\$\{([^.}]+)\.Arn\}$/.exec(source)?.[1];
      const own = api ?? arnOf;
      expect(own, `${id}: ${source}`).toBeDefined();
      expect(resources[own ?? ""]?.Type, `${id}: ${source}`).toMatch(
        /^AWS::(ApiGatewayV2::Api|Cognito::UserPool)$/,
      );
    }
    // Resource and trust policies: every Allow to a service carries aws:SourceAccount and
    // aws:SourceArn. Exempt: Lambda's execution roles (Lambda assumes a role for the function
    // that names it, and documents no such keys) and the opt-in account-wide API Gateway role.
    const exempt = new Set(["lambda.amazonaws.com", "apigateway.amazonaws.com"]);
    const documents: [string, PolicyStatementJson[]][] = Object.entries(resources).flatMap(
      ([id, r]) =>
        ["PolicyDocument", "KeyPolicy", "AssumeRolePolicyDocument"].flatMap((name) => {
          const doc = prop<{ Statement?: PolicyStatementJson[] } | undefined>(r, name);
          return doc?.Statement ? [[id, doc.Statement] as [string, PolicyStatementJson[]]] : [];
        }),
    );
    let checked = 0;
    for (const [id, statements] of documents) {
      for (const s of statements) {
        const service = (s.Principal as { Service?: string } | undefined)?.Service;
        if (s.Effect !== "Allow" || service === undefined || exempt.has(service)) continue;
        checked++;
        expect(s.Condition?.StringEquals?.["aws:SourceAccount"], `${id} ${service}`).toEqual({
          Ref: "AWS::AccountId",
        });
        expect(s.Condition?.ArnLike?.["aws:SourceArn"], `${id} ${service}`).toBeDefined();
      }
    }
    // The alarm topic, its key and the flow-log role at least.
    expect(checked).toBeGreaterThanOrEqual(3);
  });
});

describe("WebSocket API", () => {
  it("routes on the body's action", () => {
    template.hasResourceProperties("AWS::ApiGatewayV2::Api", {
      ProtocolType: "WEBSOCKET",
      RouteSelectionExpression: "$request.body.action",
      Name: `${PREFIX}-ws`,
    });
  });

  it("authorizes $connect through the authorizer function, with no identity source (token or share)", () => {
    const authorizers = Object.entries(
      template.findResources("AWS::ApiGatewayV2::Authorizer", {
        Properties: { AuthorizerType: "REQUEST" },
      }),
    );
    expect(authorizers).toHaveLength(1);
    const [authorizerId, authorizer] = authorizers[0] as [string, CfnResource];
    // API Gateway would refuse a handshake lacking a configured source before the authorizer: a
    // user sends `token`, a share-link viewer `share`.
    expect(prop(authorizer, "IdentitySource") ?? []).toEqual([]);
    expect(JSON.stringify(prop(authorizer, "AuthorizerUri"))).toContain(
      `"${functionId(AUTHORIZER_ENTRY)}"`,
    );
    const [, connect] = routeByKey("$connect");
    expect(prop(connect, "AuthorizationType")).toBe("CUSTOM");
    expect(prop(connect, "AuthorizerId")).toEqual({ Ref: authorizerId });
  });

  it("has a route per WS_ROUTES key, served by its entry, two-way except $connect/$disconnect", () => {
    const wsRoutes = ofType("AWS::ApiGatewayV2::Route").filter(([, r]) => {
      const key = prop<string>(r, "RouteKey");
      return !/^[A-Z]+ \//.test(key);
    });
    expect(wsRoutes.map(([, r]) => prop(r, "RouteKey")).sort()).toEqual(
      Object.keys(WS_ROUTES).sort(),
    );
    for (const [routeKey, entry] of Object.entries(WS_ROUTES)) {
      const [routeId, route] = routeByKey(routeKey);
      expect(JSON.stringify(prop(integrationOfRoute(route), "IntegrationUri")), routeKey).toContain(
        `"${functionId(entry)}"`,
      );
      const responses = ofType("AWS::ApiGatewayV2::RouteResponse").filter(
        ([, r]) => JSON.stringify(prop(r, "RouteId")) === JSON.stringify({ Ref: routeId }),
      );
      const twoWay = routeKey !== "$connect" && routeKey !== "$disconnect";
      expect(responses.length, routeKey).toBe(twoWay ? 1 : 0);
      if (twoWay)
        expect(prop(route, "RouteResponseSelectionExpression"), routeKey).toBe("$default");
    }
  });

  it("deploys a throttled stage named after the stage, without logs unless the account role is there", () => {
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: STAGE,
      AutoDeploy: true,
      DefaultRouteSettings: Match.objectLike({
        ThrottlingRateLimit: 1000,
        ThrottlingBurstLimit: 2000,
        LoggingLevel: Match.absent(),
      }),
      AccessLogSettings: Match.absent(),
    });
    // The account-wide API Gateway role is opt-in: nothing account-level by default.
    template.resourceCountIs("AWS::ApiGateway::Account", 0);
    expect(
      ofType("AWS::IAM::Role").filter(([, r]) =>
        JSON.stringify(prop(r, "AssumeRolePolicyDocument")).includes("apigateway.amazonaws.com"),
      ),
    ).toEqual([]);
  });

  const wsStage = (t: Template): CfnResource => {
    const [stage] = Object.values(
      t.findResources("AWS::ApiGatewayV2::Stage", { Properties: { StageName: "prod" } }),
    ) as CfnResource[];
    return stage as CfnResource;
  };

  it("with the account role opted in, sets it and writes JSON access logs once it is set", () => {
    const t = unbundledTemplate({ stage: "prod", apiGatewayAccountRole: "true" });
    const accounts = Object.entries(t.findResources("AWS::ApiGateway::Account"));
    expect(accounts).toHaveLength(1);
    const [accountId, account] = accounts[0] as [string, CfnResource];
    expect(account.DeletionPolicy).toBe("Retain");
    const stage = wsStage(t) as CfnResource & { DependsOn?: string[] };
    expect(prop(stage, "AccessLogSettings")).toEqual({
      DestinationArn: { "Fn::GetAtt": [expect.any(String), "Arn"] },
      Format: expect.stringContaining('"connectionId":"$context.connectionId"'),
    });
    expect(stage.DependsOn).toContain(accountId);
  });

  it("writes access logs without creating the role when the account already has one", () => {
    const t = unbundledTemplate({ stage: "prod", webSocketAccessLogs: "true" });
    t.resourceCountIs("AWS::ApiGateway::Account", 0);
    expect(prop(wsStage(t), "AccessLogSettings")).toBeDefined();
  });
});

describe("HTTP API", () => {
  it("protects every HTTP_ROUTES route with the Cognito JWT authorizer and its entry", () => {
    const authorizers = Object.keys(
      template.findResources("AWS::ApiGatewayV2::Authorizer", {
        Properties: {
          AuthorizerType: "JWT",
          IdentitySource: ["$request.header.Authorization"],
          JwtConfiguration: {
            // The app client: matched against an access token's client_id claim.
            Audience: [{ Ref: only("AWS::Cognito::UserPoolClient")[0] }],
            Issuer: {
              "Fn::Join": ["", Match.arrayWith(["https://cognito-idp.", ".amazonaws.com/"])],
            },
          },
        },
      }),
    );
    expect(authorizers).toHaveLength(1);
    const httpRoutes = ofType("AWS::ApiGatewayV2::Route").filter(([, r]) =>
      /^[A-Z]+ \//.test(prop(r, "RouteKey")),
    );
    expect(httpRoutes.map(([, r]) => prop(r, "RouteKey")).sort()).toEqual(
      Object.keys(HTTP_ROUTES).sort(),
    );
    for (const [routeKey, entry] of Object.entries(HTTP_ROUTES)) {
      const [, route] = routeByKey(routeKey);
      expect(prop(route, "AuthorizationType"), routeKey).toBe("JWT");
      // Cognito's API-issued access tokens carry this scope; ID tokens have no scope claim.
      expect(prop(route, "AuthorizationScopes"), routeKey).toEqual([
        "aws.cognito.signin.user.admin",
      ]);
      expect(prop(route, "AuthorizerId"), routeKey).toEqual({ Ref: authorizers[0] });
      expect(prop(integrationOfRoute(route), "IntegrationUri"), routeKey).toEqual({
        "Fn::GetAtt": [functionId(entry), "Arn"],
      });
    }
  });

  it("deploys a throttled $default stage with access logs", () => {
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "$default",
      AutoDeploy: true,
      DefaultRouteSettings: Match.objectLike({
        ThrottlingRateLimit: 200,
        ThrottlingBurstLimit: 400,
      }),
      AccessLogSettings: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp("requestId"),
      },
    });
  });
});

describe("data at rest and in transit", () => {
  it("encrypts the location stream with a rotated customer key, on-demand, 24 h retention", () => {
    const keys = template.findResources("AWS::KMS::Key", {
      Properties: { EnableKeyRotation: true },
    });
    template.hasResourceProperties("AWS::Kinesis::Stream", {
      Name: `location-events-${STAGE}`,
      StreamEncryption: {
        EncryptionType: "KMS",
        KeyId: { "Fn::GetAtt": [Match.anyValue(), "Arn"] },
      },
      StreamModeDetails: { StreamMode: "ON_DEMAND" },
      RetentionPeriodHours: 24,
    });
    const [, stream] = only("AWS::Kinesis::Stream");
    const keyId = prop<{ KeyId: { "Fn::GetAtt": [string, string] } }>(stream, "StreamEncryption")
      .KeyId["Fn::GetAtt"][0];
    expect(Object.keys(keys)).toContain(keyId);
  });

  it("encrypts, recovers (but the expiring history) and (on dev) may destroy the five tables", () => {
    template.resourceCountIs("AWS::DynamoDB::Table", 5);
    const tableProps = {
      BillingMode: "PAY_PER_REQUEST",
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    };
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      ...tableProps,
      TableName: `${PREFIX}-users`,
      KeySchema: [{ AttributeName: "userId", KeyType: "HASH" }],
    });
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      ...tableProps,
      TableName: `${PREFIX}-friendships`,
      KeySchema: [
        { AttributeName: "userId", KeyType: "HASH" },
        { AttributeName: "friendId", KeyType: "RANGE" },
      ],
    });
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      ...tableProps,
      TableName: `${PREFIX}-blocks`,
      KeySchema: [
        { AttributeName: "userId", KeyType: "HASH" },
        { AttributeName: "otherId", KeyType: "RANGE" },
      ],
    });
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      ...tableProps,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
      TableName: `${PREFIX}-location-history`,
      KeySchema: [
        { AttributeName: "userId", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
    });
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      ...tableProps,
      TableName: `${PREFIX}-share-links`,
      KeySchema: [
        { AttributeName: "userId", KeyType: "HASH" },
        { AttributeName: "slot", KeyType: "RANGE" },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: "byTokenHash",
          KeySchema: [{ AttributeName: "tokenHash", KeyType: "HASH" }],
          Projection: { ProjectionType: "KEYS_ONLY" },
        },
      ],
      TimeToLiveSpecification: { AttributeName: "expiresAtS", Enabled: true },
      StreamSpecification: { StreamViewType: "NEW_IMAGE" },
    });
  });

  it("ends share links at their expiry: the table's stream, a pipe, a workflow waiting until expiresAtIso", () => {
    const [, pipe] = only("AWS::Pipes::Pipe");
    expect(rendered(prop(pipe, "Source"))).toMatch(/TablesShareLinks.*StreamArn/);
    expect(prop(pipe, "SourceParameters")).toMatchObject({
      FilterCriteria: {
        Filters: [{ Pattern: JSON.stringify({ eventName: ["INSERT", "MODIFY"] }) }],
      },
    });
    const [machineId, machine] = only("AWS::StepFunctions::StateMachine");
    expect(prop(pipe, "Target")).toEqual({ Ref: machineId });
    expect(prop(machine, "StateMachineType")).toBe("STANDARD");
    const definition = rendered(prop(machine, "DefinitionString"));
    expect(definition).toContain('"TimestampPath":"$.expiresAtIso"');
    expect(definition).toContain(functionId(SHARE_EXPIRY_ENTRY));
    // The pipe may start this workflow and read this stream, nothing else.
    const [pipeRoleId] = ofType("AWS::IAM::Role")
      .filter(([, r]) => JSON.stringify(prop(r, "AssumeRolePolicyDocument")).includes("pipes."))
      .map(([id]) => id);
    const statements = ofType("AWS::IAM::Policy")
      .filter(([, p]) => JSON.stringify(prop(p, "Roles")).includes(`"${pipeRoleId}"`))
      .flatMap(
        ([, p]) => prop<{ Statement: PolicyStatementJson[] }>(p, "PolicyDocument").Statement,
      );
    expect(statements.flatMap((s) => asArray(s.Action)).sort()).toEqual([
      "dynamodb:DescribeStream",
      "dynamodb:GetRecords",
      "dynamodb:GetShardIterator",
      "dynamodb:ListStreams",
      "states:StartExecution",
    ]);
  });

  it("runs the cache in cluster mode, Multi-AZ, encrypted in transit and at rest, with an AUTH token", () => {
    template.hasResourceProperties("AWS::ElastiCache::ReplicationGroup", {
      ReplicationGroupId: PREFIX,
      ClusterMode: "enabled",
      NumNodeGroups: 1,
      ReplicasPerNodeGroup: 1,
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
      TransitEncryptionEnabled: true,
      AtRestEncryptionEnabled: true,
      CacheParameterGroupName: Match.stringLikeRegexp("cluster\\.on$"),
      AuthToken: Match.objectLike({ "Fn::Join": Match.anyValue() }),
    });
    const token = JSON.stringify(prop(only("AWS::ElastiCache::ReplicationGroup")[1], "AuthToken"));
    expect(token).toContain("{{resolve:secretsmanager:");
    template.hasResourceProperties("AWS::SecretsManager::Secret", {
      GenerateSecretString: Match.objectLike({
        ExcludePunctuation: true,
        PasswordLength: 32,
        GenerateStringKey: "password",
      }),
    });
  });

  it("encrypts the dead-letter queues and refuses plain HTTP to them", () => {
    template.resourceCountIs("AWS::SQS::Queue", 2);
    for (const [, queue] of ofType("AWS::SQS::Queue"))
      expect(prop(queue, "SqsManagedSseEnabled")).toBe(true);
    const policies = ofType("AWS::SQS::QueuePolicy");
    expect(policies).toHaveLength(2);
    for (const [, policy] of policies) {
      expect(prop<{ Statement: unknown[] }>(policy, "PolicyDocument").Statement).toContainEqual(
        expect.objectContaining({
          Effect: "Deny",
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        }),
      );
    }
  });

  it("encrypts the alarm topic with a key CloudWatch may use for this stage's alarms only", () => {
    template.hasResourceProperties("AWS::SNS::Topic", {
      TopicName: `${PREFIX}-alarms`,
      KmsMasterKeyId: { "Fn::GetAtt": [Match.anyValue(), "Arn"] },
    });
    const keyId = prop<{ "Fn::GetAtt": [string, string] }>(
      only("AWS::SNS::Topic")[1],
      "KmsMasterKeyId",
    )["Fn::GetAtt"][0];
    const statements = prop<{ Statement: PolicyStatementJson[] }>(
      resource(keyId),
      "KeyPolicy",
    ).Statement;
    const forCloudWatch = statements.filter(
      (s) =>
        JSON.stringify(s.Principal) === JSON.stringify({ Service: "cloudwatch.amazonaws.com" }),
    );
    expect(forCloudWatch).toHaveLength(1);
    expect(forCloudWatch[0]).toMatchObject({
      Effect: "Allow",
      Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
    });
    expectThisStagesAlarms(forCloudWatch[0]?.Condition);
  });
});

describe("stream consumers", () => {
  const failureHandling = {
    StartingPosition: "LATEST",
    BisectBatchOnFunctionError: true,
    FunctionResponseTypes: ["ReportBatchItemFailures"],
    MaximumRetryAttempts: 5,
    MaximumRecordAgeInSeconds: Match.absent(),
    DestinationConfig: { OnFailure: { Destination: { "Fn::GetAtt": [Match.anyValue(), "Arn"] } } },
  };

  it("feeds the fan-out through the enhanced fan-out consumer, failing to a DLQ", () => {
    template.hasResourceProperties("AWS::Kinesis::StreamConsumer", {
      ConsumerName: `${PREFIX}-fanout`,
    });
    const [consumerId] = Object.keys(template.findResources("AWS::Kinesis::StreamConsumer"));
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      ...failureHandling,
      FunctionName: { Ref: functionId(STREAM_CONSUMERS.fanout) },
      EventSourceArn: { "Fn::GetAtt": [consumerId, "ConsumerARN"] },
      BatchSize: STREAM_CONSUMER_SETTINGS.fanout.batchSize,
      ParallelizationFactor: 1,
      MaximumBatchingWindowInSeconds: STREAM_CONSUMER_SETTINGS.fanout.maxBatchingWindowS,
    });
  });

  it("feeds the history writer from the shared-throughput stream, failing to a DLQ", () => {
    const [streamId] = Object.keys(template.findResources("AWS::Kinesis::Stream"));
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      ...failureHandling,
      FunctionName: { Ref: functionId(STREAM_CONSUMERS.history) },
      EventSourceArn: { "Fn::GetAtt": [streamId, "Arn"] },
      BatchSize: STREAM_CONSUMER_SETTINGS.history.batchSize,
      MaximumBatchingWindowInSeconds: STREAM_CONSUMER_SETTINGS.history.maxBatchingWindowS,
    });
  });

  it("never drops history for its age: retries, bisects and dead-letters a failing batch instead", () => {
    const historyRef = JSON.stringify({ Ref: functionId(STREAM_CONSUMERS.history) });
    const mappings = ofType("AWS::Lambda::EventSourceMapping").filter(
      ([, m]) => JSON.stringify(prop(m, "FunctionName")) === historyRef,
    );
    expect(mappings).toHaveLength(1);
    const [, mapping] = mappings[0] as [string, CfnResource];
    // Absent or -1: Lambda keeps retrying a record until the stream's own retention expires it.
    expect([undefined, -1]).toContain(prop(mapping, "MaximumRecordAgeInSeconds"));
    const retries = prop<number>(mapping, "MaximumRetryAttempts");
    // Finite, so that a poison batch ends in the DLQ instead of blocking its shard for 24 h.
    expect(retries).toBeGreaterThan(0);
    expect(prop(mapping, "BisectBatchOnFunctionError")).toBe(true);
    expect(prop(mapping, "FunctionResponseTypes")).toEqual(["ReportBatchItemFailures"]);
    const destination = prop<{ OnFailure: { Destination: { "Fn::GetAtt": [string, string] } } }>(
      mapping,
      "DestinationConfig",
    ).OnFailure.Destination["Fn::GetAtt"];
    expect(destination[1]).toBe("Arn");
    expect(resource(destination[0]).Type).toBe("AWS::SQS::Queue");
  });

  it("sends each consumer's failures to its own queue", () => {
    const destinations = ofType("AWS::Lambda::EventSourceMapping").map(([, m]) =>
      JSON.stringify(prop<{ OnFailure: unknown }>(m, "DestinationConfig").OnFailure),
    );
    expect(new Set(destinations).size).toBe(2);
    for (const [queueId] of ofType("AWS::SQS::Queue")) {
      expect(destinations.some((d) => d.includes(`"${queueId}"`))).toBe(true);
    }
  });
});

describe("user pool", () => {
  it("signs users up by email with a strong password policy and creates profiles on confirmation", () => {
    template.hasResourceProperties("AWS::Cognito::UserPool", {
      UserPoolName: PREFIX,
      UsernameAttributes: ["email"],
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: false },
      Policies: {
        PasswordPolicy: Match.objectLike({
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        }),
      },
      LambdaConfig: {
        PostConfirmation: { "Fn::GetAtt": [functionId("cognito-post-confirmation"), "Arn"] },
      },
    });
  });

  it("offers optional MFA by authenticator app (TOTP) only", () => {
    template.hasResourceProperties("AWS::Cognito::UserPool", {
      MfaConfiguration: "OPTIONAL",
      EnabledMfas: ["SOFTWARE_TOKEN_MFA"],
    });
  });

  it("has a public app client with SRP, admin-only password sign-in and refresh, nothing else", () => {
    const clients = ofType("AWS::Cognito::UserPoolClient");
    expect(clients).toHaveLength(1);
    const [, client] = clients[0] as [string, CfnResource];
    expect(prop(client, "GenerateSecret")).toBe(false);
    expect(prop<string[]>(client, "ExplicitAuthFlows").sort()).toEqual([
      "ALLOW_ADMIN_USER_PASSWORD_AUTH",
      "ALLOW_REFRESH_TOKEN_AUTH",
      "ALLOW_USER_SRP_AUTH",
    ]);
    expect(prop(client, "AllowedOAuthFlows")).toBeUndefined();
    expect(prop(client, "CallbackURLs")).toBeUndefined();
  });

  it("sends email through Cognito by default, through SES when a From address is configured", () => {
    template.hasResourceProperties("AWS::Cognito::UserPool", {
      EmailConfiguration: { EmailSendingAccount: "COGNITO_DEFAULT" },
    });
    const withSes = unbundledTemplate({
      stage: "prod",
      sesFromEmail: "no-reply@friends.example.com",
      sesVerifiedDomain: "friends.example.com",
    });
    const [pool] = Object.values(withSes.findResources("AWS::Cognito::UserPool")) as CfnResource[];
    const email = prop<{ EmailSendingAccount: string; From: string; SourceArn: unknown }>(
      pool as CfnResource,
      "EmailConfiguration",
    );
    expect(email.EmailSendingAccount).toBe("DEVELOPER");
    expect(email.From).toBe("no-reply@friends.example.com");
    expect(rendered(email.SourceArn)).toMatch(
      /:ses:\$\{AWS::Region\}:.*:identity\/friends\.example\.com$/,
    );
  });

  it("rejects an SES domain that is not the From address's", () => {
    const ctx = (values: Record<string, unknown>) => ({
      tryGetContext: (key: string) => values[key],
    });
    expect(() => stageConfigFromContext(ctx({ sesVerifiedDomain: "example.com" }))).toThrow(
      StageConfigError,
    );
    expect(() =>
      stageConfigFromContext(
        ctx({ sesFromEmail: "a@other.example", sesVerifiedDomain: "example.com" }),
      ),
    ).toThrow(/sesVerifiedDomain/);
  });
});

describe("monitoring", () => {
  const alarmOn = (metricName: string, dimensions: Record<string, unknown>) =>
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: metricName,
      Dimensions: Match.arrayWith(
        Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })),
      ),
      AlarmActions: [{ Ref: Match.anyValue() }],
    });

  it("lets CloudWatch publish to the alarm topic for this stage's alarms only, over TLS only", () => {
    const [topicId] = only("AWS::SNS::Topic");
    const [, policy] = only("AWS::SNS::TopicPolicy");
    expect(prop(policy, "Topics")).toEqual([{ Ref: topicId }]);
    const statements = prop<{ Statement: PolicyStatementJson[] }>(
      policy,
      "PolicyDocument",
    ).Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: "Deny",
        Principal: "*",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    );
    const allows = statements.filter((s) => s.Effect === "Allow");
    expect(allows).toHaveLength(1);
    const allow = allows[0] as PolicyStatementJson;
    expect(allow).toMatchObject({
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: "sns:Publish",
      Resource: { Ref: topicId },
    });
    expectThisStagesAlarms(allow.Condition);
    // The pattern admits every alarm of the stage: each one's name carries the prefix.
    const alarms = ofType("AWS::CloudWatch::Alarm");
    expect(alarms.length).toBeGreaterThan(0);
    for (const [id, alarm] of alarms) {
      expect(prop(alarm, "AlarmName"), id).toEqual(expect.stringMatching(`^${PREFIX}\\.`));
      expect(prop(alarm, "AlarmActions"), id).toEqual([{ Ref: topicId }]);
    }
  });

  it("alarms on failed or timed-out share-expiry workflow executions", () => {
    const alarms = ofType("AWS::CloudWatch::Alarm").filter(
      ([, a]) => prop(a, "AlarmName") === `${PREFIX}.share-expiry-workflow-failed`,
    );
    expect(alarms).toHaveLength(1);
    const metrics = JSON.stringify(prop((alarms[0] as [string, CfnResource])[1], "Metrics"));
    expect(metrics).toContain("ExecutionsFailed");
    expect(metrics).toContain("ExecutionsTimedOut");
  });

  it("alarms on errors and throttles of every function", () => {
    for (const entry of ENTRIES) {
      alarmOn("Errors", { FunctionName: { Ref: functionId(entry) } });
      alarmOn("Throttles", { FunctionName: { Ref: functionId(entry) } });
    }
  });

  it("alarms on the iterator age of both consumers and on dead-lettered batches", () => {
    alarmOn("IteratorAge", { FunctionName: { Ref: functionId(STREAM_CONSUMERS.fanout) } });
    alarmOn("IteratorAge", { FunctionName: { Ref: functionId(STREAM_CONSUMERS.history) } });
    for (const [queueId] of ofType("AWS::SQS::Queue")) {
      template.hasResourceProperties("AWS::CloudWatch::Alarm", {
        MetricName: "ApproximateNumberOfMessagesVisible",
        Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [queueId, "QueueName"] } }],
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        Threshold: 1,
      });
    }
  });

  it("alarms on API server errors and on cache CPU and memory of every node", () => {
    alarmOn("ExecutionError", { Stage: STAGE });
    alarmOn("IntegrationError", { Stage: STAGE });
    alarmOn("5xx", {});
    for (const node of [`${PREFIX}-0001-001`, `${PREFIX}-0001-002`]) {
      alarmOn("EngineCPUUtilization", { CacheClusterId: node });
      alarmOn("DatabaseMemoryUsagePercentage", { CacheClusterId: node });
    }
    template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
  });

  /** The one alarm on an application metric, checked for the namespace, exact dimensions and action. */
  function appAlarm(metricName: string, extraDims: Record<string, string> = {}) {
    const found = Object.values(
      template.findResources("AWS::CloudWatch::Alarm", {
        Properties: { Namespace: METRICS_NAMESPACE, MetricName: metricName },
      }),
    ) as CfnResource[];
    expect(found, metricName).toHaveLength(1);
    const alarm = found[0] as CfnResource;
    const dimensions = prop<{ Name: string; Value: unknown }[]>(alarm, "Dimensions");
    expect(Object.fromEntries(dimensions.map((d) => [d.Name, d.Value])), metricName).toEqual({
      service: SERVICE_NAME,
      stage: STAGE,
      ...extraDims,
    });
    const [topicId] = only("AWS::SNS::Topic");
    expect(alarm.Properties, metricName).toMatchObject({
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      TreatMissingData: "notBreaching",
      AlarmActions: [{ Ref: topicId }],
    });
    return alarm.Properties;
  }

  it("alarms on a fan-out lag p99 of 5 s, three minutes running", () => {
    expect(appAlarm("FanoutLagMs")).toMatchObject({
      ExtendedStatistic: "p99",
      Period: 60,
      EvaluationPeriods: 3,
      Threshold: 5000,
    });
  });

  it("alarms on failed records, gone connections and `unavailable` replies per 5 minutes", () => {
    const per5Minutes = { Statistic: "Sum", Period: 300, EvaluationPeriods: 1 };
    expect(appAlarm("FailedRecords")).toMatchObject({ ...per5Minutes, Threshold: 10 });
    expect(appAlarm("GoneConnections")).toMatchObject({ ...per5Minutes, Threshold: 1000 });
    expect(appAlarm("ClientErrors", { code: "unavailable" })).toMatchObject({
      ...per5Minutes,
      Threshold: 20,
    });
  });

  it("graphs every application metric, the coalescing factor and client errors by code", () => {
    // A metric line is [namespace, name, dim, value, ..., options]; an expression line is [options].
    const lines = dashboardWidgets().flatMap((w) => w.properties.metrics ?? []);
    const optionsOf = (line: unknown[]) =>
      (line.at(-1) ?? {}) as { id?: string; expression?: string };
    // ClientErrors is graphed per code, by the SEARCH below.
    for (const name of Object.keys(APP_METRICS).filter((n) => n !== "ClientErrors")) {
      const line = lines.find((l) => l[0] === METRICS_NAMESPACE && l[1] === name);
      expect(line, name).toBeDefined();
      const dims = (line ?? []).slice(2).filter((d) => typeof d === "string");
      expect(dims, name).toEqual(["service", SERVICE_NAME, "stage", STAGE]);
    }
    const expressions = lines.flatMap((l) => optionsOf(l).expression ?? []);
    // The coalescing factor: friend updates per push, over the ids the lines were given.
    const idOf = (name: string): string | undefined =>
      lines
        .filter((l) => l[1] === name)
        .map(optionsOf)
        .find((o) => o.id !== undefined)?.id;
    expect(expressions).toContain(`${idOf("FanoutFriendUpdates")} / ${idOf("FanoutPushes")}`);
    expect(expressions).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^SEARCH\\('\\{${METRICS_NAMESPACE},code,service,stage\\} MetricName="ClientErrors" service="${SERVICE_NAME}" stage="${STAGE}"'`,
        ),
      ),
    );
  });
});

describe("stack", () => {
  it("exports the client configuration", () => {
    for (const name of ["WebSocketUrl", "HttpApiUrl", "UserPoolId", "UserPoolClientId", "Region"]) {
      template.hasOutput(name, { Value: Match.anyValue() });
    }
  });

  it("derives every physical name from the stage", () => {
    const nameProps: Record<string, string> = {
      "AWS::Lambda::Function": "FunctionName",
      "AWS::DynamoDB::Table": "TableName",
      "AWS::SQS::Queue": "QueueName",
      "AWS::SNS::Topic": "TopicName",
      "AWS::Kinesis::Stream": "Name",
      "AWS::Cognito::UserPool": "UserPoolName",
      "AWS::ElastiCache::ReplicationGroup": "ReplicationGroupId",
      "AWS::ApiGatewayV2::Api": "Name",
      "AWS::Logs::LogGroup": "LogGroupName",
      "AWS::CloudWatch::Alarm": "AlarmName",
      "AWS::SecretsManager::Secret": "Name",
    };
    for (const [type, nameProp] of Object.entries(nameProps)) {
      for (const [id, resource] of ofType(type)) {
        const name = prop(resource, nameProp);
        // The VPC's default-security-group custom resource is CDK's own and unnamed.
        if (name === undefined && type === "AWS::Lambda::Function") continue;
        expect(JSON.stringify(name), `${type} ${id}`).toMatch(new RegExp(`-${STAGE}\\b`));
      }
    }
  });

  it("has nothing cdk-nag's AwsSolutions pack reports without an acknowledged reason", () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    const findings = report.violations.map(
      (v) =>
        `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(", ")}`,
    );
    expect(findings).toEqual([]);
  });

  it("stays cdk-nag clean with every option on (account role, access logs, SES, shards)", () => {
    const dir = mkdtempSync(join(tmpdir(), "nearby-friends-cdk-nag-"));
    try {
      const { stack: full } = synthStack(
        {
          stage: "prod",
          shards: "2",
          apiGatewayAccountRole: "true",
          alarmEmail: "ops@example.com",
          sesFromEmail: "no-reply@friends.example.com",
          "aws:cdk:bundling-stacks": [],
        },
        dir,
      );
      const report = new AwsSolutionsChecks().validateScope(full);
      expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.length}`)).toEqual(
        [],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives a reason for every acknowledged cdk-nag rule", () => {
    const acknowledged = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata)
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, unknown>));
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const [rule, reason] of acknowledged) {
      expect(typeof reason, rule).toBe("string");
      // A sentence that says why, not a placeholder.
      expect(String(reason).split(" ").length, `${rule}: ${String(reason)}`).toBeGreaterThanOrEqual(
        8,
      );
    }
  });
});

/** A stage's template, synthesized without bundling (for configuration checks only). */
function unbundledTemplate(context: Record<string, unknown>): Template {
  const dir = mkdtempSync(join(tmpdir(), "nearby-friends-cdk-config-"));
  try {
    const { stack: other } = synthStack({ ...context, "aws:cdk:bundling-stacks": [] }, dir);
    return Template.fromStack(other);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The logical ids of the KMS keys a resource's properties refer to (by Ref or Fn::GetAtt). */
function keysReferencedBy(all: Record<string, CfnResource>, r: CfnResource): string[] {
  const ids = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === "object") {
      const v = value as { Ref?: unknown; "Fn::GetAtt"?: unknown };
      const target = typeof v.Ref === "string" ? v.Ref : asArray(v["Fn::GetAtt"] ?? [])[0];
      if (typeof target === "string" && all[target]?.Type === "AWS::KMS::Key") ids.add(target);
      Object.values(value).forEach(walk);
    }
  };
  walk(r.Properties);
  return [...ids];
}

describe("removal policies", () => {
  // A policy that names a key grants its use; it is not encrypted with it.
  const permissionTypes = /^AWS::(IAM|KMS)::/;
  const policyOf = (r: CfnResource, attribute: "DeletionPolicy" | "UpdateReplacePolicy") =>
    (r as CfnResource & { UpdateReplacePolicy?: string })[attribute] ?? "Delete";

  const cases: [string, Record<string, unknown>, string][] = [
    ["dev", { stage: "dev" }, "Delete"],
    ["prod", { stage: "prod" }, "Retain"],
  ];
  it.each(cases)(
    "keeps or destroys every encrypted resource together with its KMS key (%s)",
    (_name, context, expected) => {
      const all = unbundledTemplate(context).toJSON().Resources as Record<string, CfnResource>;
      const pairs = Object.entries(all)
        .filter(([, r]) => !permissionTypes.test(r.Type))
        .flatMap(([id, r]) => keysReferencedBy(all, r).map((keyId) => [id, r, keyId] as const));
      // The stream and the alarm topic at least: the walk must find what it is meant to check.
      const types = pairs.map(([, r]) => r.Type);
      expect(types).toContain("AWS::Kinesis::Stream");
      expect(types).toContain("AWS::SNS::Topic");
      for (const [id, r, keyId] of pairs) {
        const key = all[keyId] as CfnResource;
        for (const attribute of ["DeletionPolicy", "UpdateReplacePolicy"] as const) {
          expect(policyOf(key, attribute), `${attribute} of ${keyId}, the key of ${id}`).toBe(
            policyOf(r, attribute),
          );
        }
      }
      // The stream follows the stage's data setting.
      const [, stream] =
        Object.entries(all).find(([, r]) => r.Type === "AWS::Kinesis::Stream") ?? [];
      expect(stream?.DeletionPolicy).toBe(expected);
    },
  );
});

describe("stage configuration", () => {
  it("retains data, provisions shards and scales the cache outside dev", () => {
    const dir = mkdtempSync(join(tmpdir(), "nearby-friends-cdk-prod-"));
    try {
      const { stack: prod } = synthStack(
        // Skip bundling: this synthesis only checks configuration.
        {
          stage: "prod",
          shards: "4",
          numNodeGroups: "2",
          parallelizationFactor: "3",
          [TUNABLES.postConcurrency.context]: "64",
          "aws:cdk:bundling-stacks": [],
        },
        dir,
      );
      const t = Template.fromStack(prod);
      t.hasResourceProperties("AWS::Kinesis::Stream", {
        ShardCount: 4,
        StreamModeDetails: { StreamMode: "PROVISIONED" },
      });
      t.hasResourceProperties("AWS::ElastiCache::ReplicationGroup", { NumNodeGroups: 2 });
      t.hasResourceProperties("AWS::Lambda::EventSourceMapping", { ParallelizationFactor: 3 });
      for (const table of Object.values(t.findResources("AWS::DynamoDB::Table"))) {
        expect(table.DeletionPolicy).toBe("Retain");
        expect(table.Properties.DeletionProtectionEnabled).toBe(true);
      }
      t.hasResource("AWS::Cognito::UserPool", { DeletionPolicy: "Retain" });
      t.hasResourceProperties("AWS::Lambda::Function", {
        FunctionName: `nearby-friends-prod-${STREAM_CONSUMERS.fanout}`,
        Environment: {
          Variables: Match.objectLike({ [TUNABLES.postConcurrency.env]: "64", STAGE: "prod" }),
        },
      });
      t.hasResourceProperties("AWS::CloudWatch::Alarm", {
        Dimensions: [{ Name: "CacheClusterId", Value: "nearby-friends-prod-0002-002" }],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects a stage name that cannot name resources, and malformed numbers", () => {
    const ctx = (values: Record<string, unknown>) => ({
      tryGetContext: (key: string) => values[key],
    });
    expect(() => stageConfigFromContext(ctx({ stage: "Prod_1" }))).toThrow(StageConfigError);
    expect(() => stageConfigFromContext(ctx({ stage: "a-" }))).toThrow(StageConfigError);
    expect(() => stageConfigFromContext(ctx({ stage: "x".repeat(17) }))).toThrow(StageConfigError);
    expect(() => stageConfigFromContext(ctx({ radiusM: "far" }))).toThrow(
      /^context radiusM must be a number >= 1 \(.+\), got "far"$/,
    );
    expect(() => stageConfigFromContext(ctx({ leaveMarginM: -1 }))).toThrow(
      /context leaveMarginM must be a number >= 0/,
    );
    expect(() => stageConfigFromContext(ctx({ heartbeatS: "1.5" }))).toThrow(
      /context heartbeatS must be an integer >= 0/,
    );
    expect(() => stageConfigFromContext(ctx({ shards: "1.5" }))).toThrow(/context shards/);
    expect(() => stageConfigFromContext(ctx({ natGateways: 3 }))).toThrow(
      /context natGateways must be an integer in \[1, 2\], got "3"/,
    );
    expect(stageConfigFromContext(ctx({})).stage).toBe("dev");
  });

  it("reads every tunable from its context key, defaulting to the functions' default", () => {
    const ctx = (values: Record<string, unknown>) => ({
      tryGetContext: (key: string) => values[key],
    });
    expect(stageConfigFromContext(ctx({})).tunables).toEqual(DEFAULT_TUNABLES);
    for (const [name, spec] of Object.entries(TUNABLES)) {
      const value = spec.min + 7;
      const tunables = stageConfigFromContext(ctx({ [spec.context]: String(value) })).tunables;
      expect(tunables, name).toEqual({ ...DEFAULT_TUNABLES, [name]: value });
    }
  });
});
