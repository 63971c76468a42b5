// Use cases of sharing settings: read-through resolution for the hot paths (Redis cache, then
// DynamoDB), and changes that take effect for connected friends at once.
import { applySettingsUpdate, type Settings, type SettingsUpdate } from "../domain/settings.ts";
import type { SettingsCache, UserRepository } from "./ports.ts";

export interface SettingsDeps {
  users: Pick<UserRepository, "getSettings" | "putSettings" | "settingsOf">;
  cache: SettingsCache;
}

/**
 * Settings of many users. `cached` is what the caller already read from Redis in its own round
 * trip; the misses are read from the table in one batch and put back in the cache.
 */
export async function resolveSettings(
  deps: SettingsDeps,
  userIds: readonly string[],
  cached?: ReadonlyMap<string, Settings>,
): Promise<Map<string, Settings>> {
  const have = cached ?? (await deps.cache.cached(userIds));
  const out = new Map(have);
  const missing = [...new Set(userIds)].filter((u) => !out.has(u));
  if (missing.length > 0) {
    const loaded = await deps.users.settingsOf(missing);
    await deps.cache.put(loaded);
    for (const [u, s] of loaded) out.set(u, s);
  }
  return out;
}

export async function getSettings(deps: SettingsDeps, userId: string): Promise<Settings> {
  return deps.users.getSettings(userId);
}

export interface UpdateSettingsDeps extends SettingsDeps {
  /** Publish the user's current position again so the fan-out applies the new settings now. */
  republish(userId: string): Promise<void>;
  /** Decide users' reporting cadence again (app/cadence.ts): who may see this one changed. */
  reviewCadences(userIds: readonly string[]): Promise<void>;
}

export async function updateSettings(
  deps: UpdateSettingsDeps,
  userId: string,
  update: SettingsUpdate,
): Promise<Settings> {
  const current = await deps.users.getSettings(userId);
  const next = applySettingsUpdate(current, update);
  await deps.users.putSettings(userId, next);
  await deps.cache.put(new Map([[userId, next]]));
  await deps.republish(userId);
  await deps.reviewCadences([userId]);
  return next;
}
