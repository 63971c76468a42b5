// The reporting cadence in Redis: `cad:{userId}`, a hash of the cadence last decided (`s`) and when
// (`at`), read with what deciding it needs from the user's other keys (one slot, one script).
import type { Result } from "ioredis";
import type { CadenceState, CadenceStore } from "../../app/ports.ts";
import type { RedisClient } from "./client.ts";
import { CONNECTION_TTL_S, keys, num } from "./keys.ts";
import { parseSettings } from "./settings-cache.ts";

/**
 * KEYS[1] subs:{u}, KEYS[2] loc:{u}, KEYS[3] settings:{u}, KEYS[4] cad:{u}, KEYS[5] sview:{u}.
 * Returns {subscriber fields, {lat, lon, at}, settings JSON or '', {s, at}, share viewers}.
 */
const CADENCE_STATE_LUA = `
return {
  redis.call('HKEYS', KEYS[1]),
  redis.call('HMGET', KEYS[2], 'lat', 'lon', 'at'),
  redis.call('GET', KEYS[3]) or '',
  redis.call('HMGET', KEYS[4], 's', 'at'),
  redis.call('HLEN', KEYS[5])
}
`;

type CadenceRow = [string[], (string | null)[], string, (string | null)[], number];

declare module "ioredis" {
  interface RedisCommander<Context> {
    nfCadenceState(
      subs: string,
      loc: string,
      settings: string,
      cad: string,
      sview: string,
    ): Result<CadenceRow, Context>;
  }
}

export class RedisCadenceStore implements CadenceStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly now: () => number = Date.now,
  ) {
    redis.defineCommand("nfCadenceState", { numberOfKeys: 5, lua: CADENCE_STATE_LUA });
  }

  async states(userIds: readonly string[]): Promise<Map<string, CadenceState>> {
    const rows = await Promise.all(
      userIds.map((u) =>
        this.redis.nfCadenceState(
          keys.subscribers(u),
          keys.location(u),
          keys.settings(u),
          keys.cadence(u),
          keys.shareViewers(u),
        ),
      ),
    );
    const out = new Map<string, CadenceState>();
    userIds.forEach((u, i) => {
      const [fields = [], [lat, lon, at] = [], settings = "", [s, decidedAt] = [], viewers = 0] =
        rows[i] ?? [];
      const watcherIds = new Set<string>();
      for (const f of fields) {
        // "connectionId userId" (keys.ts subscriberField)
        const space = f.indexOf(" ");
        if (space > 0) watcherIds.add(f.slice(space + 1));
      }
      const la = num(lat);
      const lo = num(lon);
      const t = num(at);
      const cached = parseSettings(settings);
      out.set(u, {
        position:
          la !== undefined && lo !== undefined && t !== undefined
            ? { lat: la, lon: lo, at: t }
            : undefined,
        ...(cached ? { settings: cached } : {}),
        watcherIds: [...watcherIds],
        shareViewers: Number(viewers),
        current: num(s),
        decidedAt: num(decidedAt),
      });
    });
    return out;
  }

  async record(
    entries: readonly { userId: string; reportEveryS: number; at: number }[],
  ): Promise<void> {
    await Promise.all(
      entries.flatMap(({ userId, reportEveryS, at }) => [
        this.redis.hset(keys.cadence(userId), "s", String(reportEveryS), "at", String(at)),
        this.redis.expire(keys.cadence(userId), CONNECTION_TTL_S),
      ]),
    );
  }

  async decidedBefore(userIds: readonly string[], before: number): Promise<string[]> {
    const ats = await Promise.all(userIds.map((u) => this.redis.hget(keys.cadence(u), "at")));
    return userIds.filter((_, i) => {
      const at = num(ats[i]);
      return at === undefined || at < before;
    });
  }

  /** `conns:{u}` is scored by each entry's expiry: the members not expired yet. */
  async connectionsOf(userIds: readonly string[]): Promise<Map<string, string[]>> {
    const now = this.now();
    const rows = await Promise.all(
      userIds.map((u) => this.redis.zrangebyscore(keys.userConnections(u), now, "+inf")),
    );
    return new Map(userIds.map((u, i) => [u, rows[i] ?? []]));
  }
}
