/**
 * `idem send` and `idem cancel` against what an operator can get wrong (issue 12, tried from outside), in-process
 * through `main`:
 * - an agent id, `--prefix` or `--reply-to` (or a plan's own ReplyTo) that cannot make a topic is exit 2 naming the
 *   flag, before any connection (the broker given here listens nowhere): it used to be mqtt.js's bare "Invalid
 *   topic" with exit 1, or — for a wildcard prefix — a broker dropping the connection and an exit 0 with nothing
 *   sent;
 * - a broker that drops the connection while the plan's publish waits for its PUBACK (a real mosquitto with
 *   `max_packet_size` below the plan's size) is exit 2 saying so, not a command that never ends (mqtt.js never
 *   settles that publish, nor a graceful end after it).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { startBroker } from "../helpers/broker.ts";
import { idem } from "../helpers/in_process.ts";

const dir = mkdtempSync(join(tmpdir(), "idem-send-addressing-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const NOWHERE = "mqtt://127.0.0.1:1";

function planFile(name: string, plan: Record<string, unknown>): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ FormatVersion: "2.1.0", Body: "return 1", ...plan }));
  return file;
}

test("an agent id, prefix or reply topic that makes no topic is exit 2 naming the flag, before connecting", async () => {
  const plan = planFile("plan.json", {});
  const cases: [string[], RegExp][] = [
    [["send", "--agent-id", "vm/#", plan], /"vm\/#" is not an agent id: give --agent-id/],
    [["send", "--agent-id", "vm-1", "--prefix", "idem/+", plan], /Cannot use --prefix "idem\/\+" .*wildcard/],
    [["send", "--agent-id", "vm-1", "--prefix", "id\u0007em", plan], /Cannot use --prefix .*U\+0007/],
    [["send", "--agent-id", "vm-1", "--reply-to", "replies/#", plan], /Cannot use --reply-to "replies\/#"/],
    [
      ["send", "--agent-id", "vm-1", planFile("reply.json", { ReplyTo: "replies/+/x" })],
      /its ReplyTo "replies\/\+\/x" is not a topic name/,
    ],
    [["cancel", "--agent-id", "vm 1", "k"], /"vm 1" is not an agent id: give --agent-id/],
    [["cancel", "--agent-id", "vm-1", "--prefix", "#", "k"], /Cannot use --prefix "#"/],
  ];
  for (const [args, expected] of cases) {
    const outcome = await idem([args[0] as string, "--broker", NOWHERE, ...args.slice(1)]);
    const what = args.join(" ");
    assert.equal(outcome.code, 2, `${what}: ${outcome.stderr}`);
    assert.match(outcome.stderr, expected, what);
    assert.doesNotMatch(outcome.stderr, /ECONNREFUSED|Invalid topic/, what);
    assert.equal(outcome.stdout, "", what);
  }
});

test("a broker that drops the connection before the plan's PUBACK makes send exit 2 saying so", {
  timeout: 60_000,
}, async () => {
  const broker = await startBroker({ maxPacketSize: 2000, durable: false });
  try {
    const big = planFile("big.json", { Parameters: { pad: "x".repeat(10_000) } });
    for (const wait of [[], ["--wait", "5"]]) {
      const outcome = await idem(["send", "--broker", broker.url, "--agent-id", "vm-1", ...wait, big]);
      assert.equal(outcome.code, 2, outcome.stderr);
      assert.match(
        outcome.stderr,
        /Cannot send plan \w+: the connection to the broker was lost before it acknowledged the plan/,
      );
      assert.equal(outcome.stdout, "", "no plan ID printed: the plan was not acknowledged");
    }
  } finally {
    await broker.stop();
  }
});
