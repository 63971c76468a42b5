// The stream consumers' handler stack: Kinesis batches decoded once into records (a record this
// version cannot read is logged and skipped: retrying it would block the shard and never succeed),
// and every record reported back as a batch item failure counted as `FailedRecords`. Ours, not
// @middy/event-normalizer: that one throws on a record it cannot parse, which would block the shard.
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import middy, { type MiddlewareObj } from "@middy/core";
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";
import { decodeEvent } from "../domain/events.ts";
import type { StreamRecord } from "../domain/fanout-plan.ts";
import type { AppMetricName } from "../metric-names.ts";
import { describeError, logger, metrics } from "../observability.ts";
import { observe } from "./observability.ts";

const FAILED_RECORDS: AppMetricName = "FailedRecords";

export type RecordsEvent = KinesisStreamEvent & { records: StreamRecord[] };
/** A stream consumer as the event source mapping calls it (the middleware adds `records`). */
export type StreamHandler = (
  event: KinesisStreamEvent,
  context?: Context,
) => Promise<KinesisStreamBatchResponse>;

export function decodeBatch(event: KinesisStreamEvent): StreamRecord[] {
  const out: StreamRecord[] = [];
  for (const r of event.Records) {
    const decoded = decodeEvent(Buffer.from(r.kinesis.data, "base64").toString("utf8"));
    if (decoded) out.push({ sequenceNumber: r.kinesis.sequenceNumber, event: decoded });
    else
      logger.error("unreadable stream record skipped", {
        sequenceNumber: r.kinesis.sequenceNumber,
      });
  }
  return out;
}

export const batchFailures = (sequenceNumbers: readonly string[]): KinesisStreamBatchResponse => ({
  batchItemFailures: sequenceNumbers.map((itemIdentifier) => ({ itemIdentifier })),
});

const kinesisRecords = (): MiddlewareObj<
  KinesisStreamEvent & { records?: StreamRecord[] },
  KinesisStreamBatchResponse
> => ({
  before: (request) => {
    request.event.records = decodeBatch(request.event);
  },
  after: (request) => {
    const failed = request.response?.batchItemFailures.length ?? 0;
    if (failed > 0) {
      metrics.addMetric(FAILED_RECORDS, MetricUnit.Count, failed);
      logger.error("batch records failed", { failed, records: request.event.Records.length });
    }
  },
  onError: (request) => {
    // The whole batch is retried by the event source mapping.
    metrics.addMetric(FAILED_RECORDS, MetricUnit.Count, request.event.Records.length);
    logger.error("batch failed", describeError(request.error));
  },
});

/** A stream consumer: `run` gets the decoded records and returns the batch item failures. */
export function streamConsumer(
  run: (event: RecordsEvent) => Promise<KinesisStreamBatchResponse>,
): StreamHandler {
  return middy<RecordsEvent, KinesisStreamBatchResponse>(run)
    .use(observe())
    .use(kinesisRecords()) as unknown as StreamHandler;
}
