// The local gateway's limits from the environment: AWS's values by default, a bad value refused
// with the variable's name.
import { describe, expect, it } from "vitest";
import { AWS_GATEWAY_OPTIONS, gatewayOptionsFromEnv } from "../../local/gateway-options.ts";

describe("gateway options", () => {
  it("are AWS's values when nothing is set", () => {
    expect(gatewayOptionsFromEnv({})).toEqual({
      frameDispatch: "concurrent",
      idleTimeoutS: 600,
      maxConnectionAgeS: 7200,
      connectionsRatePerS: 10_000,
      connectionsBurst: 5_000,
    });
    expect(gatewayOptionsFromEnv({})).toEqual(AWS_GATEWAY_OPTIONS);
  });

  it("read each variable", () => {
    expect(
      gatewayOptionsFromEnv({
        WS_FRAME_DISPATCH: "serial",
        WS_IDLE_TIMEOUT_S: "1.5",
        WS_MAX_AGE_S: "30",
        CONNECTIONS_API_RATE_PER_S: "0",
        CONNECTIONS_API_BURST: "2",
      }),
    ).toEqual({
      frameDispatch: "serial",
      idleTimeoutS: 1.5,
      maxConnectionAgeS: 30,
      connectionsRatePerS: 0,
      connectionsBurst: 2,
    });
  });

  it.each([
    [{ WS_FRAME_DISPATCH: "parallel" }, /WS_FRAME_DISPATCH/],
    [{ WS_IDLE_TIMEOUT_S: "0" }, /WS_IDLE_TIMEOUT_S must be a number > 0/],
    [{ WS_MAX_AGE_S: "two hours" }, /WS_MAX_AGE_S/],
    [{ CONNECTIONS_API_RATE_PER_S: "-1" }, /CONNECTIONS_API_RATE_PER_S must be a number >= 0/],
  ])("refuse %o", (env, message) => {
    expect(() => gatewayOptionsFromEnv(env)).toThrow(message);
  });
});
