// HTTP API: the caller's sharing settings (GET /me/settings, PUT /me/settings).
import { reviewCadences } from "./app/cadence.ts";
import { republishLocation } from "./app/location.ts";
import { getSettings, updateSettings } from "./app/settings.ts";
import { settingsUpdateSchema } from "./domain/settings.ts";
import { httpApi, json, parseBody } from "./middleware/http.ts";
import { cadenceWiring, positionWiring, requestGate } from "./wiring.ts";

const deps = positionWiring();
const cadence = cadenceWiring();

export const handler = httpApi(
  {
    "GET /me/settings": async ({ userId }) =>
      json(200, await getSettings((await deps()).settings, userId)),
    "PUT /me/settings": async (event) => {
      const update = parseBody(event, settingsUpdateSchema);
      const [d, c] = await Promise.all([deps(), cadence()]);
      const settings = await updateSettings(
        {
          ...d.settings,
          republish: async (u) => void (await republishLocation(d, u)),
          reviewCadence: async (u) => void (await reviewCadences(c, [u])),
        },
        event.userId,
        update,
      );
      return json(200, settings);
    },
  },
  requestGate,
);
