// Starts a real redis-server for the tests of Redis logic (ioredis-mock has no GEO or scripting fidelity).
import type { TestProject } from "vitest/node";
import { startRedis } from "../../local/redis-server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const redis = await startRedis();
  project.provide("redisUrl", redis.url);
  return () => redis.stop();
}
