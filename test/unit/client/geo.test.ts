import { describe, expect, it } from "vitest";
import { distanceM } from "../../../client/index.ts";
import { haversineM } from "../../../functions/domain/geo.ts";

describe("distanceM", () => {
  it("measures as the server does (§2.8)", () => {
    const pairs = [
      [
        { lat: 37.5665, lon: 126.978 },
        { lat: 37.5755, lon: 126.978 },
      ],
      [
        { lat: 0, lon: 179.99 },
        { lat: 0, lon: -179.99 },
      ],
      [
        { lat: -33.87, lon: 151.21 },
        { lat: 51.5, lon: -0.12 },
      ],
    ] as const;
    for (const [a, b] of pairs) expect(distanceM(a, b)).toBe(haversineM(a, b));
    expect(Math.round(distanceM(pairs[0][0], pairs[0][1]))).toBe(1001);
  });
});
