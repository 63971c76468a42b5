// subscribe: follow one friend.
import { subscribe } from "./app/session.ts";
import { reply, wsRoute } from "./middleware/ws.ts";
import { frameGate, sessionWithCadenceWiring } from "./wiring.ts";

const deps = sessionWithCadenceWiring();

export const handler = wsRoute("subscribe", frameGate, async ({ frame, caller }) =>
  reply("subscribed", frame.requestId, {
    friendId: frame.friendId,
    friend: await subscribe(await deps(), caller.userId, caller.connectionId, frame.friendId),
  }),
);
