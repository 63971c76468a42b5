// ping: keep-alive and clock offset. Imports nothing else, so the function stays small.
import { wsRoute } from "./edge/ws.ts";

export const handler = wsRoute("ping", async () => ({ type: "pong", serverTime: Date.now() }));
