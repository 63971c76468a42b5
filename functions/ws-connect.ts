// $connect: record the authorized user's new connection.
import { connect } from "./app/session.ts";
import { describeError, log } from "./edge/log.ts";
import { callerOf, type WsEvent, type WsResult } from "./edge/ws.ts";
import { sessionDeps } from "./session-deps.ts";

export const handler = async (event: WsEvent): Promise<WsResult> => {
  try {
    const { userId, connectionId } = callerOf(event);
    await connect(await sessionDeps(), userId, connectionId);
    return { statusCode: 200 };
  } catch (err) {
    log.error("connect failed", describeError(err));
    return { statusCode: 500 };
  }
};
