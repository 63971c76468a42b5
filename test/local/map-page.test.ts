// The local stack's live map pages behind the local HTTP API: the page, its bundle (built once),
// config.json naming this stack's endpoints, and GET /dev/position.
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpApi, startHttpApi } from "../../local/http-api.ts";
import { mapPages } from "../../local/map-page.ts";

let api: HttpApi;
const positions = new Map([["alice", { lat: 37.5, lon: 127, at: 1_763_770_000_000 }]]);

beforeAll(async () => {
  api = await startHttpApi(
    0,
    () => ({
      routes: {},
      verify: async () => "alice",
      issueToken: async () => "token",
      loseConnections: () => 0,
      health: async () => ({}),
      restartRedis: async () => undefined,
      jwks: { keys: [] },
      deadLetters: async () => ({}),
      gatewayStats: () => ({}),
      pages: mapPages({
        wsPort: 4321,
        position: async (userId) => positions.get(userId) ?? null,
        log: () => undefined,
      }),
    }),
    () => undefined,
  );
});
afterAll(async () => {
  await api.stop();
});

const get = (path: string) => fetch(`http://127.0.0.1:${api.port}${path}`);

/** A GET with the Host header a browser sends (fetch sets its own). */
const getAs = (host: string, path: string) =>
  new Promise<string>((resolve, reject) => {
    request({ host: "127.0.0.1", port: api.port, path, headers: { host } }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += chunk.toString("utf8");
      });
      res.on("end", () => resolve(body));
    })
      .on("error", reject)
      .end();
  });

describe("local map pages", () => {
  it("serves the page, its script and its stylesheet", async () => {
    // Act
    const page = await get("/map?as=alice");
    const script = await get("/map/app.js");
    const style = await get("/map/app.css");

    // Assess
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<script src="/map/app.js">');
    expect(html).toContain('<link rel="stylesheet" href="/map/app.css">');
    expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect((await script.text()).length).toBeGreaterThan(50_000); // the SDK and Leaflet
    expect(await style.text()).toContain(".leaflet-container");
  });

  it("names this stack's endpoints in config.json, on the host the browser used", async () => {
    // Act
    const body = await getAs(`localhost:${api.port}`, "/map/config.json");

    // Assess
    expect(JSON.parse(body)).toEqual({
      httpUrl: `http://localhost:${api.port}`,
      wsUrl: "ws://localhost:4321",
      devAuth: true,
      tileUrl: "",
      tileAttribution: "",
    });
  });

  it("tells where the server has a user, 404 when nowhere, 400 for a bad id", async () => {
    const found = await get("/dev/position?userId=alice");
    expect(found.status).toBe(200);
    expect(await found.json()).toEqual({
      userId: "alice",
      lat: 37.5,
      lon: 127,
      at: 1_763_770_000_000,
    });
    expect((await get("/dev/position?userId=bob")).status).toBe(404);
    expect((await get("/dev/position?userId=a%20b")).status).toBe(400);
  });

  it("leaves other paths to the API", async () => {
    const res = await get("/mapping");
    expect(res.status).toBe(404);
    // API Gateway's own reply for a path with no route.
    expect(await res.json()).toEqual({ message: "Not Found" });
    expect((await get("/map/other.js")).status).toBe(404);
  });
});
