// Stream consumer: writes position records to the location history table.
import { writeHistory } from "./app/history.ts";
import type { PositionEvent } from "./domain/events.ts";
import { batchFailures, streamConsumer } from "./middleware/stream.ts";
import { historyRepo, tunables } from "./wiring.ts";

const deps = { history: historyRepo(), retentionDays: tunables().historyRetentionDays };

export const handler = streamConsumer(async ({ records }) => {
  const positions = records.flatMap((r) =>
    r.event.kind === "position"
      ? [{ sequenceNumber: r.sequenceNumber, event: r.event as PositionEvent }]
      : [],
  );
  return batchFailures(await writeHistory(deps, positions));
});
