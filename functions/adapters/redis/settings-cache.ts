// Sharing settings cached in Redis (`settings:{userId}`, JSON with a TTL): a read-through cache of
// the users table, replaced on every change.
import type { SettingsCache } from "../../app/ports.ts";
import { normalizeSettings, type Settings } from "../../domain/settings.ts";
import type { RedisClient } from "./client.ts";
import { keys, SETTINGS_TTL_S } from "./keys.ts";

/** A cached settings entry; undefined for a miss (or an unreadable entry, read again and replaced). */
export function parseSettings(raw: string): Settings | undefined {
  if (raw === "") return undefined;
  try {
    return normalizeSettings(JSON.parse(raw));
  } catch {
    return undefined;
  }
}

export class RedisSettingsCache implements SettingsCache {
  constructor(private readonly redis: RedisClient) {}

  /** Cached settings of many users, in one round trip; absent where the cache has none. */
  async cached(userIds: readonly string[]): Promise<Map<string, Settings>> {
    const unique = [...new Set(userIds)];
    const rows = await Promise.all(unique.map((u) => this.redis.get(keys.settings(u))));
    const out = new Map<string, Settings>();
    unique.forEach((u, i) => {
      const settings = parseSettings(rows[i] ?? "");
      if (settings) out.set(u, settings);
    });
    return out;
  }

  async put(entries: ReadonlyMap<string, Settings>): Promise<void> {
    await Promise.all(
      [...entries].map(([u, settings]) =>
        this.redis.set(keys.settings(u), JSON.stringify(settings), "EX", SETTINGS_TTL_S),
      ),
    );
  }
}
