// Validation of client WebSocket frames (docs/PROTOCOL.md §2): schemas, and parsing of raw frame text
// into typed frames or the protocol's errors.
import { z } from "zod";
import { AppError, InvalidRequestError } from "./errors.ts";
import { MAX_FRAME_BYTES } from "./limits.ts";
import { MAX_PEOPLE_LIMIT } from "./people.ts";

export const USER_ID_PATTERN = /^[A-Za-z0-9\-_.@]{1,128}$/;

const required = (field: string, rule: string) => (iss: { input: unknown }) =>
  iss.input === undefined ? `${field} is required` : `${field} must be ${rule}`;

const numberIn = (field: string, min: number, max: number) => {
  const rule = `a number between ${min} and ${max}`;
  return z
    .number({ error: required(field, rule) })
    .min(min, { error: `${field} must be ${rule}` })
    .max(max, { error: `${field} must be ${rule}` });
};

export const userIdSchema = (field: string) =>
  z.string({ error: required(field, "a user id") }).regex(USER_ID_PATTERN, {
    error: `${field} must be 1-128 characters from letters, digits and -_.@`,
  });

const requestId = z
  .string({ error: "requestId must be a string of at most 64 characters" })
  .max(64, { error: "requestId must be a string of at most 64 characters" })
  .optional();

const position = {
  lat: numberIn("lat", -90, 90),
  lon: numberIn("lon", -180, 180),
  accuracyM: z
    .number({ error: "accuracyM must be a number >= 0" })
    .min(0, { error: "accuracyM must be a number >= 0" })
    .optional(),
  ts: z
    .number({ error: "ts must be a timestamp in epoch milliseconds" })
    .int({ error: "ts must be a timestamp in epoch milliseconds" })
    .min(0, { error: "ts must be a timestamp in epoch milliseconds" })
    .optional(),
};

const limit = z
  .number({ error: "limit must be an integer between 1 and 100" })
  .int({ error: "limit must be an integer between 1 and 100" })
  .min(1, { error: "limit must be an integer between 1 and 100" })
  .max(100, { error: "limit must be an integer between 1 and 100" })
  .optional();

const PEOPLE_LIMIT_RULE = `limit must be an integer between 1 and ${MAX_PEOPLE_LIMIT}`;
const peopleLimit = z
  .number({ error: PEOPLE_LIMIT_RULE })
  .int({ error: PEOPLE_LIMIT_RULE })
  .min(1, { error: PEOPLE_LIMIT_RULE })
  .max(MAX_PEOPLE_LIMIT, { error: PEOPLE_LIMIT_RULE })
  .optional();

export const frameSchemas = {
  init: z.object({ action: z.literal("init"), requestId, ...position, limit }),
  nearbyFriends: z.object({
    action: z.literal("nearbyFriends"),
    requestId,
    cursor: z
      .string({ error: required("cursor", "a cursor string") })
      .min(1, { error: "cursor must be a cursor string" })
      .max(1024, { error: "cursor must be a cursor string" }),
    limit,
  }),
  location: z.object({ action: z.literal("location"), requestId, ...position }),
  subscribe: z.object({
    action: z.literal("subscribe"),
    requestId,
    friendId: userIdSchema("friendId"),
  }),
  unsubscribe: z.object({
    action: z.literal("unsubscribe"),
    requestId,
    friendId: userIdSchema("friendId"),
  }),
  ping: z.object({ action: z.literal("ping"), requestId }),
  nearbyPeople: z.object({ action: z.literal("nearbyPeople"), requestId, limit: peopleLimit }),
} as const;

export type Action = keyof typeof frameSchemas;
export type Frame<A extends Action> = z.infer<(typeof frameSchemas)[A]>;
export const ACTIONS = Object.keys(frameSchemas) as Action[];

export const isAction = (value: unknown): value is Action =>
  typeof value === "string" && Object.hasOwn(frameSchemas, value);

/** The requestId of a frame, when it carries a valid one (replies echo it). */
export function requestIdOf(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const id = (body as { requestId?: unknown }).requestId;
  return typeof id === "string" && id.length <= 64 ? id : undefined;
}

/** Parse raw frame text into a JSON object, enforcing the frame size limit. */
export function parseFrameObject(raw: string | null | undefined): Record<string, unknown> {
  const text = raw ?? "";
  if (Buffer.byteLength(text, "utf8") > MAX_FRAME_BYTES) {
    throw new AppError("payload_too_large", `frames are limited to ${MAX_FRAME_BYTES} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError("invalid_json", "the frame is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new AppError("invalid_json", "the frame must be a JSON object");
  }
  return value as Record<string, unknown>;
}

/** Validate a parsed frame against the schema of its action; the first problem names its field. */
export function validateFrame<A extends Action>(
  action: A,
  value: Record<string, unknown>,
): Frame<A> {
  const result = frameSchemas[action].safeParse(value);
  if (result.success) return result.data as Frame<A>;
  const issue = result.error.issues[0];
  throw new InvalidRequestError(issue?.message ?? "the frame is invalid");
}

/** Parse and validate raw frame text for a known action (as its route handler receives it). */
export function parseFrame<A extends Action>(action: A, raw: string | null | undefined): Frame<A> {
  const value = parseFrameObject(raw);
  if (value.action !== action) {
    throw new AppError("unknown_action", unknownActionMessage(value.action));
  }
  return validateFrame(action, value);
}

export function unknownActionMessage(action: unknown): string {
  return typeof action === "string"
    ? `unknown action "${action.slice(0, 64)}"; expected one of ${ACTIONS.join(", ")}`
    : `action is required; expected one of ${ACTIONS.join(", ")}`;
}
