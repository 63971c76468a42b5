// An event-source mapping for the local stack: reads every shard with GetRecords and invokes each
// consumer with real KinesisStreamEvent batches, honouring `batchItemFailures` by retrying from the
// first failed sequence number, a bounded number of times (then the batch is logged as dead-lettered).
import {
  type _Record,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from "@aws-sdk/client-kinesis";
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";

export type StreamHandler = (
  event: KinesisStreamEvent,
) => Promise<KinesisStreamBatchResponse | undefined>;

export interface PollerOptions {
  kinesis: KinesisClient;
  streamName: string;
  consumers: Record<string, StreamHandler>;
  /** Records per batch, per consumer (default 500), as the event-source mappings take them. */
  batchSizes?: Record<string, number>;
  idleDelayMs?: number;
  maxRetries?: number;
  log: (msg: string, detail?: object) => void;
}

export interface Poller {
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function toKinesisEvent(
  records: readonly _Record[],
  streamArn: string,
  shardId: string,
): KinesisStreamEvent {
  return {
    Records: records.map((r) => ({
      kinesis: {
        kinesisSchemaVersion: "1.0",
        partitionKey: r.PartitionKey ?? "",
        sequenceNumber: r.SequenceNumber ?? "",
        data: Buffer.from(r.Data ?? new Uint8Array()).toString("base64"),
        approximateArrivalTimestamp:
          (r.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
      },
      eventSource: "aws:kinesis",
      eventVersion: "1.0",
      eventID: `${shardId}:${r.SequenceNumber}`,
      eventName: "aws:kinesis:record",
      invokeIdentityArn: "arn:aws:iam::000000000000:role/local",
      awsRegion: "local",
      eventSourceARN: streamArn,
    })),
  };
}

export async function startPoller(opts: PollerOptions): Promise<Poller> {
  const { kinesis, streamName, log } = opts;
  const idleDelayMs = opts.idleDelayMs ?? 50;
  const maxRetries = opts.maxRetries ?? 3;
  const streamArn = `arn:aws:kinesis:local:000000000000:stream/${streamName}`;
  const shards =
    (await kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
  let running = true;

  const iterator = async (
    shardId: string,
    type: "TRIM_HORIZON" | "AT_SEQUENCE_NUMBER",
    seq?: string,
  ) =>
    (
      await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shardId,
          ShardIteratorType: type,
          ...(seq ? { StartingSequenceNumber: seq } : {}),
        }),
      )
    ).ShardIterator;

  async function pollShard(name: string, handler: StreamHandler, shardId: string) {
    const batchSize = opts.batchSizes?.[name] ?? 500;
    let it = await iterator(shardId, "TRIM_HORIZON");
    let retries = 0;
    while (running && it) {
      let out: GetRecordsCommandOutput;
      try {
        out = await kinesis.send(new GetRecordsCommand({ ShardIterator: it, Limit: batchSize }));
      } catch (err) {
        if (!running) return;
        log("GetRecords failed", { consumer: name, shardId, error: String(err) });
        await sleep(500);
        continue;
      }
      const records = out.Records ?? [];
      if (records.length === 0) {
        it = out.NextShardIterator;
        await sleep(idleDelayMs);
        continue;
      }
      let failedFrom: string | undefined;
      try {
        const res = await handler(toKinesisEvent(records, streamArn, shardId));
        const failed = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        failedFrom = records.find(
          (r) => r.SequenceNumber && failed.has(r.SequenceNumber),
        )?.SequenceNumber;
      } catch (err) {
        log("stream consumer threw", { consumer: name, shardId, error: String(err) });
        failedFrom = records[0]?.SequenceNumber;
      }
      if (failedFrom && retries < maxRetries) {
        retries++;
        await sleep(50 * 2 ** retries);
        it = await iterator(shardId, "AT_SEQUENCE_NUMBER", failedFrom);
        continue;
      }
      if (failedFrom) {
        log("records dead-lettered after retries", {
          consumer: name,
          shardId,
          from: failedFrom,
          retries,
        });
      }
      retries = 0;
      it = out.NextShardIterator;
    }
  }

  const loops: Promise<void>[] = [];
  for (const [name, handler] of Object.entries(opts.consumers)) {
    for (const shard of shards) {
      if (!shard.ShardId) continue;
      const shardId = shard.ShardId;
      loops.push(
        pollShard(name, handler, shardId).catch((err: unknown) =>
          log("poller stopped", { consumer: name, shardId, error: String(err) }),
        ),
      );
    }
  }
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}
