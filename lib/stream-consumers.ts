// The event-source mappings of the two stream consumers, in plain values (no CDK types): the one
// place the CDK stack and the local stack's poller (local/stream-poller.ts) read them from.
import type { STREAM_CONSUMERS } from "../functions/routes.ts";

export interface StreamConsumerSettings {
  /** Records per invocation at most. */
  readonly batchSize: number;
  /** How long records are gathered before an invocation with fewer than `batchSize` (seconds). */
  readonly maxBatchingWindowS: number;
  /** Retries of a failed batch before its records go to the on-failure destination. */
  readonly retryAttempts: number;
  /** A batch whose invocation failed is split in two before it is retried (no retry is spent). */
  readonly bisectBatchOnError: boolean;
  /** The function reports the records that failed (`batchItemFailures`). */
  readonly reportBatchItemFailures: boolean;
  /** Records older than this are not retried but sent to the on-failure destination; none: no limit. */
  readonly maxRecordAgeS?: number;
  readonly startingPosition: "LATEST" | "TRIM_HORIZON";
}

/** Failure handling shared by both stream consumers. */
const FAILURE_HANDLING = {
  startingPosition: "LATEST",
  bisectBatchOnError: true,
  reportBatchItemFailures: true,
  retryAttempts: 5,
  // No maximum record age: an old record is no harm to the fan-out (it only triggers a push of the
  // mover's newest position, once) and history must not be skipped; a poison batch ends in the DLQ
  // through the retry limit instead.
} as const;

export const STREAM_CONSUMER_SETTINGS: Record<
  keyof typeof STREAM_CONSUMERS,
  StreamConsumerSettings
> = {
  fanout: {
    ...FAILURE_HANDLING,
    // No window, and large batches: a shard's invocations run one after another, so the records
    // that arrive while one batch is being pushed make the next batch, which costs about one push
    // per recipient however many records it holds (latest wins). The coalescing window is thus
    // the time a batch takes: it grows with load, bounded by the batch size, and adds no latency
    // when the system is quiet.
    batchSize: 10_000,
    maxBatchingWindowS: 0,
  },
  history: {
    ...FAILURE_HANDLING,
    // History is not latency-sensitive: bigger, fuller batches mean fewer BatchWriteItem calls.
    batchSize: 500,
    maxBatchingWindowS: 5,
  },
};
