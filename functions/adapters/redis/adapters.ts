// Every Redis adapter over one client (each defines its own scripts on it).

import { RedisAudience } from "./audience.ts";
import { RedisCadenceStore } from "./cadence.ts";
import { RedisCellIndex } from "./cell-index.ts";
import type { RedisClient } from "./client.ts";
import { RedisConnectionRegistry } from "./connections.ts";
import { RedisFrameGate } from "./frame-gate.ts";
import { RedisPositionStore } from "./positions.ts";
import { RedisRequestGate } from "./request-gate.ts";
import { RedisSettingsCache } from "./settings-cache.ts";
import { RedisShareViewers } from "./share-viewers.ts";

export function redisAdapters(client: RedisClient) {
  const cellIndex = new RedisCellIndex(client);
  return {
    client,
    positions: new RedisPositionStore(client, cellIndex),
    cellIndex,
    connections: new RedisConnectionRegistry(client),
    audience: new RedisAudience(client),
    cadence: new RedisCadenceStore(client),
    settingsCache: new RedisSettingsCache(client),
    frameGate: new RedisFrameGate(client),
    requestGate: new RedisRequestGate(client),
    shareViewers: new RedisShareViewers(client),
  };
}

export type RedisAdapters = ReturnType<typeof redisAdapters>;
