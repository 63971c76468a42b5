// nearbyFriends: the next page of the snapshot.
import { nextPage } from "./app/session.ts";
import { reply, wsRoute } from "./middleware/ws.ts";
import { frameGate, sessionWiring } from "./wiring.ts";

const deps = sessionWiring();

export const handler = wsRoute("nearbyFriends", frameGate, async ({ frame, caller }) =>
  reply(
    "nearbyFriends",
    frame.requestId,
    await nextPage(await deps(), caller.userId, frame.cursor, frame.limit),
  ),
);
