// DynamoDB adapters: user profiles, friendships (one item per direction), blocks (one item per
// pair and direction, carrying both ways) and location history.
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
import type {
  BlockEntry,
  BlockRepository,
  Friendship,
  FriendshipRepository,
  HistoryItem,
  HistoryPage,
  HistoryRepository,
  Log,
  UserProfile,
  UserRepository,
} from "../app/ports.ts";
import { DEFAULT_SETTINGS, normalizeSettings, type Settings } from "../domain/settings.ts";
import { BATCH_RETRY, type RetryPolicy, withRetry } from "./retry.ts";

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

export class UsersRepo implements UserRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(userId: string): Promise<UserProfile | null> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { userId } }));
    if (!out.Item) return null;
    return { userId, displayName: (out.Item.displayName as string | undefined) ?? null };
  }

  /** Set the profile's fields only: the user item also holds the sharing settings. */
  async put(profile: UserProfile): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { userId: profile.userId },
        UpdateExpression: "SET displayName = :n",
        ExpressionAttributeValues: { ":n": profile.displayName },
      }),
    );
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
      let keys: Record<string, unknown>[] = unique.slice(i, i + 100).map((userId) => ({ userId }));
      const left = await withRetry(BATCH_RETRY, async () => {
        const res: BatchGetCommandOutput = await this.db.send(
          new BatchGetCommand({
            RequestItems: { [this.table]: { Keys: keys, ProjectionExpression: projection } },
          }),
        );
        out.push(...(res.Responses?.[this.table] ?? []));
        keys = res.UnprocessedKeys?.[this.table]?.Keys ?? [];
        return { retry: keys.length > 0, value: keys };
      });
      if (left.length > 0) throw new Error("BatchGetItem left unprocessed keys after retries");
    }
    return out;
  }
}

export class FriendshipsRepo implements FriendshipRepository {
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

/**
 * Blocks: item (userId, otherId) holds `blockedAt` (userId blocked otherId) and/or `blockedByAt`
 * (otherId blocked userId), so a user's partition answers "blocked either way" in one read.
 */
export class BlocksRepo implements BlockRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** The blocked user's item first, so a half-done block already keeps the two apart. */
  async block(blocker: string, blocked: string, at: number): Promise<void> {
    await this.mark(blocked, blocker, "blockedByAt", at);
    await this.mark(blocker, blocked, "blockedAt", at);
  }

  /** The blocker's item first, so a half-done unblock still keeps the two apart. */
  async unblock(blocker: string, blocked: string): Promise<void> {
    await this.unmark(blocker, blocked, "blockedAt");
    await this.unmark(blocked, blocker, "blockedByAt");
  }

  async between(a: string, b: string): Promise<boolean> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { userId: a, otherId: b } }),
    );
    return out.Item?.blockedAt !== undefined || out.Item?.blockedByAt !== undefined;
  }

  async blockedBy(userId: string): Promise<BlockEntry[]> {
    const out: BlockEntry[] = [];
    for await (const page of partitionPages(this.db, this.table, userId)) {
      for (const i of page) {
        if (typeof i.blockedAt === "number")
          out.push({ userId: i.otherId as string, since: i.blockedAt });
      }
    }
    return out;
  }

  async eitherWay(userId: string): Promise<Set<string>> {
    const out = new Set<string>();
    for await (const page of partitionPages(this.db, this.table, userId, "otherId")) {
      for (const i of page) out.add(i.otherId as string);
    }
    return out;
  }

  private async mark(userId: string, otherId: string, field: string, at: number): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { userId, otherId },
        UpdateExpression: "SET #f = if_not_exists(#f, :at)",
        ExpressionAttributeNames: { "#f": field },
        ExpressionAttributeValues: { ":at": at },
      }),
    );
  }

  /** Remove one direction; an item left with neither is deleted (unless re-marked meanwhile). */
  private async unmark(userId: string, otherId: string, field: string): Promise<void> {
    let left: Record<string, unknown> | undefined;
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { userId, otherId },
          UpdateExpression: "REMOVE #f",
          ConditionExpression: "attribute_exists(userId)",
          ExpressionAttributeNames: { "#f": field },
          ReturnValues: "ALL_NEW",
        }),
      );
      left = out.Attributes;
    } catch (err) {
      if ((err as Error).name === "ConditionalCheckFailedException") return;
      throw err;
    }
    if (left?.blockedAt !== undefined || left?.blockedByAt !== undefined) return;
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { userId, otherId },
          ConditionExpression:
            "attribute_not_exists(blockedAt) AND attribute_not_exists(blockedByAt)",
        }),
      );
    } catch (err) {
      if ((err as Error).name !== "ConditionalCheckFailedException") throw err;
    }
  }
}

export class HistoryRepo implements HistoryRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly log: Log,
    private readonly retry: RetryPolicy = BATCH_RETRY,
  ) {}

  /**
   * Write items in batches of 25, retrying unprocessed items and failed calls with backoff. Returns
   * the items that could not be written after the retries (the caller reports their records).
   */
  async putAll(items: readonly HistoryItem[]): Promise<HistoryItem[]> {
    const failed: HistoryItem[] = [];
    for (let i = 0; i < items.length; i += 25) {
      let pending = items.slice(i, i + 25);
      let lastError: unknown;
      pending = await withRetry(this.retry, async () => {
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
          lastError = undefined;
        } catch (err) {
          lastError = err;
        }
        return { retry: pending.length > 0, value: pending };
      });
      if (lastError !== undefined) {
        this.log.error("BatchWriteItem failed", { error: (lastError as Error).name });
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
        pending = await withRetry(this.retry, async () => {
          const res = await this.db.send(
            new BatchWriteCommand({ RequestItems: { [this.table]: pending } }),
          );
          pending = (res.UnprocessedItems?.[this.table] ?? []) as typeof pending;
          return { retry: pending.length > 0, value: pending };
        });
        if (pending.length > 0)
          throw new Error("BatchWriteItem left unprocessed deletes after retries");
      }
    }
  }
}
