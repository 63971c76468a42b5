// The names under which the functions' Powertools logger, metrics and tracer report: emitted by
// functions/ (observability.ts, the use cases' Telemetry port, the middlewares), set on every
// function by the house construct and read back by the alarms and the dashboard. Pure data.

/** Powertools' `service`: a dimension of every metric and a key of every log line and trace. */
export const SERVICE_NAME = "nearby-friends";

/** The CloudWatch namespace of the functions' EMF metrics. */
export const METRICS_NAMESPACE = "NearbyFriends";

/**
 * The application metrics, each with the dimensions `service` and `stage` (and `code` for
 * ClientErrors): the names the functions emit, with their unit and what one count means.
 */
export const APP_METRICS = {
  LocationsReceived: { unit: "Count", meaning: "location and init frames stored" },
  LocationsPublished: { unit: "Count", meaning: "positions published to the stream" },
  LocationsFiltered: { unit: "Count", meaning: "positions held back by the movement filter" },
  LocationsShed: {
    unit: "Count",
    meaning: "location frames that waited too long for a handler and were refused, not stored",
  },
  FanoutRecords: { unit: "Count", meaning: "stream records the fan-out received" },
  FanoutPushes: { unit: "Count", meaning: "PostToConnection calls" },
  FanoutFriendUpdates: { unit: "Count", meaning: "friend updates the pushes carried" },
  FanoutStaleDropped: {
    unit: "Count",
    meaning:
      "records with nothing left to deliver: their mover's newest position went out already, or the mover is offline (or back online after an offline record)",
  },
  FanoutLagMs: {
    unit: "Milliseconds",
    meaning: "now minus the pushed position's server time, at post time, one value per position",
  },
  GoneConnections: { unit: "Count", meaning: "connections the Management API reported gone" },
  FailedRecords: {
    unit: "Count",
    meaning: "stream records reported as batch item failures, by either consumer",
  },
  CadenceChanges: {
    unit: "Count",
    meaning:
      "reporting cadences decided anew: a user's first (told in the `init` reply) or a change (told with a `cadence` push)",
  },
  ClientErrors: { unit: "Count", meaning: "error replies, by protocol error `code`" },
} as const satisfies Record<string, { unit: string; meaning: string }>;

export type AppMetricName = keyof typeof APP_METRICS;
