// Stream consumer: fans each batch of position records out to the subscribed friends' connections.
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";
import { fanOut } from "./app/fanout.ts";
import { numberEnv } from "./config.ts";
import { log } from "./edge/log.ts";
import { batchFailures, decodeBatch } from "./edge/stream.ts";
import { notifier, now, publisher, redisStore, tunables, usersRepo } from "./wiring.ts";

const t = tunables();
const config = { radiusM: t.radiusM, leaveMarginM: t.leaveMarginM, maxAgeMs: 30_000 };
const concurrency = numberEnv("POST_CONCURRENCY", 32, process.env, { min: 1 });
const notifierAtStart = notifier();
const publisherAtStart = publisher();
const usersAtStart = usersRepo();

export const handler = async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
  const records = decodeBatch(event);
  const store = await redisStore();
  const result = await fanOut(
    {
      store,
      settings: { users: usersAtStart, cache: store },
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
