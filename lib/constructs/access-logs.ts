// Access logs of an API Gateway stage: a log group of its own and one JSON object per request.
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import { LogGroupLogDestination } from "aws-cdk-lib/aws-apigatewayv2";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { removalPolicyFor } from "../retention.ts";

export function accessLogSettings(
  scope: Construct,
  props: { logGroupName: string; retain: boolean; fields: Record<string, string> },
) {
  const group = new LogGroup(scope, "AccessLogs", {
    logGroupName: props.logGroupName,
    retention: RetentionDays.ONE_MONTH,
    removalPolicy: removalPolicyFor(props.retain),
  });
  return {
    destination: new LogGroupLogDestination(group),
    format: AccessLogFormat.custom(JSON.stringify(props.fields)),
  };
}
