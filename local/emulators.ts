// DynamoDB (dynalite) and Kinesis (kinesalite) in the calling process, with the tables and the
// stream created (the local stack runs them in a process of their own: emulators-process.ts).
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
} from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import dynalite from "dynalite";
import kinesalite from "kinesalite";
import { closeServer, HOST, listen } from "./ports.ts";

export const LOCAL_NAMES = {
  usersTable: "Users-local",
  friendshipsTable: "Friendships-local",
  historyTable: "LocationHistory-local",
  blocksTable: "Blocks-local",
  stream: "location-events-local",
};

export interface EmulatorEndpoints {
  dynamodbEndpoint: string;
  kinesisEndpoint: string;
  shards: number;
}

export interface Emulators extends EmulatorEndpoints {
  stop(): Promise<void>;
}

const clientOptions = (endpoint: string) => ({
  endpoint,
  region: process.env.AWS_REGION ?? "us-east-1",
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
  requestHandler: new NodeHttpHandler(),
});

async function createTables(endpoint: string): Promise<void> {
  const db = new DynamoDBClient(clientOptions(endpoint));
  const table = (name: string, sortKey?: string) =>
    new CreateTableCommand({
      TableName: name,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "userId", AttributeType: "S" },
        ...(sortKey ? [{ AttributeName: sortKey, AttributeType: "S" as const }] : []),
      ],
      KeySchema: [
        { AttributeName: "userId", KeyType: "HASH" },
        ...(sortKey ? [{ AttributeName: sortKey, KeyType: "RANGE" as const }] : []),
      ],
    });
  await Promise.all([
    db.send(table(LOCAL_NAMES.usersTable)),
    db.send(table(LOCAL_NAMES.friendshipsTable, "friendId")),
    db.send(table(LOCAL_NAMES.historyTable, "sk")),
    db.send(table(LOCAL_NAMES.blocksTable, "otherId")),
  ]);
  for (const name of [
    LOCAL_NAMES.usersTable,
    LOCAL_NAMES.friendshipsTable,
    LOCAL_NAMES.historyTable,
    LOCAL_NAMES.blocksTable,
  ]) {
    for (;;) {
      const d = await db.send(new DescribeTableCommand({ TableName: name }));
      if (d.Table?.TableStatus === "ACTIVE") break;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  db.destroy();
}

async function createStream(endpoint: string, shards: number): Promise<void> {
  const kinesis = new KinesisClient(clientOptions(endpoint));
  await kinesis.send(
    new CreateStreamCommand({ StreamName: LOCAL_NAMES.stream, ShardCount: shards }),
  );
  for (;;) {
    const d = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: LOCAL_NAMES.stream }),
    );
    if (d.StreamDescriptionSummary?.StreamStatus === "ACTIVE") break;
    await new Promise((r) => setTimeout(r, 20));
  }
  kinesis.destroy();
}

/** `ports` 0 (the default): any free port. */
export async function startEmulators(
  shards = 2,
  ports: { dynamodb: number; kinesis: number } = { dynamodb: 0, kinesis: 0 },
): Promise<Emulators> {
  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const kinesis = kinesalite({
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit: 100,
  });
  const dynamoPort = await listen(dynamo, ports.dynamodb, "dynalite");
  const kinesisPort = await listen(kinesis, ports.kinesis, "kinesalite");
  const dynamodbEndpoint = `http://${HOST}:${dynamoPort}`;
  const kinesisEndpoint = `http://${HOST}:${kinesisPort}`;
  await Promise.all([createTables(dynamodbEndpoint), createStream(kinesisEndpoint, shards)]);
  return {
    dynamodbEndpoint,
    kinesisEndpoint,
    shards,
    stop: async () => {
      await Promise.all([closeServer(dynamo), closeServer(kinesis)]);
    },
  };
}
