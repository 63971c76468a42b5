// ping: keep-alive and clock offset. Rate-limited like every route, so it needs Redis too.
import { reply, wsRoute } from "./middleware/ws.ts";
import { frameGate } from "./wiring.ts";

export const handler = wsRoute("ping", frameGate, async ({ frame }) =>
  reply("pong", frame.requestId, { serverTime: Date.now() }),
);
