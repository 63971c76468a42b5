// HTTP API: the caller's sharing settings (GET /me/settings, PUT /me/settings).
import { republishLocation } from "./app/location.ts";
import { getSettings, updateSettings } from "./app/settings.ts";
import { settingsUpdateSchema } from "./domain/settings.ts";
import { httpApi, json, parseBody } from "./middleware/http.ts";
import { cadenceReviewer, positionWiring, requestGate } from "./wiring.ts";

const deps = positionWiring();
const reviewCadences = cadenceReviewer();

export const handler = httpApi(
  {
    "GET /me/settings": async ({ userId }) =>
      json(200, await getSettings((await deps()).settings, userId)),
    "PUT /me/settings": async (event) => {
      const update = parseBody(event, settingsUpdateSchema);
      const d = await deps();
      const settings = await updateSettings(
        {
          ...d.settings,
          republish: async (u) => void (await republishLocation(d, u)),
          reviewCadences,
        },
        event.userId,
        update,
      );
      return json(200, settings);
    },
  },
  requestGate,
);
