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
import { httpApi, json, parseBody, userIdParam } from "./middleware/http.ts";
import { relationsWiring, requestGate } from "./wiring.ts";

const deps = relationsWiring();

const requestBody = z.object({ userId: userIdSchema("userId") });

export const handler = httpApi(
  {
    "POST /friends/requests": async (event) => {
      const out = await requestFriend(
        await deps(),
        event.userId,
        parseBody(event, requestBody).userId,
      );
      return json(out.created ? 201 : 200, { status: out.status });
    },
    "GET /friends/requests": async ({ userId }) =>
      json(200, await listRequests(await deps(), userId)),
    "POST /friends/requests/{userId}/accept": async (event) =>
      json(200, await acceptRequest(await deps(), event.userId, userIdParam(event))),
    "DELETE /friends/requests/{userId}": async (event) => {
      await removeRequest(await deps(), event.userId, userIdParam(event));
      return json(204);
    },
    "GET /friends": async ({ userId }) => json(200, await listFriends(await deps(), userId)),
    "DELETE /friends/{userId}": async (event) => {
      await unfriend(await deps(), event.userId, userIdParam(event));
      return json(204);
    },
  },
  requestGate,
);
