import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_TUNABLES, readTunables, TUNABLES } from "../../functions/config.ts";

describe("tunables", () => {
  it("reads every tunable from its variable, with the table's default when unset", () => {
    const env = Object.fromEntries(
      Object.values(TUNABLES).map((spec) => [spec.env, String(spec.default + spec.min + 1)]),
    );
    const read = readTunables(env);
    for (const [name, spec] of Object.entries(TUNABLES)) {
      expect(read[name as keyof typeof read]).toBe(spec.default + spec.min + 1);
    }
    expect(readTunables({})).toEqual(DEFAULT_TUNABLES);
  });

  it("refuses a value below the minimum or a fraction where an integer is needed, naming it", () => {
    expect(() => readTunables({ RADIUS_M: "0" })).toThrow(ConfigError);
    expect(() => readTunables({ RADIUS_M: "0" })).toThrow(/RADIUS_M/);
    expect(() => readTunables({ LOCATION_TTL_S: "1.5" })).toThrow(
      /LOCATION_TTL_S must be an integer/,
    );
    expect(() => readTunables({ MIN_MOVE_M: "far" })).toThrow(/MIN_MOVE_M/);
  });

  it("is documented in the README's configuration table with its default", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    for (const spec of Object.values(TUNABLES)) {
      expect(readme).toContain(`| \`${spec.env}\` | ${spec.default} |`);
    }
  });
});
