// An emulator's process (forked by stack.ts, one per emulator): dynalite or kinesalite on the port
// it is given, with the tables or the stream created, off the gateway's event loop. Reports ready
// once it answers. argv: `dynamodb <port>` or `kinesis <port> <shards>`.
import { runAsChild } from "./child-process.ts";
import { startDynamo, startKinesis } from "./emulators.ts";

export type EmulatorKind = "dynamodb" | "kinesis";

runAsChild<{ endpoint: string }>(async () => {
  const [kind, port = "0", shards = "1"] = process.argv.slice(2);
  if (kind !== "dynamodb" && kind !== "kinesis") throw new Error(`unknown emulator "${kind}"`);
  const { stop, endpoint } =
    kind === "dynamodb"
      ? await startDynamo(Number(port))
      : await startKinesis(Number(shards), Number(port));
  return { info: { endpoint }, stop };
});
