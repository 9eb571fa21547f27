/**
 * The agent: wires the journal, the policies, the run queue, the outbox and the MQTT session; recovers
 * what an earlier process left behind before taking any plan; stops cleanly.
 */
import type { Config } from "./config.ts";
import type { IdemError } from "./errors.ts";
import { AgentEvents } from "./events.ts";
import { judgeStatus, type Supersession } from "./incarnation.ts";
import { scheduleRetention } from "./journal/retention.ts";
import { takeJournal } from "./journal/take.ts";
import type { Logger } from "./log.ts";
import { startMetrics } from "./metrics.ts";
import { scriptUser } from "./murano/script_user.ts";
import { discardSpareWorkDir } from "./murano/workdir.ts";
import { releaseJournalPages } from "./native/journal_pages.ts";
import { QuietTrim, trimNow } from "./native/malloc_trim.ts";
import { spawnMethod } from "./native/posix_spawn.ts";
import { releaseExecutablePages, releaseStartPages } from "./native/start_pages.ts";
import { applyLateFlags, ensureEngineStack } from "./native/v8_settings.ts";
import { trustedKeysOf } from "./pipeline/authenticate.ts";
import type { PipelineContext } from "./pipeline/context.ts";
import { takeControl } from "./pipeline/control.ts";
import { DecodedPlans } from "./pipeline/decoded_plans.ts";
import { takeMessage } from "./pipeline/guard.ts";
import { Runner } from "./pipeline/run.ts";
import { loadPolicies } from "./policies.ts";
import { recover } from "./recovery.ts";
import { AgentStatus, STARTED_AT } from "./status.ts";
import { StatusRefresh } from "./status_refresh.ts";
import type { EmbeddedBroker } from "./transport/embedded.ts";
import { connectTransport } from "./transport/mqtt.ts";
import { Outbox } from "./transport/outbox.ts";
import type { Transport } from "./transport/port.ts";
import { VERSION } from "./version.ts";

export interface RunningAgent {
  readonly ctx: PipelineContext;
  /** Stops taking plans, lets the running one finish (or interrupts it at the grace deadline), goes offline. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /**
   * The agent cannot work and retrying will not help (the broker refuses its topics); the session has stopped.
   * Default: logged as `event=fatal`. `idem run` stops the agent and exits 2.
   */
  onFatal?(error: IdemError): void;
  /** `--reset-journal`: set the journal aside (kept, renamed) and begin a new one. */
  resetJournal?: boolean;
  /**
   * A newer incarnation of this VM exists (SPEC 5.5): the agent takes no more plans and has left its session
   * (status `superseded`). Default: nothing more. `idem run` stops the agent and exits 3.
   */
  onSuperseded?(by: Supersession): void;
}

const EMBEDDED = /^embedded(?::(\d+))?$/;

/** How long after the first quiet trim the executable's pages are released (native/start_pages.ts). */
const EXECUTABLE_PAGES_AFTER_MS = 2500;
/**
 * Commits after which the journal's mapped pages are released when the agent never goes quiet (a few dozen
 * plans; native/journal_pages.ts): a release costs ≈ 0.2 ms and the minor faults that bring back what the next
 * plans read. Random keys (fingerprints) spread a plan's reads over the whole B-tree, so what a run of commits
 * faults in grows with their number, not with the journal: every 1,000 commits left 9–13 MB of a 13 MB journal
 * resident at the end of a 10,000-plan soak (RSS 70 → 82 MB), every 100 left 1–2 MB (68 → 71 MB; docs/benchmarks.md,
 * "Session 11").
 */
const JOURNAL_PAGES_EVERY = 100;
/**
 * Commits after which the V8 flags left for after the start are set when the agent has not gone quiet yet (a
 * start with a backlog; native/v8_settings.ts): before V8's optimizing compiler would take up the hot functions.
 */
const LATE_FLAGS_AFTER_COMMITS = 200;

export async function startAgent(
  config: Config,
  log: Logger,
  options: StartOptions = {},
): Promise<RunningAgent> {
  // Trusted keys (SPEC 9a) parsed now: a bad one refuses the start (exit 2), naming its key id.
  const keys = trustedKeysOf(config);
  if (keys) log.info("trusted-keys", { keys: [...keys.keys()].join(",") });
  // Who scripts run as (`runAs`): refused now, before anything is touched, when the agent cannot switch to it.
  const runAs = scriptUser(config.runAs);
  if (runAs) log.info("run-as", { user: runAs.name, uid: runAs.uid, gid: runAs.gid, home: runAs.home });
  // The data dir first: a second agent on it must stop before it touches anything (SPEC 5.5).
  const taken = await takeJournal(config.dataDir, {
    ...(config.instanceId === undefined ? {} : { instanceId: config.instanceId }),
    ...(options.resetJournal ? { reset: true } : {}),
    ...(runAs?.other ? { passable: true } : {}),
  });
  const { journal, ownership } = taken;
  let embedded: EmbeddedBroker | undefined;
  const embeddedMatch = EMBEDDED.exec(config.broker.url);
  if (embeddedMatch) {
    // Loaded only when asked for: aedes and its dependencies cost ~1.5 MB of heap in every agent (issue 11).
    const { startEmbeddedBroker } = await import("./transport/embedded.ts");
    embedded = await startEmbeddedBroker(Number(embeddedMatch[1] ?? 1883), {
      protocol: config.broker.protocol,
    });
    log.info("embedded-broker", { url: embedded.url });
  }
  const brokerUrl = embedded?.url ?? config.broker.url;

  guardUnhandledRejections(log);
  const policies = await loadPolicies(config.plugins, { log });
  if (!policies.get(config.defaultPolicy)) {
    throw new Error(
      `Cannot use default policy "${config.defaultPolicy}": available policies are ${policies.names().join(", ")}`,
    );
  }
  if (config.generation !== undefined && config.generation > journal.highWater()) {
    await journal.commit((tx) => tx.setHighWater(config.generation as number));
  }

  const topic = (leaf: string) => `${config.prefix}/${config.agentId}/${leaf}`;
  let transport: Transport | undefined;
  let runner: Runner | undefined;
  const generation = () => Math.max(config.generation ?? 0, journal.highWater());
  // The retained status document (SPEC 8): `status.ts`; when each form is published: here.
  const statusDoc = new AgentStatus({
    agentId: config.agentId,
    journal,
    policies,
    instanceId: taken.instanceId,
    generation,
    broker: () => transport?.broker ?? brokerUrl,
    runner: () => runner,
    published: (now) => refresh.published(now),
  });
  const status: AgentStatus["document"] = (state, protocol, form) =>
    statusDoc.document(state, protocol, form);
  // The status's Running/Queued/Outbox (SPEC 8), published again when they change, at most once a second.
  const refresh = new StatusRefresh({
    read: () => statusDoc.activity(),
    publish: () => {
      const live = transport;
      if (live?.connected && !superseded)
        live.publish(topic("status"), status("online", live.protocol), { qos: 1, retain: true });
    },
  });
  const outbox = new Outbox(journal, {
    log,
    defaultTopic: topic("results"),
    onChange: () => refresh.changed(),
  });
  // Off unless `metrics.port` or `metrics.textfile` is set; then fed by every event below (metrics.ts).
  const metrics = await startMetrics(config.metrics, {
    journal,
    log,
    agentId: config.agentId,
    version: VERSION,
    running: () => runner?.busy ?? 0,
    connected: () => transport?.connected ?? false,
    generation,
  });
  const events = new AgentEvents({ log, topic: topic("events"), metrics, transport: () => transport });
  let superseded: Supersession | undefined;
  // This process lost a session the way a takeover does: a same-generation Last Will may be a live rival's.
  let takenOver = false;
  let stopping = false;
  // glibc's free memory back to the system once quiet (native/malloc_trim.ts), and the journal's mapped pages
  // (native/journal_pages.ts); the first time, the executable's pages too (native/start_pages.ts).
  let commitsSinceRelease = 0;
  let commitsSinceStart = 0;
  const lateFlags = () => {
    const flags = applyLateFlags();
    if (flags.length > 0) log.debug("v8-flags-set", { flags: flags.join(" ") });
  };
  const trim = new QuietTrim(() => {
    lateFlags();
    void trimNow();
    releaseJournalPages(journal.path);
    // The start is over: the executable's pages only it read go back (native/start_pages.ts). Not at `online`: it
    // reads /proc/self/smaps, ≈ 20 ms of CPU and garbage that the first plan would wait for (issue 11).
    const start = releaseStartPages();
    if (start > 0) log.debug("start-pages-released", { bytes: start });
    // After V8's memory reducer (its GC 2 s into the quiet, build.mjs), which would fault its code back in.
    setTimeout(() => {
      const released = releaseExecutablePages();
      if (released > 0) log.debug("executable-pages-released", { bytes: released });
    }, EXECUTABLE_PAGES_AFTER_MS).unref();
  });
  const ctx: PipelineContext = {
    config,
    journal,
    policies,
    log,
    defaultReplyTopic: topic("results"),
    decodedPlans: new DecodedPlans(),
    generation,
    facts: () => ({ agentId: config.agentId, generation: ctx.generation() }),
    emit: (event) => events.emit(event),
    afterCommit() {
      outbox.flush();
      runner?.kick();
      refresh.changed();
      trim.poke();
      if (++commitsSinceStart === LATE_FLAGS_AFTER_COMMITS) lateFlags();
      // Under a load that never goes quiet, the journal's pages still go back now and then.
      if (++commitsSinceRelease >= JOURNAL_PAGES_EVERY) {
        commitsSinceRelease = 0;
        releaseJournalPages(journal.path);
      }
    },
    supersede: (by) => supersede(by),
  };

  for (const aside of taken.setAside) {
    const { reason, path, instance } = aside;
    ctx.emit({
      Event: "journal-set-aside",
      Key: null,
      SourceID: null,
      Generation: null,
      Reason: reason,
      Path: path,
      Instance: instance ?? null,
    });
  }
  await recover(ctx);
  // Retention reads only what expired, in batches that yield: start-up does not wait for it (issue 11).
  const pruning = scheduleRetention(journal, { retentionDays: config.retentionDays, log });
  runner = new Runner(ctx, { onChange: () => refresh.changed() });
  runner.kick();

  /** SPEC 5.5: stands down for a newer incarnation — no more plans, status `superseded` once, session left. */
  function supersede(by: Supersession): void {
    const live = transport;
    if (superseded || !live) return;
    superseded = by;
    live.pause();
    log.warn("superseded", {
      agent: config.agentId,
      generation: ctx.generation(),
      bootId: journal.bootId,
      startedAt: STARTED_AT,
      by: by.source,
      byGeneration: by.generation,
      byBootId: by.bootId,
      byStartedAt: by.startedAt,
      plan: by.planId,
      running: runner?.busy ?? 0,
      outbox: journal.outboxLength(),
      message: `this incarnation stands down as ${by.reason}: it takes no more plans, leaves the session and stops (exit 3)`,
    });
    void live.leave({ topic: topic("status"), payload: status("superseded", live.protocol, { by }) });
    options.onSuperseded?.(by);
  }
  transport = connectTransport({
    // aedes speaks MQTT 3.1.1 only: on the embedded broker "auto" is 3.1.1 at once (no protocol-fallback warning).
    broker: {
      ...config.broker,
      url: brokerUrl,
      urls: embedded ? [brokerUrl] : (config.broker.urls ?? [brokerUrl]),
      ...(embedded && config.broker.protocol === "auto" ? { protocol: 4 } : {}),
    },
    agentId: config.agentId,
    clientId: `idem-${config.agentId}`,
    plansTopic: topic("plans"),
    // Operator requests (`idem cancel`): `pipeline/control.ts`.
    controlTopic: topic("control"),
    onControl: (message) => takeControl(message, ctx, runner as Runner),
    will: (protocol) => ({
      topic: topic("status"),
      payload: status("offline", protocol, { lastWill: true }),
    }),
    log,
    onPlan: (message) => takeMessage(message, ctx),
    onStatus(message) {
      if (superseded) return;
      const verdict = judgeStatus(message.payload, statusDoc.self(), { takenOver });
      if (verdict.kind === "newer") return supersede(verdict.by);
      if (verdict.kind === "ignore") return log.debug("status-ignored", { why: verdict.why });
      // An older incarnation's status (or its Last Will over ours) is the retained one: ours again, so that the
      // older one (and the engines) see it.
      const { other, state } = verdict;
      log.info("older-incarnation", {
        generation: other.generation,
        bootId: other.bootId,
        startedAt: other.startedAt,
        state,
      });
      const live = transport;
      if (live?.connected)
        live.publish(topic("status"), status("online", live.protocol), { qos: 1, retain: true });
    },
    onTakenOver() {
      takenOver = true;
    },
    onFatal: options.onFatal ?? ((error) => log.error("fatal", { message: error.message })),
    onReady(protocol) {
      metrics?.sessionReady();
      statusDoc.wentOnline();
      transport?.publish(topic("status"), status("online", protocol), { qos: 1, retain: true });
      if (transport) events.release(transport);
      outbox.flush({ everything: true });
      trim.poke(); // quiet from now on unless a plan comes
      log.info("online", {
        agent: config.agentId,
        broker: transport?.broker,
        generation: ctx.generation(),
        protocol,
        policies: policies.names().join(","),
        queued: journal.queueLength(),
        outbox: journal.outboxLength(),
        version: VERSION,
      });
    },
  });
  // While the broker answers the connect (MQTT.js opens the socket a tick later), what the first plan would
  // otherwise wait for: V8's larger stack (native/v8_settings.ts; said only when it cannot be had) and the
  // process-spawn addon (said once: the cheap way, or the fallback and why; ≈ 5 ms). A plan that comes first does
  // each itself. (The plan schema's checker is generated ahead of time: tools/plan_check_code.ts.)
  setImmediate(() => {
    if (stopping) return;
    const stack = ensureEngineStack();
    if (stack?.raised === false) {
      // A Body nested thousands of levels deep may then end in RecursionError where CPython gives its value.
      log.warn("engine-stack-not-raised", {
        reason: stack.reason,
        hint:
          stack.why === "rlimit"
            ? "raise the stack's rlimit (ulimit -s, systemd LimitSTACK=) to 8 MB, Linux's default; never give --stack-size then (a crash instead of RecursionError)"
            : "start it with --node-options=--stack-size=1500 (the executable; ≈ 35 ms more per start) or node --stack-size=1500 (docs/deploy.md, V8 flags)",
      });
    }
    try {
      log.info("process-spawn", spawnMethod());
    } catch (error) {
      // Only a head start: a plan does it again when it needs it, and says what fails then.
      log.debug("warm-up-failed", { message: error instanceof Error ? error.message : String(error) });
    }
  });
  outbox.attach(transport);

  return {
    ctx,
    async stop() {
      stopping = true;
      const live = transport as Transport;
      log.info("stopping", { running: runner?.busy ?? 0, graceSeconds: config.drainGraceSeconds });
      live.pause();
      refresh.stop();
      trim.stop();
      await runner?.drain(config.drainGraceSeconds * 1000);
      discardSpareWorkDir();
      await pruning.stop();
      if (live.connected) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 2000);
          live.publish(topic("status"), status("offline", live.protocol), { qos: 1, retain: true }, () => {
            clearTimeout(timer);
            resolve();
          });
        });
        await outbox.settle(2000);
      }
      await metrics?.stop();
      await live.close();
      await journal.close();
      await ownership.release();
      await embedded?.close();
      log.info("stopped", { agent: config.agentId });
    },
  };
}

/**
 * A failed asynchronous LMDB write (an outbox entry's removal or replacement on a full disk) rejects every promise
 * of its batch, also lmdb's internal ones that nobody awaits; the caller that matters already got the error.
 * Those are logged, not fatal. Any other unhandled rejection is a bug: logged, and the process ends as Node would
 * end it.
 */
function guardUnhandledRejections(log: Logger): void {
  process.on("unhandledRejection", (reason: unknown) => {
    const commitError = (reason as { commitError?: Promise<unknown> } | null)?.commitError;
    if (reason instanceof Error && commitError && typeof commitError.then === "function") {
      commitError.catch(() => {});
      log.debug("commit-failed", { message: reason.message });
      return;
    }
    log.error("unhandled-rejection", {
      message: reason instanceof Error ? (reason.stack ?? reason.message) : String(reason),
    });
    process.exit(1);
  });
}
