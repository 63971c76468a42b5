// The reporting cadence (docs/PROTOCOL.md §2.10): how often the server asks a client to report its
// position. Fast while someone who may see the user is watching from close enough to be shown
// them soon; slow otherwise, since positions nobody is looking at cost messages and batteries.
// Pure: app/cadence.ts reads the state and applies what this decides.
import { haversineM, type LatLon } from "./geo.ts";
import type { Settings } from "./settings.ts";
import { visibilityUnder } from "./visibility.ts";

export interface CadenceRule {
  reportFastS: number;
  reportSlowS: number;
  radiusM: number;
  cadenceMarginM: number;
  locationTtlS: number;
}

/**
 * How long before the position's time to live a slow report must still arrive: a client on a slow
 * cadence stays online across a late or lost report and the time it takes to send one.
 */
export const CADENCE_TTL_SAFETY_S = 60;

/** The slow cadence: the configured one, never so slow that the user's position expires between reports. */
export function slowCadenceS(rule: CadenceRule): number {
  const cap = Math.max(rule.reportFastS, rule.locationTtlS - CADENCE_TTL_SAFETY_S);
  return Math.max(rule.reportFastS, Math.min(rule.reportSlowS, cap));
}

export interface CadenceInput {
  /** The user's stored position (absent: offline). */
  position: LatLon | undefined;
  /** The user's sharing settings (undefined: none stored, the defaults). */
  settings: Settings | undefined;
  /** The users with a connection subscribed to this user, with their stored positions (absent:
   * offline). */
  watchers: readonly { userId: string; position: LatLon | undefined }[];
  /** Connections watching the user through a live share link. */
  shareViewers: number;
  now: number;
}

/** Whether a friend shown this user could be: online, not hidden from, within radius + margin. */
function watchedClosely(rule: CadenceRule, input: CadenceInput, position: LatLon): boolean {
  const within = rule.radiusM + rule.cadenceMarginM;
  for (const w of input.watchers) {
    if (!w.position) continue;
    if (visibilityUnder(input.settings, w.userId, input.now) === "hidden") continue;
    if (haversineM(position, w.position) <= within) return true;
  }
  return false;
}

/** Whether ghost mode (or sharing off) hides the user from everyone right now. */
function hiddenFromAll(settings: Settings | undefined, now: number): boolean {
  return (
    settings !== undefined &&
    settings.sharing === "off" &&
    (settings.ghostUntil === null || now < settings.ghostUntil)
  );
}

/** The cadence (seconds between reports) to ask of the user's clients. */
export function reportEveryS(rule: CadenceRule, input: CadenceInput): number {
  const slow = slowCadenceS(rule);
  const { position, settings, now } = input;
  if (hiddenFromAll(settings, now)) {
    // Ghost mode until a time: the next report is due when it ends, so that friends see the
    // user again without waiting for a slow report.
    const until = settings?.ghostUntil ?? null;
    if (until === null) return slow;
    return Math.max(rule.reportFastS, Math.min(slow, Math.ceil((until - now) / 1000)));
  }
  if (input.shareViewers > 0) return rule.reportFastS;
  if (position !== undefined && watchedClosely(rule, input, position)) return rule.reportFastS;
  return slow;
}
