// The one Lambda construct of the project: Node 22 on ARM64, ESM bundled by the local esbuild with
// source maps, its own retained log group, X-Ray tracing as a setting, and the environment that
// Powertools' logger, metrics and tracer read. Entries are `functions/<name>.ts`.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Duration, Validations } from "aws-cdk-lib";
import { type ISecurityGroup, type IVpc, SubnetType } from "aws-cdk-lib/aws-ec2";
import {
  ApplicationLogLevel,
  Architecture,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
  Tracing,
} from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { METRICS_NAMESPACE, SERVICE_NAME } from "../../functions/metric-names.ts";
import type { EntryName } from "../../functions/routes.ts";
import type { AppLogLevel, LogFormat, SystemLogLevel as SystemLevel } from "../profiles.ts";
import { removalPolicyFor } from "../retention.ts";

/** The Cognito trigger is not an API route, so routes.ts does not list it. */
export const POST_CONFIRMATION_ENTRY = "cognito-post-confirmation";

export type HouseEntry = EntryName | typeof POST_CONFIRMATION_ENTRY;

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

const entryPath = (entry: HouseEntry): string => join(REPO_ROOT, "functions", `${entry}.ts`);

/** Memory of a function whose needs name none (MB). */
export const DEFAULT_MEMORY_SIZE = 256;

/** A function placed in the VPC, in private subnets, behind the given security groups. */
export interface FunctionNetwork {
  readonly vpc: IVpc;
  readonly securityGroups: ISecurityGroup[];
}

export interface HouseFunctionProps {
  readonly entry: HouseEntry;
  /** `nearby-friends-<stage>`: the function is named `<namePrefix>-<entry>`. */
  readonly namePrefix: string;
  /** The stage (cell): the `stage` dimension of every metric the function emits (env `STAGE`). */
  readonly stage: string;
  readonly description: string;
  readonly memorySize?: number;
  readonly timeout?: Duration;
  readonly network?: FunctionNetwork;
  /** Keep the log group when the stack is deleted (every stage but dev). */
  readonly retainLogs: boolean;
  readonly logRetention?: RetentionDays;
  /**
   * X-Ray: active tracing with its IAM grant, and Powertools' tracer enabled. Turn it off on hot
   * paths, where a trace per invocation costs more than the invocation.
   * @default true
   */
  readonly tracing?: boolean;
  /**
   * The level below which Powertools' logger drops entries; with JSON logs, Lambda's application
   * log level too (Powertools then follows Lambda's).
   * @default "INFO"
   */
  readonly logLevel?: AppLogLevel;
  /**
   * Lambda's log format. Powertools writes JSON lines either way; JSON also turns Lambda's own
   * lines into JSON events and enables Lambda's log-level filtering.
   * @default "Text"
   */
  readonly logFormat?: LogFormat;
  /**
   * With JSON logs, the level of Lambda's own lines kept: WARN drops START and REPORT, two lines
   * per invocation.
   * @default "INFO"
   */
  readonly systemLogLevel?: SystemLevel;
}

export class HouseFunction extends NodejsFunction {
  readonly entryName: HouseEntry;
  /** Whether X-Ray traces this function (the `tracing` prop). */
  readonly tracing: boolean;

  constructor(scope: Construct, id: string, props: HouseFunctionProps) {
    const functionName = `${props.namePrefix}-${props.entry}`;
    const tracing = props.tracing ?? true;
    const logLevel = props.logLevel ?? "INFO";
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: removalPolicyFor(props.retainLogs),
    });
    super(scope, id, {
      functionName,
      description: props.description,
      entry: entryPath(props.entry),
      handler: "handler",
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, "package-lock.json"),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? DEFAULT_MEMORY_SIZE,
      timeout: props.timeout ?? Duration.seconds(10),
      // DISABLED leaves TracingConfig out of the template, and with it CDK's X-Ray grant.
      tracing: tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      logGroup,
      ...(props.logFormat === "JSON"
        ? {
            loggingFormat: LoggingFormat.JSON,
            applicationLogLevelV2: ApplicationLogLevel[logLevel],
            systemLogLevelV2: SystemLogLevel[props.systemLogLevel ?? "INFO"],
          }
        : {}),
      environment: {
        NODE_OPTIONS: "--enable-source-maps",
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: logLevel,
        POWERTOOLS_TRACE_ENABLED: String(tracing),
        // Replies and pushes carry users' positions: they must never be copied into traces.
        POWERTOOLS_TRACER_CAPTURE_RESPONSE: "false",
        STAGE: props.stage,
      },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: "node22",
        mainFields: ["module", "main"],
        // ESM bundles get a `require` for the CommonJS dependencies (ioredis among them) that call it.
        banner:
          "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
        sourceMap: true,
        minify: true,
        // Class and function names stay readable in error names and stack frames.
        keepNames: true,
        // Bundle the SDK versions the code is tested with rather than the runtime's built-in ones.
        externalModules: [],
      },
      ...(props.network
        ? {
            vpc: props.network.vpc,
            vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
            securityGroups: props.network.securityGroups,
          }
        : {}),
    });
    this.entryName = props.entry;
    this.tracing = tracing;

    Validations.of(this).acknowledge(
      {
        id: "AwsSolutions-L1",
        reason:
          "Node.js 22 (LTS, supported by Lambda into 2027) is the runtime the code is built and tested for (esbuild target node22); a runtime upgrade is a tested change of its own.",
      },
      {
        id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        reason:
          "The AWS-managed basic execution policy only lets the function write its own CloudWatch logs.",
      },
    );
    if (tracing) {
      Validations.of(this).acknowledge({
        id: "AwsSolutions-IAM5[Resource::*]",
        reason:
          "Active tracing grants xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions (the stack's tests check that no other action is granted on *).",
      });
    }
    if (props.network) {
      Validations.of(this).acknowledge({
        id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
        reason:
          "The AWS-managed VPC access policy holds the ENI actions Lambda needs to attach the function to the VPC; those EC2 actions support no resource-level scoping.",
      });
    }
  }
}
