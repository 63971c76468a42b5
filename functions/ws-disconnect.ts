// $disconnect: forget the connection; the user's last one going tells friends the user is offline.
// A failure is logged and rethrown: nobody is left to tell, the connection keys expire and the
// fan-out prunes the rest.
import { disconnect } from "./app/session.ts";
import { wsLifecycle } from "./middleware/ws.ts";
import { sessionWithCadenceWiring } from "./wiring.ts";

const deps = sessionWithCadenceWiring();

export const handler = wsLifecycle("$disconnect", async ({ caller }) =>
  disconnect(await deps(), caller.userId, caller.connectionId),
);
