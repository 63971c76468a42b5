// `npm run load`: drives a local stack through the wire protocol only, as real clients do (users
// from POST /dev/token, friendships over HTTP, one WebSocket per user sending `init` then a
// `location` every 1/rate s), and measures what users experience: push latency per position,
// updates per push, error frames, unexpected closes, and whether every friend ends up shown at
// the final position. The last line on stdout is one JSON object with the figures.
import { randomUUID } from "node:crypto";
import { availableParallelism, loadavg } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import WebSocket from "ws";
import { readTunables } from "../functions/config.ts";
import { groupCentres, haversineM, type LatLon, pointNear, step } from "./engine/geo.ts";
import { decodeFrame, openSocket, pool, type Update } from "./engine/net.ts";
import { befriendGroups, createUsers } from "./engine/population.ts";
import {
  logger,
  main,
  SHUTDOWN_MS,
  SLACK_MS,
  seconds,
  sleep,
  type Tool,
  ToolRun,
} from "./engine/runner.ts";
import type { Target } from "./engine/stack.ts";
import { Counter, summarise } from "./engine/stats.ts";
import { type LoadOptions, parseOptions } from "./load-options.ts";
import { prng } from "./prng.ts";

/** Each group lives within this distance of its centre, so all its members are within 4 km. */
const GROUP_RADIUS_M = 2000;
const STEP_M = 100;
const DEFAULT_RADIUS_M = 8047;
/** Client-side guard of the 10 frames/s limit: at most 10 frames in any 1.1 s. */
const GUARD_FRAMES = 10;
const GUARD_WINDOW_MS = 1100;
const INIT_TIMEOUT_MS = 10_000;
const HANDSHAKE_TIMEOUT_MS = 10_000;
const PROGRESS_EVERY_MS = 2000;

interface Shown {
  state: "nearby" | "away";
  lat: number;
  lon: number;
  at: number;
}

interface SimUser {
  index: number;
  userId: string;
  displayName: string;
  token: string | null;
  group: number;
  centre: LatLon;
  initPosition: LatLon;
  position: LatLon;
  ws: WebSocket | null;
  /** `init` was answered with its snapshot: the user is online and moves. */
  initOk: boolean;
  /** An `init` after `init_required` is waiting for room in the rate guard. */
  reinitPending: boolean;
  /** Set before this tool closes the socket, so the close is not counted as unexpected. */
  closing: boolean;
  seq: number;
  /** performance.now() of the frames sent in the last GUARD_WINDOW_MS. */
  recentSends: number[];
  /** Location frames (and `init` frames after `init_required`) sent during the moves, in order. */
  sent: { requestId: string; position: LatLon }[];
  /** What this user's client shows about each friend (the greatest `at` wins, §2.6). */
  view: Map<string, Shown>;
  /** Positions already received (for at-least-once repeats). */
  received: Set<string>;
  initWaiter: ((ok: boolean) => void) | null;
}

type Phase = "start" | "setup" | "moving" | "settle" | "check" | "closing";

const positionKey = (userId: string, p: { lat: number; lon: number }) =>
  `${userId}|${p.lat}|${p.lon}`;
const log = logger("load");

class LoadRun extends ToolRun {
  readonly rand: () => number;
  readonly users: SimUser[] = [];
  phase: Phase = "start";
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });

  // Positions sent, for matching pushes: key → send time and the frame that carried it.
  private readonly sentAt = new Map<string, { at: number; kind: "init" | "location" }>();
  /** requestIds of frames answered with an error: they changed nothing (§2.7). */
  private readonly refusedFrames = new Set<string>();
  radiusM = DEFAULT_RADIUS_M;

  // Figures.
  setupMs = 0;
  setupBreakdown = { usersS: 0, friendshipsS: 0, connectInitS: 0 };
  friendships = 0;
  framesSent = 0;
  framesHeldBack = 0;
  sendsOnClosedSocket = 0;
  lateSteps = 0;
  reinits = 0;
  moveStartedAt = 0;
  lastSendAt = 0;
  pushes = 0;
  setupPushes = 0;
  pushesWhileMoving = 0;
  updatesInPushes = 0;
  setupUpdatesInPushes = 0;
  maxUpdatesPerPush = 0;
  nearbyUpdates = 0;
  awayUpdates = 0;
  unmatchedUpdates = 0;
  repeatedUpdates = 0;
  staleUpdates = 0;
  malformedUpdates = 0;
  initPositionUpdates = 0;
  unparsableFrames = 0;
  unexpectedCloses = 0;
  pairs = 0;
  pairsMissingFinal = 0;
  pairsShowingFilteredFinal = 0;
  /** The movement filter's distance (the stack reads the same environment). */
  private readonly minMoveM = readTunables(process.env).minMoveM;
  readonly latencies: number[] = [];
  private intervalLatencies: number[] = [];
  readonly errors = new Counter();
  readonly errorsByFrame = { init: new Counter(), location: new Counter(), unknown: new Counter() };
  readonly setupErrors = new Counter();
  readonly closeCodes = new Counter();
  readonly otherFrames = new Counter();
  setupProgress = "";

  constructor(readonly opts: LoadOptions) {
    super();
    this.rand = prng(opts.seed);
  }

  progress(): void {
    const interval = summarise(this.intervalLatencies);
    this.intervalLatencies = [];
    const head = `+${this.elapsedS().toFixed(1)}s ${this.phase}`;
    if (this.phase === "start") {
      log(`${head} waiting for the stack`);
      return;
    }
    if (this.phase === "setup") {
      log(`${head} ${this.setupProgress} errors=${this.errors.total() + this.setupErrors.total()}`);
      return;
    }
    log(
      `${head} sent=${this.framesSent} pushes=${this.pushes} ` +
        `p50=${interval.p50 ?? "-"}ms p99=${interval.p99 ?? "-"}ms ` +
        `errors=${this.errors.total()} unexpectedCloses=${this.unexpectedCloses}`,
    );
  }

  // --- Setup -------------------------------------------------------------------------------------

  async setup(target: Target): Promise<void> {
    this.phase = "setup";
    const t0 = performance.now();
    const { users, group, concurrency } = this.opts;
    const groups = Math.ceil(users / group);
    const centres = groupCentres(groups, this.rand);
    const runTag = randomUUID().slice(0, 8);
    for (let i = 0; i < users; i++) {
      const g = Math.floor(i / group);
      const centre = centres[g];
      if (centre === undefined) throw new Error(`no centre for group ${g}`);
      const start = pointNear(centre, GROUP_RADIUS_M, this.rand);
      this.users.push({
        index: i,
        userId: `load-${runTag}-${i}`,
        displayName: `Load ${i}`,
        token: null,
        group: g,
        centre,
        initPosition: start,
        position: start,
        ws: null,
        initOk: false,
        reinitPending: false,
        closing: false,
        seq: 0,
        recentSends: [],
        sent: [],
        view: new Map(),
        received: new Set(),
        initWaiter: null,
      });
    }

    // Users, then friendships: every pair of a group, asked by one and accepted by the other.
    const control = {
      concurrency,
      stopped: () => this.stopped,
      errors: this.setupErrors,
    };
    let created = 0;
    await createUsers(target.httpUrl, this.users, control, (done) => {
      created = done;
      this.setupProgress = `users=${done}/${users}`;
    });
    const t1 = performance.now();
    let pairsDone = 0;
    let pairsTotal = 0;
    this.friendships = await befriendGroups(target.httpUrl, this.users, control, (done, total) => {
      pairsDone = done;
      pairsTotal = total;
      this.setupProgress = `users=${created}/${users} friendships=${done}/${total}`;
    });
    const t2 = performance.now();

    // Connections: each user connects and sends `init`, as an app does on start.
    let connected = 0;
    await pool(
      this.users.filter((u) => u.token !== null),
      concurrency,
      async (u) => {
        await this.connectAndInit(target.wsUrl, u);
        this.setupProgress = `users=${created}/${users} friendships=${pairsDone}/${pairsTotal} connected=${++connected}/${users}`;
      },
      () => this.stopped,
    );
    const t3 = performance.now();
    this.setupMs = t3 - t0;
    this.setupBreakdown = {
      usersS: seconds(t1 - t0),
      friendshipsS: seconds(t2 - t1),
      connectInitS: seconds(t3 - t2),
    };
    this.setupPushes = this.pushes;
    this.setupUpdatesInPushes = this.updatesInPushes;
  }

  private async connectAndInit(wsUrl: string, u: SimUser): Promise<void> {
    if (u.token === null) return;
    let ws: WebSocket;
    try {
      ws = await openSocket(`${wsUrl}/?token=${encodeURIComponent(u.token)}`, HANDSHAKE_TIMEOUT_MS);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.setupErrors.add(`connect:${message.slice(0, 60)}`);
      return;
    }
    u.ws = ws;
    ws.on("message", (data: WebSocket.RawData) => this.onFrame(u, data.toString()));
    ws.on("error", () => undefined); // a close follows; counted there
    ws.on("close", (code: number) => {
      if (u.closing) return;
      this.unexpectedCloses++;
      this.closeCodes.add(String(code));
    });
    if (this.stopped) return;

    const answered = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        u.initWaiter = null;
        this.setupErrors.add("init:timeout");
        resolve(false);
      }, INIT_TIMEOUT_MS);
      u.initWaiter = (ok) => {
        clearTimeout(timer);
        u.initWaiter = null;
        resolve(ok);
      };
    });
    const p = u.initPosition;
    this.sentAt.set(positionKey(u.userId, p), { at: performance.now(), kind: "init" });
    u.recentSends.push(performance.now());
    ws.send(
      JSON.stringify({
        action: "init",
        lat: p.lat,
        lon: p.lon,
        accuracyM: 10,
        ts: Date.now(),
        limit: 100,
        requestId: `init-${u.index}`,
      }),
    );
    u.initOk = await answered;
  }

  // --- Receiving ---------------------------------------------------------------------------------

  private onFrame(u: SimUser, text: string): void {
    const receivedAt = performance.now();
    const frame = decodeFrame(text);
    switch (frame.type) {
      case "init":
        if (frame.radiusM !== null) this.radiusM = frame.radiusM;
        for (const f of frame.friends) this.show(u, f);
        u.initWaiter?.(true);
        return;
      case "friends":
        this.pushes++;
        if (this.phase === "moving") this.pushesWhileMoving++;
        this.updatesInPushes += frame.updates.length;
        this.maxUpdatesPerPush = Math.max(this.maxUpdatesPerPush, frame.updates.length);
        this.malformedUpdates += frame.malformed;
        for (const update of frame.updates) this.onUpdate(u, update, receivedAt);
        return;
      case "error": {
        this.errors.add(frame.code);
        const id = frame.requestId;
        if (id !== null) this.refusedFrames.add(id);
        if (id?.startsWith("init-")) {
          this.errorsByFrame.init.add(frame.code);
          u.initWaiter?.(false);
        } else if (id?.startsWith("loc-")) this.errorsByFrame.location.add(frame.code);
        else this.errorsByFrame.unknown.add(frame.code);
        // The server lost the session: a client sends `init` again and carries on (§2.7).
        if (frame.code === "init_required" && u.initWaiter === null) this.reinit(u);
        return;
      }
      case "gateway-error":
        this.errors.add("gateway_internal_error");
        this.errorsByFrame.unknown.add("gateway_internal_error");
        return;
      case "other":
        this.otherFrames.add(frame.name);
        return;
      case "unparsable":
        this.unparsableFrames++;
        return;
    }
  }

  private onUpdate(u: SimUser, update: Update, receivedAt: number): void {
    if (update.state === "away") {
      this.awayUpdates++;
      const shown = u.view.get(update.userId);
      u.view.set(update.userId, {
        state: "away",
        lat: Number.NaN,
        lon: Number.NaN,
        at: shown?.at ?? Number.NEGATIVE_INFINITY,
      });
      return;
    }
    this.nearbyUpdates++;
    this.show(u, update);
    const key = positionKey(update.userId, update);
    const sent = this.sentAt.get(key);
    if (sent === undefined) {
      this.unmatchedUpdates++;
      return;
    }
    if (u.received.has(key)) {
      this.repeatedUpdates++;
      return;
    }
    u.received.add(key);
    if (sent.kind === "init") {
      this.initPositionUpdates++;
      return;
    }
    const latency = receivedAt - sent.at;
    this.latencies.push(latency);
    this.intervalLatencies.push(latency);
  }

  /** Apply a position as a client does: keep, per friend, the one with the greatest `at`. */
  private show(u: SimUser, p: { userId: string; lat: number; lon: number; at: number }): void {
    const shown = u.view.get(p.userId);
    if (shown !== undefined && shown.state === "nearby" && p.at < shown.at) {
      this.staleUpdates++;
      return;
    }
    u.view.set(p.userId, { state: "nearby", lat: p.lat, lon: p.lon, at: p.at });
  }

  // --- Moving ------------------------------------------------------------------------------------

  async move(): Promise<void> {
    this.phase = "moving";
    this.loopDelay.enable();
    const periodMs = 1000 / this.opts.rate;
    const t0 = performance.now();
    const endAt = t0 + this.opts.durationS * 1000;
    this.moveStartedAt = t0;
    this.lastSendAt = t0;

    const tick = (u: SimUser, due: number) => {
      if (this.stopped) return;
      this.sendStep(u);
      this.lastSendAt = performance.now();
      // A late timer skips the steps it missed instead of sending them in a burst.
      let next = due + periodMs;
      const now = performance.now();
      if (next < now) {
        const missed = Math.ceil((now - next) / periodMs);
        this.lateSteps += missed;
        next += missed * periodMs;
      }
      if (next < endAt) this.schedule(() => tick(u, next), next - now);
    };
    for (const u of this.users) {
      if (!u.initOk) continue;
      const first = t0 + this.rand() * periodMs;
      this.schedule(() => tick(u, first), first - performance.now());
    }
    await sleep(this.opts.durationS * 1000);
    // Every tick due before endAt has been scheduled before now; let the last ones run.
    await sleep(Math.min(periodMs, 1000));
    this.loopDelay.disable();
  }

  /** 0 when the rate guard lets a frame go now, else how long until it does (ms). */
  private guardWaitMs(u: SimUser, now: number): number {
    while (u.recentSends.length > 0 && now - (u.recentSends[0] ?? now) >= GUARD_WINDOW_MS)
      u.recentSends.shift();
    if (u.recentSends.length < GUARD_FRAMES) return 0;
    return GUARD_WINDOW_MS - (now - (u.recentSends[0] ?? now)) + 1;
  }

  /** Send `init` again at the current position, as soon as the rate guard allows. */
  private reinit(u: SimUser): void {
    if (u.reinitPending || this.stopped || this.phase === "closing") return;
    u.reinitPending = true;
    const attempt = () => {
      const ws = u.ws;
      if (this.stopped || ws === null || ws.readyState !== WebSocket.OPEN) {
        u.reinitPending = false;
        return;
      }
      const now = performance.now();
      const wait = this.guardWaitMs(u, now);
      if (wait > 0) return this.schedule(attempt, wait);
      u.reinitPending = false;
      this.reinits++;
      u.seq++;
      const requestId = `init-${u.index}-r${u.seq}`;
      u.sent.push({ requestId, position: u.position });
      u.recentSends.push(now);
      ws.send(
        JSON.stringify({
          action: "init",
          lat: u.position.lat,
          lon: u.position.lon,
          accuracyM: 10,
          ts: Date.now(),
          limit: 100,
          requestId,
        }),
      );
    };
    attempt();
  }

  private sendStep(u: SimUser): void {
    const ws = u.ws;
    if (ws === null || ws.readyState !== WebSocket.OPEN) {
      this.sendsOnClosedSocket++;
      return;
    }
    const now = performance.now();
    if (this.guardWaitMs(u, now) > 0) {
      this.framesHeldBack++;
      return;
    }
    // Positions are unique per user, so a push can be matched to the frame that sent it.
    let next = step(u.position, u.centre, STEP_M, GROUP_RADIUS_M, this.rand);
    for (let i = 0; i < 5 && this.sentAt.has(positionKey(u.userId, next)); i++)
      next = step(u.position, u.centre, STEP_M, GROUP_RADIUS_M, this.rand);
    u.seq++;
    const requestId = `loc-${u.index}-${u.seq}`;
    this.sentAt.set(positionKey(u.userId, next), { at: now, kind: "location" });
    u.sent.push({ requestId, position: next });
    u.position = next;
    u.recentSends.push(now);
    ws.send(
      JSON.stringify({
        action: "location",
        lat: next.lat,
        lon: next.lon,
        accuracyM: 10,
        ts: Date.now(),
        requestId,
      }),
    );
    this.framesSent++;
  }

  // --- Final check -------------------------------------------------------------------------------

  /** The user's position as the server has it: the last location frame not refused, else init's. */
  private finalPosition(u: SimUser): LatLon {
    for (let i = u.sent.length - 1; i >= 0; i--) {
      const s = u.sent[i];
      if (s && !this.refusedFrames.has(s.requestId)) return s.position;
    }
    return u.initPosition;
  }

  /**
   * The movement filter (PROTOCOL §2.3) publishes no move shorter than MIN_MOVE_M from the last
   * published position, so a final position that close to one shown is never pushed: the viewer
   * rightly shows a position of the mover's that the server accepted, within MIN_MOVE_M of it. (At
   * 1 Hz with 100 m steps this happens only when frames in between were refused or overtaken.)
   */
  private filteredFinal(mover: SimUser, shown: LatLon, final: LatLon): boolean {
    if (haversineM(shown, final) >= this.minMoveM) return false;
    const init = mover.initPosition;
    if (shown.lat === init.lat && shown.lon === init.lon) return true;
    return mover.sent.some(
      (s) =>
        !this.refusedFrames.has(s.requestId) &&
        s.position.lat === shown.lat &&
        s.position.lon === shown.lon,
    );
  }

  check(): void {
    this.phase = "check";
    const samples: string[] = [];
    const byGroup = new Map<number, SimUser[]>();
    for (const u of this.users) {
      if (!u.initOk) continue; // never online: nobody is meant to see them
      const members = byGroup.get(u.group) ?? [];
      members.push(u);
      byGroup.set(u.group, members);
    }
    for (const members of byGroup.values())
      for (const viewer of members)
        for (const mover of members) {
          if (viewer === mover) continue;
          const moverAt = this.finalPosition(mover);
          if (haversineM(this.finalPosition(viewer), moverAt) > this.radiusM) continue;
          this.pairs++;
          const shown = viewer.view.get(mover.userId);
          const ok =
            shown !== undefined &&
            shown.state === "nearby" &&
            shown.lat === moverAt.lat &&
            shown.lon === moverAt.lon;
          if (ok) continue;
          if (shown?.state === "nearby" && this.filteredFinal(mover, shown, moverAt)) {
            this.pairsShowingFilteredFinal++;
            continue;
          }
          this.pairsMissingFinal++;
          if (samples.length < 5) {
            const sent = this.sentAt.get(positionKey(mover.userId, moverAt));
            samples.push(
              `${viewer.userId} shows ${mover.userId} as ${shown ? `${shown.state} at=${shown.at}` : "nothing"}` +
                `${shown?.state === "nearby" ? ` ${Math.round(haversineM(shown, moverAt))} m from its final position` : ""}; ` +
                `final position sent ${sent ? `${seconds(performance.now() - sent.at)} s ago` : "?"}` +
                `${viewer.ws?.readyState === WebSocket.OPEN ? "" : " (viewer's socket not open)"}`,
            );
          }
        }
    for (const s of samples) log(`missing final: ${s}`);
  }

  // --- Shutdown ----------------------------------------------------------------------------------

  async closeAll(): Promise<void> {
    this.phase = "closing";
    this.clearTimers();
    const closes: Promise<void>[] = [];
    for (const u of this.users) {
      const ws = u.ws;
      u.closing = true;
      if (ws === null || ws.readyState === WebSocket.CLOSED) continue;
      closes.push(
        new Promise<void>((resolve) => {
          ws.once("close", () => resolve());
        }),
      );
      ws.close(1000, "load done");
    }
    await Promise.race([Promise.all(closes), sleep(5000)]);
    for (const u of this.users) u.ws?.terminate();
  }

  // --- Report ------------------------------------------------------------------------------------

  report(extra: Record<string, unknown>): Record<string, unknown> {
    const movingS = (this.lastSendAt - this.moveStartedAt) / 1000;
    const delay = this.loopDelay;
    const postSetupPushes = this.pushes - this.setupPushes;
    return {
      users: this.opts.users,
      group: this.opts.group,
      rate: this.opts.rate,
      durationS: this.opts.durationS,
      settleS: this.opts.settleS,
      framesSent: this.framesSent,
      updatesPerSecond: movingS > 0 ? Math.round((this.framesSent / movingS) * 10) / 10 : 0,
      latencyMs: summarise(this.latencies),
      friendUpdatesPerPush:
        postSetupPushes > 0
          ? Math.round(
              ((this.updatesInPushes - this.setupUpdatesInPushes) / postSetupPushes) * 100,
            ) / 100
          : 0,
      pushes: postSetupPushes,
      pairs: this.pairs,
      pairsMissingFinal: this.pairsMissingFinal,
      pairsShowingFilteredFinal: this.pairsShowingFilteredFinal,
      errors: this.errors.toJSON(),
      unexpectedCloses: this.unexpectedCloses,
      unmatchedUpdates: this.unmatchedUpdates,
      setupS: seconds(this.setupMs),
      loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
      cores: availableParallelism(),
      // Further detail.
      pushesPerSecond: movingS > 0 ? Math.round((this.pushesWhileMoving / movingS) * 10) / 10 : 0,
      friendUpdatesPerPushMax: this.maxUpdatesPerPush,
      latencySamples: this.latencies.length,
      nearbyUpdates: this.nearbyUpdates,
      awayUpdates: this.awayUpdates,
      repeatedUpdates: this.repeatedUpdates,
      staleUpdates: this.staleUpdates,
      malformedUpdates: this.malformedUpdates,
      initPositionUpdates: this.initPositionUpdates,
      setupPushes: this.setupPushes,
      errorsByFrame: {
        init: this.errorsByFrame.init.toJSON(),
        location: this.errorsByFrame.location.toJSON(),
        unknown: this.errorsByFrame.unknown.toJSON(),
      },
      setupErrors: this.setupErrors.toJSON(),
      closeCodes: this.closeCodes.toJSON(),
      otherFrames: this.otherFrames.toJSON(),
      unparsableFrames: this.unparsableFrames,
      usersOnline: this.users.filter((u) => u.initOk).length,
      friendships: this.friendships,
      setup: this.setupBreakdown,
      framesHeldBack: this.framesHeldBack,
      sendsOnClosedSocket: this.sendsOnClosedSocket,
      lateSteps: this.lateSteps,
      reinits: this.reinits,
      radiusM: this.radiusM,
      clientLoopDelayMs: {
        p99: delay.count > 0 ? Math.round(delay.percentile(99) / 1e5) / 10 : null,
        max: delay.count > 0 ? Math.round(delay.max / 1e5) / 10 : null,
      },
      seed: this.opts.seed,
      ...extra,
    };
  }
}

const load: Tool<LoadOptions, LoadRun> = {
  name: "load",
  parse: parseOptions,
  create: (opts) => new LoadRun(opts),
  target: async (opts) =>
    opts.httpUrl !== null && opts.wsUrl !== null
      ? { httpUrl: opts.httpUrl, wsUrl: opts.wsUrl }
      : null,
  setupTimeoutS: (opts) => opts.setupTimeoutS,
  progressEveryMs: PROGRESS_EVERY_MS,
  async phases(run: LoadRun, target: Target, armHardCap: (ms: number) => void): Promise<void> {
    const opts = run.opts;
    await run.bounded(run.setup(target), opts.setupTimeoutS * 1000, "setup");
    log(
      `setup: ${run.users.filter((u) => u.token !== null).length} users, ${run.friendships} friendships, ` +
        `${run.users.filter((u) => u.initOk).length} connected with init in ${seconds(run.setupMs)} s ` +
        `(users ${run.setupBreakdown.usersS} s, friendships ${run.setupBreakdown.friendshipsS} s, ` +
        `connect+init ${run.setupBreakdown.connectInitS} s)`,
    );
    armHardCap((opts.durationS + opts.settleS) * 1000 + SLACK_MS);
    const capMs = (opts.durationS + opts.settleS) * 1000 + SLACK_MS - SHUTDOWN_MS;
    await run.bounded(
      (async () => {
        await run.move();
        run.phase = "settle";
        await sleep(opts.settleS * 1000);
        run.check();
      })(),
      capMs,
      "moving and settling",
    );
  },
};

main(load);
