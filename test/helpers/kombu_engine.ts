/**
 * A Murano engine's messaging as a child process (`kombu_engine.py`, Debian's python3-kombu): it declares the
 * agent's input queue and the results queue as Murano does, publishes plans on the default exchange with the
 * input queue's name as routing key and `message_id` = plan ID, and consumes results over AMQP 0-9-1.
 * Waits are event-driven (the engine's JSON lines on stdout). Stopped by closing its stdin, else SIGKILL by PID.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { registerChild, unregisterChild } from "./children.ts";
import type { MuranoPlan } from "./plans.ts";

const SCRIPT = fileURLToPath(new URL("./kombu_engine.py", import.meta.url));

/** One result as the engine received it from its results queue. */
export interface AmqpResult {
  /** The AMQP `message_id` property (the MQTT plugin sets none: `null`). */
  messageId: string | null;
  /** The routing key it was published with (`idem.<agentId>.results` for an agent's MQTT publish). */
  routingKey: string;
  headers: Record<string, unknown>;
  /** The Murano result: `SourceID` is the plan's ID. */
  body: Record<string, unknown> & { SourceID?: string; ErrorCode?: number; Idem?: Record<string, unknown> };
}

export interface KombuEngineOptions {
  amqpUrl: string;
  /** murano-agent's `input_queue`: where the engine publishes this agent's plans. */
  inputQueue: string;
  /** The queue the engine reads results from. */
  resultsQueue: string;
}

type Event = { event: string } & Record<string, unknown>;

/**
 * A `python3` that imports kombu: Debian's `/usr/bin/python3` first (another python3 on the PATH, such as a
 * pyenv shim, does not see Debian's packages). Throws, saying what to install, when none does.
 */
export function pythonWithKombu(): string {
  const candidates = ["/usr/bin/python3", "python3"].filter((p) => !p.startsWith("/") || existsSync(p));
  for (const python of candidates) {
    if (spawnSync(python, ["-c", "import kombu"], { stdio: "ignore" }).status === 0) return python;
  }
  throw new Error(
    `No python3 can import kombu (tried ${candidates.join(", ")}): install python3-kombu ` +
      "(apt-get install -y python3-kombu; .ci/run installs it when absent)",
  );
}

export class KombuEngine {
  readonly results: AmqpResult[] = [];
  readonly #child: ChildProcess;
  readonly #events: Event[] = [];
  readonly #stderr: string[] = [];
  #listeners = new Set<() => void>();
  #exited = false;

  constructor(child: ChildProcess) {
    this.#child = child;
    registerChild(child);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const event = JSON.parse(line) as Event;
      if (event.event === "result") this.results.push(event as unknown as AmqpResult);
      this.#events.push(event);
      this.#notify();
    });
    child.stderr?.on("data", (chunk: Buffer) => this.#stderr.push(chunk.toString()));
    child.once("exit", () => {
      unregisterChild(child);
      this.#exited = true;
      this.#notify();
    });
  }

  /** Resolves once the engine has declared both queues and consumes the results queue. */
  async ready(): Promise<void> {
    await this.#waitFor((e) => e.event === "ready", "its start (queues declared, results consumer on)");
  }

  /** Publishes a plan as a Murano engine does; resolves once the broker confirmed it. `headers` only to show harm. */
  async publish(plan: MuranoPlan, headers?: Record<string, unknown>): Promise<void> {
    const from = this.#events.length;
    this.#child.stdin?.write(`${JSON.stringify(headers ? { plan, headers } : { plan })}\n`);
    await this.#waitFor(
      (e) => e.event === "published" && e.id === plan.ID,
      `the publish of plan ${plan.ID}`,
      from,
    );
  }

  /** The number of messages in `queue` now, `null` when it does not exist (an AMQP passive declare). */
  async depth(queue: string): Promise<number | null> {
    const from = this.#events.length;
    this.#child.stdin?.write(`${JSON.stringify({ depth: queue })}\n`);
    const event = await this.#waitFor(
      (e) => e.event === "depth" && e.queue === queue,
      `the depth of ${queue}`,
      from,
    );
    return event.messages as number | null;
  }

  /** Waits until the results queue has delivered a result with this `SourceID`; returns the first one. */
  async waitForResult(planId: string, timeoutMs = 30_000): Promise<AmqpResult> {
    const event = await this.#waitFor(
      (e) => e.event === "result" && (e as unknown as AmqpResult).body.SourceID === planId,
      `a result for plan ${planId}`,
      0,
      timeoutMs,
    );
    return event as unknown as AmqpResult;
  }

  /** Every result received for a plan (a plan is answered once: more than one is a bug). */
  resultsFor(planId: string): AmqpResult[] {
    return this.results.filter((r) => r.body.SourceID === planId);
  }

  /** Closes stdin (the engine closes its connection and exits); SIGKILL if it has not exited in 10 s. */
  async close(): Promise<void> {
    if (this.#exited) return;
    this.#child.stdin?.end();
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 10_000);
    await new Promise<void>((resolve) =>
      this.#exited ? resolve() : this.#child.once("exit", () => resolve()),
    );
    clearTimeout(timer);
  }

  #waitFor(match: (e: Event) => boolean, what: string, from = 0, timeoutMs = 30_000): Promise<Event> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const events = this.#events.slice(from);
        const found = events.find(match);
        const failed = events.find((e) => e.event === "error");
        if (found) return done(() => resolve(found));
        if (failed || this.#exited) {
          return done(() => reject(new Error(`The kombu engine failed before ${what}: ${this.#describe()}`)));
        }
      };
      const timer = setTimeout(
        () =>
          done(() =>
            reject(new Error(`The kombu engine saw no ${what} within ${timeoutMs} ms: ${this.#describe()}`)),
          ),
        timeoutMs,
      );
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        settle();
      };
      this.#listeners.add(check);
      check();
    });
  }

  #describe(): string {
    const last = this.#events.slice(-5).map((e) => JSON.stringify(e).slice(0, 300));
    return [...last, this.#stderr.join("").slice(-2000)].join("\n");
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

/** Starts the engine; resolves once it has declared both queues and consumes the results queue. */
export async function startKombuEngine(options: KombuEngineOptions): Promise<KombuEngine> {
  const child = spawn(
    pythonWithKombu(),
    [SCRIPT, options.amqpUrl, options.inputQueue, options.resultsQueue],
    {
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  const engine = new KombuEngine(child);
  try {
    await engine.ready();
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return engine;
}
