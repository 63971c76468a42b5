// What only the local stack offers (PROTOCOL.md §4): the health endpoint, and a way to lose a
// connection without $disconnect to test the dead-connection clean-up. Not run against AWS.
import { afterEach, describe, expect, it } from "vitest";
import { http, isPushAbout, makeFriends, newUser, north, Session, Sessions } from "./client.ts";

const HOME = { lat: 37.5665, lon: 126.978 };
const at = (m: number) => north(HOME.lat, HOME.lon, m);
const sessions = new Sessions();
afterEach(() => sessions.closeAll());

describe("local stack", () => {
  it("reports health", async () => {
    const res = await http("GET", "/health");
    expect(res).toEqual({
      status: 200,
      body: {
        status: "ok",
        components: {
          redis: "ok",
          dynamodb: "ok",
          kinesis: "ok",
          consumers: "ok",
          functions: "ok",
        },
      },
    });
  });

  it("cleans up a connection lost without $disconnect on its first GoneException", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    await makeFriends(alice, bob);
    const aliceWs = await sessions.connect(alice.token);
    await aliceWs.request({ action: "init", ...at(0) });
    const bobWs = await Session.open(bob.token);
    await bobWs.request({ action: "init", ...at(300) });
    await aliceWs.next(isPushAbout(bob.userId));

    const lost = await http("POST", `/dev/lose-connections?userId=${bob.userId}`);
    expect(lost.body).toEqual({ lost: 1 });
    const mark = aliceWs.frames.length;
    // alice's move is posted to bob's dead connection: the 410 removes it, bob's last, so alice is
    // told bob went offline.
    aliceWs.send({ action: "location", ...at(-200) });
    await aliceWs.next(isPushAbout(bob.userId, "away"), 5000, mark);
    const again = await sessions.connect(alice.token);
    expect((await again.request({ action: "init", ...at(0) })).friends).toEqual([]);
  });
});
