// HTTP API: the caller's location history (GET /me/history, DELETE /me/history).
import { z } from "zod";
import { eraseHistory, queryHistory } from "./app/history.ts";
import { InvalidRequestError } from "./domain/errors.ts";
import { httpRoutes, json } from "./edge/http.ts";
import { historyRepo, now, publisher, redisStore } from "./wiring.ts";

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

export const handler = httpRoutes({
  "GET /me/history": async ({ userId, event }) => {
    const parsed = querySchema.safeParse(event.queryStringParameters ?? {});
    if (!parsed.success)
      throw new InvalidRequestError(parsed.error.issues[0]?.message ?? "invalid query");
    const q = parsed.data;
    return json(200, await queryHistory(deps, userId, { ...q, limit: q.limit ?? 100 }));
  },
  "DELETE /me/history": async ({ userId }) => {
    await eraseHistory(
      { ...deps, store: await redisStore(), publisher: publisherAtStart, now },
      userId,
    );
    return json(204);
  },
});
