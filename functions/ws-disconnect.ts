// $disconnect: forget the connection; the user's last one going tells friends the user is offline.
// A share-link viewer's connection leaves its shared user's viewers. A failure is logged and
// rethrown: nobody is left to tell, the connection keys expire and the fan-out prunes the rest.
import { disconnect } from "./app/session.ts";
import { disconnectViewer } from "./app/share-links.ts";
import { wsLifecycle } from "./middleware/ws.ts";
import { redis, sessionWiring } from "./wiring.ts";

const deps = sessionWiring();

export const handler = wsLifecycle(
  "$disconnect",
  async ({ caller }) => disconnect(await deps(), caller.userId, caller.connectionId),
  async ({ viewer }) =>
    disconnectViewer({ viewers: (await redis()).shareViewers }, viewer, viewer.connectionId),
);
