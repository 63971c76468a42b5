// The one Lambda construct of the project: Node 22 on ARM64, ESM bundled by the local esbuild with
// source maps, X-Ray tracing and its own retained log group. Entries are `functions/<name>.ts`.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import { type ISecurityGroup, type IVpc, SubnetType } from "aws-cdk-lib/aws-ec2";
import { Architecture, Runtime, Tracing } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import type { EntryName } from "../../functions/routes.ts";

/** The Cognito trigger is not an API route, so routes.ts does not list it. */
export const POST_CONFIRMATION_ENTRY = "cognito-post-confirmation";

export type HouseEntry = EntryName | typeof POST_CONFIRMATION_ENTRY;

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

const entryPath = (entry: HouseEntry): string => join(REPO_ROOT, "functions", `${entry}.ts`);

/** A function placed in the VPC, in private subnets, behind the given security groups. */
export interface FunctionNetwork {
  readonly vpc: IVpc;
  readonly securityGroups: ISecurityGroup[];
}

export interface HouseFunctionProps {
  readonly entry: HouseEntry;
  /** `nearby-friends-<stage>`: the function is named `<namePrefix>-<entry>`. */
  readonly namePrefix: string;
  readonly description: string;
  readonly memorySize?: number;
  readonly timeout?: Duration;
  readonly network?: FunctionNetwork;
  /** Keep the log group when the stack is deleted (every stage but dev). */
  readonly retainLogs: boolean;
  readonly logRetention?: RetentionDays;
}

export class HouseFunction extends NodejsFunction {
  readonly entryName: HouseEntry;

  constructor(scope: Construct, id: string, props: HouseFunctionProps) {
    const functionName = `${props.namePrefix}-${props.entry}`;
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
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
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      logGroup,
      environment: { NODE_OPTIONS: "--enable-source-maps" },
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
      {
        id: "AwsSolutions-IAM5[Resource::*]",
        reason:
          "Active tracing grants xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions (the stack's tests check that no other action is granted on *).",
      },
    );
    if (props.network) {
      Validations.of(this).acknowledge({
        id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
        reason:
          "The AWS-managed VPC access policy holds the ENI actions Lambda needs to attach the function to the VPC; those EC2 actions support no resource-level scoping.",
      });
    }
  }
}
