// HTTP API: the caller's profile (GET /me, PUT /me).
import { z } from "zod";
import { getProfile, updateProfile } from "./app/friends.ts";
import { httpApi, json, parseBody } from "./middleware/http.ts";
import { usersRepo } from "./wiring.ts";

const deps = { users: usersRepo() };

const profileBody = z.object({
  displayName: z
    .string({ error: "displayName must be a string of 1-64 characters" })
    .trim()
    .min(1, { error: "displayName must be a string of 1-64 characters" })
    .max(64, { error: "displayName must be a string of 1-64 characters" }),
});

export const handler = httpApi({
  "GET /me": async ({ userId }) => json(200, await getProfile(deps, userId)),
  "PUT /me": async (event) =>
    json(200, await updateProfile(deps, event.userId, parseBody(event, profileBody).displayName)),
});
