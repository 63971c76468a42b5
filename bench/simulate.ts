// `npm run simulate`: people moving about a city, all through the client SDK (client/): users
// `<prefix>-<n>` from POST /dev/token, friends in groups, one SDK session each that reports
// positions along plausible paths (walking, cycling, driving; stops; absences; ghost spells through
// PUT /me/settings; every fifth shares only an approximate position with one friend), so that a person can open the live map as one of them. A progress line on
// stderr every few seconds; one JSON line on stdout last. Shares its frame, population and stack
// handling with `npm run load` (bench/engine/).
import { availableParallelism, loadavg } from "node:os";
import {
  connect,
  createHttpClient,
  type HttpClient,
  type NearbyFriendsClient,
  NearbyFriendsError,
} from "../client/index.ts";
import { type LatLon, pointNear } from "./engine/geo.ts";
import { decodeFrame, pool } from "./engine/net.ts";
import { befriendGroups, createUsers, devToken, type Member } from "./engine/population.ts";
import {
  logger,
  main,
  round2,
  SHUTDOWN_MS,
  SLACK_MS,
  seconds,
  sleep,
  type Tool,
  ToolRun,
} from "./engine/runner.ts";
import type { Target } from "./engine/stack.ts";
import { Counter, summarise } from "./engine/stats.ts";
import { prng } from "./prng.ts";
import {
  type Agent,
  type AgentEvent,
  advance,
  type Mode,
  modeOf,
  newAgent,
} from "./simulate-mobility.ts";
import { parseOptions, type SimulateOptions } from "./simulate-options.ts";
import { tappedWebSocket } from "./simulate-socket.ts";

/** Group centres lie within this distance of the city centre. */
const AREA_RADIUS_M = 5000;
/** People start within this distance of their group's centre. */
const START_RADIUS_M = 1000;
const INIT_TIMEOUT_MS = 10_000;
const PROGRESS_EVERY_MS = 5000;
/** Sent positions are kept this long for matching pushes to them. */
const MATCH_WINDOW_MS = 120_000;

// biome-ignore format: a list of names reads better packed
const FIRST_NAMES = [
  "Mina", "Joon", "Ada", "Luis", "Sora", "Noah", "Ines", "Kai", "Yuna", "Omar", "Lena", "Theo",
  "Aiko", "Ravi", "Zoe", "Jin", "Maya", "Eli", "Nora", "Hugo", "Sana", "Ivan", "Lia", "Femi",
];

const log = logger("simulate");
const positionKey = (userId: string, p: LatLon) => `${userId}|${p.lat}|${p.lon}`;

interface Person extends Member {
  index: number;
  mode: Mode;
  agent: Agent;
  client: NearbyFriendsClient | null;
  api: HttpClient | null;
  /** Sockets of this person's sessions that are open now. */
  openSockets: number;
  lastTickS: number;
  /** Per friend, the last position received about them (at-least-once repeats are not counted twice). */
  lastReceived: Map<string, string>;
}

type Phase = "start" | "setup" | "running" | "closing";

/** What one run of the simulation sent, for messages per user-hour (PROTOCOL §2.10). */
interface CadenceFigures {
  cadence: "on" | "off";
  minutes: number;
  /** Sessions open, summed over every second of the run, in hours. */
  userHours: number;
  framesSent: number;
  locationsSent: number;
  messagesPerUserHour: number;
  locationsPerUserHour: number;
}

class SimRun extends ToolRun {
  rand: () => number;
  readonly people: Person[] = [];
  phase: Phase = "start";
  target: Target | null = null;
  private t0 = 0;
  private readonly sentAt = new Map<string, number>();

  // Figures.
  setupMs = 0;
  setupProgress = "";
  friendships = 0;
  approximateShares = 0;
  runStartedAt = 0;
  runEndedAt = 0;
  framesSent = 0;
  locationsSent = 0;
  initsSent = 0;
  pushes = 0;
  pushesWhileRunning = 0;
  updatesInPushes = 0;
  locationsWhileRunning = 0;
  appeared = 0;
  moves = 0;
  readonly away = new Counter();
  readonly events = new Counter();
  readonly latencies: number[] = [];
  private interval = { at: performance.now(), locations: 0, pushes: 0, latencies: [] as number[] };
  connectedMin: number | null = null;
  /** The SDK sessions follow the server's reporting cadence (PROTOCOL §2.10). */
  followCadence: boolean;
  /** Sessions open, summed once a second while running. */
  private sessionSeconds = 0;
  readonly cadenceRuns: CadenceFigures[] = [];
  /** The people's agents as setup left them, to replay the same paths (`--cadence compare`). */
  private initialAgents: Agent[] = [];
  readonly errors = new Counter();
  readonly setupErrors = new Counter();

  constructor(readonly opts: SimulateOptions) {
    super();
    this.rand = prng(opts.seed);
    this.followCadence = opts.cadence === "on";
  }

  nowS(): number {
    return (performance.now() - this.t0) / 1000;
  }

  connected(): number {
    return this.people.filter((p) => p.client?.state === "open").length;
  }

  progress(): void {
    const head = `+${this.elapsedS().toFixed(1)}s ${this.phase}`;
    if (this.phase === "start") {
      log(`${head} waiting for the stack`);
      return;
    }
    if (this.phase === "setup") {
      log(`${head} ${this.setupProgress} errors=${this.setupErrors.total()}`);
      return;
    }
    const now = performance.now();
    const spanS = Math.max(0.001, (now - this.interval.at) / 1000);
    const latency = summarise(this.interval.latencies);
    const count = (state: string) => this.people.filter((p) => p.agent.state === state).length;
    const ghosts = this.people.filter((p) => p.agent.ghostUntilS !== null).length;
    log(
      `${head} connected=${this.connected()}/${this.people.length} ` +
        `moving=${count("moving")} stopped=${count("stopped")} offline=${count("offline")} ghost=${ghosts} ` +
        `updates/s=${(this.interval.locations / spanS).toFixed(1)} pushes/s=${(this.interval.pushes / spanS).toFixed(1)} ` +
        `p50=${latency.p50 ?? "-"}ms p99=${latency.p99 ?? "-"}ms errors=${this.errors.total()}`,
    );
    this.interval = { at: now, locations: 0, pushes: 0, latencies: [] };
    // Positions older than the window will not be matched any more (the movement filter held them).
    for (const [key, at] of this.sentAt) if (now - at > MATCH_WINDOW_MS) this.sentAt.delete(key);
  }

  // --- Setup -------------------------------------------------------------------------------------

  async setup(target: Target): Promise<void> {
    this.phase = "setup";
    this.target = target;
    const started = performance.now();
    const { users, group, concurrency, prefix, centre } = this.opts;
    const centres = Array.from({ length: Math.ceil(users / group) }, () =>
      pointNear(centre, AREA_RADIUS_M, this.rand),
    );
    for (let i = 0; i < users; i++) {
      const n = i + 1;
      const g = Math.floor(i / group);
      const home = centres[g] ?? centre;
      const mode = modeOf(i);
      this.people.push({
        index: i,
        userId: `${prefix}-${n}`,
        displayName: `${FIRST_NAMES[i % FIRST_NAMES.length]} ${n}`,
        group: g,
        token: null,
        mode,
        agent: newAgent(mode, pointNear(home, START_RADIUS_M, this.rand), home, 0, this.rand),
        client: null,
        api: null,
        openSockets: 0,
        lastTickS: 0,
        lastReceived: new Map(),
      });
    }
    const control = { concurrency, stopped: () => this.stopped, errors: this.setupErrors };
    let created = 0;
    await createUsers(target.httpUrl, this.people, control, (done) => {
      created = done;
      this.setupProgress = `users=${done}/${users}`;
    });
    let friendsProgress = "";
    this.friendships = await befriendGroups(target.httpUrl, this.people, control, (done, total) => {
      friendsProgress = `friendships=${done}/${total}`;
      this.setupProgress = `users=${created}/${users} ${friendsProgress}`;
    });
    // Every fifth person shares only an approximate position with the first of their group.
    const sharers = this.people.filter((p) => p.index % 5 === 4 && p.token !== null);
    await pool(
      sharers,
      concurrency,
      async (p) => {
        const first = this.people[p.group * group];
        if (first === undefined || first === p) return;
        try {
          await createHttpClient({ url: target.httpUrl, token: this.tokenOf(p) }).updateSettings({
            friends: { [first.userId]: "approximate" },
          });
          this.approximateShares++;
        } catch (err) {
          this.setupErrors.add(`settings:${errorName(err)}`);
        }
      },
      () => this.stopped,
    );
    for (const p of this.people)
      if (p.token !== null)
        p.api = createHttpClient({ url: target.httpUrl, token: this.tokenOf(p) });
    await this.connectAll((connected) => {
      this.setupProgress = `users=${created}/${users} ${friendsProgress} connected=${connected}/${users}`;
    });
    this.initialAgents = this.people.map((p) => structuredClone(p.agent));
    this.setupMs = performance.now() - started;
  }

  /** A session for everyone with a token, each waited for until its `init` snapshot. */
  private async connectAll(progress: (connected: number) => void): Promise<void> {
    let connected = 0;
    await pool(
      this.people.filter((p) => p.token !== null),
      this.opts.concurrency,
      async (p) => {
        const client = this.connectPerson(p);
        const ok = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => {
            off();
            resolve(false);
          }, INIT_TIMEOUT_MS);
          const off = client.once("init", () => {
            clearTimeout(timer);
            resolve(true);
          });
        });
        if (!ok) this.setupErrors.add("init:timeout");
        progress(++connected);
      },
      () => this.stopped,
    );
  }

  /**
   * Start over for a second run (`--cadence compare`): everyone's session closed, the agents as
   * setup left them (the same paths follow from the same seed), new sessions with `followCadence`.
   */
  async replay(followCadence: boolean): Promise<void> {
    this.phase = "setup";
    this.clearTimers();
    for (const p of this.people) {
      p.client?.close();
      p.client = null;
    }
    for (let i = 0; i < 50 && this.people.some((p) => p.openSockets > 0); i++) await sleep(100);
    this.people.forEach((p, i) => {
      const initial = this.initialAgents[i];
      if (initial) p.agent = structuredClone(initial);
      p.lastTickS = 0;
      p.lastReceived.clear();
    });
    this.followCadence = followCadence;
    await this.connectAll((connected) => {
      this.setupProgress = `replay with cadence ${followCadence ? "on" : "off"}: connected=${connected}/${this.opts.users}`;
    });
  }

  /** The person's token, and a new one from POST /dev/token when the SDK asks for a refresh. */
  private tokenOf(p: Person) {
    return async ({ forceRefresh }: { forceRefresh: boolean }): Promise<string> => {
      if ((forceRefresh || p.token === null) && this.target !== null) {
        p.token =
          (await devToken(this.target.httpUrl, p.userId, p.displayName, this.errors)) ?? p.token;
      }
      if (p.token === null) throw new Error(`no token for ${p.userId}`);
      return p.token;
    };
  }

  /** A new SDK session for `p` at its current position, measured through a tapped socket. */
  private connectPerson(p: Person): NearbyFriendsClient {
    const target = this.target;
    if (target === null) throw new Error("no target");
    const client = connect({
      url: target.wsUrl,
      token: this.tokenOf(p),
      position: { ...p.agent.position, accuracyM: 10 },
      followCadence: this.followCadence,
      WebSocket: tappedWebSocket({
        sent: (text) => this.onSent(p, text),
        received: (text, at) => this.onReceived(p, text, at),
        opened: () => p.openSockets++,
        closed: () => p.openSockets--,
      }),
    });
    client.on("nearby", (_friend, previous) => {
      if (previous === undefined) this.appeared++;
      else this.moves++;
    });
    client.on("away", (_friend, reason) => {
      if (reason !== "closed") this.away.add(reason); // "closed": this session ended, not the friend
    });
    client.on("error", (err) => this.errors.add(errorName(err)));
    p.client = client;
    return client;
  }

  private onSent(p: Person, text: string): void {
    let frame: { action?: unknown; lat?: unknown; lon?: unknown };
    try {
      frame = JSON.parse(text) as typeof frame;
    } catch {
      return;
    }
    this.framesSent++;
    if (frame.action !== "location" && frame.action !== "init") return;
    if (typeof frame.lat === "number" && typeof frame.lon === "number")
      this.sentAt.set(positionKey(p.userId, { lat: frame.lat, lon: frame.lon }), performance.now());
    if (frame.action === "init") {
      this.initsSent++;
      return;
    }
    this.locationsSent++;
    this.interval.locations++;
    if (this.phase === "running") this.locationsWhileRunning++;
  }

  private onReceived(p: Person, text: string, at: number): void {
    if (!text.includes('"friends"')) return;
    const frame = decodeFrame(text);
    if (frame.type !== "friends") return;
    this.pushes++;
    this.interval.pushes++;
    if (this.phase === "running") this.pushesWhileRunning++;
    this.updatesInPushes += frame.updates.length;
    for (const update of frame.updates) {
      if (update.state !== "nearby") continue;
      const key = positionKey(update.userId, update);
      if (p.lastReceived.get(update.userId) === key) continue;
      p.lastReceived.set(update.userId, key);
      const sent = this.sentAt.get(key);
      if (sent === undefined) continue;
      this.latencies.push(at - sent);
      this.interval.latencies.push(at - sent);
    }
  }

  // --- Running -----------------------------------------------------------------------------------

  async simulate(): Promise<void> {
    this.phase = "running";
    // The run's own random numbers, so that a replay walks the same paths.
    this.rand = prng((this.opts.seed + 0x9e3779b9) >>> 0);
    const before = { frames: this.framesSent, locations: this.locationsSent };
    this.sessionSeconds = 0;
    // The rates of the summary are the last run's (with `--cadence compare`, the one with it on).
    this.locationsWhileRunning = 0;
    this.pushesWhileRunning = 0;
    const periodMs = 1000 / this.opts.hz;
    const durationMs = this.opts.minutes * 60_000;
    this.t0 = performance.now();
    this.runStartedAt = this.t0;
    this.interval = { at: this.t0, locations: 0, pushes: 0, latencies: [] };
    const endAt = this.t0 + durationMs;
    const tick = (p: Person, due: number) => {
      if (this.stopped) return;
      this.step(p);
      const now = performance.now();
      // A late timer skips the steps it missed instead of sending them in a burst.
      let next = due + periodMs;
      if (next < now) next += Math.ceil((now - next) / periodMs) * periodMs;
      if (next < endAt) this.schedule(() => tick(p, next), next - now);
    };
    for (const p of this.people) {
      if (p.client === null) continue;
      const first = this.t0 + this.rand() * periodMs;
      this.schedule(() => tick(p, first), first - performance.now());
    }
    const watch = setInterval(() => {
      const c = this.connected();
      this.connectedMin = Math.min(this.connectedMin ?? c, c);
      this.sessionSeconds += c;
    }, 1000);
    try {
      await sleep(durationMs);
    } finally {
      clearInterval(watch);
    }
    this.runEndedAt = performance.now();
    const userHours = this.sessionSeconds / 3600;
    const frames = this.framesSent - before.frames;
    const locations = this.locationsSent - before.locations;
    const perHour = (n: number) => (userHours > 0 ? Math.round(n / userHours) : 0);
    this.cadenceRuns.push({
      cadence: this.followCadence ? "on" : "off",
      minutes: this.opts.minutes,
      userHours: round2(userHours),
      framesSent: frames,
      locationsSent: locations,
      messagesPerUserHour: perHour(frames),
      locationsPerUserHour: perHour(locations),
    });
  }

  private step(p: Person): void {
    const nowS = this.nowS();
    const dtS = Math.max(0, nowS - p.lastTickS);
    p.lastTickS = nowS;
    for (const event of advance(p.agent, nowS, dtS, this.rand)) this.onEvent(p, event, nowS);
    if (p.agent.state === "moving" && p.client !== null)
      p.client.updateLocation({ ...p.agent.position, accuracyM: 10 });
  }

  private onEvent(p: Person, event: AgentEvent, nowS: number): void {
    this.events.add(event);
    switch (event) {
      case "offline":
        p.client?.close();
        p.client = null;
        return;
      case "online":
        if (p.token !== null) this.connectPerson(p);
        return;
      case "ghost-on": {
        const untilS = p.agent.ghostUntilS ?? nowS;
        // ghostUntil ends it by itself should the "ghost-off" call never come.
        const ghostUntil = Date.now() + Math.round((untilS - nowS) * 1000) + 5000;
        this.settings(p, { sharing: "off", ghostUntil });
        return;
      }
      case "ghost-off":
        // The server publishes the current position again: latency counts from this call.
        this.sentAt.set(positionKey(p.userId, p.agent.position), performance.now());
        this.settings(p, { sharing: "on", ghostUntil: null });
        return;
      default:
        return;
    }
  }

  private settings(p: Person, update: { sharing: "on" | "off"; ghostUntil: number | null }): void {
    p.api?.updateSettings(update).catch((err: unknown) => {
      if (!this.stopped) this.errors.add(`settings:${errorName(err)}`);
    });
  }

  // --- Shutdown ----------------------------------------------------------------------------------

  async closeAll(): Promise<void> {
    this.phase = "closing";
    this.clearTimers();
    for (const p of this.people) {
      p.client?.close();
      p.client = null;
    }
    for (let i = 0; i < 50 && this.people.some((p) => p.openSockets > 0); i++) await sleep(100);
  }

  // --- Report ------------------------------------------------------------------------------------

  report(extra: Record<string, unknown>): Record<string, unknown> {
    const runS = Math.max(
      0.001,
      ((this.runEndedAt || performance.now()) - this.runStartedAt) / 1000,
    );
    const ran = this.runStartedAt > 0;
    const modes = new Counter();
    for (const p of this.people) modes.add(p.mode);
    return {
      users: this.opts.users,
      group: this.opts.group,
      hz: this.opts.hz,
      minutes: this.opts.minutes,
      prefix: this.opts.prefix,
      usersCreated: this.people.filter((p) => p.token !== null).length,
      friendships: this.friendships,
      approximateShares: this.approximateShares,
      setupS: seconds(this.setupMs),
      connectedMin: this.connectedMin,
      updatesPerSecond: ran ? Math.round((this.locationsWhileRunning / runS) * 10) / 10 : 0,
      pushesPerSecond: ran ? Math.round((this.pushesWhileRunning / runS) * 10) / 10 : 0,
      latencyMs: summarise(this.latencies),
      latencySamples: this.latencies.length,
      friendUpdatesPerPush: this.pushes > 0 ? round2(this.updatesInPushes / this.pushes) : 0,
      framesSent: this.framesSent,
      locationsSent: this.locationsSent,
      initsSent: this.initsSent,
      pushes: this.pushes,
      friendsAppeared: this.appeared,
      friendMoves: this.moves,
      friendsAway: this.away.toJSON(),
      events: this.events.toJSON(),
      modes: modes.toJSON(),
      errors: this.errors.toJSON(),
      setupErrors: this.setupErrors.toJSON(),
      map: this.target ? `${this.target.httpUrl}/map?as=${this.opts.prefix}-1` : null,
      loadavg: loadavg().map(round2),
      cores: availableParallelism(),
      seed: this.opts.seed,
      cadence: this.opts.cadence,
      messagesPerUserHour: this.cadenceRuns.at(-1)?.messagesPerUserHour ?? 0,
      cadenceRuns: this.cadenceRuns,
      ...cadenceComparison(this.cadenceRuns),
      ...extra,
    };
  }
}

/** With both runs (`--cadence compare`): messages per user-hour without and with the cadence. */
function cadenceComparison(runs: readonly CadenceFigures[]): Record<string, unknown> {
  const off = runs.find((r) => r.cadence === "off");
  const on = runs.find((r) => r.cadence === "on");
  if (!off || !on) return {};
  return {
    messagesPerUserHourWithoutCadence: off.messagesPerUserHour,
    messagesPerUserHourWithCadence: on.messagesPerUserHour,
    cadenceSaving:
      off.messagesPerUserHour > 0
        ? round2(1 - on.messagesPerUserHour / off.messagesPerUserHour)
        : 0,
  };
}

function errorName(err: unknown): string {
  if (err instanceof NearbyFriendsError) return err.code;
  return err instanceof Error ? err.name : "unknown";
}

/**
 * The stack to drive: the one given by URL; with `--stack auto`, the one `npm start` runs when its
 * /health answers on HTTP_PORT (WebSocket on WS_PORT); else null (a new one is started).
 */
async function findTarget(
  opts: SimulateOptions,
): Promise<{ httpUrl: string; wsUrl: string } | null> {
  if (opts.httpUrl !== null && opts.wsUrl !== null)
    return { httpUrl: opts.httpUrl, wsUrl: opts.wsUrl };
  if (opts.stack === "new") return null;
  const httpPort = process.env.HTTP_PORT || "4000";
  const wsPort = process.env.WS_PORT || "4001";
  if (httpPort === "0" || wsPort === "0") return null;
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  try {
    const res = await fetch(`${httpUrl}/health`, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { status?: unknown; components?: unknown };
    if (
      typeof body.status !== "string" ||
      (body.components === undefined && body.status !== "starting")
    )
      return null;
  } catch {
    return null;
  }
  return { httpUrl, wsUrl: `ws://127.0.0.1:${wsPort}` };
}

const simulate: Tool<SimulateOptions, SimRun> = {
  name: "simulate",
  parse: parseOptions,
  create: (opts) => new SimRun(opts),
  target: findTarget,
  setupTimeoutS: (opts) => opts.setupTimeoutS,
  progressEveryMs: PROGRESS_EVERY_MS,
  async phases(run: SimRun, target: Target, armHardCap: (ms: number) => void): Promise<void> {
    const opts = run.opts;
    await run.bounded(run.setup(target), opts.setupTimeoutS * 1000, "setup");
    const online = run.people.filter((p) => p.client?.state === "open").length;
    log(
      `setup: ${run.people.filter((p) => p.token !== null).length} users, ${run.friendships} friendships, ` +
        `${online} connected in ${seconds(run.setupMs)} s`,
    );
    log(`open the live map as one of them: ${target.httpUrl}/map?as=${opts.prefix}-1`);
    const runMs = opts.minutes * 60_000;
    if (opts.cadence === "compare") {
      // The same people and paths twice: every position, then at the server's cadence.
      armHardCap(2 * (runMs + SLACK_MS) + opts.setupTimeoutS * 1000);
      run.followCadence = false;
      await run.bounded(run.simulate(), runMs + SLACK_MS - SHUTDOWN_MS, "the simulation (off)");
      log(`cadence off: ${JSON.stringify(run.cadenceRuns.at(-1))}; again with cadence on`);
      await run.bounded(run.replay(true), opts.setupTimeoutS * 1000, "the replay's setup");
      await run.bounded(run.simulate(), runMs + SLACK_MS - SHUTDOWN_MS, "the simulation (on)");
      return;
    }
    armHardCap(runMs + SLACK_MS);
    await run.bounded(run.simulate(), runMs + SLACK_MS - SHUTDOWN_MS, "the simulation");
  },
};

main(simulate);
