// location: a periodic position update; no reply on success.
import { recordLocation } from "./app/location.ts";
import { wsRoute } from "./middleware/ws.ts";
import { frameGate, sessionWiring } from "./wiring.ts";

const deps = sessionWiring();

export const handler = wsRoute("location", frameGate, async ({ frame, caller }) => {
  await recordLocation(await deps(), { ...frame, ...caller });
  return { statusCode: 200 };
});
