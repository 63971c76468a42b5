// unsubscribe: stop following one friend.
import { unsubscribe } from "./app/session.ts";
import { reply, wsRoute } from "./middleware/ws.ts";
import { frameGate, sessionWithCadenceWiring } from "./wiring.ts";

const deps = sessionWithCadenceWiring();

export const handler = wsRoute("unsubscribe", frameGate, async ({ frame, caller }) => {
  await unsubscribe(await deps(), caller.userId, caller.connectionId, frame.friendId);
  return reply("unsubscribed", frame.requestId, { friendId: frame.friendId });
});
