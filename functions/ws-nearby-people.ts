// nearbyPeople: discoverable strangers near the caller, at their approximate positions.
import { nearbyPeople } from "./app/people.ts";
import { reply, wsRoute } from "./middleware/ws.ts";
import { frameGate, peopleWiring } from "./wiring.ts";

const deps = peopleWiring();

export const handler = wsRoute("nearbyPeople", frameGate, async ({ frame, caller }) =>
  reply("nearbyPeople", frame.requestId, {
    people: await nearbyPeople(await deps(), caller.userId, frame.limit),
  }),
);
