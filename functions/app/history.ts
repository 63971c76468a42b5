// Use cases of location history: the stream consumer's idempotent writes, and the paged query.
import { InvalidRequestError } from "../domain/errors.ts";
import type { PositionEvent } from "../domain/events.ts";
import type {
  Clock,
  EventPublisher,
  HistoryItem,
  HistoryRepository,
  PositionStore,
} from "./ports.ts";

const pad = (ms: number): string => String(Math.max(0, Math.floor(ms))).padStart(13, "0");

/**
 * The history item of a position record. Its sort key comes from the record itself (server time
 * and the stream sequence number), so a retried batch overwrites instead of duplicating.
 */
export function toHistoryItem(
  event: PositionEvent,
  sequenceNumber: string,
  retentionDays: number,
): HistoryItem {
  return {
    userId: event.userId,
    sk: `${pad(event.at)}#${sequenceNumber}`,
    lat: event.lat,
    lon: event.lon,
    at: event.at,
    ...(event.clientTs === undefined ? {} : { clientTs: event.clientTs }),
    ...(event.accuracyM === undefined ? {} : { accuracyM: event.accuracyM }),
    expiresAt: Math.floor(event.at / 1000) + retentionDays * 86_400,
  };
}

export interface HistoryWriteDeps {
  history: Pick<HistoryRepository, "putAll">;
  retentionDays: number;
}

/** Write the positions of a batch; returns the sequence numbers of records that could not be written. */
export async function writeHistory(
  deps: HistoryWriteDeps,
  records: readonly { sequenceNumber: string; event: PositionEvent }[],
): Promise<string[]> {
  const bySk = new Map<string, string>();
  const items = records.map((r) => {
    const item = toHistoryItem(r.event, r.sequenceNumber, deps.retentionDays);
    bySk.set(`${item.userId}\u0000${item.sk}`, r.sequenceNumber);
    return item;
  });
  const failed = await deps.history.putAll(items);
  return failed.flatMap((i) => bySk.get(`${i.userId}\u0000${i.sk}`) ?? []);
}

export interface HistoryQuery {
  from?: number | undefined;
  to?: number | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface HistoryEntry {
  lat: number;
  lon: number;
  at: number;
  clientTs: number | null;
  accuracyM: number | null;
}

function decodeHistoryCursor(userId: string, cursor: string): { userId: string; sk: string } {
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { sk?: unknown };
    if (typeof v.sk === "string" && v.sk.length < 200) return { userId, sk: v.sk };
  } catch {
    // fall through
  }
  throw new InvalidRequestError("cursor is not a cursor this server issued");
}

export async function queryHistory(
  deps: { history: Pick<HistoryRepository, "query"> },
  userId: string,
  q: HistoryQuery,
): Promise<{ items: HistoryEntry[]; cursor: string | null }> {
  const range = { fromSk: `${pad(q.from ?? 0)}#`, toSk: `${pad(q.to ?? 9_999_999_999_999)}#~` };
  // The cursor names only a sort key; the partition is always the caller's own.
  const start = q.cursor ? decodeHistoryCursor(userId, q.cursor) : null;
  const pageOut = await deps.history.query(userId, range, q.limit, start);
  return {
    items: pageOut.items.map((i) => ({
      lat: i.lat,
      lon: i.lon,
      at: i.at,
      clientTs: i.clientTs ?? null,
      accuracyM: i.accuracyM ?? null,
    })),
    cursor: pageOut.lastKey
      ? Buffer.from(JSON.stringify({ sk: pageOut.lastKey.sk })).toString("base64url")
      : null,
  };
}

export interface EraseDeps {
  history: Pick<HistoryRepository, "deleteAll">;
  positions: Pick<PositionStore, "erase">;
  publisher: EventPublisher;
  now: Clock;
}

/** Erase the user's current position and stored history; friends who saw the user get `away`. */
export async function eraseHistory(deps: EraseDeps, userId: string): Promise<void> {
  await deps.positions.erase(userId);
  await deps.publisher.publish({ v: 1, kind: "offline", userId, at: deps.now() });
  await deps.history.deleteAll(userId);
}
