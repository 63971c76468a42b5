// The local stack behaves as AWS does where a client or a handler can tell (PROTOCOL.md §5,
// ARCHITECTURE.md §13): what the gateways answer themselves, and the event-source mappings'
// on-failure destinations. Local only: AWS is the reference these tests hold the stack to.
import { describe, expect, it } from "vitest";
import { http } from "./client.ts";

describe("stream event-source mappings", () => {
  it("count what each consumer's mapping gave up at GET /dev/dead-letters", async () => {
    const res = await http("GET", "/dev/dead-letters");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      fanout: { count: expect.any(Number), latest: expect.any(Array) },
      history: { count: expect.any(Number), latest: expect.any(Array) },
    });
  });
});
