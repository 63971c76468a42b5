import { describe, expect, it } from "vitest";
import { initialDisplayName, MAX_DISPLAY_NAME_CHARS } from "../../functions/domain/profile.ts";

describe("the display name a confirmed sign-up starts with", () => {
  it("is the first candidate the PUT /me rule accepts, trimmed", () => {
    expect(initialDisplayName("  Alice  ", "Alice Kim")).toBe("Alice");
    expect(initialDisplayName(undefined, "Alice Kim")).toBe("Alice Kim");
  });

  it("skips a candidate with a lone surrogate, a blank one or one too long", () => {
    expect(initialDisplayName("bad\uD800name", "Bob")).toBe("Bob");
    expect(initialDisplayName("   ", "Bob")).toBe("Bob");
    expect(initialDisplayName("x".repeat(MAX_DISPLAY_NAME_CHARS + 1), "Bob")).toBe("Bob");
    expect(initialDisplayName("emoji 🙂 ok")).toBe("emoji 🙂 ok");
  });

  it("is null when no candidate is acceptable", () => {
    expect(initialDisplayName(undefined, undefined)).toBeNull();
    expect(initialDisplayName("\uDC00")).toBeNull();
  });
});
