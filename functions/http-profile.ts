// HTTP API: the caller's profile (GET /me, PUT /me).
import { getProfile, updateProfile } from "./app/friends.ts";
import { profileUpdateSchema } from "./domain/profile.ts";
import { httpApi, json, parseBody } from "./middleware/http.ts";
import { requestGate, usersRepo } from "./wiring.ts";

const deps = { users: usersRepo() };

export const handler = httpApi(
  {
    "GET /me": async ({ userId }) => json(200, await getProfile(deps, userId)),
    "PUT /me": async (event) =>
      json(
        200,
        await updateProfile(deps, event.userId, parseBody(event, profileUpdateSchema).displayName),
      ),
  },
  requestGate,
);
