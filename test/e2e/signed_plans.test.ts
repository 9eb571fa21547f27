/**
 * Issue 9 item 1, SPEC 9a, on MQTT 5: with `trustedKeys` configured, only a plan signed over `P/A/plans` + its
 * payload by a trusted key runs. Unsigned, badly signed, signed for another agent, signed with an unknown or an
 * untrusted key: answered 306 on `P/A/results` only (never the ReplyTo they name), evented `unauthenticated`,
 * logged at warn, nothing executed. Signed with Ed25519 or RSA (user properties or envelope): runs.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { readExecutions } from "../helpers/effects.ts";
import { applicationPlan, type MuranoPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";
import { ed25519Key, envelope, rsaKey, signedProperties, signFor, trustConfig } from "../helpers/signing.ts";

test("with trustedKeys only plans signed by a trusted key for this agent run; the others get 306 on the results topic only", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "signed-plans");
  const { agentId, engine, effects } = scene;
  const ed = ed25519Key("ed-1");
  const rsa = rsaKey("rsa-1");
  const agent = await scene.startAgent({ extraArgs: ["--config", trustConfig(scene.root, [ed, rsa])] });
  const plansTopic = engine.topic("plans");
  const replyTo = `idem/${agentId}/engine-replies`;
  await engine.addReplyTopic(replyTo);
  const plan = (tag: string): { plan: MuranoPlan; text: string } => {
    const made = applicationPlan({ effects, tag, replyTo });
    return { plan: made, text: JSON.stringify(made) };
  };

  const refused: Array<{ what: string; id: string; reason: RegExp }> = [];
  const refuse = async (
    what: string,
    reason: RegExp,
    send: (p: MuranoPlan, text: string) => Promise<void>,
  ) => {
    const { plan: made, text } = plan(`refused-${refused.length}`);
    await send(made, text);
    refused.push({ what, id: made.ID, reason });
  };
  await refuse("unsigned", /carries no signature/, (_p, text) => engine.send(text));
  await refuse("malformed base64", /not base64/, (_p, text) =>
    engine.send(text, signedProperties("%%%not-base64%%%", ed.keyId)),
  );
  await refuse("another plan's signature", /does not verify with key "ed-1"/, (_p, text) =>
    engine.send(text, signedProperties(signFor(ed, plansTopic, `${text} `), ed.keyId)),
  );
  await refuse("signed for another agent", /does not verify/, (_p, text) =>
    engine.send(text, signedProperties(signFor(ed, `idem/${agentId}-other/plans`, text), ed.keyId)),
  );
  const retired = ed25519Key("ed-0");
  await refuse("a retired key id", /"ed-0" is not a trusted key/, (_p, text) =>
    engine.send(text, signedProperties(signFor(retired, plansTopic, text), retired.keyId)),
  );
  await refuse("an untrusted key under a trusted key id", /does not verify with key "rsa-1"/, (_p, text) =>
    engine.send(text, signedProperties(signFor(rsaKey("rsa-1"), plansTopic, text), rsa.keyId)),
  );
  await refuse("an envelope signed for another agent", /does not verify/, (_p, text) =>
    engine.send(envelope(signFor(ed, `idem/${agentId}-other/plans`, text), ed.keyId, text)),
  );
  await engine.send(Buffer.from("not even JSON"));

  const runs: Array<{ what: string; id: string }> = [];
  const accept = async (what: string, key: typeof ed, via: "property" | "envelope") => {
    const { plan: made, text } = plan(`signed-${runs.length}`);
    const signature = signFor(key, plansTopic, text);
    if (via === "property") await engine.send(text, signedProperties(signature, key.keyId));
    else await engine.send(envelope(signature, key.keyId, text));
    runs.push({ what, id: made.ID });
  };
  await accept("Ed25519, user properties", ed, "property");
  await accept("RSA, user properties", rsa, "property");
  await accept("Ed25519, envelope on MQTT 5", ed, "envelope");
  await accept("RSA, envelope on MQTT 5", rsa, "envelope");

  for (const { what, id, reason } of refused) {
    const result = await engine.waitForResult(id);
    assert.equal(result.ErrorCode, 306, `${what}: ${JSON.stringify(result)}`);
    assert.equal(result.Idem?.Decision, "unauthenticated", what);
    assert.match(String((result.Body as { Message?: string }).Message), reason, what);
    const answered = engine.results.filter((r) => r.result.SourceID === id).map((r) => r.topic);
    assert.deepEqual([...new Set(answered)], [engine.topic("results")], `${what}: answered on ${answered}`);
    await engine.waitForEvents({ Event: "unauthenticated", SourceID: id });
  }
  // The payload that is not JSON has no ID to answer: the event only.
  const events = await engine.waitForEvents({ Event: "unauthenticated" }, refused.length + 1);
  assert.equal(events.filter((event) => event.SourceID === null).length, 1);
  for (const { what, id } of runs) {
    const result = await engine.waitForResult(id);
    assert.equal(result.ErrorCode, 0, `${what}: ${JSON.stringify(result)}`);
    assert.equal(result.Idem?.Decision, "run", what);
  }
  // Results on the ReplyTo topic keep their order: every refused plan came before the signed ones, so had any
  // been answered there, it would be in by now. Only the signed plans' results are.
  const onReplyTo = engine.results.filter((r) => r.topic === replyTo).map((r) => r.result.SourceID);
  assert.deepEqual(new Set(onReplyTo), new Set(runs.map((r) => r.id)));
  const ran = readExecutions(effects).executions.map((e) => e.args);
  assert.deepEqual(ran.sort(), runs.map((_, index) => `signed-${index}`).sort());
  assert.equal(agent.matching(/level=warn event=unauthenticated/).length, refused.length + 1);
  assert.match(agent.matching(/event=unauthenticated/)[0] ?? "", /carries no signature/);
});
