// HTTP API: the caller's live share links (POST /share-links, GET /share-links,
// DELETE /share-links/{id}).
import { createShareLink, listShareLinks, revokeShareLink } from "./app/share-links.ts";
import { shareLinkCreateSchema } from "./domain/share-links.ts";
import { httpApi, json, parseBody } from "./middleware/http.ts";
import { requestGate, shareLinksWiring, shareMinExpiresS } from "./wiring.ts";

const deps = shareLinksWiring();
const createSchema = shareLinkCreateSchema(shareMinExpiresS());

export const handler = httpApi(
  {
    "POST /share-links": async (event) => {
      const input = parseBody(event, createSchema);
      return json(201, await createShareLink(await deps(), event.userId, input));
    },
    "GET /share-links": async ({ userId }) =>
      json(200, { links: await listShareLinks(await deps(), userId) }),
    "DELETE /share-links/{id}": async (event) => {
      await revokeShareLink(await deps(), event.userId, event.pathParameters?.id ?? "");
      return json(204);
    },
  },
  requestGate,
);
