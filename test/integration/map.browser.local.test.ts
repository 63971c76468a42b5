// The live map in a real browser (local stack: it signs in through POST /dev/token): alice's page
// shows bob, moved through the SDK, at the right distance, follows his move, drops him on `away`;
// its ghost and precision controls change alice's settings; a share link's page shows alice to
// someone without an account. Saves a screenshot in test-output/.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  connect,
  createHttpClient,
  distanceM,
  type NearbyFriendsClient,
} from "../../client/index.ts";
import { type Browser, launchChromium, TEST_OUTPUT } from "../support/browser.ts";
import { at, HOME, http, httpUrl, newUser, type TestUser, wsUrl } from "./client.ts";

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

const api = (u: TestUser) => createHttpClient({ url: httpUrl(), token: u.token });

async function friends(): Promise<{ alice: TestUser; bob: TestUser }> {
  const alice = await newUser("alice");
  const bob = await newUser("bob");
  await api(alice).sendFriendRequest(bob.userId);
  await api(bob).acceptFriendRequest(alice.userId);
  return { alice, bob };
}

/** Alice's map, standing at HOME; resolves once the page's connection is open. */
async function openMap(alice: TestUser): Promise<Page> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  await page.goto(`${httpUrl()}/map?as=${alice.userId}&lat=${HOME.lat}&lon=${HOME.lon}`);
  await page.waitForSelector('body[data-connection-state="open"]', { timeout: 15_000 });
  expect(errors).toEqual([]);
  return page;
}

const row = (userId: string) => `li[data-user-id="${userId}"][data-state="nearby"]`;

/** The distance a friend's row shows, once it is within 2 m of `metres`. */
async function distanceShown(page: Page, userId: string, metres: number): Promise<number> {
  const selector = `${row(userId)} [data-distance-m]`;
  let shown = Number.NaN;
  await expect
    .poll(
      async () => {
        shown = Number((await (await page.$(selector))?.getAttribute("data-distance-m")) ?? "");
        return Math.abs(shown - metres) <= 2;
      },
      { timeout: 15_000, interval: 100 },
    )
    .toBe(true);
  return shown;
}

describe("live map in a browser (local stack)", () => {
  it("shows a friend moved through the SDK at the right distance, follows him, and drops him on away", async () => {
    // Prepare: alice's map open at HOME.
    const { alice, bob } = await friends();
    const page = await openMap(alice);
    let bobClient: NearbyFriendsClient | null = null;
    try {
      // Act 1: bob comes online 500 m north.
      bobClient = connect({ url: wsUrl(), token: bob.token, WebSocket, position: at(500) });

      // Assess 1: his row, at the distance the server's formula gives.
      expect(await distanceShown(page, bob.userId, 500)).toBe(Math.round(distanceM(HOME, at(500))));
      await expect
        .poll(() => page.textContent(`${row(bob.userId)} .name`), { timeout: 10_000 })
        .toBe("bob");

      // Act 2 / Assess 2: he moves to 900 m; the row follows.
      bobClient.updateLocation(at(900));
      expect(await distanceShown(page, bob.userId, 900)).toBe(Math.round(distanceM(HOME, at(900))));
      expect(await page.getAttribute("body", "data-connection-state")).toBe("open");
      mkdirSync(TEST_OUTPUT, { recursive: true });
      await page.screenshot({ path: join(TEST_OUTPUT, "map-browser.png") });

      // Act 3 / Assess 3: bob goes offline (his only connection closes): `away`, the row goes.
      bobClient.close();
      bobClient = null;
      await page.waitForSelector(`li[data-user-id="${bob.userId}"]`, {
        state: "detached",
        timeout: 15_000,
      });
      expect(await page.$$("#nearby li")).toHaveLength(0);
    } finally {
      bobClient?.close();
      await page.close();
    }
  }, 90_000);

  it("changes ghost mode and a friend's precision through the HTTP API", async () => {
    // Prepare
    const { alice, bob } = await friends();
    const page = await openMap(alice);
    try {
      await page.click("#friends-section summary"); // the list of all friends, folded at first
      const select = `#friends li[data-friend-id="${bob.userId}"] select`;
      await page.waitForSelector(select, { timeout: 15_000 });

      // Act 1: bob is to see alice only approximately.
      await page.selectOption(select, "approximate");

      // Assess 1
      await expect
        .poll(async () => (await api(alice).getSettings()).friends, { timeout: 10_000 })
        .toEqual({ [bob.userId]: "approximate" });

      // Act 2: ghost for 15 minutes.
      const before = Date.now();
      await page.click('button[data-ghost="900000"]');

      // Assess 2: hidden with a timer, shown on the page.
      await page.waitForSelector('#ghost[data-sharing="off"]', { timeout: 10_000 });
      const ghost = await api(alice).getSettings();
      expect(ghost.sharing).toBe("off");
      expect(ghost.ghostUntil).toBeGreaterThan(before + 14 * 60_000);
      expect(ghost.ghostUntil).toBeLessThan(Date.now() + 16 * 60_000);
      expect(ghost.friends).toEqual({ [bob.userId]: "approximate" });
      await expect(page.textContent("#ghost-status")).resolves.toMatch(/hidden for 1[45] min/);

      // Act 3 / Assess 3: sharing again.
      await page.click('button[data-ghost="off"]');
      await page.waitForSelector('#ghost[data-sharing="on"]', { timeout: 10_000 });
      expect(await api(alice).getSettings()).toMatchObject({ sharing: "on", ghostUntil: null });
    } finally {
      await page.close();
    }
  }, 60_000);

  it("shows a share link's user live at /map?share=, then hidden, then ended on revocation", async () => {
    // Prepare: alice online at HOME, with a share link.
    const alice = await newUser("alice");
    const aliceClient = connect({ url: wsUrl(), token: alice.token, WebSocket, position: HOME });
    const created = await http("POST", "/share-links", alice.token, {
      expiresInS: 600,
      precision: "precise",
    });
    const link = created.body as { id: string; url: string };
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    try {
      // Act 1: someone without an account opens the link's page (the URL names /map here).
      await page.goto(`${httpUrl()}/map${new URL(link.url).search}`);

      // Assess 1: live, with alice's name and an age.
      await page.waitForSelector('#share[data-share-state="live"]', { timeout: 15_000 });
      expect(await page.textContent("#share-name")).toBe("alice");
      await expect.poll(() => page.textContent("#share-age")).toMatch(/^updated /);

      // Act 2 / Assess 2: ghost mode hides her.
      await http("PUT", "/me/settings", alice.token, { sharing: "off" });
      await page.waitForSelector('#share[data-share-state="hidden"]', { timeout: 15_000 });

      // Act 3 / Assess 3: the link is revoked: the page says it ended.
      await http("DELETE", `/share-links/${link.id}`, alice.token);
      await page.waitForSelector('#share[data-share-state="ended"]', { timeout: 5_000 });
      expect(errors).toEqual([]);
    } finally {
      aliceClient.close();
      await page.close();
    }
  }, 60_000);
});
