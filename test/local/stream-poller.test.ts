// The local event-source mapping against kinesalite: batches in order, and `batchItemFailures`
// honoured by re-delivering from the first failed record, the records before it not again.
import { KinesisClient, PutRecordCommand } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { KinesisStreamEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulators, LOCAL_NAMES, startEmulators } from "../../local/emulators.ts";
import { startPoller } from "../../local/stream-poller.ts";

let emulators: Emulators;
let kinesis: KinesisClient;

beforeAll(async () => {
  emulators = await startEmulators(1);
  kinesis = new KinesisClient({
    endpoint: emulators.kinesisEndpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    requestHandler: new NodeHttpHandler(),
  });
});
afterAll(async () => {
  kinesis.destroy();
  await emulators.stop();
});

const decode = (e: KinesisStreamEvent) =>
  e.Records.map((r) => Buffer.from(r.kinesis.data, "base64").toString("utf8"));

describe("stream poller", () => {
  it("re-delivers from the first failed record, once per failure, in order", async () => {
    for (const n of ["r1", "r2", "r3", "r4", "r5"]) {
      await kinesis.send(
        new PutRecordCommand({
          StreamName: LOCAL_NAMES.stream,
          PartitionKey: "p",
          Data: Buffer.from(n),
        }),
      );
    }
    const seen: string[][] = [];
    const events: KinesisStreamEvent[] = [];
    let failedOnce = false;
    const poller = await startPoller({
      kinesis,
      streamName: LOCAL_NAMES.stream,
      log: () => undefined,
      consumers: {
        test: async (event) => {
          const batch = decode(event);
          seen.push(batch);
          events.push(event);
          const r3 = event.Records.find(
            (r) => Buffer.from(r.kinesis.data, "base64").toString() === "r3",
          );
          if (r3 && !failedOnce) {
            failedOnce = true;
            return { batchItemFailures: [{ itemIdentifier: r3.kinesis.sequenceNumber }] };
          }
          return { batchItemFailures: [] };
        },
      },
    });
    for (let i = 0; i < 100 && seen.flat().filter((r) => r === "r5").length < 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await poller.stop();
    expect(seen).toEqual([
      ["r1", "r2", "r3", "r4", "r5"],
      ["r3", "r4", "r5"],
    ]);
    const [first] = events;
    expect(first?.Records[0]).toMatchObject({
      eventSource: "aws:kinesis",
      eventName: "aws:kinesis:record",
      eventSourceARN: expect.stringContaining(LOCAL_NAMES.stream),
      kinesis: { partitionKey: "p", kinesisSchemaVersion: "1.0" },
    });
    const sequence = first?.Records.map((r) => BigInt(r.kinesis.sequenceNumber)) ?? [];
    expect(sequence).toEqual([...sequence].sort((a, b) => (a < b ? -1 : 1)));
  });
});
