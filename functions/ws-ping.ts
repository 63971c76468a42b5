// ping: keep-alive and clock offset.
import { wsRoute } from "./edge/ws.ts";
import { now } from "./wiring.ts";

export const handler = wsRoute("ping", async () => ({ type: "pong", serverTime: now() }));
