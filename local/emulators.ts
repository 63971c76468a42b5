// DynamoDB (dynalite) and Kinesis (kinesalite) in the calling process, with the tables and the
// stream created (the local stack runs each in a process of its own: emulators-process.ts).
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
} from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import dynalite from "dynalite";
import kinesalite from "kinesalite";
import { SHARE_LINKS_TOKEN_INDEX } from "../functions/adapters/share-links-repo.ts";
import { closeServer, HOST, listen } from "./ports.ts";

export const LOCAL_NAMES = {
  usersTable: "Users-local",
  friendshipsTable: "Friendships-local",
  historyTable: "LocationHistory-local",
  shareLinksTable: "ShareLinks-local",
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
  // As lib/constructs/data-tables.ts: a user's link slots, and the index of token hashes.
  const shareLinks = new CreateTableCommand({
    TableName: LOCAL_NAMES.shareLinksTable,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [
      { AttributeName: "userId", AttributeType: "S" },
      { AttributeName: "slot", AttributeType: "N" },
      { AttributeName: "tokenHash", AttributeType: "S" },
    ],
    KeySchema: [
      { AttributeName: "userId", KeyType: "HASH" },
      { AttributeName: "slot", KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: SHARE_LINKS_TOKEN_INDEX,
        KeySchema: [{ AttributeName: "tokenHash", KeyType: "HASH" }],
        Projection: { ProjectionType: "KEYS_ONLY" },
      },
    ],
  });
  await Promise.all([
    db.send(table(LOCAL_NAMES.usersTable)),
    db.send(table(LOCAL_NAMES.friendshipsTable, "friendId")),
    db.send(table(LOCAL_NAMES.historyTable, "sk")),
    db.send(shareLinks),
    db.send(table(LOCAL_NAMES.blocksTable, "otherId")),
  ]);
  for (const name of [
    LOCAL_NAMES.usersTable,
    LOCAL_NAMES.friendshipsTable,
    LOCAL_NAMES.historyTable,
    LOCAL_NAMES.shareLinksTable,
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

/** DynamoDB (dynalite) on `port` (0 for a free port), with the tables created. */
export async function startDynamo(port = 0): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const endpoint = `http://${HOST}:${await listen(dynamo, port, "dynalite")}`;
  await createTables(endpoint);
  return { endpoint, stop: () => closeServer(dynamo) };
}

/** Kinesis (kinesalite) on `port` (0 for a free port), with the stream created. */
export async function startKinesis(
  shards: number,
  port = 0,
): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const kinesis = kinesalite({
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit: 100,
  });
  const endpoint = `http://${HOST}:${await listen(kinesis, port, "kinesalite")}`;
  await createStream(endpoint, shards);
  return { endpoint, stop: () => closeServer(kinesis) };
}

/** Both emulators in this process. `ports` 0 (the default) for free ports. */
export async function startEmulators(
  shards = 2,
  ports: { dynamodb: number; kinesis: number } = { dynamodb: 0, kinesis: 0 },
): Promise<Emulators> {
  const [dynamo, kinesis] = await Promise.all([
    startDynamo(ports.dynamodb),
    startKinesis(shards, ports.kinesis),
  ]);
  return {
    dynamodbEndpoint: dynamo.endpoint,
    kinesisEndpoint: kinesis.endpoint,
    shards,
    stop: async () => {
      await Promise.all([dynamo.stop(), kinesis.stop()]);
    },
  };
}
