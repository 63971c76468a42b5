// `npm start`: runs the whole system on this machine, on 127.0.0.1, until SIGINT or SIGTERM.
import { gatewayOptionsFromEnv } from "./gateway-options.ts";
import { PortInUseError } from "./ports.ts";
import { REDIS_MISSING } from "./redis-server.ts";
import { LOCAL_SHARDS, type LocalStack, startLocalStack } from "./stack.ts";

function integer(name: string, fallback: number, min: number, max: number, what: string): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`${name} must be ${what} (${min}-${max}), got "${raw}"`);
    process.exit(2);
  }
  return n;
}
const port = (name: string, fallback: number) => integer(name, fallback, 0, 65535, "a port number");

try {
  gatewayOptionsFromEnv();
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}

const started = performance.now();
let stack: LocalStack;
try {
  stack = await startLocalStack({
    httpPort: port("HTTP_PORT", 4000),
    wsPort: port("WS_PORT", 4001),
    functionsProcesses: integer("FUNCTIONS_PROCESSES", 2, 1, 16, "a number of processes"),
    shards: integer("STREAM_SHARDS", LOCAL_SHARDS, 1, 16, "a number of shards"),
  });
} catch (err) {
  const message =
    err instanceof PortInUseError || (err as Error).message === REDIS_MISSING
      ? (err as Error).message
      : `the local stack failed to start: ${(err as Error).stack ?? String(err)}`;
  console.error(message);
  process.exit(1);
}

console.log(
  [
    `Nearby Friends local stack ready in ${Math.round(performance.now() - started)} ms`,
    `  HTTP API   ${stack.httpUrl}   (GET /health, POST /dev/token)`,
    `  WebSocket  ${stack.wsUrl}/?token=<jwt>`,
    `  Live map   ${stack.httpUrl}/map?as=<userId>   (npm run simulate: users sim-1, sim-2, …)`,
    `  Redis      ${stack.redisUrl}`,
    `  Processes  gateway ${stack.processes.gateway}, functions ${stack.processes.functions.join(" ")}, emulators ${stack.processes.emulators.join(" ")}, consumers ${stack.processes.consumers.join(" ")}`,
    "Ctrl+C to stop.",
  ].join("\n"),
);

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping`);
  await stack.stop();
  process.exit(0);
};
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
