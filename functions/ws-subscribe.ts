// subscribe: follow one friend.
import { subscribe } from "./app/session.ts";
import { wsRoute } from "./edge/ws.ts";
import { sessionDeps } from "./session-deps.ts";
import { rateLimiter } from "./wiring.ts";

export const handler = wsRoute(
  "subscribe",
  async (frame, { userId, connectionId }) => ({
    type: "subscribed",
    friendId: frame.friendId,
    friend: await subscribe(await sessionDeps(), userId, connectionId, frame.friendId),
  }),
  { rateLimiter },
);
