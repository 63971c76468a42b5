// AWS SDK clients, created once per process and captured by the tracer (a no-op where tracing is
// off). A configured endpoint (the local stack's emulators) gets the HTTP/1.1 handler: the
// emulators speak plain http and the default Kinesis handler is HTTP/2.
import { ApiGatewayManagementApiClient } from "@aws-sdk/client-apigatewaymanagementapi";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { ENV, optionalEnv, requireEnv } from "../config.ts";
import { tracer } from "../observability.ts";

// Generous: on one machine a slow emulator (or gateway) means a busy CPU, not a fault; only a dead
// one should fail.
const LOCAL_TIMEOUT_MS = 30_000;

/** The client, captured by the tracer where tracing is on. */
const traced = <T>(client: T): T => (tracer ? tracer.captureAWSv3Client(client) : client);

const localOptions = (endpoint: string | undefined) =>
  endpoint
    ? {
        endpoint,
        requestHandler: new NodeHttpHandler({
          connectionTimeout: LOCAL_TIMEOUT_MS,
          requestTimeout: LOCAL_TIMEOUT_MS,
        }),
      }
    : {};

let documentClient: DynamoDBDocumentClient | undefined;
export function sharedDocumentClient(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(
    traced(
      new DynamoDBClient({ maxAttempts: 3, ...localOptions(optionalEnv(ENV.dynamodbEndpoint)) }),
    ),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  return documentClient;
}

let kinesis: KinesisClient | undefined;
export function sharedKinesisClient(): KinesisClient {
  kinesis ??= traced(
    new KinesisClient({ maxAttempts: 3, ...localOptions(optionalEnv(ENV.kinesisEndpoint)) }),
  );
  return kinesis;
}

let management: ApiGatewayManagementApiClient | undefined;
export function sharedManagementClient(): ApiGatewayManagementApiClient {
  const endpoint = requireEnv(ENV.connectionsEndpoint);
  management ??= traced(
    new ApiGatewayManagementApiClient({
      endpoint,
      // Throttling is retried by the notifier with its own jittered backoff.
      maxAttempts: 1,
      ...(endpoint.startsWith("http://")
        ? { requestHandler: new NodeHttpHandler({ requestTimeout: LOCAL_TIMEOUT_MS }) }
        : {}),
    }),
  );
  return management;
}
