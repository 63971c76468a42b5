// Profiles (docs/PROTOCOL.md §3, `PUT /me`): validation of the text a user writes for others to read.
// Pure.
import { z } from "zod";

// With the `u` flag a surrogate pair reads as the one character it encodes, so only a surrogate
// that is not part of a pair matches: a string holding one is not well-formed Unicode (it has no
// UTF-8 encoding, and DynamoDB, JSON parsers and clients each mangle or refuse it differently).
const LONE_SURROGATE = /\p{Surrogate}/u;

/** A string that is well-formed Unicode: no lone surrogates (`String.prototype.isWellFormed`). */
export const isWellFormed = (text: string): boolean => !LONE_SURROGATE.test(text);

/**
 * Text a user writes for others to read: a string, trimmed of surrounding whitespace, of `min`–`max`
 * characters (UTF-16 code units), well-formed Unicode. The messages name the field.
 */
export function userTextSchema(field: string, { min, max }: { min: number; max: number }) {
  const rule = `${field} must be a string of ${min}-${max} characters`;
  return z
    .string({ error: rule })
    .trim()
    .min(min, { error: rule })
    .max(max, { error: rule })
    .refine(isWellFormed, { error: `${field} must be well-formed Unicode (no lone surrogates)` });
}

export const MAX_DISPLAY_NAME_CHARS = 64;

export const profileUpdateSchema = z.object({
  displayName: userTextSchema("displayName", { min: 1, max: MAX_DISPLAY_NAME_CHARS }),
});

const displayNameSchema = profileUpdateSchema.shape.displayName;

/**
 * The display name a new user starts with, from what sign-up collected (in order of preference):
 * the first candidate that the `PUT /me` rule accepts, trimmed; `null` when none does.
 */
export function initialDisplayName(...candidates: (string | undefined)[]): string | null {
  for (const c of candidates) {
    if (c === undefined) continue;
    const parsed = displayNameSchema.safeParse(c);
    if (parsed.success) return parsed.data;
  }
  return null;
}
