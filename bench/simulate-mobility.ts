// How the simulator's people move and behave, pure and seeded: each walks, cycles or drives at
// that mode's speed along a heading that turns now and then (drivers at right angles, as on a
// street grid), stays within its mode's distance of its group's centre, and from time to time
// stops for a while, goes offline and comes back, or turns ghost mode on for a while.
import { haversineM, type LatLon, move } from "./engine/geo.ts";

export type Mode = "walk" | "cycle" | "drive";

export interface Profile {
  /** Mean speed while moving, m/s; each leg is within ±15 % of it. */
  speedMps: number;
  /** Seconds between two turns, drawn uniformly from [min, max]. */
  turnEveryS: readonly [number, number];
  /** The largest turn, degrees (drivers turn by exactly 90° or go straight on). */
  maxTurnDeg: number;
  /** Random heading wobble per second of moving, degrees. */
  wobbleDegPerS: number;
  /** Beyond this distance from the group's centre the mover heads back towards it. */
  boundM: number;
}

export const PROFILES: Readonly<Record<Mode, Profile>> = {
  walk: { speedMps: 1.4, turnEveryS: [20, 90], maxTurnDeg: 70, wobbleDegPerS: 4, boundM: 2000 },
  cycle: { speedMps: 5, turnEveryS: [30, 120], maxTurnDeg: 90, wobbleDegPerS: 2, boundM: 3000 },
  drive: { speedMps: 12, turnEveryS: [20, 90], maxTurnDeg: 90, wobbleDegPerS: 0, boundM: 6000 },
};

/** Rates (per minute, while online) and durations (seconds, uniform in [min, max]) of events. */
export interface Behaviour {
  stopPerMin: number;
  stopS: readonly [number, number];
  offlinePerMin: number;
  offlineS: readonly [number, number];
  ghostPerMin: number;
  ghostS: readonly [number, number];
}

export const BEHAVIOUR: Behaviour = {
  stopPerMin: 0.2,
  stopS: [15, 90],
  offlinePerMin: 0.06,
  offlineS: [20, 60],
  ghostPerMin: 0.05,
  ghostS: [20, 60],
};

/** The modes, by share of the population: half walk, a quarter cycle, a quarter drive. */
export function modeOf(index: number): Mode {
  const r = index % 4;
  return r === 2 ? "cycle" : r === 3 ? "drive" : "walk";
}

export type AgentState = "moving" | "stopped" | "offline";

export interface Agent {
  mode: Mode;
  position: LatLon;
  centre: LatLon;
  /** Radians from north. */
  heading: number;
  speedMps: number;
  state: AgentState;
  /** When a stop or an absence ends (seconds of simulated time). */
  stateUntilS: number;
  nextTurnS: number;
  /** When ghost mode ends; null while visible. */
  ghostUntilS: number | null;
}

export type AgentEvent = "stopped" | "moving" | "offline" | "online" | "ghost-on" | "ghost-off";

const rad = (deg: number) => (deg * Math.PI) / 180;
const uniform = ([min, max]: readonly [number, number], rand: () => number) =>
  min + (max - min) * rand();
/** The chance that an event of `perMin` happens within `dtS` (a Poisson process). */
const chance = (perMin: number, dtS: number) => 1 - Math.exp((-perMin / 60) * dtS);

function legSpeed(mode: Mode, rand: () => number): number {
  return PROFILES[mode].speedMps * (0.85 + 0.3 * rand());
}

export function newAgent(
  mode: Mode,
  position: LatLon,
  centre: LatLon,
  nowS: number,
  rand: () => number,
): Agent {
  const heading = mode === "drive" ? (Math.floor(rand() * 4) * Math.PI) / 2 : rand() * 2 * Math.PI;
  return {
    mode,
    position,
    centre,
    heading,
    speedMps: legSpeed(mode, rand),
    state: "moving",
    stateUntilS: 0,
    nextTurnS: nowS + uniform(PROFILES[mode].turnEveryS, rand),
    ghostUntilS: null,
  };
}

/** Bearing (radians from north) from `from` to `to`, on a local flat earth. */
export function bearing(from: LatLon, to: LatLon): number {
  return Math.atan2((to.lon - from.lon) * Math.cos(rad(from.lat)), to.lat - from.lat);
}

function turn(agent: Agent, nowS: number, rand: () => number): void {
  const p = PROFILES[agent.mode];
  if (agent.mode === "drive") {
    // Left, right or straight on, as at a crossing.
    const pick = Math.floor(rand() * 3);
    agent.heading += pick === 0 ? -Math.PI / 2 : pick === 1 ? Math.PI / 2 : 0;
  } else {
    agent.heading += rad(p.maxTurnDeg) * (2 * rand() - 1);
  }
  agent.speedMps = legSpeed(agent.mode, rand);
  agent.nextTurnS = nowS + uniform(p.turnEveryS, rand);
}

/** Heading back towards the centre (drivers along the grid axis that gets them there). */
function headHome(agent: Agent, rand: () => number): void {
  const home = bearing(agent.position, agent.centre);
  if (agent.mode === "drive") {
    agent.heading = Math.round(home / (Math.PI / 2)) * (Math.PI / 2);
  } else {
    agent.heading = home + rad(30) * (2 * rand() - 1);
  }
}

/**
 * Advances `agent` by `dtS` seconds ending at `nowS` (mutating it) and returns what happened.
 * A moving agent moves; a stopped or offline one stays until its time is up. Ghost mode runs
 * alongside, and ends at its time whatever the state.
 */
export function advance(
  agent: Agent,
  nowS: number,
  dtS: number,
  rand: () => number,
  behaviour: Behaviour = BEHAVIOUR,
): AgentEvent[] {
  const events: AgentEvent[] = [];
  if (agent.ghostUntilS !== null && nowS >= agent.ghostUntilS) {
    agent.ghostUntilS = null;
    events.push("ghost-off");
  }
  if (agent.state === "offline") {
    if (nowS < agent.stateUntilS) return events;
    agent.state = "moving";
    events.push("online");
  } else if (agent.state === "stopped") {
    if (nowS < agent.stateUntilS) return events;
    agent.state = "moving";
    turn(agent, nowS, rand);
    events.push("moving");
  } else if (rand() < chance(behaviour.offlinePerMin, dtS)) {
    agent.state = "offline";
    agent.stateUntilS = nowS + uniform(behaviour.offlineS, rand);
    events.push("offline");
    return events;
  } else if (rand() < chance(behaviour.stopPerMin, dtS)) {
    agent.state = "stopped";
    agent.stateUntilS = nowS + uniform(behaviour.stopS, rand);
    events.push("stopped");
  }
  if (agent.ghostUntilS === null && rand() < chance(behaviour.ghostPerMin, dtS)) {
    agent.ghostUntilS = nowS + uniform(behaviour.ghostS, rand);
    events.push("ghost-on");
  }
  if (agent.state !== "moving") return events;

  const p = PROFILES[agent.mode];
  if (nowS >= agent.nextTurnS) turn(agent, nowS, rand);
  agent.heading += rad(p.wobbleDegPerS) * dtS * (2 * rand() - 1);
  if (haversineM(agent.position, agent.centre) > p.boundM) headHome(agent, rand);
  agent.position = move(agent.position, agent.speedMps * dtS, agent.heading);
  return events;
}
