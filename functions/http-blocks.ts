// HTTP API: blocks (POST /blocks, GET /blocks, DELETE /blocks/{userId}).
import { z } from "zod";
import { block, listBlocks, unblock } from "./app/blocks.ts";
import { userIdSchema } from "./domain/frames.ts";
import { httpApi, json, parseBody, userIdParam } from "./middleware/http.ts";
import { relationsWiring, requestGate } from "./wiring.ts";

const deps = relationsWiring();

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
