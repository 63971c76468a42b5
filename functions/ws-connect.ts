// $connect: record the authorized user's new connection, or a share-link viewer's (capped per link;
// the shared user's state is then published again for the viewer).
import { connect } from "./app/session.ts";
import { connectViewer } from "./app/share-links.ts";
import { wsLifecycle } from "./middleware/ws.ts";
import { sessionWiring, viewerWiring } from "./wiring.ts";

const deps = sessionWiring();
const viewerDeps = viewerWiring();

export const handler = wsLifecycle(
  "$connect",
  async ({ caller }) => connect(await deps(), caller.userId, caller.connectionId),
  async ({ viewer }) => connectViewer(await viewerDeps(), viewer, viewer.connectionId),
);
