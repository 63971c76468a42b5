// HTTP API: blocks (POST /blocks, GET /blocks, DELETE /blocks/{userId}).
import { z } from "zod";
import { block, listBlocks, unblock } from "./app/blocks.ts";
import { reviewCadences } from "./app/cadence.ts";
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

const cadence = cadenceWiring();
const base = {
  users: usersRepo(),
  friendships: friendshipsRepo(),
  blocks: blocksRepo(),
  notifier: notifier(),
  now,
  // Ending a friendship: each of the two lost a watcher.
  reviewCadences: async (userIds: readonly string[]) =>
    void (await reviewCadences(await cadence(), userIds)),
};
// Ending a friendship stops the two following each other in Redis (connected on first use).
const deps = async () => ({ ...base, audience: (await redis()).audience });

const blockBody = z.object({ userId: userIdSchema("userId") });

export const handler = httpApi(
  {
    "POST /blocks": async (event) => {
      await block(await deps(), event.userId, parseBody(event, blockBody).userId);
      return json(204);
    },
    "GET /blocks": async ({ userId }) => json(200, await listBlocks(await deps(), userId)),
    "DELETE /blocks/{userId}": async (event) => {
      await unblock(await deps(), event.userId, userIdParam(event));
      return json(204);
    },
  },
  requestGate,
);
