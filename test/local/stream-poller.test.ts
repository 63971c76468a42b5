// The local event-source mapping against kinesalite, as Lambda runs a Kinesis mapping: batches in
// order, `batchItemFailures` honoured (and a malformed one failing the whole batch), retries,
// bisection, the maximum record age and the on-failure destination (dead letters), and the
// batching window. Each test has a stream of its own.
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  PutRecordCommand,
} from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { KinesisStreamEvent } from "aws-lambda";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Emulators, startEmulators } from "../../local/emulators.ts";
import {
  type MappingSettings,
  type Poller,
  type StreamHandler,
  startPoller,
} from "../../local/stream-poller.ts";

let emulators: Emulators;
let kinesis: KinesisClient;
let poller: Poller | undefined;
let streams = 0;

beforeAll(async () => {
  emulators = await startEmulators(1);
  kinesis = new KinesisClient({
    endpoint: emulators.kinesisEndpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    requestHandler: new NodeHttpHandler(),
  });
});
afterEach(async () => {
  await poller?.stop();
  poller = undefined;
});
afterAll(async () => {
  kinesis.destroy();
  await emulators.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A new one-shard stream holding `records` (their data, in order); returns its name. */
async function streamWith(...records: string[]): Promise<string> {
  const name = `test-${++streams}`;
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
  for (;;) {
    const d = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (d.StreamDescriptionSummary?.StreamStatus === "ACTIVE") break;
    await sleep(20);
  }
  await put(name, ...records);
  return name;
}

async function put(stream: string, ...records: string[]) {
  for (const data of records) {
    await kinesis.send(
      new PutRecordCommand({ StreamName: stream, PartitionKey: "p", Data: Buffer.from(data) }),
    );
  }
}

const decode = (e: KinesisStreamEvent) =>
  e.Records.map((r) => Buffer.from(r.kinesis.data, "base64").toString("utf8"));
const sequenceOf = (e: KinesisStreamEvent, data: string) =>
  e.Records.find((r) => Buffer.from(r.kinesis.data, "base64").toString() === data)?.kinesis
    .sequenceNumber;

/** Run a poller over `stream` until `done` holds of the batches seen (or 5 s pass). */
async function run(
  stream: string,
  handler: StreamHandler,
  settings: MappingSettings,
  done: (seen: string[][]) => boolean,
): Promise<{ seen: string[][]; events: KinesisStreamEvent[]; poller: Poller }> {
  const seen: string[][] = [];
  const events: KinesisStreamEvent[] = [];
  const started = await startPoller({
    kinesis,
    streamName: stream,
    log: () => undefined,
    retryBaseDelayMs: 1,
    consumers: {
      test: {
        settings,
        handler: async (event) => {
          seen.push(decode(event));
          events.push(event);
          return handler(event);
        },
      },
    },
  });
  poller = started;
  for (let i = 0; i < 100 && !done(seen); i++) await sleep(50);
  return { seen, events, poller: started };
}

const REPORTING: MappingSettings = { reportBatchItemFailures: true, retryAttempts: 5 };

describe("stream poller", () => {
  it("re-delivers from the first failed record, once per failure, in order", async () => {
    // Prepare
    const stream = await streamWith("r1", "r2", "r3", "r4", "r5");
    let failedOnce = false;

    // Act
    const { seen, events } = await run(
      stream,
      async (event) => {
        const r3 = sequenceOf(event, "r3");
        if (!r3 || failedOnce) return { batchItemFailures: [] };
        failedOnce = true;
        return { batchItemFailures: [{ itemIdentifier: r3 }] };
      },
      REPORTING,
      (s) => s.flat().filter((r) => r === "r5").length >= 2,
    );

    // Assess
    expect(seen).toEqual([
      ["r1", "r2", "r3", "r4", "r5"],
      ["r3", "r4", "r5"],
    ]);
    const [first] = events;
    expect(first?.Records[0]).toMatchObject({
      eventSource: "aws:kinesis",
      eventName: "aws:kinesis:record",
      eventSourceARN: expect.stringContaining(stream),
      kinesis: { partitionKey: "p", kinesisSchemaVersion: "1.0" },
    });
    const sequence = first?.Records.map((r) => BigInt(r.kinesis.sequenceNumber)) ?? [];
    expect(sequence).toEqual([...sequence].sort((a, b) => (a < b ? -1 : 1)));
  });

  it.each([
    ["an empty itemIdentifier", { itemIdentifier: "" }],
    ["a missing itemIdentifier", { id: "x" }],
    ["an itemIdentifier not in the batch", { itemIdentifier: "49000000000000000000000000000" }],
  ])("fails the whole batch on %s", async (_what, failure) => {
    // Prepare
    const stream = await streamWith("r1", "r2", "r3");
    let calls = 0;

    // Act
    const { seen } = await run(
      stream,
      async () => (++calls === 1 ? { batchItemFailures: [failure] } : {}),
      REPORTING,
      (s) => s.length >= 2,
    );

    // Assess
    expect(seen).toEqual([
      ["r1", "r2", "r3"],
      ["r1", "r2", "r3"],
    ]);
  });

  it("gives a batch up after its retries, as a dead letter with its shard and sequence range, and moves on", async () => {
    // Prepare
    const stream = await streamWith("r1", "r2");
    const settings = { ...REPORTING, batchSize: 2, retryAttempts: 2 };

    // Act: the first batch always fails; a later record must still be delivered.
    const { seen, events, poller } = await run(
      stream,
      async (event) => {
        if (decode(event).includes("r3")) return {};
        throw new Error("poison");
      },
      settings,
      (s) => s.length >= 3,
    );
    await put(stream, "r3");
    for (let i = 0; i < 100 && !seen.some((b) => b.includes("r3")); i++) await sleep(50);

    // Assess: 1 invocation + 2 retries, then r3.
    expect(seen).toEqual([["r1", "r2"], ["r1", "r2"], ["r1", "r2"], ["r3"]]);
    const [first] = events;
    const letters = poller.deadLetters();
    expect(letters.test?.count).toBe(1);
    expect(letters.test?.latest[0]).toMatchObject({
      consumer: "test",
      requestContext: { condition: "RetryAttemptsExhausted", approximateInvokeCount: 3 },
      KinesisBatchInfo: {
        shardId: expect.stringMatching(/^shardId-/),
        startSequenceNumber: first?.Records[0]?.kinesis.sequenceNumber,
        endSequenceNumber: first?.Records[1]?.kinesis.sequenceNumber,
        batchSize: 2,
        streamArn: expect.stringContaining(stream),
      },
    });
  });

  it("bisects a failing batch, spending no retry on a split, until the bad record alone is given up", async () => {
    // Prepare
    const stream = await streamWith("a", "b", "c", "bad");
    const settings = { ...REPORTING, bisectBatchOnError: true, retryAttempts: 1 };

    // Act
    const { seen, poller } = await run(
      stream,
      async (event) => {
        if (decode(event).includes("bad")) throw new Error("poison");
        return {};
      },
      settings,
      (s) => s.filter((b) => b.join() === "bad").length >= 2,
    );

    // Assess: [a b c bad] → [a b] ok, [c bad] → [c] ok, [bad] → 1 retry → dead letter.
    expect(seen).toEqual([
      ["a", "b", "c", "bad"],
      ["a", "b"],
      ["c", "bad"],
      ["c"],
      ["bad"],
      ["bad"],
    ]);
    await sleep(100);
    expect(poller.deadLetters().test).toMatchObject({
      count: 1,
      latest: [{ KinesisBatchInfo: { batchSize: 1 } }],
    });
  });

  it("sends records older than the maximum age to the on-failure destination without invoking", async () => {
    // Prepare
    const stream = await streamWith("old1", "old2");
    await sleep(1200);

    // Act
    const { seen, poller } = await run(
      stream,
      async () => ({}),
      { ...REPORTING, maxRecordAgeS: 1 },
      () => true,
    ).then(async (r) => {
      await put(stream, "new");
      for (let i = 0; i < 100 && !r.seen.some((b) => b.includes("new")); i++) await sleep(50);
      return r;
    });

    // Assess
    expect(seen).toEqual([["new"]]);
    expect(poller.deadLetters().test).toMatchObject({
      count: 1,
      latest: [
        { requestContext: { condition: "RecordAgeExceeded" }, KinesisBatchInfo: { batchSize: 2 } },
      ],
    });
  });

  it("gathers records for the batching window before invoking", async () => {
    // Prepare
    const stream = await streamWith("r1");
    const invokedAt: number[] = [];
    const started = Date.now();

    // Act: r2 comes 300 ms after r1, within the 1 s window.
    const running = run(
      stream,
      async () => {
        invokedAt.push(Date.now() - started);
        return {};
      },
      { ...REPORTING, maxBatchingWindowS: 1 },
      (s) => s.flat().includes("r2"),
    );
    await sleep(300);
    await put(stream, "r2");
    const { seen } = await running;

    // Assess
    expect(seen).toEqual([["r1", "r2"]]);
    expect(invokedAt[0]).toBeGreaterThanOrEqual(900);
  });
});
