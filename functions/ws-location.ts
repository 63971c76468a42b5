// location: a periodic position update; no reply on success.
import { recordLocation } from "./app/location.ts";
import { wsRoute } from "./edge/ws.ts";
import { sessionDeps } from "./session-deps.ts";
import { rateLimiter } from "./wiring.ts";

export const handler = wsRoute(
  "location",
  async (frame, { userId, connectionId }) => {
    await recordLocation(await sessionDeps(), { ...frame, userId, connectionId });
    return undefined;
  },
  { rateLimiter },
);
