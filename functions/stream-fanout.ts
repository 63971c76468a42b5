// Stream consumer: fans each batch of position records out to the subscribed friends' connections,
// then reviews the reporting cadence of the movers whose cadence is due for it.
import { reviewStaleCadences } from "./app/cadence.ts";
import { fanOut } from "./app/fanout.ts";
import { batchFailures, streamConsumer } from "./middleware/stream.ts";
import { cadenceWiring, fanoutWiring } from "./wiring.ts";

const deps = fanoutWiring();
const cadence = cadenceWiring();

export const handler = streamConsumer(async ({ records }) => {
  const { failedSequenceNumbers } = await fanOut(await deps(), records);
  const movers = records.filter((r) => r.event.kind === "position").map((r) => r.event.userId);
  await reviewStaleCadences(await cadence(), [...new Set(movers)]);
  return batchFailures(failedSequenceNumbers);
});
