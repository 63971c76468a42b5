// init: announce the position, follow every friend, reply with the nearby-friends snapshot.
import { init } from "./app/session.ts";
import { reply, wsRoute } from "./middleware/ws.ts";
import { frameGate, sessionWithCadenceWiring } from "./wiring.ts";

const deps = sessionWithCadenceWiring();

export const handler = wsRoute("init", frameGate, async ({ frame, caller }) =>
  reply("init", frame.requestId, await init(await deps(), { ...frame, ...caller })),
);
