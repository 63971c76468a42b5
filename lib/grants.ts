// Wiring helpers: each gives a function least-privilege access to one resource AND sets the
// environment variable the function code reads for it (names from functions/config.ts), together,
// so that a permission never exists without its configuration or the other way round.
import { type CfnElement, Stack, Validations } from "aws-cdk-lib";
import type { WebSocketStage } from "aws-cdk-lib/aws-apigatewayv2";
import type { UserPool, UserPoolClient } from "aws-cdk-lib/aws-cognito";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IStream } from "aws-cdk-lib/aws-kinesis";
import { ENV } from "../functions/config.ts";
import { TUNABLE_SPECS, type Tunables } from "./config.ts";
import type { HouseFunction } from "./constructs/house-function.ts";
import type { LocationCache } from "./constructs/location-cache.ts";

/** `read`: Get/Query/BatchGet; `write`: Put/Update/Delete/BatchWrite only; `read-write`: both. */
export type TableAccess = "read" | "write" | "read-write";

function useTable(fn: HouseFunction, envName: string, table: ITable, access: TableAccess): void {
  fn.addEnvironment(envName, table.tableName);
  if (access === "read") table.grantReadData(fn);
  else if (access === "write") table.grantWriteData(fn);
  else table.grantReadWriteData(fn);
}

export const useUsersTable = (fn: HouseFunction, table: ITable, access: TableAccess): void =>
  useTable(fn, ENV.usersTable, table, access);

export const useFriendshipsTable = (fn: HouseFunction, table: ITable, access: TableAccess): void =>
  useTable(fn, ENV.friendshipsTable, table, access);

export const useHistoryTable = (fn: HouseFunction, table: ITable, access: TableAccess): void =>
  useTable(fn, ENV.historyTable, table, access);

/**
 * Publish to the location-events stream: PutRecord(s) on that stream and a data key of its KMS key,
 * which is all a producer of an encrypted stream needs (grantWrite would add ReEncrypt* and more).
 */
export function useLocationStream(fn: HouseFunction, stream: IStream): void {
  fn.addEnvironment(ENV.locationStream, stream.streamName);
  stream.grant(fn, "kinesis:PutRecord", "kinesis:PutRecords");
  stream.encryptionKey?.grant(fn, "kms:GenerateDataKey");
}

/**
 * Connect to the location cache: TLS URL of the configuration endpoint, cluster mode, and read
 * access to the AUTH token secret only. The function must have been placed in the VPC behind the
 * cache's client security group (the cache admits nothing else).
 */
export function useRedis(fn: HouseFunction, cache: LocationCache): void {
  if (!fn.connections.securityGroups.includes(cache.clientSecurityGroup)) {
    throw new Error(`${fn.node.path} uses Redis but is not in the cache's client security group`);
  }
  fn.addEnvironment(ENV.redisUrl, cache.url);
  fn.addEnvironment(ENV.redisCluster, "true");
  fn.addEnvironment(ENV.redisAuthSecretArn, cache.authSecret.secretArn);
  cache.authSecret.grantRead(fn);
}

/**
 * Post to, inspect and close the stage's connections through the @connections management API.
 * Connection ids are only known at run time, hence the `@connections/*` resource.
 */
export function useConnectionsApi(fn: HouseFunction, stage: WebSocketStage): void {
  fn.addEnvironment(ENV.connectionsEndpoint, stage.callbackUrl);
  const stack = Stack.of(fn);
  const methods = ["POST", "GET", "DELETE"] as const;
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ["execute-api:ManageConnections"],
      resources: methods.map((method) =>
        stack.formatArn({
          service: "execute-api",
          resource: stage.api.apiId,
          resourceName: `${stage.stageName}/${method}/@connections/*`,
        }),
      ),
    }),
  );
  // cdk-nag names each finding after the resource as written in the template.
  const apiLogicalId = stack.getLogicalId(stage.api.node.defaultChild as CfnElement);
  Validations.of(fn).acknowledge(
    ...methods.map((method) => ({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiLogicalId}>/${stage.stageName}/${method}/@connections/*]`,
      reason:
        "Connection ids exist only at run time; the grant is limited to this API's stage and its @connections path.",
    })),
  );
}

/** Verify Cognito tokens of this pool and app client (the WebSocket authorizer). */
export function useUserPool(fn: HouseFunction, pool: UserPool, client: UserPoolClient): void {
  fn.addEnvironment(ENV.userPoolId, pool.userPoolId);
  fn.addEnvironment(ENV.userPoolClientId, client.userPoolClientId);
}

/**
 * Every tunable of functions/config.ts (PROTOCOL.md §4 and the fan-out's post concurrency), from the
 * stage's context, under the variable name the table gives it. All of them, always: a function
 * reads the whole table at once (`readTunables`), and a value it ignores costs nothing.
 */
export function useTunables(fn: HouseFunction, tunables: Tunables): void {
  for (const [name, spec] of TUNABLE_SPECS) fn.addEnvironment(spec.env, String(tunables[name]));
}
