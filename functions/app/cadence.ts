// Use case: decide the reporting cadence of users again (domain/cadence.ts) and tell the clients
// of those whose cadence changed, with a `cadence` push (docs/PROTOCOL.md §2.11). Called where the
// situation changes: a friend's connection joins (`init`, `subscribe`) or leaves ($disconnect,
// `unsubscribe`), the user changes their settings, and, for what moves on its own (distances,
// ghost mode ending, connections gone without $disconnect), from the fan-out at most every
// CADENCE_REVIEW_MS per user.
import { type CadenceRule, reportEveryS } from "../domain/cadence.ts";
import { haversineM, type LatLon } from "../domain/geo.ts";
import type { Settings } from "../domain/settings.ts";
import type { CadenceStore, Clock, Log, Notifier, PositionStore, Telemetry } from "./ports.ts";
import { resolveSettings, type SettingsDeps } from "./settings.ts";

/** How long a decided cadence stands before the fan-out decides it again (ms). */
export const CADENCE_REVIEW_MS = 30_000;

export interface CadenceDeps {
  cadence: CadenceStore;
  positions: Pick<PositionStore, "positions">;
  settings: SettingsDeps;
  notifier: Notifier;
  rule: CadenceRule;
  now: Clock;
  telemetry: Telemetry;
  log: Log;
}

export interface ReviewOptions {
  /** A connection told otherwise (the `init` reply carries its cadence): no push to it. */
  except?: string;
  /**
   * Only the users within reach of this point (radius + cadence margin), and `always`: a new
   * watcher there changes nothing for a user farther away. Their positions come with the state.
   */
  near?: { from: LatLon; always: string };
}

/** Whether a user at `at` is within reach of `options.near` (or no reach was asked). */
function inReach(rule: CadenceRule, at: LatLon, userId: string, options: ReviewOptions): boolean {
  const near = options.near;
  if (!near || userId === near.always) return true;
  return haversineM(near.from, at) <= rule.radiusM + rule.cadenceMarginM;
}

/**
 * Decide the cadence of the online users among `userIds`, record it, and push it to every open
 * connection of each user whose cadence changed. Returns the cadence of each online user.
 */
export async function reviewCadences(
  deps: CadenceDeps,
  userIds: readonly string[],
  options: ReviewOptions = {},
): Promise<Map<string, number>> {
  const decided = new Map<string, number>();
  const unique = [...new Set(userIds)];
  if (unique.length === 0) return decided;
  const states = await deps.cadence.states(unique);
  const online = unique.filter((u) => {
    const at = states.get(u)?.position;
    return at !== undefined && inReach(deps.rule, at, u, options);
  });
  if (online.length === 0) return decided;
  const cached = new Map<string, Settings>();
  const watcherIds = new Set<string>();
  for (const u of online) {
    const s = states.get(u);
    if (s?.settings) cached.set(u, s.settings);
    for (const w of s?.watcherIds ?? []) watcherIds.add(w);
  }
  const [settings, watcherPositions] = await Promise.all([
    resolveSettings(deps.settings, online, cached),
    deps.positions.positions([...watcherIds]),
  ]);
  const now = deps.now();
  const changed: string[] = [];
  for (const u of online) {
    const s = states.get(u);
    if (!s) continue;
    const every = reportEveryS(deps.rule, {
      position: s.position,
      settings: settings.get(u),
      watchers: s.watcherIds.map((w) => ({ userId: w, position: watcherPositions.get(w) })),
      shareViewers: s.shareViewers,
      now,
    });
    decided.set(u, every);
    if (s.current !== every) changed.push(u);
  }
  await deps.cadence.record(
    [...decided].map(([userId, s]) => ({ userId, reportEveryS: s, at: now })),
  );
  deps.telemetry.count("CadenceChanges", changed.length);
  if (changed.length > 0) {
    const connections = await deps.cadence.connectionsOf(changed);
    await Promise.all(
      changed.flatMap((u) =>
        (connections.get(u) ?? [])
          .filter((c) => c !== options.except)
          // A connection gone or failing misses nothing lasting: its next `init` carries the
          // cadence, and the fan-out cleans gone connections up.
          .map((c) => deps.notifier.post(c, { type: "cadence", reportEveryS: decided.get(u) })),
      ),
    );
  }
  return decided;
}

/**
 * The fan-out's review: the movers whose cadence was decided more than CADENCE_REVIEW_MS ago. It
 * never fails the batch (the positions went out): a failed review is logged and done again with
 * the mover's next published position.
 */
export async function reviewStaleCadences(
  deps: CadenceDeps,
  moverIds: readonly string[],
): Promise<void> {
  if (moverIds.length === 0) return;
  try {
    const due = await deps.cadence.decidedBefore(moverIds, deps.now() - CADENCE_REVIEW_MS);
    await reviewCadences(deps, due);
  } catch (err) {
    deps.log.error("reporting cadence review failed", {
      movers: moverIds.length,
      error: String(err),
    });
  }
}
