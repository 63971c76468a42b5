// Wiring helpers: each gives a function least-privilege access to one resource AND sets the
// environment variable the function code reads for it (names from functions/config.ts), together,
// so that a permission never exists without its configuration. The actions are spelled out here,
// once: CDK's grantRead*/grantWrite* helpers add actions no function calls (Scan, DescribeTable,
// the table's stream reads, ReEncrypt*).
import { type CfnElement, Stack, Validations } from "aws-cdk-lib";
import type { WebSocketStage } from "aws-cdk-lib/aws-apigatewayv2";
import type { UserPool, UserPoolClient } from "aws-cdk-lib/aws-cognito";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IStream } from "aws-cdk-lib/aws-kinesis";
import { SHARE_LINKS_TOKEN_INDEX } from "../functions/adapters/share-links-repo.ts";
import { ENV } from "../functions/config.ts";
import { TUNABLE_SPECS, type Tunables } from "./config.ts";
import type { HouseFunction } from "./constructs/house-function.ts";
import type { LocationCache } from "./constructs/location-cache.ts";

/** The DynamoDB calls of functions/adapters/dynamo-repos.ts (no Scan, no transactions). */
export type TableAction =
  | "GetItem"
  | "BatchGetItem"
  | "Query"
  | "PutItem"
  | "UpdateItem"
  | "DeleteItem"
  | "BatchWriteItem";

/**
 * The actions a function calls on a table. An empty list gives the table's name and no permission:
 * a wiring (functions/wiring.ts) checks at cold start the name of every table its use cases could
 * touch, and some routes touch none of them.
 */
export type TableNeed = readonly TableAction[];

/** `publish`: PutRecord; `name`: the stream's name only (read at cold start, never published to). */
export type StreamNeed = "publish" | "name";

/** IAM action names of table actions. */
export const tableActions = (need: TableNeed): string[] => need.map((a) => `dynamodb:${a}`);

/**
 * What a producer of the encrypted stream calls (functions/adapters/kinesis-publisher.ts sends one
 * PutRecord per event) and the one key action Kinesis needs on its behalf.
 */
export const STREAM_PUBLISH_ACTIONS = ["kinesis:PutRecord"] as const;
export const STREAM_KEY_ACTIONS = ["kms:GenerateDataKey"] as const;
/** The Redis client reads the AUTH token once per cold start (functions/adapters/redis/client.ts). */
export const REDIS_SECRET_ACTIONS = ["secretsmanager:GetSecretValue"] as const;
/**
 * Pushes to connections (functions/adapters/connection-notifier.ts): PostToConnection is POST on
 * `@connections/{id}`; the end of a share link also closes its viewers (DeleteConnection is
 * DELETE); nothing reads (GET) a connection.
 */
export type ConnectionsNeed = "post" | "post-and-close";
const CONNECTION_METHODS: Record<ConnectionsNeed, readonly string[]> = {
  post: ["POST"],
  "post-and-close": ["POST", "DELETE"],
};

function useTable(fn: HouseFunction, envName: string, table: ITable, need: TableNeed): void {
  fn.addEnvironment(envName, table.tableName);
  if (need.length > 0) table.grant(fn, ...tableActions(need));
}

export const useUsersTable = (fn: HouseFunction, table: ITable, need: TableNeed): void =>
  useTable(fn, ENV.usersTable, table, need);

export const useFriendshipsTable = (fn: HouseFunction, table: ITable, need: TableNeed): void =>
  useTable(fn, ENV.friendshipsTable, table, need);

export const useHistoryTable = (fn: HouseFunction, table: ITable, need: TableNeed): void =>
  useTable(fn, ENV.historyTable, table, need);

export const useBlocksTable = (fn: HouseFunction, table: ITable, need: TableNeed): void =>
  useTable(fn, ENV.blocksTable, table, need);

/**
 * The share-links table: the actions on the table itself, and (`tokenLookup`) Query on its token
 * index alone, where CDK's grant would cover every index (`/index/*`).
 */
export function useShareLinksTable(
  fn: HouseFunction,
  table: ITable,
  need: TableNeed,
  tokenLookup = false,
): void {
  fn.addEnvironment(ENV.shareLinksTable, table.tableName);
  if (need.length > 0) {
    fn.addToRolePolicy(
      new PolicyStatement({ actions: tableActions(need), resources: [table.tableArn] }),
    );
  }
  if (tokenLookup) {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: tableActions(["Query"]),
        resources: [`${table.tableArn}/index/${SHARE_LINKS_TOKEN_INDEX}`],
      }),
    );
  }
}

/**
 * What creating share links needs besides the table: the map page their URLs open, and how their
 * expiry is timed (`stream`: the table's stream starts the expiry workflow, share-expiry.ts).
 */
export function useShareLinkCreation(fn: HouseFunction, baseUrl: string): void {
  fn.addEnvironment(ENV.shareLinkBaseUrl, baseUrl);
  fn.addEnvironment(ENV.shareExpiry, "stream");
}

/**
 * Publish to the location-events stream: PutRecord on that stream and a data key of its KMS key,
 * which is all a producer of an encrypted stream needs (grantWrite would add ReEncrypt* and more).
 */
export function useLocationStream(fn: HouseFunction, stream: IStream, need: StreamNeed): void {
  fn.addEnvironment(ENV.locationStream, stream.streamName);
  if (need !== "publish") return;
  stream.grant(fn, ...STREAM_PUBLISH_ACTIONS);
  stream.encryptionKey?.grant(fn, ...STREAM_KEY_ACTIONS);
}

/**
 * Connect to the location cache: TLS URL of the configuration endpoint, cluster mode, and
 * GetSecretValue on the AUTH token secret only. The function must have been placed in the VPC
 * behind the cache's client security group (the cache admits nothing else).
 */
export function useRedis(fn: HouseFunction, cache: LocationCache): void {
  if (!fn.connections.securityGroups.includes(cache.clientSecurityGroup)) {
    throw new Error(`${fn.node.path} uses Redis but is not in the cache's client security group`);
  }
  fn.addEnvironment(ENV.redisUrl, cache.url);
  fn.addEnvironment(ENV.redisCluster, "true");
  fn.addEnvironment(ENV.redisAuthSecretArn, cache.authSecret.secretArn);
  // The secret is encrypted with the AWS-managed key: no KMS grant is needed.
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: [...REDIS_SECRET_ACTIONS],
      resources: [cache.authSecret.secretArn],
    }),
  );
}

/**
 * Post to the stage's connections through the @connections management API. Connection ids are only
 * known at run time, hence the `@connections/*` resource.
 */
export function useConnectionsApi(
  fn: HouseFunction,
  stage: WebSocketStage,
  need: ConnectionsNeed = "post",
): void {
  fn.addEnvironment(ENV.connectionsEndpoint, stage.callbackUrl);
  const stack = Stack.of(fn);
  const methods = CONNECTION_METHODS[need];
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
        "Connection ids exist only at run time; the grant is limited to posting to this API stage's @connections path.",
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
