// $disconnect: forget the connection; the user's last one going tells friends the user is offline.
import { disconnect } from "./app/session.ts";
import { describeError, log } from "./edge/log.ts";
import { callerOf, type WsEvent, type WsResult } from "./edge/ws.ts";
import { sessionDeps } from "./session-deps.ts";

export const handler = async (event: WsEvent): Promise<WsResult> => {
  const { userId, connectionId } = callerOf(event);
  try {
    await disconnect(await sessionDeps(), userId, connectionId);
  } catch (err) {
    // Nobody is left to tell; the connection keys expire and the fan-out prunes the rest.
    log.error("disconnect cleanup failed", { userId, connectionId, ...describeError(err) });
    throw err;
  }
  return { statusCode: 200 };
};
