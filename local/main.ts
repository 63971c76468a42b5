// `npm start`: runs the whole system on this machine, on 127.0.0.1, until SIGINT or SIGTERM.
import { PortInUseError } from "./ports.ts";
import { REDIS_MISSING } from "./redis-server.ts";
import { type LocalStack, startLocalStack } from "./stack.ts";

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`${name} must be a port number (0-65535), got "${raw}"`);
    process.exit(2);
  }
  return n;
}

const started = performance.now();
let stack: LocalStack;
try {
  stack = await startLocalStack({
    httpPort: port("HTTP_PORT", 4000),
    wsPort: port("WS_PORT", 4001),
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
    `  Redis      ${stack.redisUrl}`,
    `  Processes  gateway ${stack.processes.gateway}, functions ${stack.processes.functions}, emulators ${stack.processes.emulators}, consumers ${stack.processes.consumers}`,
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
