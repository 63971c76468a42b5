// The emulators' process (forked by stack.ts): dynalite and kinesalite on the ports it is given
// (argv: shards, DynamoDB port, Kinesis port), with the tables and the stream created, off the
// gateway's event loop. Reports ready once both answer.
import { runAsChild } from "./child-process.ts";
import { type EmulatorEndpoints, startEmulators } from "./emulators.ts";

runAsChild<EmulatorEndpoints>(async () => {
  const [shards = 2, dynamodb = 0, kinesis = 0] = process.argv.slice(2).map(Number);
  const { stop, ...endpoints } = await startEmulators(shards, { dynamodb, kinesis });
  return { info: endpoints, stop };
});
