// Use case: store a user's position and publish it to the stream when it moved enough or the
// heartbeat is due. A failed publication is rolled back and reported, never swallowed.
import type { EventPublisher } from "../adapters/kinesis-publisher.ts";
import type { RedisStore } from "../adapters/redis-store.ts";
import type { Tunables } from "../config.ts";
import { UnavailableError } from "../domain/errors.ts";
import { geohashEncode, INDEX_CELL_PRECISION } from "../domain/geo.ts";

export interface LocationDeps {
  store: Pick<RedisStore, "writeLocation" | "indexCell" | "rollbackPublish">;
  publisher: EventPublisher;
  tunables: Pick<Tunables, "locationTtlS" | "minMoveM" | "heartbeatS">;
  now: () => number;
  log?: (msg: string, detail: object) => void;
}

export interface LocationInput {
  userId: string;
  lat: number;
  lon: number;
  accuracyM?: number | undefined;
  ts?: number | undefined;
  /** The connection that sent the frame (absent for server-side republishing). */
  connectionId?: string | undefined;
}

export interface LocationResult {
  at: number;
  published: boolean;
}

const defaultLog = (msg: string, detail: object) =>
  console.error(JSON.stringify({ level: "error", msg, ...detail }));

export async function recordLocation(
  deps: LocationDeps,
  input: LocationInput,
): Promise<LocationResult> {
  const log = deps.log ?? defaultLog;
  const cell = geohashEncode(input.lat, input.lon, INDEX_CELL_PRECISION);
  const write = {
    userId: input.userId,
    lat: input.lat,
    lon: input.lon,
    at: deps.now(),
    cell,
    ...(input.accuracyM === undefined ? {} : { accuracyM: input.accuracyM }),
    ...(input.ts === undefined ? {} : { clientTs: input.ts }),
    ...(input.connectionId === undefined ? {} : { connectionId: input.connectionId }),
  };
  const outcome = await deps.store.writeLocation(write, {
    ttlS: deps.tunables.locationTtlS,
    minMoveM: deps.tunables.minMoveM,
    heartbeatMs: deps.tunables.heartbeatS * 1000,
  });
  if (outcome.stale) return { at: outcome.at, published: false };
  await deps.store.indexCell(input.userId, write, outcome.prevCell);
  if (!outcome.publish) return { at: outcome.at, published: false };
  try {
    await deps.publisher.publish({
      v: 1,
      kind: "position",
      userId: input.userId,
      lat: input.lat,
      lon: input.lon,
      at: outcome.at,
      ...(input.ts === undefined ? {} : { clientTs: input.ts }),
      ...(input.accuracyM === undefined ? {} : { accuracyM: input.accuracyM }),
    });
  } catch (err) {
    // Reset the published marker so that the client's retry is published, not filtered out.
    await deps.store.rollbackPublish(input.userId, outcome).catch((rollbackErr: unknown) =>
      log("rollback of published marker failed", {
        userId: input.userId,
        error: String(rollbackErr),
      }),
    );
    throw new UnavailableError("the location stream", err);
  }
  return { at: outcome.at, published: true };
}

/**
 * Publish the user's stored position again (after a settings change), so that the fan-out applies
 * the new settings at once. Nothing to do for a user who is offline.
 */
export async function republishLocation(
  deps: LocationDeps & { store: Pick<RedisStore, "positions"> },
  userId: string,
): Promise<boolean> {
  const p = (await deps.store.positions([userId])).get(userId);
  if (!p) return false;
  await recordLocation(
    { ...deps, tunables: { ...deps.tunables, heartbeatS: 0 } },
    { userId, lat: p.lat, lon: p.lon, accuracyM: p.accuracyM },
  );
  return true;
}
