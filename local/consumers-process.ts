// A stream consumers' process (forked by stack.ts, one per consumer): the event-source mappings (stream-poller.ts,
// with the settings of lib/stream-consumers.ts, as the CDK stack's) invoking
// functions/stream-fanout.ts and functions/stream-history.ts, loaded as the functions' process loads
// its handlers, with the environment the stack set (Redis, the emulators, @connections). Asked
// `dead-letters`, it answers what the mappings gave up (GET /dev/dead-letters).
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { ENV, requireEnv } from "../functions/config.ts";
import { STREAM_CONSUMERS } from "../functions/routes.ts";
import { STREAM_CONSUMER_SETTINGS } from "../lib/stream-consumers.ts";
import { runAsChild } from "./child-process.ts";
import { loadHandler } from "./lambda-context.ts";
import { type ConsumerMapping, type StreamHandler, startPoller } from "./stream-poller.ts";

/** What the stack's process asks the consumers' process. */
export type ConsumersRequest = { op: "dead-letters" };

runAsChild(async ({ log, dependenciesReady }) => {
  const kinesisEndpoint = requireEnv(ENV.kinesisEndpoint);
  const streamName = requireEnv(ENV.locationStream);
  // The handler modules read their configuration at import, as at a Lambda cold start.
  // argv: the consumers this process runs (all when none is named).
  const all = Object.keys(STREAM_CONSUMERS) as (keyof typeof STREAM_CONSUMERS)[];
  const named = process.argv.slice(2);
  const unknown = named.filter((n) => !(all as string[]).includes(n));
  if (unknown.length > 0) throw new Error(`unknown stream consumers: ${unknown.join(", ")}`);
  const consumers: Record<string, ConsumerMapping> = {};
  for (const name of all.filter((n) => named.length === 0 || named.includes(n))) {
    consumers[name] = {
      handler: await loadHandler<StreamHandler>(STREAM_CONSUMERS[name]),
      settings: STREAM_CONSUMER_SETTINGS[name],
    };
  }
  const { closeSharedRedis } = await import("../functions/adapters/redis/client.ts");
  // The imports above overlap the emulators' start; the poller needs the stream.
  await dependenciesReady;
  const kinesis = new KinesisClient({
    endpoint: kinesisEndpoint,
    requestHandler: new NodeHttpHandler(),
  });
  const poller = await startPoller({ kinesis, streamName, consumers, log });
  return {
    info: {},
    serve: async (request: unknown) => {
      if ((request as ConsumersRequest).op === "dead-letters") return poller.deadLetters();
      throw new Error("unknown request");
    },
    // The poller first (its in-flight batches still use the clients), then the clients.
    stop: async () => {
      await poller.stop();
      kinesis.destroy();
      await closeSharedRedis();
    },
  };
});
