// Per-user limits as clients meet them: the connection cap refuses a handshake with HTTP 429.
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { newUser, Sessions, wsUrl } from "./client.ts";

const sessions = new Sessions();
afterEach(() => sessions.closeAll());

/** The HTTP status a WebSocket handshake gets (101 when it is accepted, then closed). */
function handshakeStatus(token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(wsUrl());
    url.searchParams.set("token", token);
    const ws = new WebSocket(url.toString());
    ws.once("open", () => {
      ws.close();
      resolve(101);
    });
    ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.once("error", reject);
  });
}

describe("connections per user", () => {
  it("refuses the handshake of a 6th open connection with 429, and the others keep working", async () => {
    // Prepare: five devices of one user online.
    const alice = await newUser("alice");
    const open = [];
    for (let i = 0; i < 5; i++) open.push(await sessions.connect(alice.token));
    // Act
    const status = await handshakeStatus(alice.token);
    // Assess
    expect(status).toBe(429);
    expect(await handshakeStatus((await newUser("bob")).token)).toBe(101);
    expect((await open[0]?.request({ action: "ping" }))?.type).toBe("pong");
  });
});
