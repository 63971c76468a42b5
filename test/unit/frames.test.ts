import { describe, expect, it } from "vitest";
import { AppError } from "../../functions/domain/errors.ts";
import { parseFrame, parseFrameObject, validateFrame } from "../../functions/domain/frames.ts";

const codeOf = (fn: () => unknown): { code: string; message: string } => {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error("did not throw");
};

describe("parseFrameObject", () => {
  it("refuses text that is not a JSON object", () => {
    expect(codeOf(() => parseFrameObject("nope")).code).toBe("invalid_json");
    expect(codeOf(() => parseFrameObject("[]")).code).toBe("invalid_json");
    expect(codeOf(() => parseFrameObject("null")).code).toBe("invalid_json");
    expect(codeOf(() => parseFrameObject(undefined)).code).toBe("invalid_json");
  });

  it("refuses frames over 32 KB, counting bytes, not characters", () => {
    const ok = JSON.stringify({ action: "ping", p: "x".repeat(32 * 1024 - 30) });
    expect(parseFrameObject(ok).action).toBe("ping");
    const multiByte = JSON.stringify({ action: "ping", p: "é".repeat(16 * 1024 + 10) });
    expect(codeOf(() => parseFrameObject(multiByte)).code).toBe("payload_too_large");
  });
});

describe("frame validation", () => {
  it("accepts a full init frame and applies no defaults it does not need", () => {
    const frame = validateFrame("init", {
      action: "init",
      lat: 37.5665,
      lon: 126.978,
      accuracyM: 12,
      ts: 1763770000000,
      limit: 20,
      requestId: "r1",
      extra: "ignored",
    });
    expect(frame).toEqual({
      action: "init",
      lat: 37.5665,
      lon: 126.978,
      accuracyM: 12,
      ts: 1763770000000,
      limit: 20,
      requestId: "r1",
    });
  });

  it.each([
    [{ lon: 0 }, "lat is required"],
    [{ lat: -90.5, lon: 0 }, "lat must be a number between -90 and 90"],
    [{ lat: "1", lon: 0 }, "lat must be a number between -90 and 90"],
    [{ lat: 0, lon: 180.01 }, "lon must be a number between -180 and 180"],
    [{ lat: 0, lon: 0, accuracyM: -1 }, "accuracyM must be a number >= 0"],
    [{ lat: 0, lon: 0, ts: 1.5 }, "ts must be a timestamp in epoch milliseconds"],
    [
      { lat: 0, lon: 0, requestId: "x".repeat(65) },
      "requestId must be a string of at most 64 characters",
    ],
  ])("names the field of a bad location frame %j", (fields, message) => {
    expect(codeOf(() => validateFrame("location", { action: "location", ...fields }))).toEqual({
      code: "invalid_request",
      message,
    });
  });

  it("bounds the page size and checks user ids", () => {
    expect(
      codeOf(() => validateFrame("init", { action: "init", lat: 0, lon: 0, limit: 101 })).message,
    ).toBe("limit must be an integer between 1 and 100");
    expect(
      codeOf(() => validateFrame("subscribe", { action: "subscribe", friendId: "" })).message,
    ).toMatch(/^friendId must be/);
    expect(codeOf(() => validateFrame("subscribe", { action: "subscribe" })).message).toBe(
      "friendId is required",
    );
    expect(
      validateFrame("subscribe", { action: "subscribe", friendId: "bob.smith@x-y_z" }).friendId,
    ).toBe("bob.smith@x-y_z");
  });

  it("refuses a frame routed to the wrong action", () => {
    expect(codeOf(() => parseFrame("ping", JSON.stringify({ action: "init" }))).code).toBe(
      "unknown_action",
    );
  });
});
