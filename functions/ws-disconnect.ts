// $disconnect: forget the connection; the user's last one going tells friends the user is offline.
// A share-link viewer's connection leaves its shared user's viewers (whose cadence is decided
// again). A failure is logged and rethrown: nobody is left to tell, the connection keys expire and
// the fan-out prunes the rest.
import { reviewCadences } from "./app/cadence.ts";
import { disconnect } from "./app/session.ts";
import { disconnectViewer } from "./app/share-links.ts";
import { wsLifecycle } from "./middleware/ws.ts";
import { redis, sessionWithCadenceWiring } from "./wiring.ts";

const deps = sessionWithCadenceWiring();

export const handler = wsLifecycle(
  "$disconnect",
  async ({ caller }) => disconnect(await deps(), caller.userId, caller.connectionId),
  async ({ viewer }) => {
    await disconnectViewer({ viewers: (await redis()).shareViewers }, viewer, viewer.connectionId);
    await reviewCadences((await deps()).cadence, [viewer.sharedUserId]);
  },
);
