// The functions' process (forked by stack.ts): every handler the two APIs invoke (the authorizer,
// the WebSocket routes, the HTTP routes), apart from the gateway's I/O as Lambda runs apart from
// API Gateway. Invocations arrive over IPC and run concurrently, each with a context of its own.
import { AUTHORIZER_ENTRY, HTTP_ROUTES, WS_ROUTES } from "../functions/routes.ts";
import { runAsChild } from "./child-process.ts";
import { loadHandler } from "./lambda-context.ts";

/**
 * What the gateway's process asks: an invocation, (POST /dev/token) a user created if missing, or
 * (GET /dev/position) a user's stored position, null when they have none.
 */
export type FunctionsRequest =
  | { op: "invoke"; entry: string; event: unknown }
  | { op: "create-user"; userId: string; displayName: string }
  | { op: "position"; userId: string };

type Handler = (event: unknown) => Promise<unknown>;

runAsChild(async () => {
  // The handler modules read their configuration at import, as at a Lambda cold start.
  const handlers = new Map<string, Handler>();
  const entries = [...Object.values(WS_ROUTES), ...Object.values(HTTP_ROUTES), AUTHORIZER_ENTRY];
  for (const entry of new Set<string>(entries))
    handlers.set(entry, await loadHandler<Handler>(entry));
  const { redis, usersRepo } = await import("../functions/wiring.ts");
  const { closeSharedRedis } = await import("../functions/adapters/redis/client.ts");
  const serve = async (request: unknown): Promise<unknown> => {
    const r = request as FunctionsRequest;
    if (r.op === "create-user") {
      await usersRepo().createIfMissing({ userId: r.userId, displayName: r.displayName });
      return null;
    }
    if (r.op === "position") {
      const positions = await (await redis()).positions.positions([r.userId]);
      return positions.get(r.userId) ?? null;
    }
    const handler = handlers.get(r.entry);
    if (!handler) throw new Error(`no function ${r.entry}`);
    return handler(r.event);
  };
  // Stopped after the gateway, whose last $disconnect invocations have been answered by then.
  return { info: {}, serve, stop: closeSharedRedis };
});
