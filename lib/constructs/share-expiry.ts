// The expiry of live share links, within about a second (docs/ARCHITECTURE.md, "Share links"): the
// share-links table's stream feeds an EventBridge pipe that starts a Step Functions (standard)
// workflow per link written; the workflow waits until the link's `expiresAtIso` and invokes the
// share-expiry function, which sends the link's viewers `shareEnded` and closes them. EventBridge
// Scheduler's one-time schedules fire within a minute, not a second; a Wait state resumes at its
// timestamp. No function calls Step Functions: storing the link is all it takes.

import type { CfnElement } from "aws-cdk-lib";
import { ArnFormat, Duration, Stack, Validations } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { CfnPipe } from "aws-cdk-lib/aws-pipes";
import {
  DefinitionBody,
  JsonPath,
  LogLevel,
  StateMachine,
  StateMachineType,
  TaskInput,
  Wait,
  WaitTime,
} from "aws-cdk-lib/aws-stepfunctions";
import { LambdaInvoke } from "aws-cdk-lib/aws-stepfunctions-tasks";
import { Construct } from "constructs";
import { removalPolicyFor } from "../retention.ts";

export interface ShareExpiryProps {
  readonly namePrefix: string;
  /** The share-links table, with its stream (NEW_IMAGE). */
  readonly table: ITable;
  /** The function that ends a link's viewers (functions/share-expiry.ts). */
  readonly expire: IFunction;
  readonly retainLogs: boolean;
}

/** The stream reads of a pipe's DynamoDB source. */
export const STREAM_SOURCE_ACTIONS = [
  "dynamodb:DescribeStream",
  "dynamodb:GetRecords",
  "dynamodb:GetShardIterator",
  "dynamodb:ListStreams",
] as const;

export class ShareExpiry extends Construct {
  readonly stateMachine: StateMachine;
  readonly pipe: CfnPipe;

  constructor(scope: Construct, id: string, props: ShareExpiryProps) {
    super(scope, id);
    const streamArn = props.table.tableStreamArn;
    if (!streamArn) throw new Error("the share-links table needs a stream for the expiry timer");

    const wait = new Wait(this, "UntilExpiry", {
      time: WaitTime.timestampPath("$.expiresAtIso"),
    });
    const end = new LambdaInvoke(this, "EndViewers", {
      lambdaFunction: props.expire,
      payload: TaskInput.fromObject({
        userId: JsonPath.stringAt("$.userId"),
        linkId: JsonPath.stringAt("$.linkId"),
      }),
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });
    const stack = Stack.of(this);
    const name = `${props.namePrefix}-share-expiry`;
    // Each service may assume its role for this stage's workflow or pipe only (confused deputy).
    const assumedFor = (service: string, resource: string, sep = "/") =>
      new ServicePrincipal(`${service}.amazonaws.com`, {
        conditions: {
          StringEquals: { "aws:SourceAccount": stack.account },
          ArnLike: {
            "aws:SourceArn": stack.formatArn({
              service,
              resource,
              resourceName: name,
              arnFormat:
                sep === ":" ? ArnFormat.COLON_RESOURCE_NAME : ArnFormat.SLASH_RESOURCE_NAME,
            }),
          },
        },
      });
    const workflowRole = new Role(this, "WorkflowRole", {
      assumedBy: assumedFor("states", "stateMachine", ":"),
      description:
        "Runs the share-expiry workflow: invokes the share-expiry function, logs, traces",
    });
    const logs = new LogGroup(this, "Logs", {
      logGroupName: `/nearby-friends/${props.namePrefix}/share-expiry`,
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: removalPolicyFor(props.retainLogs),
    });
    this.stateMachine = new StateMachine(this, "Workflow", {
      stateMachineName: name,
      role: workflowRole,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(wait.next(end)),
      // A link lives at most 7 days.
      timeout: Duration.days(8),
      tracingEnabled: true,
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
    });

    // The pipe reads the table's stream and starts one execution per link written (a new item,
    // or a slot reused by a new link); removals (revocations, TTL) are filtered out.
    const role = new Role(this, "PipeRole", {
      assumedBy: assumedFor("pipes", "pipe"),
      description: "Starts the share-expiry workflow from the share-links table's stream",
    });
    role.addToPolicy(
      new PolicyStatement({ actions: [...STREAM_SOURCE_ACTIONS], resources: [streamArn] }),
    );
    role.addToPolicy(
      new PolicyStatement({
        actions: ["states:StartExecution"],
        resources: [this.stateMachine.stateMachineArn],
      }),
    );
    this.pipe = new CfnPipe(this, "Pipe", {
      name,
      roleArn: role.roleArn,
      source: streamArn,
      sourceParameters: {
        dynamoDbStreamParameters: {
          startingPosition: "LATEST",
          batchSize: 1,
          maximumRetryAttempts: 10,
        },
        filterCriteria: {
          filters: [{ pattern: JSON.stringify({ eventName: ["INSERT", "MODIFY"] }) }],
        },
      },
      target: this.stateMachine.stateMachineArn,
      targetParameters: {
        stepFunctionStateMachineParameters: { invocationType: "FIRE_AND_FORGET" },
        inputTemplate: JSON.stringify({
          userId: "<$.dynamodb.NewImage.userId.S>",
          linkId: "<$.dynamodb.NewImage.linkId.S>",
          expiresAtIso: "<$.dynamodb.NewImage.expiresAtIso.S>",
        }),
      },
    });
    this.pipe.node.addDependency(role);

    // cdk-nag names each finding after the resource as written in the template.
    const fnLogicalId = stack.getLogicalId(props.expire.node.defaultChild as CfnElement);
    Validations.of(workflowRole).acknowledge(
      {
        id: "AwsSolutions-IAM5[Resource::*]",
        reason:
          "Step Functions' log delivery to CloudWatch Logs (logs:*LogDelivery, DescribeLogGroups, resource policies) and X-Ray sampling are documented to need Resource *; the workflow's other grant names its one function.",
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${fnLogicalId}.Arn>:*]`,
        reason:
          "The LambdaInvoke task's grant covers the share-expiry function's versions and aliases (its ARN with a qualifier); it names no other function.",
      },
    );
  }
}
