// The simulated population of the load tool and the simulator, made through the APIs as clients
// make it: users from POST /dev/token (local stack only), then every pair of a group made friends
// (one asks, the other accepts), with bounded concurrency and failures counted by step and status.
import { http, pool } from "./net.ts";
import type { Counter } from "./stats.ts";

export interface Member {
  userId: string;
  displayName: string;
  /** Members of one group are all friends of each other. */
  group: number;
  /** Set once POST /dev/token answered. */
  token: string | null;
}

export interface SetupControl {
  concurrency: number;
  stopped: () => boolean;
  /** Failures by step and status: `token:500`, `friendRequest:network`, … */
  errors: Counter;
}

/** A token for `userId` (the user is created, with `displayName`, when missing); null on failure. */
export async function devToken(
  httpUrl: string,
  userId: string,
  displayName: string,
  errors: Counter,
): Promise<string | null> {
  try {
    const res = await http(httpUrl, "POST", "/dev/token", undefined, { userId, displayName });
    const token = (res.body as { token?: unknown } | null)?.token;
    if (res.status === 200 && typeof token === "string") return token;
    errors.add(`token:${res.status}`);
  } catch {
    errors.add("token:network");
  }
  return null;
}

/** Sets each member's token; `onProgress` after each. */
export async function createUsers(
  httpUrl: string,
  members: readonly Member[],
  control: SetupControl,
  onProgress: (done: number) => void = () => undefined,
): Promise<void> {
  let done = 0;
  await pool(
    members,
    control.concurrency,
    async (m) => {
      m.token = await devToken(httpUrl, m.userId, m.displayName, control.errors);
      onProgress(++done);
    },
    control.stopped,
  );
}

/** Every pair of members of one group that both have a token. */
export function groupPairs<M extends Member>(members: readonly M[]): [M, M][] {
  const byGroup = new Map<number, M[]>();
  for (const m of members) {
    if (m.token === null) continue;
    const list = byGroup.get(m.group) ?? [];
    list.push(m);
    byGroup.set(m.group, list);
  }
  const pairs: [M, M][] = [];
  for (const list of byGroup.values())
    for (let i = 0; i < list.length; i++)
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i];
        const b = list[j];
        if (a && b) pairs.push([a, b]);
      }
  return pairs;
}

/**
 * Makes `a` and `b` friends: a asks, b accepts. Already friends (a re-run over the same users)
 * counts as done.
 */
export async function befriend(
  httpUrl: string,
  a: Member,
  b: Member,
  errors: Counter,
): Promise<boolean> {
  if (a.token === null || b.token === null) return false;
  try {
    const asked = await http(httpUrl, "POST", "/friends/requests", a.token, { userId: b.userId });
    if (asked.status === 200 || asked.status === 409) return true; // b had asked, or friends already
    if (asked.status !== 201) {
      errors.add(`friendRequest:${asked.status}`);
      return false;
    }
    const accepted = await http(httpUrl, "POST", `/friends/requests/${a.userId}/accept`, b.token);
    if (accepted.status === 200) return true;
    errors.add(`accept:${accepted.status}`);
  } catch {
    errors.add("friendRequest:network");
  }
  return false;
}

/** Makes every pair friends; returns how many friendships hold. `onProgress(done, total)`. */
export async function befriendGroups(
  httpUrl: string,
  members: readonly Member[],
  control: SetupControl,
  onProgress: (done: number, total: number) => void = () => undefined,
): Promise<number> {
  const pairs = groupPairs(members);
  let done = 0;
  let friendships = 0;
  await pool(
    pairs,
    control.concurrency,
    async ([a, b]) => {
      if (await befriend(httpUrl, a, b, control.errors)) friendships++;
      onProgress(++done, pairs.length);
    },
    control.stopped,
  );
  return friendships;
}
