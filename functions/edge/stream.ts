// The stream edge: Kinesis event batches to decoded records. A record this version cannot read is
// logged and skipped: retrying it would block the shard and never succeed.
import type { KinesisStreamEvent } from "aws-lambda";
import { decodeEvent } from "../domain/events.ts";
import type { StreamRecord } from "../domain/fanout-plan.ts";
import { log } from "./log.ts";

export function decodeBatch(event: KinesisStreamEvent): StreamRecord[] {
  const out: StreamRecord[] = [];
  for (const r of event.Records) {
    const decoded = decodeEvent(Buffer.from(r.kinesis.data, "base64").toString("utf8"));
    if (decoded) out.push({ sequenceNumber: r.kinesis.sequenceNumber, event: decoded });
    else
      log.error("unreadable stream record skipped", { sequenceNumber: r.kinesis.sequenceNumber });
  }
  return out;
}

export const batchFailures = (sequenceNumbers: readonly string[]) => ({
  batchItemFailures: sequenceNumbers.map((itemIdentifier) => ({ itemIdentifier })),
});
