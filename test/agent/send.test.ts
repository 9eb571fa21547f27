/**
 * `idem send` publishes the plan file as it is written (SPEC 3 "Numbers keep their JSON form"): it reads it
 * with the agent's own parser and writes it back from that tree, changing only the envelope fields its flags set.
 * A real MQTT broker (the embedded aedes) and a real subscriber.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import mqtt, { type MqttClient } from "mqtt";
import { type JsonObject, parseJson } from "../../agent/json/parse.ts";
import { type SendOptions, sendPlan } from "../../agent/send.ts";
import { type EmbeddedBroker, startEmbeddedBroker } from "../../agent/transport/embedded.ts";
import { captured } from "../helpers/in_process.ts";

let dir: string;
let broker: EmbeddedBroker;
let subscriber: MqttClient;
const received: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "idem-send-"));
  broker = await startEmbeddedBroker(0);
  subscriber = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
  subscriber.on("message", (_topic, payload) => void received.push(payload.toString("utf8")));
  await subscriber.subscribeAsync("idem/vm-send/plans", { qos: 1 });
});
after(async () => {
  await subscriber?.endAsync();
  await broker?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Sends `text` as a plan file with `flags`; the payload the broker delivered. */
async function send(text: string, flags: Partial<SendOptions> = {}): Promise<string> {
  const file = join(dir, `plan-${received.length}.json`);
  await writeFile(file, text);
  const before = received.length;
  const write = process.stdout.write;
  process.stdout.write = () => true; // sendPlan prints the plan ID
  try {
    const code = await sendPlan({
      broker: broker.url,
      agentId: "vm-send",
      prefix: "idem",
      planFile: file,
      ...flags,
    });
    assert.equal(code, 0);
  } finally {
    process.stdout.write = write;
  }
  for (let wait = 0; received.length === before && wait < 100; wait++)
    await new Promise((r) => setTimeout(r, 20));
  assert.equal(received.length, before + 1, "the broker delivered the plan");
  return received[before] as string;
}

test("publishes the plan's numbers and key order as written: 1.0, 2**53+1, -0.0, NaN, integer-like keys", async () => {
  const parameters = '{"8080":1.0,"2222":9007199254740993,"z":-0.0,"n":NaN,"big":1e400,"s":"\\udc00é"}';
  const payload = await send(`{"ID": "p1", "Parameters": ${parameters}, "Body": "return args"}`);
  assert.equal(
    payload,
    `{"ID":"p1","Parameters":${parameters.replace("1e400", "Infinity")},"Body":"return args"}`,
  );
});

test("sets the envelope from flags: integral numbers as JSON integers, Idempotency merged with its Options", async () => {
  const payload = await send(
    '{"Parameters": {}, "Idempotency": {"Options": {"window": 5.0}, "Key": "old"}}',
    {
      generation: 3,
      timeout: 30,
      policy: "always",
      key: "new",
      replyTo: "idem/vm-send/results",
    },
  );
  const parsed = parseJson(payload);
  assert.ok(parsed.ok && parsed.value instanceof Map);
  const plan = parsed.value;
  assert.match(String(plan.get("ID")), /^[0-9a-f]{32}$/, "a fresh ID for a plan without one");
  assert.equal(plan.get("Generation"), 3n);
  assert.equal(plan.get("Timeout"), 30n);
  assert.equal(plan.get("ReplyTo"), "idem/vm-send/results");
  assert.match(payload, /"Idempotency":\{"Options":\{"window":5\.0\},"Key":"new","Policy":"always"\}/);
  assert.deepEqual([...(plan.get("Idempotency") as JsonObject).keys()], ["Options", "Key", "Policy"]);
});

test("refuses a plan file that is not JSON with the parser's message, and one that is not an object", async () => {
  const file = join(dir, "bad.json");
  await writeFile(file, '{"ID": "p1",}');
  await assert.rejects(sendPlan({ broker: broker.url, agentId: "vm-send", prefix: "idem", planFile: file }), {
    code: 2,
    message:
      /^Cannot parse plan .*bad\.json as JSON: Expecting property name enclosed in double quotes at position 12$/,
  });
  await writeFile(file, "[1]");
  await assert.rejects(sendPlan({ broker: broker.url, agentId: "vm-send", prefix: "idem", planFile: file }), {
    code: 2,
    message: /a plan is a JSON object/,
  });
});

/** sendPlan with its answer and warnings collected. */
function sendCollected(options: Partial<SendOptions> & { planFile: string; agentId: string }) {
  return captured((writers) => sendPlan({ broker: broker.url, prefix: "idem", ...options, ...writers }));
}

test("--options sets the plan's Idempotency.Options (the policy's options), replacing the file's", async () => {
  const options = parseJson('{"window": 600, "ignore": ["/Body"]}');
  assert.ok(options.ok && options.value instanceof Map);
  const payload = await send('{"Idempotency": {"Options": {"window": 5}, "Policy": "always"}}', {
    options: options.value,
  });
  assert.match(
    payload,
    /"Idempotency":\{"Options":\{"window":600,"ignore":\["\/Body"\]\},"Policy":"always"\}/,
  );
});

test("a result whose Body holds bare Infinity and NaN is read and printed as the agent sent it", async () => {
  const agent = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
  try {
    // The agent's side: answers each plan on its results topic as Python's json writes floats.
    agent.on("message", (_topic, payload) => {
      const id = (JSON.parse(payload.toString("utf8")) as { ID: string }).ID;
      const result = `{"SourceID": "${id}", "ErrorCode": 0, "Body": [Infinity, NaN, -Infinity, 1e400]}`;
      agent.publish("idem/vm-inf/results", result, { qos: 1 });
    });
    await agent.subscribeAsync("idem/vm-inf/plans", { qos: 1 });
    const file = join(dir, "inf.json");
    await writeFile(file, '{"ID": "inf-1", "Body": "return float(\'inf\')"}');
    const outcome = await sendCollected({ agentId: "vm-inf", planFile: file, waitSeconds: 30 });
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(
      outcome.stdout,
      '{"SourceID": "inf-1", "ErrorCode": 0, "Body": [Infinity, NaN, -Infinity, 1e400]}\n',
    );
  } finally {
    await agent.endAsync();
  }
});

test("warns when the agent has never been seen (no retained status), not when it has", async () => {
  const file = join(dir, "seen.json");
  await writeFile(file, '{"ID": "seen-1"}');
  const never = await sendCollected({ agentId: "vm-never", planFile: file });
  assert.equal(never.code, 0);
  assert.equal(never.stdout, "seen-1\n");
  assert.match(
    never.stderr,
    /warning: agent vm-never has never been seen on this broker \(no retained status on idem\/vm-never\/status\)/,
  );

  const status = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
  try {
    await status.publishAsync("idem/vm-seen/status", '{"State": "online", "AgentID": "vm-seen"}', {
      qos: 1,
      retain: true,
    });
  } finally {
    await status.endAsync();
  }
  const seen = await sendCollected({ agentId: "vm-seen", planFile: file });
  assert.equal(seen.code, 0);
  assert.equal(seen.stderr, "");
});

test("--wait 0 with no agent exits 3 at once, saying the agent was never seen (no crash)", async () => {
  const file = join(dir, "wait0.json");
  await writeFile(file, '{"ID": "wait-0"}');
  const outcome = await sendCollected({ agentId: "vm-absent", planFile: file, waitSeconds: 0 });
  assert.equal(outcome.code, 3);
  assert.equal(outcome.stdout, "");
  assert.match(
    outcome.stderr,
    /No result for plan wait-0 on idem\/vm-absent\/results within 0 s; agent vm-absent has never been seen/,
  );
});
