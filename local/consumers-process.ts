// The stream consumers' process (forked by stack.ts): the event-source mapping (stream-poller.ts)
// invoking functions/stream-fanout.ts and functions/stream-history.ts, loaded as the gateway's
// process loads its handlers, with the environment it set (Redis, the emulators, @connections).
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { ENV, requireEnv } from "../functions/config.ts";
import { STREAM_BATCHING, STREAM_CONSUMERS } from "../functions/routes.ts";
import { runAsChild } from "./child-process.ts";
import { loadHandler } from "./lambda-context.ts";
import { type StreamHandler, startPoller } from "./stream-poller.ts";

runAsChild(async ({ log, dependenciesReady }) => {
  const kinesisEndpoint = requireEnv(ENV.kinesisEndpoint);
  const streamName = requireEnv(ENV.locationStream);
  // The handler modules read their configuration at import, as at a Lambda cold start.
  const consumers: Record<string, StreamHandler> = {};
  for (const [name, entry] of Object.entries(STREAM_CONSUMERS))
    consumers[name] = await loadHandler<StreamHandler>(entry);
  const { closeSharedRedis } = await import("../functions/adapters/redis/client.ts");
  // The imports above overlap the emulators' start; the poller needs the stream.
  await dependenciesReady;
  const kinesis = new KinesisClient({
    endpoint: kinesisEndpoint,
    requestHandler: new NodeHttpHandler(),
  });
  const batchSizes = Object.fromEntries(
    Object.entries(STREAM_BATCHING).map(([name, b]) => [name, b.batchSize]),
  );
  const poller = await startPoller({ kinesis, streamName, consumers, batchSizes, log });
  return {
    info: {},
    // The poller first (its in-flight batches still use the clients), then the clients.
    stop: async () => {
      await poller.stop();
      kinesis.destroy();
      await closeSharedRedis();
    },
  };
});
