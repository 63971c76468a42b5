// DynamoDB adapter of the share-links table (docs/ARCHITECTURE.md, "Share links"): a user's links
// live in MAX_ACTIVE_LINKS_PER_USER numbered slots of the user's partition (`userId`, `slot`), so
// the cap is one conditional write (a slot is free when empty or its link expired) without a
// transaction; the `byTokenHash` index finds a link from its token at the handshake, confirmed
// by a consistent read of the slot. `expiresAtS` is the table's TTL attribute; the table's stream
// starts the expiry workflow of every link written (lib/constructs/share-expiry.ts).
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import type { ShareLinkRepository } from "../app/ports.ts";
import type { ShareLink } from "../domain/share-links.ts";

export const SHARE_LINKS_TOKEN_INDEX = "byTokenHash";

interface Item extends ShareLink {
  slot: number;
  /** The table's TTL attribute (epoch seconds). */
  expiresAtS: number;
  /** What the expiry workflow waits until (ISO 8601, as Step Functions' Wait state takes it). */
  expiresAtIso: string;
}

const isConditionFailure = (err: unknown): boolean =>
  (err as { name?: string })?.name === "ConditionalCheckFailedException";

const linkOf = (item: Partial<Item> | Record<string, unknown>): ShareLink => ({
  userId: item.userId as string,
  linkId: item.linkId as string,
  tokenHash: item.tokenHash as string,
  precision: item.precision === "approximate" ? "approximate" : "precise",
  createdAt: item.createdAt as number,
  expiresAt: item.expiresAt as number,
});

/** Concurrent creations of one user may race for a slot; each retries with a fresh read. */
const CREATE_ATTEMPTS = 3;

export class ShareLinksRepo implements ShareLinkRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  private async items(userId: string): Promise<Item[]> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "userId = :u",
        ExpressionAttributeValues: { ":u": userId },
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []) as Item[];
  }

  async list(userId: string): Promise<ShareLink[]> {
    return (await this.items(userId)).map(linkOf);
  }

  async create(link: ShareLink, maxActive: number, now: number): Promise<boolean> {
    for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
      const taken = new Set(
        (await this.items(link.userId)).filter((i) => i.expiresAt > now).map((i) => i.slot),
      );
      const slot = Array.from({ length: maxActive }, (_, i) => i).find((i) => !taken.has(i));
      if (slot === undefined) return false;
      const item: Item = {
        ...link,
        slot,
        expiresAtS: Math.ceil(link.expiresAt / 1000),
        expiresAtIso: new Date(link.expiresAt).toISOString(),
      };
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...item },
            ConditionExpression: "attribute_not_exists(userId) OR expiresAt <= :now",
            ExpressionAttributeValues: { ":now": now },
          }),
        );
        return true;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    }
    return false;
  }

  async delete(userId: string, linkId: string): Promise<ShareLink | null> {
    const item = (await this.items(userId)).find((i) => i.linkId === linkId);
    if (!item) return null;
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { userId, slot: item.slot },
          ConditionExpression: "linkId = :id",
          ExpressionAttributeValues: { ":id": linkId },
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) return null;
      throw err;
    }
    return linkOf(item);
  }

  async byTokenHash(tokenHash: string): Promise<ShareLink | null> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: SHARE_LINKS_TOKEN_INDEX,
        KeyConditionExpression: "tokenHash = :h",
        ExpressionAttributeValues: { ":h": tokenHash },
      }),
    );
    // The index is eventually consistent: the slot itself says whether the link is still there.
    for (const key of out.Items ?? []) {
      const got = await this.db.send(
        new GetCommand({
          TableName: this.table,
          Key: { userId: key.userId, slot: key.slot },
          ConsistentRead: true,
        }),
      );
      if (got.Item && got.Item.tokenHash === tokenHash) return linkOf(got.Item);
    }
    return null;
  }

  async get(userId: string, linkId: string): Promise<ShareLink | null> {
    const item = (await this.items(userId)).find((i) => i.linkId === linkId);
    return item ? linkOf(item) : null;
  }
}
