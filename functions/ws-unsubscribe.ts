// unsubscribe: stop following one friend.
import { unsubscribe } from "./app/session.ts";
import { wsRoute } from "./edge/ws.ts";
import { sessionDeps } from "./session-deps.ts";
import { rateLimiter } from "./wiring.ts";

export const handler = wsRoute(
  "unsubscribe",
  async (frame, { userId, connectionId }) => {
    await unsubscribe(await sessionDeps(), userId, connectionId, frame.friendId);
    return { type: "unsubscribed", friendId: frame.friendId };
  },
  { rateLimiter },
);
