// Live share-link viewers in Redis: `sview:{userId}`, a hash of the viewers' connections of one
// shared user (connectionId → "<linkId> <precision> <expiresAt>"). The fan-out reads it with the
// user's other state (audience.ts); the per-link cap and the end of a link are scripts on it.
import type { Result } from "ioredis";
import type { ShareViewerRegistry } from "../../app/ports.ts";
import type { ShareViewer } from "../../domain/share-links.ts";
import type { RedisClient } from "./client.ts";
import { CONNECTION_TTL_S, keys, shareViewerValue } from "./keys.ts";

/**
 * Register a viewer unless its link has `max` viewers already (one script: concurrent handshakes
 * cannot pass the cap). The hash expires a connection's life after the last viewer joined, so a
 * viewer lost without $disconnect cannot outlive it. KEYS[1] sview:{userId}; ARGV connectionId,
 * value, linkId, max, ttlS. Returns 1 (registered) or 0 (at the cap).
 */
const ADD_VIEWER_LUA = `
local prefix = ARGV[3] .. ' '
local n = 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if all[i] ~= ARGV[1] and string.sub(all[i + 1], 1, #prefix) == prefix then n = n + 1 end
end
if n >= tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
`;

/** Remove and return the viewers of one link. KEYS[1] sview:{userId}; ARGV linkId. */
const TAKE_LINK_LUA = `
local prefix = ARGV[1] .. ' '
local taken = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if string.sub(all[i + 1], 1, #prefix) == prefix then
    redis.call('HDEL', KEYS[1], all[i])
    taken[#taken + 1] = all[i]
  end
end
return taken
`;

declare module "ioredis" {
  interface RedisCommander<Context> {
    nfAddViewer(
      key: string,
      connectionId: string,
      value: string,
      linkId: string,
      max: string,
      ttlS: string,
    ): Result<number, Context>;
    nfTakeLink(key: string, linkId: string): Result<string[], Context>;
  }
}

export class RedisShareViewers implements ShareViewerRegistry {
  constructor(private readonly redis: RedisClient) {
    redis.defineCommand("nfAddViewer", { numberOfKeys: 1, lua: ADD_VIEWER_LUA });
    redis.defineCommand("nfTakeLink", { numberOfKeys: 1, lua: TAKE_LINK_LUA });
  }

  async add(sharedUserId: string, viewer: ShareViewer, maxPerLink: number): Promise<boolean> {
    const added = await this.redis.nfAddViewer(
      keys.shareViewers(sharedUserId),
      viewer.connectionId,
      shareViewerValue(viewer),
      viewer.linkId,
      String(maxPerLink),
      String(CONNECTION_TTL_S),
    );
    return added === 1;
  }

  async remove(sharedUserId: string, connectionId: string): Promise<void> {
    await this.redis.hdel(keys.shareViewers(sharedUserId), connectionId);
  }

  async takeLink(sharedUserId: string, linkId: string): Promise<string[]> {
    return this.redis.nfTakeLink(keys.shareViewers(sharedUserId), linkId);
  }
}
