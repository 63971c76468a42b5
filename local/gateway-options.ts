// What the local WebSocket gateway emulates of API Gateway's limits, with AWS's values by default
// and each read from the environment (tests set shorter ones through the stack's options).

export interface GatewayOptions {
  /**
   * How one connection's frames reach the routes: `concurrent`, as API Gateway invokes them (one
   * frame may overtake another), or `serial`, one after another in arrival order.
   */
  frameDispatch: "concurrent" | "serial";
  /** A connection with no frame from the client for this long is closed (1001). AWS: 10 min. */
  idleTimeoutS: number;
  /** A connection is closed (1001) this long after it opened, whatever it does. AWS: 2 h. */
  maxConnectionAgeS: number;
  /**
   * `@connections` calls a second, all connections together (API Gateway's account throttle, a
   * token bucket: 10 000 requests/s, burst 5 000, by default); over it, 429 LimitExceededException.
   * 0: no limit.
   */
  connectionsRatePerS: number;
  connectionsBurst: number;
}

export const AWS_GATEWAY_OPTIONS: GatewayOptions = {
  frameDispatch: "concurrent",
  idleTimeoutS: 600,
  maxConnectionAgeS: 7200,
  connectionsRatePerS: 10_000,
  connectionsBurst: 5_000,
};

/** The environment variable of each option. */
export const GATEWAY_ENV: Record<keyof GatewayOptions, string> = {
  frameDispatch: "WS_FRAME_DISPATCH",
  idleTimeoutS: "WS_IDLE_TIMEOUT_S",
  maxConnectionAgeS: "WS_MAX_AGE_S",
  connectionsRatePerS: "CONNECTIONS_API_RATE_PER_S",
  connectionsBurst: "CONNECTIONS_API_BURST",
};

type Env = Record<string, string | undefined>;

function positive(env: Env, key: keyof GatewayOptions, zeroAllowed: boolean): number {
  const name = GATEWAY_ENV[key];
  const raw = env[name];
  const fallback = AWS_GATEWAY_OPTIONS[key] as number;
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (!zeroAllowed && n === 0))
    throw new Error(`${name} must be a number ${zeroAllowed ? ">= 0" : "> 0"}, got "${raw}"`);
  return n;
}

/** The options from the environment, AWS's values where a variable is unset; throws on a bad one. */
export function gatewayOptionsFromEnv(env: Env = process.env): GatewayOptions {
  const dispatch = env[GATEWAY_ENV.frameDispatch] || AWS_GATEWAY_OPTIONS.frameDispatch;
  if (dispatch !== "concurrent" && dispatch !== "serial")
    throw new Error(
      `${GATEWAY_ENV.frameDispatch} must be "concurrent" or "serial", got "${dispatch}"`,
    );
  return {
    frameDispatch: dispatch,
    idleTimeoutS: positive(env, "idleTimeoutS", false),
    maxConnectionAgeS: positive(env, "maxConnectionAgeS", false),
    connectionsRatePerS: positive(env, "connectionsRatePerS", true),
    connectionsBurst: positive(env, "connectionsBurst", false),
  };
}
