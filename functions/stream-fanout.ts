// Stream consumer: fans each batch of position records out to the subscribed friends' connections.
import { fanOut } from "./app/fanout.ts";
import { batchFailures, streamConsumer } from "./middleware/stream.ts";
import { fanoutWiring } from "./wiring.ts";

const deps = fanoutWiring();

export const handler = streamConsumer(async ({ records }) =>
  batchFailures((await fanOut(await deps(), records)).failedSequenceNumbers),
);
