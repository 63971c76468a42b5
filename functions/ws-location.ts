// location: a periodic position update; no reply on success. Shed when it waited too long for
// this handler (middleware/late-frames.ts).
import { recordLocation } from "./app/location.ts";
import { wsRoute } from "./middleware/ws.ts";
import { frameGate, now, sessionWiring, tunables } from "./wiring.ts";

const deps = sessionWiring();

export const handler = wsRoute(
  "location",
  frameGate,
  async ({ frame, caller }) => {
    await recordLocation(await deps(), { ...frame, ...caller });
    return { statusCode: 200 };
  },
  { shedLate: { maxWaitMs: tunables().locationMaxWaitMs, now } },
);
