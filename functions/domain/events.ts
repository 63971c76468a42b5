// The location-events stream record (DESIGN.md §2), versioned so consumers can be upgraded first.
import { z } from "zod";

export interface PositionEvent {
  v: 1;
  kind: "position";
  userId: string;
  lat: number;
  lon: number;
  at: number;
  clientTs?: number;
  accuracyM?: number;
}

export interface OfflineEvent {
  v: 1;
  kind: "offline";
  userId: string;
  at: number;
}

export type LocationEvent = PositionEvent | OfflineEvent;

const eventSchema = z.discriminatedUnion("kind", [
  z.object({
    v: z.literal(1),
    kind: z.literal("position"),
    userId: z.string().min(1),
    lat: z.number().min(-90).max(90),
    lon: z.number().min(-180).max(180),
    at: z.number().int().nonnegative(),
    clientTs: z.number().optional(),
    accuracyM: z.number().nonnegative().optional(),
  }),
  z.object({
    v: z.literal(1),
    kind: z.literal("offline"),
    userId: z.string().min(1),
    at: z.number().int().nonnegative(),
  }),
]);

/** Decode a record's data; null for a record this version cannot read (logged by the caller). */
export function decodeEvent(data: string): LocationEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  const parsed = eventSchema.safeParse(value);
  return parsed.success ? (parsed.data as LocationEvent) : null;
}

export const encodeEvent = (event: LocationEvent): string => JSON.stringify(event);
