// The dependencies of the WebSocket session routes, wired for production.
import type { SessionDeps } from "./app/session.ts";
import { friendshipsRepo, now, publisher, redisStore, tunables } from "./wiring.ts";

const tunablesAtStart = tunables();
const publisherAtStart = publisher();
const friendsAtStart = friendshipsRepo();

export async function sessionDeps(): Promise<SessionDeps> {
  return {
    store: await redisStore(),
    publisher: publisherAtStart,
    friends: friendsAtStart,
    tunables: tunablesAtStart,
    now,
  };
}
