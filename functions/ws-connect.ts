// $connect: record the authorized user's new connection.
import { connect } from "./app/session.ts";
import { wsLifecycle } from "./middleware/ws.ts";
import { sessionWiring } from "./wiring.ts";

const deps = sessionWiring();

export const handler = wsLifecycle("$connect", async ({ caller }) =>
  connect(await deps(), caller.userId, caller.connectionId),
);
