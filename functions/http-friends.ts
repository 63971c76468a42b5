// HTTP API: friend requests and friendships.
import { z } from "zod";
import {
  acceptRequest,
  listFriends,
  listRequests,
  removeRequest,
  requestFriend,
  unfriend,
} from "./app/friends.ts";
import { userIdSchema } from "./domain/frames.ts";
import { httpRoutes, json, parseBody, userIdParam } from "./edge/http.ts";
import { friendshipsRepo, notifier, now, redisStore, usersRepo } from "./wiring.ts";

const deps = { users: usersRepo(), friendships: friendshipsRepo(), now };
const notifierAtStart = notifier();

const requestBody = z.object({ userId: userIdSchema("userId") });

export const handler = httpRoutes({
  "POST /friends/requests": async ({ userId, event }) => {
    const out = await requestFriend(deps, userId, parseBody(event, requestBody).userId);
    return json(out.created ? 201 : 200, { status: out.status });
  },
  "GET /friends/requests": async ({ userId }) => json(200, await listRequests(deps, userId)),
  "POST /friends/requests/{userId}/accept": async ({ userId, event }) =>
    json(200, await acceptRequest(deps, userId, userIdParam(event))),
  "DELETE /friends/requests/{userId}": async ({ userId, event }) => {
    await removeRequest(deps, userId, userIdParam(event));
    return json(204);
  },
  "GET /friends": async ({ userId }) => json(200, await listFriends(deps, userId)),
  "DELETE /friends/{userId}": async ({ userId, event }) => {
    await unfriend(
      { ...deps, store: await redisStore(), notifier: notifierAtStart },
      userId,
      userIdParam(event),
    );
    return json(204);
  },
});
