// Stream consumer: fans each batch of position records out to the subscribed friends' connections.
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";
import { fanOut } from "./app/fanout.ts";
import { numberEnv } from "./config.ts";
import { log } from "./edge/log.ts";
import { batchFailures, decodeBatch } from "./edge/stream.ts";
import { notifier, now, publisher, redisStore, tunables } from "./wiring.ts";

const t = tunables();
const config = { radiusM: t.radiusM, leaveMarginM: t.leaveMarginM, maxAgeMs: 30_000 };
const concurrency = numberEnv("POST_CONCURRENCY", 32, process.env, { min: 1 });
const notifierAtStart = notifier();
const publisherAtStart = publisher();

export const handler = async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
  const records = decodeBatch(event);
  const result = await fanOut(
    {
      store: await redisStore(),
      notifier: notifierAtStart,
      publisher: publisherAtStart,
      config,
      now,
      concurrency,
    },
    records,
  );
  if (result.failedSequenceNumbers.length > 0) {
    log.error("fan-out posts failed", {
      failed: result.failedSequenceNumbers.length,
      posts: result.posts,
    });
  }
  return batchFailures(result.failedSequenceNumbers);
};
