// nearbyFriends: the next page of the snapshot.
import { nextPage } from "./app/session.ts";
import { wsRoute } from "./edge/ws.ts";
import { sessionDeps } from "./session-deps.ts";
import { rateLimiter } from "./wiring.ts";

export const handler = wsRoute(
  "nearbyFriends",
  async (frame, { userId }) => ({
    type: "nearbyFriends",
    ...(await nextPage(await sessionDeps(), userId, frame.cursor, frame.limit)),
  }),
  { rateLimiter },
);
