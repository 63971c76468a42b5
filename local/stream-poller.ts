// An event-source mapping for the local stack, as Lambda runs one for a Kinesis stream: reads every
// shard with GetRecords, gathers records up to the batch size or the batching window, and invokes
// each consumer with real KinesisStreamEvent batches, one batch of a shard at a time (in order).
// Failures as AWS handles them (lib/stream-consumers.ts gives the settings of each consumer):
// - `batchItemFailures` (when `reportBatchItemFailures`): the lowest reported sequence number is
//   the checkpoint, the records before it succeeded, the rest are retried; an empty or missing
//   `itemIdentifier`, or one not in the batch, fails the whole batch;
// - a function error (or a whole-batch failure) with `bisectBatchOnError`: the batch is split in two
//   and each half retried in order, which spends no retry;
// - after `retryAttempts` retries, or once its records are older than `maxRecordAgeS`, the batch is
//   given up: logged as a dead letter with what Lambda sends the on-failure destination (shard,
//   sequence range, condition), counted (GET /dev/dead-letters), and the shard moves on.
// Retried batches are the same records again (Lambda may add newer records to a retry from the
// checkpoint; here the batch is not refilled). One batch per shard at a time: parallelization
// factor 1, as the history consumer and the fan-out's default.
import {
  type _Record,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from "@aws-sdk/client-kinesis";
import type { KinesisStreamEvent } from "aws-lambda";
import type { StreamConsumerSettings } from "../lib/stream-consumers.ts";

/** A consumer as the mapping invokes it: what it returns is read as a partial batch response. */
export type StreamHandler = (event: KinesisStreamEvent) => Promise<unknown>;

/** A mapping's settings; what is left out has the default of Lambda's API. */
export type MappingSettings = Partial<Omit<StreamConsumerSettings, "startingPosition">>;

export interface ConsumerMapping {
  handler: StreamHandler;
  settings?: MappingSettings;
}

export interface PollerOptions {
  kinesis: KinesisClient;
  streamName: string;
  consumers: Record<string, ConsumerMapping>;
  /** Pause between two empty reads of a shard. */
  idleDelayMs?: number;
  /** Pause before retry n is `retryBaseDelayMs` × 2^n, at most 2 s. */
  retryBaseDelayMs?: number;
  log: (msg: string, detail?: object) => void;
}

/** What Lambda sends a Kinesis mapping's on-failure destination about records it gave up. */
export interface DeadLetter {
  consumer: string;
  timestamp: string;
  requestContext: {
    condition: "RetryAttemptsExhausted" | "RecordAgeExceeded";
    approximateInvokeCount: number;
  };
  KinesisBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

export interface DeadLetters {
  /** Per consumer: how many batches were given up, and the latest of them (at most 20). */
  [consumer: string]: { count: number; latest: DeadLetter[] };
}

export interface Poller {
  deadLetters(): DeadLetters;
  stop(): Promise<void>;
}

/** Lambda's defaults for a Kinesis event-source mapping's settings. */
const API_DEFAULTS = {
  batchSize: 100,
  maxBatchingWindowS: 0,
  retryAttempts: -1, // infinite: until the record expires
  bisectBatchOnError: false,
  reportBatchItemFailures: false,
  maxRecordAgeS: undefined as number | undefined, // none
};

const LATEST_KEPT = 20;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const arrival = (r: _Record) => r.ApproximateArrivalTimestamp?.getTime() ?? Date.now();

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
        approximateArrivalTimestamp: arrival(r) / 1000,
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

/** An invocation's outcome: all done, the records from `from` on to retry, or a whole failure. */
type Outcome = { kind: "ok" } | { kind: "partial"; from: number } | { kind: "failed"; why: string };

/** A partial batch response read as Lambda reads it. */
export function readBatchResponse(response: unknown, records: readonly _Record[]): Outcome {
  if (response === null || response === undefined || typeof response !== "object")
    return { kind: "ok" };
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === null || failures === undefined) return { kind: "ok" };
  if (!Array.isArray(failures)) return { kind: "failed", why: "batchItemFailures is not a list" };
  if (failures.length === 0) return { kind: "ok" };
  let from = records.length;
  for (const f of failures) {
    const id = (f as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== "string" || id === "")
      return { kind: "failed", why: "an itemIdentifier is empty or missing" };
    const at = records.findIndex((r) => r.SequenceNumber === id);
    if (at < 0) return { kind: "failed", why: `itemIdentifier ${id} is not in the batch` };
    from = Math.min(from, at);
  }
  return { kind: "partial", from };
}

export async function startPoller(opts: PollerOptions): Promise<Poller> {
  const { kinesis, streamName, log } = opts;
  const idleDelayMs = opts.idleDelayMs ?? 50;
  const retryBaseDelayMs = opts.retryBaseDelayMs ?? 50;
  const streamArn = `arn:aws:kinesis:local:000000000000:stream/${streamName}`;
  const shards =
    (await kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
  const deadLetters: DeadLetters = {};
  for (const name of Object.keys(opts.consumers)) deadLetters[name] = { count: 0, latest: [] };
  let running = true;

  const iterator = async (shardId: string) =>
    (
      await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shardId,
          // The stream is new when the poller starts: from its start, nothing written is missed
          // (AWS's mappings start at LATEST, created before any record).
          ShardIteratorType: "TRIM_HORIZON",
        }),
      )
    ).ShardIterator;

  function deadLetter(
    consumer: string,
    shardId: string,
    records: readonly _Record[],
    condition: DeadLetter["requestContext"]["condition"],
    invokes: number,
  ) {
    const first = records[0];
    const last = records[records.length - 1];
    if (!first || !last) return;
    const letter: DeadLetter = {
      consumer,
      timestamp: new Date().toISOString(),
      requestContext: { condition, approximateInvokeCount: invokes },
      KinesisBatchInfo: {
        shardId,
        startSequenceNumber: first.SequenceNumber ?? "",
        endSequenceNumber: last.SequenceNumber ?? "",
        approximateArrivalOfFirstRecord: new Date(arrival(first)).toISOString(),
        approximateArrivalOfLastRecord: new Date(arrival(last)).toISOString(),
        batchSize: records.length,
        streamArn,
      },
    };
    const entry = deadLetters[consumer] ?? { count: 0, latest: [] };
    entry.count++;
    entry.latest = [...entry.latest, letter].slice(-LATEST_KEPT);
    deadLetters[consumer] = entry;
    log("records sent to the on-failure destination (dead-lettered)", letter);
  }

  /** Records of a shard up to the batch size, or those gathered when the batching window closes. */
  async function gather(
    name: string,
    shardId: string,
    it: string,
    batchSize: number,
    windowMs: number,
  ): Promise<{ records: _Record[]; next: string | undefined }> {
    const records: _Record[] = [];
    let next: string | undefined = it;
    let closes: number | undefined;
    while (running && next) {
      let out: GetRecordsCommandOutput;
      try {
        out = await kinesis.send(
          new GetRecordsCommand({ ShardIterator: next, Limit: batchSize - records.length }),
        );
      } catch (err) {
        if (!running) break;
        log("GetRecords failed", { consumer: name, shardId, error: String(err) });
        await sleep(500);
        continue;
      }
      next = out.NextShardIterator;
      const got = out.Records ?? [];
      if (got.length > 0) closes ??= Date.now() + windowMs;
      records.push(...got);
      if (records.length >= batchSize) break;
      if (closes !== undefined && Date.now() >= closes) break;
      await sleep(closes === undefined ? idleDelayMs : Math.min(idleDelayMs, closes - Date.now()));
    }
    return { records, next };
  }

  /** One batch through the consumer, retried, bisected or dead-lettered as its settings say. */
  async function deliver(
    name: string,
    mapping: ConsumerMapping,
    shardId: string,
    batch: _Record[],
  ): Promise<void> {
    const s = { ...API_DEFAULTS, ...mapping.settings };
    const maxAgeMs = s.maxRecordAgeS === undefined ? undefined : s.maxRecordAgeS * 1000;
    // Parts of the batch still to deliver, in order, each with the retries it has spent.
    const parts = [{ records: batch, retries: 0, invokes: 0 }];
    while (running) {
      const part = parts[0];
      if (!part) return;
      if (maxAgeMs !== undefined) {
        // Records arrive in order: the expired ones are a prefix.
        const now = Date.now();
        const fresh = part.records.findIndex((r) => now - arrival(r) <= maxAgeMs);
        const expired = fresh < 0 ? part.records : part.records.slice(0, fresh);
        if (expired.length > 0) {
          deadLetter(name, shardId, expired, "RecordAgeExceeded", part.invokes);
          part.records = part.records.slice(expired.length);
          if (part.records.length === 0) {
            parts.shift();
            continue;
          }
        }
      }
      part.invokes++;
      let outcome: Outcome;
      try {
        const response = await mapping.handler(toKinesisEvent(part.records, streamArn, shardId));
        outcome = s.reportBatchItemFailures
          ? readBatchResponse(response, part.records)
          : { kind: "ok" };
        if (outcome.kind === "failed")
          log("batch failed as a whole", { consumer: name, shardId, why: outcome.why });
      } catch (err) {
        log("stream consumer threw", { consumer: name, shardId, error: String(err) });
        outcome = { kind: "failed", why: "function error" };
      }
      if (outcome.kind === "ok") {
        parts.shift();
        continue;
      }
      if (outcome.kind === "failed" && s.bisectBatchOnError && part.records.length > 1) {
        const half = Math.ceil(part.records.length / 2);
        parts.splice(
          0,
          1,
          { records: part.records.slice(0, half), retries: part.retries, invokes: 0 },
          { records: part.records.slice(half), retries: part.retries, invokes: 0 },
        );
        continue;
      }
      const remaining =
        outcome.kind === "partial" ? part.records.slice(outcome.from) : part.records;
      if (s.retryAttempts >= 0 && part.retries >= s.retryAttempts) {
        deadLetter(name, shardId, remaining, "RetryAttemptsExhausted", part.invokes);
        parts.shift();
        continue;
      }
      part.retries++;
      part.records = remaining;
      await sleep(Math.min(retryBaseDelayMs * 2 ** part.retries, 2000));
    }
  }

  async function pollShard(name: string, mapping: ConsumerMapping, shardId: string) {
    const batchSize = mapping.settings?.batchSize ?? API_DEFAULTS.batchSize;
    const windowMs =
      (mapping.settings?.maxBatchingWindowS ?? API_DEFAULTS.maxBatchingWindowS) * 1000;
    let it = await iterator(shardId);
    while (running && it) {
      const { records, next } = await gather(name, shardId, it, batchSize, windowMs);
      it = next;
      if (running && records.length > 0) await deliver(name, mapping, shardId, records);
    }
  }

  const loops: Promise<void>[] = [];
  for (const [name, mapping] of Object.entries(opts.consumers)) {
    for (const shard of shards) {
      if (!shard.ShardId) continue;
      const shardId = shard.ShardId;
      loops.push(
        pollShard(name, mapping, shardId).catch((err: unknown) =>
          log("poller stopped", { consumer: name, shardId, error: String(err) }),
        ),
      );
    }
  }
  return {
    deadLetters: () => structuredClone(deadLetters),
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}
