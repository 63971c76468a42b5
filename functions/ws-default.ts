// $default: frames that are not JSON, too large, or name no known action (rate-limited first).
import { wsDefaultRoute } from "./middleware/ws.ts";
import { frameGate } from "./wiring.ts";

export const handler = wsDefaultRoute(frameGate);
