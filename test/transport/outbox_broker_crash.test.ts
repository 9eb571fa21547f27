/**
 * A broker crash is not the reply's fault (SPEC 2; docs/reliability.md "No reply blocks the outbox"; issue 13,
 * R2: `reply-refused strike=1` when a RabbitMQ node was killed). On the real parts: a journal in a temp dir, a
 * mosquitto process, the agent's MQTT transport and outbox. One healthy reply is in the outbox; three times over,
 * the broker is frozen (SIGSTOP) once the session is ready, the reply is handed to MQTT.js (it waits, unread, in
 * the frozen broker's socket), and the broker is killed with `kill -9` — the reply alone in flight each time, what
 * three poison-reply hang-ups look like to the socket (`loss.ts`). Each loss must be judged "not the reply's" (a
 * `reply-lost` line, never `reply-refused`) before the broker is started again, so the node really was gone when
 * it was asked. Then the reply arrives whole: the same result ID and Body, no strike, no replacement.
 *
 * The rig hands the reply over itself after freezing the broker, instead of at once on the session's `onReady`
 * (what the agent does): that makes "the broker froze right after the SUBACK" certain instead of a race.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { connect, type MqttClient } from "mqtt";
import { Journal } from "../../agent/journal/journal.ts";
import { resultPayload } from "../../agent/pipeline/reply.ts";
import { connectTransport } from "../../agent/transport/mqtt.ts";
import { Outbox } from "../../agent/transport/outbox.ts";
import type { Transport } from "../../agent/transport/port.ts";
import { type MosquittoBroker, startBroker } from "../helpers/broker.ts";
import { recordedLog } from "../helpers/recorded_log.ts";
import { resultFacts } from "../helpers/result_facts.ts";

const TOPIC = "idem/vm-crash/results";
const KILLS = 3;
const WAIT_MS = 30_000;

/** Calls `check` on every change until it is true; fails after `timeoutMs` with `what()`. */
function until(changes: Set<() => void>, check: () => boolean, what: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (!check()) return;
      clearTimeout(timer);
      changes.delete(poll);
      resolve();
    };
    const timer = setTimeout(() => {
      changes.delete(poll);
      reject(new Error(`Timed out after ${WAIT_MS} ms waiting for ${what()}`));
    }, WAIT_MS);
    changes.add(poll);
    poll();
  });
}

for (const protocol of [4, 5] as const) {
  test(`(MQTT ${protocol}) a reply in flight while its broker is killed ${KILLS} times arrives whole once the broker is back: no strike`, {
    timeout: 120_000,
  }, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "idem-outbox-crash-"));
    let broker: MosquittoBroker | undefined;
    let transport: Transport | undefined;
    let observer: MqttClient | undefined;
    const journal = Journal.open(dir);
    t.after(async () => {
      if (broker?.pid !== undefined) process.kill(broker.pid, "SIGCONT");
      await transport?.close();
      await observer?.endAsync(true);
      await journal.close();
      await broker?.dispose();
      await rm(dir, { recursive: true, force: true });
    });
    broker = await startBroker({ durable: false });

    const body = JSON.stringify({ Message: "whole", Data: "r".repeat(4096) });
    const payload = resultPayload({
      sourceId: "crash-plan",
      errorCode: 0,
      body,
      facts: resultFacts("vm-crash"),
    });
    await journal.commit((tx) => tx.addOutbox({ topic: TOPIC, payload }));

    const changes = new Set<() => void>();
    const changed = () => {
      for (const check of [...changes]) check();
    };
    const { log, lines, events, tail } = recordedLog(changed);
    const outbox = new Outbox(journal, { log, defaultTopic: TOPIC, retryDelayMs: 20 });
    let readies = 0;
    transport = connectTransport({
      broker: {
        url: broker.url,
        protocol,
        rejectUnauthorized: true,
        keepaliveSeconds: 30,
        sessionExpirySeconds: 3600,
        reconnectSeconds: 0.2,
        reconnectMaxSeconds: 2,
      },
      agentId: "vm-crash",
      clientId: "idem-vm-crash",
      plansTopic: "idem/vm-crash/plans",
      will: () => ({ topic: "idem/vm-crash/status", payload: "{}" }),
      log,
      onPlan: async () => {},
      onReady: () => {
        readies += 1;
        changed();
      },
      onFatal: (error) => lines.push(`fatal ${error.message}`),
    });
    outbox.attach(transport);

    for (let kill = 1; kill <= KILLS; kill++) {
      await until(
        changes,
        () => readies >= kill,
        () => `session ${kill} ready\n${tail()}`,
      );
      const pid = broker.pid as number;
      process.kill(pid, "SIGSTOP");
      outbox.flush({ everything: true });
      assert.equal(
        outbox.pending,
        1,
        `the reply is handed to MQTT.js, unacknowledged (kill ${kill})\n${tail()}`,
      );
      await broker.kill9();
      await until(
        changes,
        () => events("reply-lost").length >= kill || events("reply-refused").length > 0,
        () => `the loss of kill ${kill} judged\n${tail()}`,
      );
      assert.deepEqual(events("reply-refused"), [], `a broker crash is no strike (kill ${kill})\n${tail()}`);
      const lost = events("reply-lost").at(-1);
      assert.equal(lost?.plan, "crash-plan", tail());
      assert.equal(lost?.counted, "false", tail());
      await broker.start();
    }

    await until(
      changes,
      () => readies > KILLS,
      () => `the session after the last kill\n${tail()}`,
    );
    const received: string[] = [];
    observer = connect({ host: broker.host, port: broker.port, protocolVersion: 5, clientId: "observer" });
    observer.on("message", (_topic, message) => {
      received.push(message.toString("utf8"));
      changed();
    });
    await new Promise((resolve) => observer?.once("connect", resolve));
    await observer.subscribeAsync(TOPIC, { qos: 1 });
    outbox.flush({ everything: true });
    await until(
      changes,
      () => received.length > 0,
      () => `the reply on ${TOPIC}\n${tail()}`,
    );
    assert.equal(received[0], payload, "the reply arrives whole: the same result ID and Body");
    // Resolves once the broker's PUBACK is in and the entry's removal committed (or after WAIT_MS: then it fails).
    await outbox.settle(WAIT_MS);
    assert.deepEqual(journal.outbox(), [], `the outbox ends empty\n${tail()}`);
    assert.deepEqual(events("reply-replaced"), [], tail());
    assert.equal(events("reply-lost").length, KILLS, tail());
  });
}
