// Assertion tests of the house Lambda construct on a bare stack: tracing as a setting (with its
// X-Ray grant and cdk-nag acknowledgement only when on), the log format and levels, and the
// environment Powertools reads.
import { App, Stack, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { HouseFunction, type HouseFunctionProps } from "../../lib/constructs/house-function.ts";

function houseFunction(props: Partial<HouseFunctionProps> = {}): {
  fn: HouseFunction;
  template: Template;
} {
  // Bundling is not under test here: skip it.
  const stack = new Stack(new App({ context: { "aws:cdk:bundling-stacks": [] } }), "Test");
  const fn = new HouseFunction(stack, "Ping", {
    entry: "ws-ping",
    namePrefix: "nearby-friends-qa",
    stage: "qa",
    description: "test",
    retainLogs: false,
    ...props,
  });
  return { fn, template: Template.fromStack(stack) };
}

/** The rule ids acknowledged on the function (as cdk-nag reads them). */
const acknowledged = (fn: HouseFunction): string[] =>
  fn.node.metadata
    .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((m) => Object.keys(m.data as Record<string, string>));

const XRAY_ACK = /AwsSolutions-IAM5\[Resource::\*\]/;

describe("HouseFunction", () => {
  it("sets the Powertools environment, the stage and INFO logs by default", () => {
    const { template } = houseFunction();
    template.hasResourceProperties("AWS::Lambda::Function", {
      FunctionName: "nearby-friends-qa-ws-ping",
      Environment: {
        Variables: {
          NODE_OPTIONS: "--enable-source-maps",
          POWERTOOLS_SERVICE_NAME: "nearby-friends",
          POWERTOOLS_METRICS_NAMESPACE: "NearbyFriends",
          POWERTOOLS_LOG_LEVEL: "INFO",
          POWERTOOLS_TRACE_ENABLED: "true",
          POWERTOOLS_TRACER_CAPTURE_RESPONSE: "false",
          STAGE: "qa",
        },
      },
    });
  });

  it("takes the log level as a setting", () => {
    const { template } = houseFunction({ logLevel: "DEBUG" });
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_LOG_LEVEL: "DEBUG" }) },
    });
  });

  it("leaves Lambda's logs in text format by default, with no log-level filtering", () => {
    const { template } = houseFunction();
    template.hasResourceProperties("AWS::Lambda::Function", {
      LoggingConfig: {
        LogGroup: Match.anyValue(),
        LogFormat: Match.absent(),
        ApplicationLogLevel: Match.absent(),
        SystemLogLevel: Match.absent(),
      },
    });
  });

  it("with JSON logs, filters the application at its log level and Lambda's lines at theirs", () => {
    const { template } = houseFunction({
      logFormat: "JSON",
      logLevel: "DEBUG",
      systemLogLevel: "WARN",
    });
    template.hasResourceProperties("AWS::Lambda::Function", {
      LoggingConfig: {
        LogGroup: Match.anyValue(),
        LogFormat: "JSON",
        ApplicationLogLevel: "DEBUG",
        SystemLogLevel: "WARN",
      },
      Environment: { Variables: Match.objectLike({ POWERTOOLS_LOG_LEVEL: "DEBUG" }) },
    });
    houseFunction({ logFormat: "JSON" }).template.hasResourceProperties("AWS::Lambda::Function", {
      LoggingConfig: Match.objectLike({ ApplicationLogLevel: "INFO", SystemLogLevel: "INFO" }),
    });
  });

  it("traces actively by default, with X-Ray's grant and its acknowledgement", () => {
    const { fn, template } = houseFunction();
    template.hasResourceProperties("AWS::Lambda::Function", {
      TracingConfig: { Mode: "Active" },
    });
    template.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            Resource: "*",
          }),
        ]),
      },
    });
    expect(acknowledged(fn)).toContainEqual(expect.stringMatching(XRAY_ACK));
  });

  it("without tracing, has no TracingConfig, no X-Ray grant and nothing to acknowledge about it", () => {
    const { fn, template } = houseFunction({ tracing: false });
    template.hasResourceProperties("AWS::Lambda::Function", {
      TracingConfig: Match.absent(),
      Environment: { Variables: Match.objectLike({ POWERTOOLS_TRACE_ENABLED: "false" }) },
    });
    // Nothing else grants the bare function anything: no policy at all.
    template.resourceCountIs("AWS::IAM::Policy", 0);
    expect(fn.tracing).toBe(false);
    expect(acknowledged(fn)).not.toContainEqual(expect.stringMatching(XRAY_ACK));
    expect(acknowledged(fn)).toContainEqual(expect.stringMatching(/AwsSolutions-L1/));
  });
});
