// The expiry timer's target (AWS: the share-expiry workflow's last step, at the link's expiresAt):
// the link's viewers are sent `shareEnded` and closed. The link item itself goes by the table's TTL.
import middy from "@middy/core";
import { z } from "zod";
import { endShareLink } from "./app/share-links.ts";
import { validated } from "./middleware/http.ts";
import { observe } from "./middleware/observability.ts";
import { shareEndWiring } from "./wiring.ts";

const deps = shareEndWiring();

const expirySchema = z.object({
  userId: z.string({ error: "userId is required" }).min(1),
  linkId: z.string({ error: "linkId is required" }).min(1),
});

const expire = async (event: unknown): Promise<{ ended: number }> => {
  const { userId, linkId } = validated(expirySchema, event, "the expiry event is invalid");
  return { ended: await endShareLink(await deps(), userId, linkId) };
};

export const handler = middy(expire).use(observe());
