/**
 * SPEC 2 "No entry blocks the outbox", on the real parts: a journal in a temp dir, a mosquitto process, the
 * agent's MQTT transport and outbox. Outbox entries the agent could not produce through intake (a topic with a
 * control character) or that the broker refuses (over its max_packet_size, a topic its ACL denies) are
 * committed first, healthy ones after them: the healthy ones arrive, the bad one ends replaced (or dropped,
 * with a log line), and the outbox ends empty.
 */
import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { connect, type MqttClient } from "mqtt";
import { DEFER_MS, Journal, type OutboxEntry } from "../../agent/journal/journal.ts";
import { resultPayload } from "../../agent/pipeline/reply.ts";
import { connectTransport } from "../../agent/transport/mqtt.ts";
import { Outbox } from "../../agent/transport/outbox.ts";
import type { Transport } from "../../agent/transport/port.ts";
import { type BrokerOptions, type MosquittoBroker, startBroker } from "../helpers/broker.ts";
import { recordedLog } from "../helpers/recorded_log.ts";
import { resultFacts } from "../helpers/result_facts.ts";

const facts = resultFacts("vm-outbox");

const DEFAULT_TOPIC = "idem/vm-outbox/results";

interface Received {
  topic: string;
  result: { ID: string; SourceID: string; ErrorCode: number; Body: unknown };
}

/** Something that can wait for a condition on what it collected, without sleeping. */
class Waitable {
  #waiters = new Set<() => void>();

  notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  until(condition: () => boolean, what: () => string, timeoutMs = 20_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what()}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }
}

interface Rig {
  journal: Journal;
  outbox: Outbox;
  transport: Transport;
  /** The agent side's log lines. */
  lines: string[];
  /** What a subscriber to `#` received, in order. */
  received: Received[];
  waitable: Waitable;
  /** Resolves once every SourceID in `sourceIds` arrived (on any topic). */
  arrived(sourceIds: readonly string[]): Promise<void>;
  events(name: string): Array<Record<string, string>>;
}

async function openRig(
  t: { after(fn: () => Promise<void>): void },
  options: {
    broker?: BrokerOptions;
    protocol: 4 | 5;
    entries: Array<Omit<OutboxEntry, "seq">>;
    defaultTopic?: string;
  },
): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), "idem-outbox-"));
  let broker: MosquittoBroker | undefined;
  let observer: MqttClient | undefined;
  let transport: Transport | undefined;
  let journal: Journal | undefined;
  t.after(async () => {
    await transport?.close();
    await journal?.close();
    await observer?.endAsync(true);
    await broker?.dispose();
    await rm(dir, { recursive: true, force: true });
  });
  broker = await startBroker({ durable: false, ...options.broker });
  const waitable = new Waitable();
  const received: Received[] = [];
  observer = await new Promise<MqttClient>((resolve, reject) => {
    const c = connect({ host: broker?.host, port: broker?.port, protocolVersion: 5, clientId: "observer" });
    c.once("connect", () => resolve(c));
    c.once("error", reject);
  });
  observer.on("message", (topic, payload) => {
    received.push({ topic, result: JSON.parse(payload.toString("utf8")) as Received["result"] });
    waitable.notify();
  });
  await observer.subscribeAsync("#", { qos: 1 });

  journal = Journal.open(dir);
  const entries = options.entries;
  await journal.commit((tx) => {
    for (const entry of entries) tx.addOutbox(entry);
  });
  const { log, lines, events, tail } = recordedLog(() => waitable.notify());
  const outbox = new Outbox(journal, {
    log,
    defaultTopic: options.defaultTopic ?? DEFAULT_TOPIC,
    retryDelayMs: 20,
  });
  transport = connectTransport({
    broker: {
      url: broker.url,
      protocol: options.protocol,
      rejectUnauthorized: true,
      keepaliveSeconds: 30,
      sessionExpirySeconds: 3600,
      reconnectSeconds: 0.2,
    },
    agentId: "vm-outbox",
    clientId: "idem-vm-outbox",
    plansTopic: "idem/vm-outbox/plans",
    will: () => ({ topic: "idem/vm-outbox/status", payload: "{}" }),
    log,
    onPlan: async () => {},
    onReady: () => outbox.flush({ everything: true }),
    onFatal: (error) => lines.push(`fatal ${error.message}`),
  });
  outbox.attach(transport);
  const rig: Rig = {
    journal,
    outbox,
    transport,
    lines,
    received,
    waitable,
    arrived: (sourceIds) =>
      waitable.until(
        () => sourceIds.every((id) => received.some((r) => r.result.SourceID === id)),
        () =>
          `results ${sourceIds.filter((id) => !received.some((r) => r.result.SourceID === id)).join(", ")}\n${tail()}`,
      ),
    events,
  };
  return rig;
}

/** The Body's AdditionalInfo of a received result. */
function additionalInfo(received: Received | undefined): unknown {
  return (received?.result.Body as { AdditionalInfo?: unknown } | undefined)?.AdditionalInfo;
}

function result(sourceId: string, body: string, errorCode = 0): string {
  return resultPayload({ sourceId, errorCode, body, facts });
}

/** Five healthy replies, each on its own topic. */
function healthy(prefix: string, count = 5): Array<Omit<OutboxEntry, "seq">> {
  return Array.from({ length: count }, (_, i) => ({
    topic: `replies/${prefix}-${i}`,
    payload: result(`${prefix}-${i}`, JSON.stringify(`ok ${i}`)),
  }));
}

const ids = (entries: Array<Omit<OutboxEntry, "seq">>) =>
  entries.map((entry) => (JSON.parse(entry.payload) as { SourceID: string }).SourceID);

/** The outbox is empty once what was handed to MQTT.js is settled. */
async function assertOutboxEmpty(rig: Rig): Promise<void> {
  await rig.outbox.settle(10_000);
  assert.deepEqual(
    rig.journal.outbox().map((entry) => entry.seq),
    [],
    `outbox ends empty\n${rig.lines.slice(-30).join("\n")}`,
  );
}

for (const protocol of [5, 4] as const) {
  test(`(MQTT ${protocol}) a reply to "a\\u0001b" ends replaced on the default topic, and the 5 after it arrive`, {
    timeout: 60_000,
  }, async (t) => {
    const good = healthy(`ctl${protocol}`);
    const rig = await openRig(t, {
      protocol,
      entries: [{ topic: "a\u0001b", payload: result("bad-topic", '{"big": "answer"}', 100) }, ...good],
    });
    await rig.arrived([...ids(good), "bad-topic"]);
    for (const id of ids(good)) {
      const [one] = rig.received.filter((r) => r.result.SourceID === id);
      assert.equal(one?.topic, `replies/${id}`);
    }
    const replaced = rig.received.filter((r) => r.result.SourceID === "bad-topic");
    assert.equal(replaced.length, 1);
    assert.equal(replaced[0]?.topic, DEFAULT_TOPIC);
    assert.equal(replaced[0]?.result.ErrorCode, 100, "the ErrorCode is kept");
    assert.deepEqual(additionalInfo(replaced[0]), {
      Truncated: true,
      Bytes: Buffer.byteLength('{"big": "answer"}'),
    });
    const [line] = rig.events("reply-replaced");
    assert.equal(line?.plan, "bad-topic");
    assert.equal(line?.topic, "a\\u0001b", "the topic is logged printable");
    assert.equal(line?.to, DEFAULT_TOPIC);
    assert.equal(rig.events("offline").length, 0, "the bad topic never reached the broker");
    await assertOutboxEmpty(rig);
  });

  test(`(MQTT ${protocol}) a reply over the broker's max_packet_size ends truncated on its topic; the 7 around it arrive`, {
    timeout: 60_000,
  }, async (t) => {
    const before = healthy(`pre${protocol}`, 2);
    const after = healthy(`post${protocol}`, 5);
    const hugeBody = JSON.stringify("x".repeat(40_000));
    const rig = await openRig(t, {
      protocol,
      broker: { maxPacketSize: 16 * 1024 },
      entries: [...before, { topic: "replies/huge", payload: result("huge", hugeBody, 1) }, ...after],
    });
    await rig.arrived([...ids(before), ...ids(after), "huge"]);
    const huge = rig.received.filter((r) => r.result.SourceID === "huge");
    assert.equal(huge.length, 1, "only the truncated reply ever reached the broker");
    assert.equal(huge[0]?.topic, "replies/huge", "on its own topic");
    assert.equal(huge[0]?.result.ErrorCode, 1);
    assert.deepEqual(additionalInfo(huge[0]), {
      Truncated: true,
      Bytes: Buffer.byteLength(hugeBody),
    });
    const refused = rig.events("reply-refused").filter((line) => line.plan === "huge");
    if (protocol === 5) {
      // The CONNACK says the limit: the reply is never sent as it is, and the connection never drops.
      assert.equal(refused.length, 1, rig.lines.join("\n"));
      assert.equal(refused[0]?.strike, "3");
      assert.equal(rig.events("offline").length, 0, rig.lines.join("\n"));
    } else {
      // 3.1.1: mosquitto hangs up; isolation finds the culprit, alone in flight three times.
      assert.equal(refused.length, 3, rig.lines.join("\n"));
      assert.deepEqual(
        refused.map((line) => line.strike),
        ["1", "2", "3"],
      );
      for (const line of refused) assert.match(line.reason ?? "", /only one in flight/);
    }
    const [replaced] = rig.events("reply-replaced");
    assert.equal(replaced?.plan, "huge");
    assert.equal(replaced?.stage, "1");
    await assertOutboxEmpty(rig);
  });
}

/** An ACL file for mosquitto that lets anonymous clients use every topic but those under `denied/`. */
async function aclConfig(t: { after(fn: () => Promise<void>): void }): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), "idem-acl-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755); // mosquitto run as root reads it as the user mosquitto
  const file = join(dir, "acl");
  writeFileSync(file, "topic readwrite #\ntopic deny denied/#\n", { mode: 0o644 });
  return [`acl_file ${file}`];
}

test("(MQTT 5) a reply whose topic the broker denies (PUBACK 0x87) moves to the default topic after 3 strikes on each", {
  timeout: 60_000,
}, async (t) => {
  const good = healthy("acl");
  const rig = await openRig(t, {
    protocol: 5,
    broker: { extraConfig: await aclConfig(t) },
    entries: [{ topic: "denied/x", payload: result("denied", '"small"', 0) }, ...good],
  });
  await rig.arrived([...ids(good), "denied"]);
  const denied = rig.received.filter((r) => r.result.SourceID === "denied");
  assert.deepEqual(
    denied.map((r) => r.topic),
    [DEFAULT_TOPIC],
  );
  assert.deepEqual(additionalInfo(denied[0]), {
    Truncated: true,
    Bytes: 7,
  });
  const refused = rig.events("reply-refused").filter((line) => line.plan === "denied");
  assert.equal(refused.length, 6, "3 strikes as it was, 3 for its truncated form on the same topic");
  assert.match(refused[0]?.reason ?? "", /0x87/);
  assert.deepEqual(
    rig.events("reply-replaced").map((line) => [line.stage, line.to]),
    [
      ["1", "denied/x"],
      ["2", DEFAULT_TOPIC],
    ],
  );
  await assertOutboxEmpty(rig);
});

test("(MQTT 5) a reply refused on its topic and on the default topic is dropped with an error line", {
  timeout: 60_000,
}, async (t) => {
  const good = healthy("drop");
  const rig = await openRig(t, {
    protocol: 5,
    broker: { extraConfig: await aclConfig(t) },
    defaultTopic: "denied/results",
    entries: [{ topic: "denied/x", payload: result("doomed", '"small"', 0) }, ...good],
  });
  await rig.arrived(ids(good));
  await rig.waitable.until(
    () => rig.events("reply-dropped").length > 0,
    () => `event=reply-dropped\n${rig.lines.join("\n")}`,
  );
  const [dropped] = rig.events("reply-dropped");
  assert.equal(dropped?.plan, "doomed");
  assert.equal(dropped?.topic, "denied/results");
  assert.ok(rig.lines.some((line) => line.includes("level=error event=reply-dropped")));
  assert.equal(rig.received.filter((r) => r.result.SourceID === "doomed").length, 0);
  await assertOutboxEmpty(rig);
});

test("settle() waits for the acknowledgements and has the removals committed at once, not DEFER_MS later", {
  timeout: 30_000,
}, async (t) => {
  const good = healthy("settle");
  const rig = await openRig(t, { protocol: 4, entries: good });
  await rig.arrived(ids(good));
  // Shorter than the deferred removals' own wait: only a settle that commits them finds the outbox empty.
  await rig.outbox.settle(DEFER_MS / 2);
  assert.deepEqual(
    rig.journal.outbox().map((entry) => entry.seq),
    [],
    "the acknowledged replies' removals are committed by the settle itself",
  );
});
