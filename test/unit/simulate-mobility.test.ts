// The simulator's mobility model: speeds by mode, staying near the group, and the stops, absences
// and ghost spells that make the live map interesting.
import { describe, expect, it } from "vitest";
import { haversineM, type LatLon } from "../../bench/engine/geo.ts";
import { prng } from "../../bench/prng.ts";
import {
  type Agent,
  type AgentEvent,
  advance,
  BEHAVIOUR,
  type Mode,
  modeOf,
  newAgent,
  PROFILES,
} from "../../bench/simulate-mobility.ts";

const CENTRE: LatLon = { lat: 37.5665, lon: 126.978 };
const NEVER = { ...BEHAVIOUR, stopPerMin: 0, offlinePerMin: 0, ghostPerMin: 0 };

/** Runs `agent` for `seconds` at 1 Hz; returns the distance covered while moving and the events. */
function run(agent: Agent, seconds: number, rand: () => number, behaviour = BEHAVIOUR) {
  let movingS = 0;
  let metres = 0;
  let farthestM = 0;
  const events: { t: number; event: AgentEvent }[] = [];
  for (let t = 1; t <= seconds; t++) {
    const before = agent.position;
    const wasOffline = agent.state === "offline";
    for (const event of advance(agent, t, 1, rand, behaviour)) events.push({ t, event });
    if (wasOffline && agent.state === "offline") expect(agent.position).toEqual(before);
    const step = haversineM(before, agent.position);
    if (step > 0) {
      movingS++;
      metres += step;
    }
    farthestM = Math.max(farthestM, haversineM(agent.position, agent.centre));
  }
  return { speed: metres / movingS, farthestM, events };
}

describe("simulator mobility", () => {
  for (const mode of ["walk", "cycle", "drive"] as Mode[]) {
    it(`${mode}s at about ${PROFILES[mode].speedMps} m/s and stays near the group's centre`, () => {
      // Prepare
      const rand = prng(7);
      const agent = newAgent(mode, CENTRE, CENTRE, 0, rand);

      // Act: an hour without stops.
      const { speed, farthestM } = run(agent, 3600, rand, NEVER);

      // Assess
      expect(speed).toBeGreaterThan(PROFILES[mode].speedMps * 0.85);
      expect(speed).toBeLessThan(PROFILES[mode].speedMps * 1.15);
      expect(farthestM).toBeLessThan(PROFILES[mode].boundM + 10 * PROFILES[mode].speedMps);
      expect(farthestM).toBeGreaterThan(PROFILES[mode].boundM * 0.5);
    });
  }

  it("drives along a grid: headings are multiples of 90 degrees", () => {
    // Prepare
    const rand = prng(3);
    const agent = newAgent("drive", CENTRE, CENTRE, 0, rand);

    // Act / Assess
    for (let t = 1; t <= 1800; t++) {
      advance(agent, t, 1, rand, NEVER);
      const quarter = agent.heading / (Math.PI / 2);
      expect(Math.abs(quarter - Math.round(quarter))).toBeLessThan(1e-9);
    }
  });

  it("stops, goes offline and back, and toggles ghost mode, each for a while", () => {
    // Prepare: 100 people for 10 minutes.
    const rand = prng(11);
    const all = Array.from({ length: 100 }, (_, i) => {
      const agent = newAgent(modeOf(i), CENTRE, CENTRE, 0, rand);
      return run(agent, 600, rand).events;
    });
    const count = (event: AgentEvent) =>
      all.reduce((n, events) => n + events.filter((e) => e.event === event).length, 0);

    // Assess: about rate × 1000 person-minutes of each (fewer while offline or stopped).
    expect(count("stopped")).toBeGreaterThan(100);
    expect(count("offline")).toBeGreaterThan(25);
    expect(count("ghost-on")).toBeGreaterThan(20);
    for (const events of all) {
      // Every absence ends within its longest duration; stops likewise.
      for (const [start, end, max] of [
        ["offline", "online", BEHAVIOUR.offlineS[1]],
        ["stopped", "moving", BEHAVIOUR.stopS[1]],
        ["ghost-on", "ghost-off", BEHAVIOUR.ghostS[1]],
      ] as const) {
        events.forEach((e, i) => {
          if (e.event !== start) return;
          const next = events.slice(i + 1).find((f) => f.event === end);
          if (next) expect(next.t - e.t).toBeLessThanOrEqual(max + 1);
          else expect(600 - e.t).toBeLessThanOrEqual(max + 1);
        });
      }
    }
  });

  it("mixes the modes: half walk, a quarter cycle, a quarter drive", () => {
    const modes = Array.from({ length: 8 }, (_, i) => modeOf(i));
    expect(modes).toEqual(["walk", "walk", "cycle", "drive", "walk", "walk", "cycle", "drive"]);
  });
});
