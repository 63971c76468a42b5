// The deployment profiles as lib/config.ts resolves them: an explicit context value, else the
// profile's value, else the built-in default; and the combinations it refuses.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { StageConfigError, stageConfigFromContext } from "../../lib/config.ts";
import { PROFILE_NAMES, PROFILES, type ProfileSettings } from "../../lib/profiles.ts";

const config = (values: Record<string, unknown>) =>
  stageConfigFromContext({ tryGetContext: (key: string) => values[key] });

describe("deployment profiles", () => {
  it("uses the dev profile by default: one NAT gateway, text logs, full access logs", () => {
    const dev = config({});
    expect(dev.profile).toBe("dev");
    expect(dev).toMatchObject({
      natGateways: 1,
      logFormat: "Text",
      logLevel: "INFO",
      accessLogs: "full",
      detailedMetrics: false,
      historyPitr: false,
      shards: undefined,
    });
  });

  it("gives prod a NAT gateway per AZ, JSON logs without Lambda's INFO lines, trimmed access logs", () => {
    expect(config({ profile: "prod" })).toMatchObject({
      profile: "prod",
      natGateways: 2,
      logFormat: "JSON",
      logLevel: "INFO",
      systemLogLevel: "WARN",
      accessLogs: "trimmed",
      detailedMetrics: false,
      historyPitr: false,
    });
  });

  it("resolves every setting a profile holds to the profile's value when no context sets it", () => {
    for (const name of PROFILE_NAMES) {
      expect(config({ profile: name }), name).toMatchObject(PROFILES[name]);
    }
  });

  it("lets an explicit context value override the profile's, one setting at a time", () => {
    const prod = config({
      profile: "prod",
      natGateways: "1",
      accessLogs: "full",
      detailedMetrics: "true",
      historyPitr: "true",
      systemLogLevel: "INFO",
    });
    expect(prod).toMatchObject({
      natGateways: 1,
      logFormat: "JSON",
      accessLogs: "full",
      detailedMetrics: true,
      historyPitr: true,
      systemLogLevel: "INFO",
    });
    expect(config({ logFormat: "JSON", systemLogLevel: "WARN" })).toMatchObject({
      profile: "dev",
      natGateways: 1,
      logFormat: "JSON",
      systemLogLevel: "WARN",
    });
    // The settings outside the profiles keep their built-in defaults under either profile.
    expect(config({ profile: "prod" }).cacheNodeType).toBe(config({}).cacheNodeType);
    expect(config({ profile: "prod", shards: "2" }).shards).toBe(2);
  });

  it("refuses an unknown profile or value, naming the choices", () => {
    expect(() => config({ profile: "staging" })).toThrow(StageConfigError);
    expect(() => config({ profile: "staging" })).toThrow(/profile must be one of dev, prod/);
    expect(() => config({ accessLogs: "none" })).toThrow(/accessLogs must be one of full, trimmed/);
    expect(() => config({ logFormat: "json" })).toThrow(/logFormat must be one of Text, JSON/);
    expect(() => config({ detailedMetrics: "yes" })).toThrow(
      /detailedMetrics must be true or false/,
    );
  });

  it("refuses a system log level without JSON logs, where Lambda cannot apply it", () => {
    expect(() => config({ systemLogLevel: "WARN" })).toThrow(/systemLogLevel needs logFormat=JSON/);
    expect(() => config({ profile: "prod", logFormat: "Text", systemLogLevel: "WARN" })).toThrow(
      StageConfigError,
    );
    // Without an explicit level, a text-format stage simply has none.
    expect(config({ profile: "prod", logFormat: "Text" }).logFormat).toBe("Text");
  });

  it("refuses an application level above INFO with JSON logs, which would drop the EMF metric lines", () => {
    expect(() => config({ profile: "prod", logLevel: "WARN" })).toThrow(/drops every metric/);
    expect(config({ logLevel: "WARN" }).logLevel).toBe("WARN");
    expect(config({ profile: "prod", logLevel: "DEBUG" }).logLevel).toBe("DEBUG");
  });

  it("is documented in the README's profiles table, value for value", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    for (const key of Object.keys(PROFILES.dev) as (keyof ProfileSettings)[]) {
      const [dev, prod] = [PROFILES.dev[key], PROFILES.prod[key]].map(String);
      expect(readme).toContain(`| \`${key}\` | \`${dev}\` | \`${prod}\` |`);
    }
  });
});
