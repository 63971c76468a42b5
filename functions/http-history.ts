// HTTP API: the caller's location history (GET /me/history, DELETE /me/history).
import { z } from "zod";
import { eraseHistory, queryHistory } from "./app/history.ts";
import { httpApi, json, validated } from "./middleware/http.ts";
import { historyRepo, now, publisher, redis, requestGate } from "./wiring.ts";

const deps = { history: historyRepo() };
const publisherAtStart = publisher();

const epochMs = (field: string) =>
  z
    .string()
    .regex(/^\d{1,13}$/, { error: `${field} must be a timestamp in epoch milliseconds` })
    .transform(Number)
    .optional();

const querySchema = z.object({
  from: epochMs("from"),
  to: epochMs("to"),
  limit: z
    .string()
    .regex(/^\d+$/, { error: "limit must be an integer between 1 and 500" })
    .transform(Number)
    .refine((n) => n >= 1 && n <= 500, { error: "limit must be an integer between 1 and 500" })
    .optional(),
  cursor: z.string().max(512, { error: "cursor is not a cursor this server issued" }).optional(),
});

export const handler = httpApi(
  {
    "GET /me/history": async (event) => {
      const q = validated(querySchema, event.queryStringParameters ?? {}, "invalid query");
      return json(200, await queryHistory(deps, event.userId, { ...q, limit: q.limit ?? 100 }));
    },
    "DELETE /me/history": async ({ userId }) => {
      const { positions } = await redis();
      await eraseHistory({ ...deps, positions, publisher: publisherAtStart, now }, userId);
      return json(204);
    },
  },
  requestGate,
);
