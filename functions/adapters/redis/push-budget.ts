// The shared push budget in Redis: one counter per second (`budget:{<epoch second>}`, expiring after
// two), taken from by every fan-out invocation with one INCRBY. A take over the budget is granted
// in part (or not at all) and the caller waits for the next second.
import type { Clock, PushBudget } from "../../app/ports.ts";
import type { RedisClient } from "./client.ts";
import { keys } from "./keys.ts";

export class RedisPushBudget implements PushBudget {
  constructor(
    private readonly redis: RedisClient,
    private readonly perSecond: number,
    private readonly now: Clock,
  ) {}

  async take(wanted: number): Promise<number> {
    if (wanted <= 0) return 0;
    const key = keys.pushBudget(Math.floor(this.now() / 1000));
    const [[, total]] = (await this.redis.multi().incrby(key, wanted).expire(key, 2).exec()) as [
      [Error | null, number],
      [Error | null, number],
    ];
    const before = total - wanted;
    return Math.max(0, Math.min(wanted, this.perSecond - before));
  }
}
