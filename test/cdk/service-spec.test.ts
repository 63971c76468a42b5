// Validates every synthesized resource against the CloudFormation resource specification that CDK
// itself is generated from (@aws-cdk/aws-service-spec): the type exists, every property it sets is
// a property of that type (nested property types too), required properties are present, and a
// value has the shape its type asks for. A misspelt property override or escape hatch passes
// `cdk synth` and fails only at deployment; here it fails the test, naming resource and property.
import { readFileSync } from "node:fs";
import { loadAwsServiceSpec } from "@aws-cdk/aws-service-spec";
import type { PropertyType, ResourceProperties, SpecDatabase } from "@aws-cdk/service-spec-types";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { stageConfigFromContext } from "../../lib/config.ts";
import { NearbyFriendsStack } from "../../lib/nearby-friends-stack.ts";

interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
}

const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as {
    context: Record<string, unknown>;
  }
).context;

/** The resources of a stage's template (bundling skipped: code assets are not under test). */
function resourcesOf(context: Record<string, unknown>): Record<string, CfnResource> {
  const app = new App({
    context: { ...CDK_JSON_CONTEXT, ...context, "aws:cdk:bundling-stacks": [] },
  });
  const stack = new NearbyFriendsStack(app, "NearbyFriends-spec", {
    config: stageConfigFromContext(app.node),
  });
  return Template.fromStack(stack).toJSON().Resources as Record<string, CfnResource>;
}

/** `{ Ref }`, `{ Fn::* }`: resolved at deployment, so its shape is not checked here. */
function isIntrinsic(value: unknown): boolean {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  const [key] = keys;
  return keys.length === 1 && key !== undefined && (key === "Ref" || key.startsWith("Fn::"));
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/** Everything wrong with a resource's properties, each naming the property's path. */
function problems(db: SpecDatabase, type: string, properties: Record<string, unknown>): string[] {
  const found = db.lookup("resource", "cloudFormationType", "equals", type);
  const spec = found[0];
  if (found.length !== 1 || !spec) return [`unknown resource type ${type}`];
  return objectProblems(db, spec.properties, properties, "");
}

function objectProblems(
  db: SpecDatabase,
  spec: ResourceProperties,
  value: Record<string, unknown>,
  path: string,
): string[] {
  const out: string[] = [];
  for (const [name, property] of Object.entries(spec)) {
    if (property.required && !(name in value)) {
      out.push(`missing required property ${path}${name}`);
    }
  }
  for (const [name, v] of Object.entries(value)) {
    const property = spec[name];
    if (!property) out.push(`unknown property ${path}${name}`);
    else out.push(...valueProblems(db, property.type, v, `${path}${name}`));
  }
  return out;
}

/** Problems of a value against one type ([] when it fits). */
function valueProblems(
  db: SpecDatabase,
  type: PropertyType,
  value: unknown,
  path: string,
): string[] {
  if (isIntrinsic(value)) return [];
  const shape = (ok: boolean, expected: string): string[] =>
    ok ? [] : [`${path}: expected ${expected}, got ${JSON.stringify(value)}`];
  switch (type.type) {
    case "json":
      return [];
    case "string":
    case "date-time":
      // CloudFormation turns scalars into strings.
      return shape(["string", "number", "boolean"].includes(typeof value), "a string");
    case "number":
    case "integer":
      return shape(
        typeof value === "number" ||
          (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))),
        type.type === "integer" ? "an integer" : "a number",
      );
    case "boolean":
      return shape(
        typeof value === "boolean" || value === "true" || value === "false",
        "a boolean",
      );
    case "null":
      return shape(value === null, "null");
    case "tag":
      return isObject(value)
        ? objectProblems(
            db,
            {
              Key: { type: { type: "string" }, required: true },
              Value: { type: { type: "string" }, required: true },
            },
            value,
            `${path}.`,
          )
        : shape(false, "a tag");
    case "array":
      return Array.isArray(value)
        ? value.flatMap((element, i) => valueProblems(db, type.element, element, `${path}[${i}]`))
        : shape(false, "a list");
    case "map":
      return isObject(value)
        ? Object.entries(value).flatMap(([k, v]) =>
            valueProblems(db, type.element, v, `${path}.${k}`),
          )
        : shape(false, "a map");
    case "ref": {
      const definition = db.get("typeDefinition", type.reference);
      return isObject(value)
        ? objectProblems(db, definition.properties, value, `${path}.`)
        : shape(false, `a ${definition.name}`);
    }
    case "union": {
      // Fits when one of the alternatives fits; otherwise report the closest (fewest problems).
      const attempts = type.types.map((t) => valueProblems(db, t, value, path));
      if (attempts.some((a) => a.length === 0)) return [];
      return attempts.reduce((best, a) => (a.length < best.length ? a : best));
    }
  }
}

let db: SpecDatabase;

beforeAll(async () => {
  db = await loadAwsServiceSpec();
});

describe("CloudFormation resource specification", () => {
  // The default stage, and one with every optional feature on, so that each resource's optional
  // shape is checked too.
  const stages: [string, Record<string, unknown>][] = [
    ["defaults", { stage: "test" }],
    [
      "every option",
      {
        stage: "prod",
        shards: "4",
        apiGatewayAccountRole: "true",
        alarmEmail: "ops@example.com",
        sesFromEmail: "no-reply@friends.example.com",
        sesVerifiedDomain: "friends.example.com",
      },
    ],
  ];

  it.each(stages)(
    "has every resource type, property and required property right (%s)",
    (_name, context) => {
      const resources = resourcesOf(context);
      const types = new Set(Object.values(resources).map((r) => r.Type));
      expect(types.size).toBeGreaterThan(20);
      const failures = Object.entries(resources).flatMap(([id, r]) => {
        // A custom resource's properties are its provider's input: only ServiceToken is CloudFormation's.
        if (r.Type.startsWith("Custom::") || r.Type === "AWS::CloudFormation::CustomResource") {
          return r.Properties?.ServiceToken === undefined ? [`${id}: no ServiceToken`] : [];
        }
        return problems(db, r.Type, r.Properties ?? {}).map((p) => `${id} (${r.Type}): ${p}`);
      });
      expect(failures).toEqual([]);
    },
  );

  it("catches an unknown property, a missing required one and a wrong shape", () => {
    expect(problems(db, "AWS::Kinesis::Stream", { RetentionPeriodHour: 24 })).toEqual([
      "unknown property RetentionPeriodHour",
    ]);
    expect(problems(db, "AWS::Lambda::Permission", { FunctionName: "f", Principal: "x" })).toEqual([
      "missing required property Action",
    ]);
    expect(
      problems(db, "AWS::Kinesis::Stream", { StreamEncryption: { EncryptionType: "KMS" } }),
    ).toEqual(["missing required property StreamEncryption.KeyId"]);
    expect(problems(db, "AWS::SQS::Queue", { MessageRetentionPeriod: { seconds: 60 } })).toEqual([
      'MessageRetentionPeriod: expected an integer, got {"seconds":60}',
    ]);
    expect(problems(db, "AWS::Nope::Thing", {})).toEqual([
      "unknown resource type AWS::Nope::Thing",
    ]);
  });
});
