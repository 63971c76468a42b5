// ping: keep-alive and clock offset. Rate-limited like every route, so it needs Redis too.
import { reply, wsRoute } from "./middleware/ws.ts";
import { rateLimiter } from "./wiring.ts";

export const handler = wsRoute("ping", rateLimiter, async ({ frame }) =>
  reply("pong", frame.requestId, { serverTime: Date.now() }),
);
