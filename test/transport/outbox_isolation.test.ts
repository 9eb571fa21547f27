/**
 * Outbox isolation after a broker crash (SPEC 2, issue 13): a broker node killed with many replies in flight makes
 * them all *suspects* (`outbox.ts`), re-sent one at a time. The next suspect goes out as soon as the broker has
 * acknowledged the previous one — not once that reply's removal from the journal is committed, which is a deferred
 * write (≤ `DEFER_MS`, 1 s, when nothing else commits): with 70 replies in flight at a node's `kill -9`, waiting
 * for the removal drained the outbox at one reply a second (seen on the 3-node NATS cluster).
 *
 * Real parts: a mosquitto process (SIGSTOPped so that the replies stay in flight, then `kill -9` and started again
 * on its port), a journal in a temp dir, the agent's transport and outbox. The test holds every removal commit and
 * checks that every suspect is published meanwhile; then lets them commit: the outbox ends empty.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Journal } from "../../agent/journal/journal.ts";
import { resultPayload } from "../../agent/pipeline/reply.ts";
import { connectTransport } from "../../agent/transport/mqtt.ts";
import { Outbox } from "../../agent/transport/outbox.ts";
import type { Transport } from "../../agent/transport/port.ts";
import { type MosquittoBroker, startBroker } from "../helpers/broker.ts";
import { recordedLog } from "../helpers/recorded_log.ts";
import { resultFacts } from "../helpers/result_facts.ts";

const REPLIES = 8;
const facts = resultFacts("vm-isolation");

test("after a broker crash with replies in flight, each suspect goes out once the previous one is acknowledged, not once its removal is committed", {
  timeout: 60_000,
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "idem-isolation-"));
  let broker: MosquittoBroker | undefined;
  let transport: Transport | undefined;
  let journal: Journal | undefined;
  t.after(async () => {
    if (broker?.pid !== undefined) process.kill(broker.pid, "SIGCONT");
    await transport?.close();
    await journal?.close();
    await broker?.dispose();
    await rm(dir, { recursive: true, force: true });
  });
  broker = await startBroker({ durable: false });
  journal = Journal.open(dir);
  const waiters = new Set<() => void>();
  const { log, lines, events, tail } = recordedLog(() => {
    for (const waiter of [...waiters]) waiter();
  });
  const until = (what: string, condition: () => boolean) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`Timed out waiting for ${what}:\n${tail()}`));
      }, 20_000);
      waiters.add(check);
      check();
    });

  // Removals from the outbox wait until the test lets them commit.
  const held: Array<() => void> = [];
  const removeOutboxLater = journal.removeOutboxLater.bind(journal);
  let holding = false;
  journal.removeOutboxLater = (seq: number) =>
    holding
      ? new Promise<void>((resolve, reject) => held.push(() => removeOutboxLater(seq).then(resolve, reject)))
      : removeOutboxLater(seq);

  const outbox = new Outbox(journal, { log, defaultTopic: "idem/vm-isolation/results", retryDelayMs: 20 });
  transport = connectTransport({
    broker: {
      url: broker.url,
      protocol: 5,
      rejectUnauthorized: true,
      keepaliveSeconds: 30,
      sessionExpirySeconds: 3600,
      reconnectSeconds: 0.2,
    },
    agentId: "vm-isolation",
    clientId: "idem-vm-isolation",
    plansTopic: "idem/vm-isolation/plans",
    will: () => ({ topic: "idem/vm-isolation/status", payload: "{}" }),
    log,
    onPlan: async () => {},
    onReady: () => outbox.flush({ everything: true }),
    onFatal: (error) => lines.push(`fatal ${error.message}`),
  });
  outbox.attach(transport);
  await until("the session", () => events("connected").length === 1 && transport?.connected === true);

  // A hung broker: the replies are written to its socket and stay unacknowledged.
  process.kill(broker.pid as number, "SIGSTOP");
  await journal.commit((tx) => {
    for (let i = 0; i < REPLIES; i++) {
      tx.addOutbox({
        topic: `idem/vm-isolation/results`,
        payload: resultPayload({ sourceId: `plan-${i}`, errorCode: 0, body: `"ok ${i}"`, facts }),
      });
    }
  });
  outbox.flush();
  assert.equal(outbox.pending, REPLIES, "every reply is in flight");
  holding = true;
  await broker.kill9();
  await until("the loss judged", () => events("outbox-isolating").length === 1);
  assert.equal(events("outbox-isolating")[0]?.lost, String(REPLIES));
  await broker.restart();

  // Every suspect is published while no removal has been committed yet.
  await until(`${REPLIES} replies published`, () => events("published").length === REPLIES);
  assert.equal(held.length, REPLIES, "every acknowledged reply waits for its removal commit");
  assert.equal(journal.outbox().length, REPLIES, "nothing removed yet");

  holding = false;
  for (const release of held.splice(0)) release();
  await outbox.settle(10_000);
  assert.deepEqual(journal.outbox(), [], `the outbox ends empty:\n${tail(20)}`);
  assert.deepEqual(events("reply-refused"), [], "no reply was struck: each was acknowledged");
});
