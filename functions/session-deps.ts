// The dependencies of the WebSocket session routes, wired for production.
import type { SessionDeps } from "./app/session.ts";
import { friendshipsRepo, now, publisher, redisStore, tunables, usersRepo } from "./wiring.ts";

const tunablesAtStart = tunables();
const publisherAtStart = publisher();
const friendsAtStart = friendshipsRepo();
const usersAtStart = usersRepo();

export async function sessionDeps(): Promise<SessionDeps> {
  const store = await redisStore();
  return {
    store,
    publisher: publisherAtStart,
    friends: friendsAtStart,
    settings: { users: usersAtStart, cache: store },
    tunables: tunablesAtStart,
    now,
  };
}
