// $connect: record the authorized user's new connection, or a share-link viewer's (capped per link;
// the shared user's state is then published again for the viewer, and, watched now, their
// reporting cadence decided again).
import { connect } from "./app/session.ts";
import { connectViewer } from "./app/share-links.ts";
import { wsLifecycle } from "./middleware/ws.ts";
import { cadenceReviewer, sessionWiring, viewerWiring } from "./wiring.ts";

const deps = sessionWiring();
const viewerDeps = viewerWiring();
const reviewCadences = cadenceReviewer();

export const handler = wsLifecycle(
  "$connect",
  async ({ caller }) => connect(await deps(), caller.userId, caller.connectionId),
  async ({ viewer }) => {
    await connectViewer(await viewerDeps(), viewer, viewer.connectionId);
    await reviewCadences([viewer.sharedUserId]);
  },
);
