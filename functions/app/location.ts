// Use case: store a user's position and publish it to the stream when it moved enough or the
// heartbeat is due (the movement filter, domain/movement.ts, applied atomically by the store). A
// failed publication is rolled back and reported, never swallowed.
import type { Tunables } from "../config.ts";
import { UnavailableError } from "../domain/errors.ts";
import { geohashEncode, INDEX_CELL_PRECISION } from "../domain/geo.ts";
import { indexEntryLifetimeMs } from "../domain/people.ts";
import type { Clock, EventPublisher, Log, PositionStore, Telemetry } from "./ports.ts";

export interface LocationDeps {
  positions: Pick<PositionStore, "write" | "indexCell" | "rollbackPublish">;
  publisher: EventPublisher;
  tunables: Pick<Tunables, "locationTtlS" | "minMoveM" | "heartbeatS">;
  now: Clock;
  telemetry: Telemetry;
  log: Log;
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
  /** The frame arrived after a newer one of the same connection (only presence was refreshed), or
   * after its connection's $disconnect (nothing was stored). */
  stale: boolean;
}

/** A position a client sent (`location`, `init`): stored, filtered, published, and counted. */
export async function recordLocation(
  deps: LocationDeps,
  input: LocationInput,
): Promise<LocationResult> {
  deps.telemetry.count("LocationsReceived");
  const result = await storeAndPublish(deps, input);
  deps.telemetry.count(result.published ? "LocationsPublished" : "LocationsFiltered");
  return result;
}

/** `force`: publish whatever the movement filter says (a settings change must reach friends now). */
async function storeAndPublish(
  deps: LocationDeps,
  input: LocationInput,
  force = false,
): Promise<LocationResult> {
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
  const outcome = await deps.positions.write(write, {
    ttlS: deps.tunables.locationTtlS,
    minMoveM: deps.tunables.minMoveM,
    heartbeatMs: force ? 0 : deps.tunables.heartbeatS * 1000,
  });
  if (outcome.gone || outcome.stale) return { at: outcome.at, published: false, stale: true };
  // The cell index is written only with published positions (at least one a heartbeat while the
  // user keeps sending) and on a change of cell: a filtered frame, the common case, costs no
  // index write. Each entry carries its expiry (domain/people.ts), so that of a user who went
  // offline without a $disconnect is never read and is pruned.
  if (outcome.publish || outcome.prevCell !== cell) {
    const expiresAt = outcome.at + indexEntryLifetimeMs(deps.tunables);
    await deps.positions.indexCell(
      input.userId,
      { ...write, at: outcome.at, expiresAt },
      outcome.prevCell,
    );
  }
  if (!outcome.publish) return { at: outcome.at, published: false, stale: false };
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
    await deps.positions.rollbackPublish(input.userId, outcome).catch((rollbackErr: unknown) =>
      deps.log.error("rollback of published marker failed", {
        userId: input.userId,
        error: String(rollbackErr),
      }),
    );
    throw new UnavailableError("the location stream", err);
  }
  return { at: outcome.at, published: true, stale: false };
}

/**
 * Publish the user's stored position again (after a settings change), so that the fan-out applies
 * the new settings at once. Nothing to do for a user who is offline.
 */
export async function republishLocation(
  deps: LocationDeps & { positions: Pick<PositionStore, "positions"> },
  userId: string,
): Promise<boolean> {
  const p = (await deps.positions.positions([userId])).get(userId);
  if (!p) return false;
  await storeAndPublish(deps, { userId, lat: p.lat, lon: p.lon, accuracyM: p.accuracyM }, true);
  return true;
}
