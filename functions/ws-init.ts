// init: announce the position, follow every friend, reply with the nearby-friends snapshot.
import { init } from "./app/session.ts";
import { wsRoute } from "./edge/ws.ts";
import { sessionDeps } from "./session-deps.ts";
import { rateLimiter } from "./wiring.ts";

export const handler = wsRoute(
  "init",
  async (frame, { userId, connectionId }) => ({
    type: "init",
    ...(await init(await sessionDeps(), { ...frame, userId, connectionId })),
  }),
  { rateLimiter },
);
