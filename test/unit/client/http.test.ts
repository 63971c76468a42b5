// The SDK's HTTP client against a fake fetch: routes, bodies, error mapping, token refresh, retries.
import { describe, expect, it } from "vitest";
import { createHttpClient, type FetchLike, NearbyFriendsError } from "../../../client/index.ts";
import { FakeClock } from "./fakes.ts";

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A fetch that answers from a list of replies, in order, and records the calls. */
function fakeFetch(replies: { status: number; body?: unknown }[]) {
  const calls: Call[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({
      url,
      method: init.method,
      headers: init.headers,
      body: init.body === undefined ? undefined : JSON.parse(init.body),
    });
    const reply = replies.shift() ?? { status: 500 };
    const text =
      reply.body === undefined
        ? ""
        : typeof reply.body === "string"
          ? reply.body
          : JSON.stringify(reply.body);
    return { status: reply.status, text: async () => text };
  };
  return { fetch, calls };
}

describe("HttpClient routes", () => {
  it("sends each call to its route with the bearer token and a JSON body", async () => {
    const { fetch, calls } = fakeFetch([
      { status: 200, body: { userId: "alice", displayName: "Al" } },
      { status: 200, body: { userId: "alice", displayName: "Alice" } },
      { status: 201, body: { status: "pending" } },
      { status: 200, body: { incoming: [], outgoing: [{ userId: "bob", at: 1 }] } },
      { status: 200, body: { status: "friends" } },
      { status: 204 },
      { status: 200, body: { friends: [{ userId: "bob", displayName: null, since: 2 }] } },
      { status: 204 },
      { status: 200, body: { sharing: "on", ghostUntil: null, friends: {} } },
      { status: 200, body: { sharing: "off", ghostUntil: null, friends: {} } },
      { status: 200, body: { items: [], cursor: null } },
      { status: 204 },
    ]);
    const api = createHttpClient({ url: "http://api.test/", token: "tok", fetch });

    expect(await api.getProfile()).toEqual({ userId: "alice", displayName: "Al" });
    await api.updateProfile({ displayName: "Alice" });
    expect(await api.sendFriendRequest("bob")).toEqual({ status: "pending" });
    expect((await api.listFriendRequests()).outgoing).toEqual([{ userId: "bob", at: 1 }]);
    expect(await api.acceptFriendRequest("carol@x")).toEqual({ status: "friends" });
    await api.deleteFriendRequest("dave");
    expect(await api.listFriends()).toEqual([{ userId: "bob", displayName: null, since: 2 }]);
    await api.removeFriend("bob");
    await api.getSettings();
    await api.updateSettings({ sharing: "off" });
    await api.getHistory({ from: 1, to: 2, limit: 10, cursor: "a b" });
    await api.deleteHistory();

    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      "GET http://api.test/me",
      "PUT http://api.test/me",
      "POST http://api.test/friends/requests",
      "GET http://api.test/friends/requests",
      "POST http://api.test/friends/requests/carol%40x/accept",
      "DELETE http://api.test/friends/requests/dave",
      "GET http://api.test/friends",
      "DELETE http://api.test/friends/bob",
      "GET http://api.test/me/settings",
      "PUT http://api.test/me/settings",
      "GET http://api.test/me/history?from=1&to=2&limit=10&cursor=a%20b",
      "DELETE http://api.test/me/history",
    ]);
    expect(calls.map((c) => c.body)).toEqual([
      undefined,
      { displayName: "Alice" },
      { userId: "bob" },
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      { sharing: "off" },
      undefined,
      undefined,
    ]);
    expect(calls.every((c) => c.headers.authorization === "Bearer tok")).toBe(true);
    expect(calls[1]?.headers["content-type"]).toBe("application/json");
    expect(calls[0]?.headers["content-type"]).toBeUndefined();
  });
});

describe("HttpClient errors", () => {
  it("throws NearbyFriendsError with the envelope's code and the status", async () => {
    const { fetch } = fakeFetch([
      { status: 409, body: { error: { code: "conflict", message: "already friends" } } },
    ]);
    const api = createHttpClient({ url: "http://api.test", token: "tok", fetch });

    const error = await api.sendFriendRequest("bob").catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NearbyFriendsError);
    expect(error).toMatchObject({ code: "conflict", status: 409, message: "already friends" });
  });

  it("derives the code from the status when API Gateway answered with its own body", async () => {
    const { fetch } = fakeFetch([
      { status: 404, body: { message: "Not Found" } },
      { status: 502, body: "<html>bad gateway</html>" },
    ]);
    const api = createHttpClient({ url: "http://api.test", token: "tok", fetch });

    await expect(api.getProfile()).rejects.toMatchObject({
      code: "not_found",
      status: 404,
      message: "Not Found",
    });
    await expect(api.getProfile()).rejects.toMatchObject({ code: "internal", status: 502 });
  });

  it("gets a fresh token after a 401 and tries once more", async () => {
    const { fetch, calls } = fakeFetch([
      { status: 401, body: { message: "Unauthorized" } },
      { status: 200, body: { userId: "alice", displayName: null } },
      { status: 401, body: { message: "Unauthorized" } },
      { status: 401, body: { message: "Unauthorized" } },
    ]);
    const asked: boolean[] = [];
    const api = createHttpClient({
      url: "http://api.test",
      token: ({ forceRefresh }) => {
        asked.push(forceRefresh);
        return forceRefresh ? "fresh" : "stale";
      },
      fetch,
    });

    await api.getProfile();
    const error = await api.getProfile().catch((e: unknown) => e);

    expect(asked).toEqual([false, true, false, true]);
    expect(calls.map((c) => c.headers.authorization)).toEqual([
      "Bearer stale",
      "Bearer fresh",
      "Bearer stale",
      "Bearer fresh",
    ]);
    expect(error).toMatchObject({ code: "unauthorized", status: 401 });
  });

  it("retries 503 and 429 with backoff, then gives up", async () => {
    const clock = new FakeClock();
    const { fetch, calls } = fakeFetch([
      { status: 503, body: { error: { code: "unavailable", message: "down" } } },
      { status: 429, body: { message: "Too Many Requests" } },
      { status: 200, body: { sharing: "on", ghostUntil: null, friends: {} } },
      { status: 503 },
      { status: 503 },
      { status: 503 },
    ]);
    const api = createHttpClient({
      url: "http://api.test",
      token: "tok",
      fetch,
      clock,
      random: () => 0,
    });

    const ok = api.getSettings();
    await clock.advance(500);
    expect(calls).toHaveLength(2);
    await clock.advance(1000);
    await expect(ok).resolves.toMatchObject({ sharing: "on" });

    const failed = api.getSettings().catch((e: unknown) => e);
    await clock.advance(1500);
    expect(await failed).toMatchObject({ code: "unavailable", status: 503 });
    expect(calls).toHaveLength(6);
  });
});
