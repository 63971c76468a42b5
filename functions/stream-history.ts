// Stream consumer: writes position records to the location history table.
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";
import { writeHistory } from "./app/history.ts";
import type { PositionEvent } from "./domain/events.ts";
import { batchFailures, decodeBatch } from "./edge/stream.ts";
import { historyRepo, tunables } from "./wiring.ts";

const deps = { history: historyRepo(), retentionDays: tunables().historyRetentionDays };

export const handler = async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
  const positions = decodeBatch(event).flatMap((r) =>
    r.event.kind === "position"
      ? [{ sequenceNumber: r.sequenceNumber, event: r.event as PositionEvent }]
      : [],
  );
  return batchFailures(await writeHistory(deps, positions));
};
