// HTTP API: the caller's sharing settings (GET /me/settings, PUT /me/settings).
import { republishLocation } from "./app/location.ts";
import { getSettings, updateSettings } from "./app/settings.ts";
import { settingsUpdateSchema } from "./domain/settings.ts";
import { httpRoutes, json, parseBody } from "./edge/http.ts";
import { now, publisher, redisStore, tunables, usersRepo } from "./wiring.ts";

const usersAtStart = usersRepo();
const publisherAtStart = publisher();
const tunablesAtStart = tunables();

export const handler = httpRoutes({
  "GET /me/settings": async ({ userId }) => {
    const store = await redisStore();
    return json(200, await getSettings({ users: usersAtStart, cache: store }, userId));
  },
  "PUT /me/settings": async ({ userId, event }) => {
    const update = parseBody(event, settingsUpdateSchema);
    const store = await redisStore();
    const settings = await updateSettings(
      {
        users: usersAtStart,
        cache: store,
        republish: async (u) => {
          await republishLocation(
            { store, publisher: publisherAtStart, tunables: tunablesAtStart, now },
            u,
          );
        },
      },
      userId,
      update,
    );
    return json(200, settings);
  },
});
