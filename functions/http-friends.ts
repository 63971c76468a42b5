// HTTP API: friend requests and friendships.
import { z } from "zod";
import { reviewCadences } from "./app/cadence.ts";
import {
  acceptRequest,
  listFriends,
  listRequests,
  removeRequest,
  requestFriend,
  unfriend,
} from "./app/friends.ts";
import { userIdSchema } from "./domain/frames.ts";
import { httpApi, json, parseBody, userIdParam } from "./middleware/http.ts";
import {
  blocksRepo,
  cadenceWiring,
  friendshipsRepo,
  notifier,
  now,
  redis,
  requestGate,
  usersRepo,
} from "./wiring.ts";

const deps = { users: usersRepo(), friendships: friendshipsRepo(), blocks: blocksRepo(), now };
const notifierAtStart = notifier();
const cadence = cadenceWiring();

const requestBody = z.object({ userId: userIdSchema("userId") });

export const handler = httpApi(
  {
    "POST /friends/requests": async (event) => {
      const out = await requestFriend(deps, event.userId, parseBody(event, requestBody).userId);
      return json(out.created ? 201 : 200, { status: out.status });
    },
    "GET /friends/requests": async ({ userId }) => json(200, await listRequests(deps, userId)),
    "POST /friends/requests/{userId}/accept": async (event) =>
      json(200, await acceptRequest(deps, event.userId, userIdParam(event))),
    "DELETE /friends/requests/{userId}": async (event) => {
      await removeRequest(deps, event.userId, userIdParam(event));
      return json(204);
    },
    "GET /friends": async ({ userId }) => json(200, await listFriends(deps, userId)),
    "DELETE /friends/{userId}": async (event) => {
      const { audience } = await redis();
      await unfriend(
        {
          ...deps,
          audience,
          notifier: notifierAtStart,
          // Each of the two lost a watcher.
          reviewCadences: async (userIds) => void (await reviewCadences(await cadence(), userIds)),
        },
        event.userId,
        userIdParam(event),
      );
      return json(204);
    },
  },
  requestGate,
);
