// DynamoDB adapters: user profiles, friendships (one item per direction) and location history.
// No transactions (the local emulator has none): multi-item changes are ordered so that a crash
// half-way leaves a state the next request repairs.
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { DEFAULT_SETTINGS, normalizeSettings, type Settings } from "../domain/settings.ts";

/** Every page of a user's partition (the tables are all keyed by `userId`). */
async function* partitionPages(
  db: DynamoDBDocumentClient,
  table: string,
  userId: string,
  projection?: string,
): AsyncGenerator<Record<string, unknown>[]> {
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: "userId = :u",
        ExpressionAttributeValues: { ":u": userId },
        ...(projection ? { ProjectionExpression: projection } : {}),
        ExclusiveStartKey: start,
      }),
    );
    yield out.Items ?? [];
    start = out.LastEvaluatedKey;
  } while (start);
}

export interface UserProfile {
  userId: string;
  displayName: string | null;
}

export class UsersRepo {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(userId: string): Promise<UserProfile | null> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { userId } }));
    if (!out.Item) return null;
    return { userId, displayName: (out.Item.displayName as string | undefined) ?? null };
  }

  async put(profile: UserProfile): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...profile } }));
  }

  /** Create the user unless it exists (sign-up is idempotent). */
  async createIfMissing(profile: UserProfile): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...profile },
          ConditionExpression: "attribute_not_exists(userId)",
        }),
      );
    } catch (err) {
      if ((err as Error).name !== "ConditionalCheckFailedException") throw err;
    }
  }

  async displayNames(userIds: readonly string[]): Promise<Map<string, string | null>> {
    const items = await this.batchGet(userIds, "userId, displayName");
    return new Map(
      items.map((i) => [i.userId as string, (i.displayName as string | undefined) ?? null]),
    );
  }

  async getSettings(userId: string): Promise<Settings> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { userId }, ProjectionExpression: "settings" }),
    );
    return normalizeSettings(out.Item?.settings);
  }

  async putSettings(userId: string, settings: Settings): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { userId },
        UpdateExpression: "SET settings = :s",
        ExpressionAttributeValues: { ":s": settings },
      }),
    );
  }

  /** Settings of many users (defaults for users without any). */
  async settingsOf(userIds: readonly string[]): Promise<Map<string, Settings>> {
    const items = await this.batchGet(userIds, "userId, settings");
    const out = new Map(userIds.map((u) => [u, DEFAULT_SETTINGS]));
    for (const i of items) out.set(i.userId as string, normalizeSettings(i.settings));
    return out;
  }

  private async batchGet(
    userIds: readonly string[],
    projection: string,
  ): Promise<Record<string, unknown>[]> {
    const unique = [...new Set(userIds)];
    const out: Record<string, unknown>[] = [];
    for (let i = 0; i < unique.length; i += 100) {
      let keys: Record<string, unknown>[] | undefined = unique
        .slice(i, i + 100)
        .map((userId) => ({ userId }));
      for (let attempt = 0; keys?.length && attempt < 5; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * 25 * 2 ** attempt));
        const res: BatchGetCommandOutput = await this.db.send(
          new BatchGetCommand({
            RequestItems: { [this.table]: { Keys: keys, ProjectionExpression: projection } },
          }),
        );
        out.push(...(res.Responses?.[this.table] ?? []));
        keys = res.UnprocessedKeys?.[this.table]?.Keys;
      }
      if (keys?.length) throw new Error("BatchGetItem left unprocessed keys after retries");
    }
    return out;
  }
}

export type FriendshipStatus = "friends" | "outgoing" | "incoming";

export interface Friendship {
  userId: string;
  friendId: string;
  status: FriendshipStatus;
  since: number;
}

export class FriendshipsRepo {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(userId: string, friendId: string): Promise<Friendship | null> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { userId, friendId } }),
    );
    return (out.Item as Friendship | undefined) ?? null;
  }

  /** All relations of a user (friends and requests both ways), every page. */
  async list(userId: string): Promise<Friendship[]> {
    const items: Friendship[] = [];
    for await (const page of partitionPages(this.db, this.table, userId))
      items.push(...(page as unknown as Friendship[]));
    return items;
  }

  async friendIds(userId: string): Promise<string[]> {
    return (await this.list(userId)).filter((f) => f.status === "friends").map((f) => f.friendId);
  }

  /** Write both directions; the other user's item first, so a half-done write shows only as their request. */
  async putPair(mine: Friendship, theirs: Friendship): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...theirs } }));
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...mine } }));
  }

  async deletePair(userId: string, friendId: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { userId, friendId } }));
    await this.db.send(
      new DeleteCommand({ TableName: this.table, Key: { userId: friendId, friendId: userId } }),
    );
  }
}

export interface HistoryItem {
  userId: string;
  sk: string;
  lat: number;
  lon: number;
  at: number;
  clientTs?: number;
  accuracyM?: number;
  expiresAt: number;
}

export interface HistoryPage {
  items: HistoryItem[];
  lastKey: { userId: string; sk: string } | null;
}

export class HistoryRepo {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((r) => setTimeout(r, ms)),
  ) {}

  /**
   * Write items in batches of 25, retrying unprocessed items with backoff. Returns the items that
   * could not be written after the retries (the caller reports their records as failed).
   */
  async putAll(items: readonly HistoryItem[], attempts = 5): Promise<HistoryItem[]> {
    const failed: HistoryItem[] = [];
    for (let i = 0; i < items.length; i += 25) {
      let pending = items.slice(i, i + 25);
      for (let attempt = 1; pending.length > 0 && attempt <= attempts; attempt++) {
        if (attempt > 1) await this.sleep(Math.random() * 25 * 2 ** attempt);
        try {
          const out = await this.db.send(
            new BatchWriteCommand({
              RequestItems: {
                [this.table]: pending.map((Item) => ({ PutRequest: { Item: { ...Item } } })),
              },
            }),
          );
          const left = out.UnprocessedItems?.[this.table] ?? [];
          const leftKeys = new Set(
            left.map((r) => `${r.PutRequest?.Item?.userId}\u0000${r.PutRequest?.Item?.sk}`),
          );
          pending = pending.filter((it) => leftKeys.has(`${it.userId}\u0000${it.sk}`));
        } catch (err) {
          if (attempt === attempts) {
            console.error(
              JSON.stringify({
                level: "error",
                msg: "BatchWriteItem failed",
                error: (err as Error).name,
              }),
            );
          }
        }
      }
      failed.push(...pending);
    }
    return failed;
  }

  async query(
    userId: string,
    range: { fromSk: string; toSk: string },
    limit: number,
    startKey: { userId: string; sk: string } | null,
  ): Promise<HistoryPage> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "userId = :u AND sk BETWEEN :from AND :to",
        ExpressionAttributeValues: { ":u": userId, ":from": range.fromSk, ":to": range.toSk },
        ScanIndexForward: false,
        Limit: limit,
        ExclusiveStartKey: startKey ?? undefined,
      }),
    );
    const last = out.LastEvaluatedKey as { userId: string; sk: string } | undefined;
    return { items: (out.Items ?? []) as HistoryItem[], lastKey: last ?? null };
  }

  /** Delete every stored item of a user. */
  async deleteAll(userId: string): Promise<void> {
    for await (const page of partitionPages(this.db, this.table, userId, "userId, sk")) {
      const keysToDelete = page.map((i) => ({
        userId: i.userId as string,
        sk: i.sk as string,
      }));
      for (let i = 0; i < keysToDelete.length; i += 25) {
        let pending = keysToDelete.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
        for (let attempt = 0; pending.length > 0 && attempt < 5; attempt++) {
          if (attempt > 0) await this.sleep(Math.random() * 25 * 2 ** attempt);
          const res = await this.db.send(
            new BatchWriteCommand({ RequestItems: { [this.table]: pending } }),
          );
          pending = (res.UnprocessedItems?.[this.table] ?? []) as typeof pending;
        }
        if (pending.length > 0)
          throw new Error("BatchWriteItem left unprocessed deletes after retries");
      }
    }
  }
}
