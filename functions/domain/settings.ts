// Sharing settings (docs/PROTOCOL.md §3): their shape, validation of a change, and how a change
// applies. Who sees what under them is domain/visibility.ts. Pure.
import { z } from "zod";
import { USER_ID_PATTERN } from "./frames.ts";
import type { FriendVisibility } from "./visibility.ts";

export interface Settings {
  sharing: "on" | "off";
  ghostUntil: number | null;
  friends: Record<string, FriendVisibility>;
  /** Shown to strangers nearby (`nearbyPeople`, at the precision-6 cell centre only); opt-in. */
  discoverable: boolean;
}

export const DEFAULT_SETTINGS: Settings = {
  sharing: "on",
  ghostUntil: null,
  friends: {},
  discoverable: false,
};

const MAX_FRIEND_ENTRIES = 1000;

export const settingsUpdateSchema = z
  .object({
    sharing: z.enum(["on", "off"], { error: 'sharing must be "on" or "off"' }).optional(),
    ghostUntil: z
      .number({ error: "ghostUntil must be a timestamp in epoch milliseconds or null" })
      .int({ error: "ghostUntil must be a timestamp in epoch milliseconds or null" })
      .min(0, { error: "ghostUntil must be a timestamp in epoch milliseconds or null" })
      .nullable()
      .optional(),
    friends: z
      .record(
        z.string().regex(USER_ID_PATTERN, { error: "friends keys must be user ids" }),
        z.enum(["precise", "approximate", "hidden"], {
          error: 'friends values must be "precise", "approximate" or "hidden"',
        }),
        { error: "friends must be an object of userId to visibility" },
      )
      .refine((f) => Object.keys(f).length <= MAX_FRIEND_ENTRIES, {
        error: `friends may name at most ${MAX_FRIEND_ENTRIES} users`,
      })
      .optional(),
    discoverable: z.boolean({ error: "discoverable must be true or false" }).optional(),
  })
  .strict();

export type SettingsUpdate = z.infer<typeof settingsUpdateSchema>;

/** Apply an update: fields it names replace the current ones; `precise` entries are the default and dropped. */
export function applySettingsUpdate(current: Settings, update: SettingsUpdate): Settings {
  const friends = update.friends ?? current.friends;
  return {
    sharing: update.sharing ?? current.sharing,
    ghostUntil: update.ghostUntil === undefined ? current.ghostUntil : update.ghostUntil,
    friends: Object.fromEntries(Object.entries(friends).filter(([, v]) => v !== "precise")),
    discoverable: update.discoverable ?? current.discoverable,
  };
}

/** Settings as stored (DynamoDB attribute or Redis cache JSON), tolerant of missing parts. */
export function normalizeSettings(value: unknown): Settings {
  if (typeof value !== "object" || value === null) return DEFAULT_SETTINGS;
  const v = value as Partial<Settings>;
  const friends: Record<string, FriendVisibility> = {};
  if (typeof v.friends === "object" && v.friends !== null) {
    for (const [k, f] of Object.entries(v.friends)) {
      if (f === "approximate" || f === "hidden") friends[k] = f;
    }
  }
  return {
    sharing: v.sharing === "off" ? "off" : "on",
    ghostUntil: typeof v.ghostUntil === "number" ? v.ghostUntil : null,
    friends,
    discoverable: v.discoverable === true,
  };
}
