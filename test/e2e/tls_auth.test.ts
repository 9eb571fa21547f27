/**
 * SPEC 2 / 10 — the agent connects to mosquitto over mqtts with a client certificate and a username and
 * password, every broker setting given in its `--config` JSON file, and runs a plan. The certificates (a CA, a
 * server certificate for 127.0.0.1 and localhost, a client certificate) and the password file are made at
 * test time. The broker has two listeners (`per_listener_settings true`): a plain anonymous one for the test
 * engine and a TLS one (client certificate required, password file, no anonymous) for the agent.
 * A wrong password does not crash the agent: it logs `event=broker-error` (not authorized) and keeps trying.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { type AgentProcess, parseLogfmt } from "../helpers/agent_process.ts";
import { freePort, startBroker } from "../helpers/broker.ts";
import { readExecutions } from "../helpers/effects.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene, type Scene } from "../helpers/scene.ts";

const USER = "idem-agent";
const PASSWORD = "s3cret-for-tests";

interface Pki {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** A throw-away CA, a server certificate (IP:127.0.0.1, DNS:localhost) and a client certificate, in `dir`. */
function makePki(dir: string): Pki {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(
    dir,
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "2",
    "-subj",
    "/CN=idem test CA",
  );
  writeFileSync(
    join(dir, "server.ext"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
  );
  writeFileSync(join(dir, "client.ext"), "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n");
  for (const name of ["server", "client"]) {
    const cn = name === "server" ? "localhost" : USER;
    openssl(dir, "req", "-new", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`);
    openssl(
      dir,
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.crt`,
    );
  }
  return {
    ca: join(dir, "ca.crt"),
    serverCert: join(dir, "server.crt"),
    serverKey: join(dir, "server.key"),
    clientCert: join(dir, "client.crt"),
    clientKey: join(dir, "client.key"),
  };
}

interface TlsScene extends Scene {
  tlsPort: number;
  pki: Pki;
  /** Writes a config file with these broker settings and starts `idem run --config FILE` (and nothing else). */
  startAgentWithConfig(
    broker: Record<string, unknown>,
    options?: { waitOnline?: boolean },
  ): Promise<AgentProcess>;
}

/**
 * A scene whose mosquitto has a second, TLS listener (client certificate required, password file, no
 * anonymous). mosquitto, run as root, drops to the user `mosquitto`: it must read the certificates and the
 * password file.
 */
async function openTlsScene(t: { after(fn: () => Promise<void>): void }, name: string): Promise<TlsScene> {
  let pki: Pki | undefined;
  const tlsPort = await freePort();
  const scene = await openScene(t, name, {
    server: async (root) => {
      const tlsDir = join(root, "tls");
      execFileSync("mkdir", ["-m", "755", tlsDir]);
      pki = makePki(tlsDir);
      const passwordFile = join(tlsDir, "passwords");
      execFileSync("mosquitto_passwd", ["-b", "-c", passwordFile, USER, PASSWORD], { stdio: "ignore" });
      for (const file of readdirSync(tlsDir)) chmodSync(join(tlsDir, file), 0o644);
      return await startBroker({
        extraConfig: ["per_listener_settings true"],
        listeners: [
          {
            port: tlsPort,
            settings: [
              `cafile ${pki.ca}`,
              `certfile ${pki.serverCert}`,
              `keyfile ${pki.serverKey}`,
              "require_certificate true",
              `password_file ${passwordFile}`,
              "allow_anonymous false",
            ],
          },
        ],
      });
    },
  });
  let configs = 0;
  return {
    ...scene,
    tlsPort,
    pki: pki as Pki,
    startAgentWithConfig(brokerSettings, options = {}) {
      const configFile = join(scene.root, `agent-${++configs}.json`);
      const config = { agentId: scene.agentId, dataDir: scene.dataDir, broker: brokerSettings };
      writeFileSync(configFile, JSON.stringify(config, null, 2));
      return scene.startAgent({
        argv: ["run", "--config", configFile],
        waitOnline: options.waitOnline ?? true,
      });
    },
  };
}

test("over mqtts with a client certificate and a username/password from --config, the agent comes online and runs a plan", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openTlsScene(t, "tls-auth");
  const agent = await scene.startAgentWithConfig({
    url: `mqtts://127.0.0.1:${scene.tlsPort}`,
    username: USER,
    password: PASSWORD,
    ca: scene.pki.ca,
    cert: scene.pki.clientCert,
    key: scene.pki.clientKey,
  });
  const connected = parseLogfmt(agent.matching(/\bevent=connected\b/)[0] ?? "");
  assert.equal(connected.broker, `mqtts://127.0.0.1:${scene.tlsPort}`);
  assert.equal(connected.protocol, "5", "mosquitto speaks MQTT 5 over TLS: no fallback");
  assert.deepEqual(agent.matching(/\bevent=(broker-error|protocol-fallback)\b/), [], agent.tail());

  // The engine is on the plain listener; the agent's presence and result cross over from the TLS one.
  const status = await scene.engine.waitForStatus("online");
  assert.equal(status.AgentID, scene.agentId);
  assert.equal(status.Protocol, 5);

  const plan = applicationPlan({ effects: scene.effects, tag: "tls" });
  await scene.engine.send(plan);
  const result = await scene.engine.waitForResult(plan.ID);
  assert.equal(result.ErrorCode, 0, JSON.stringify(result));
  assert.equal(result.Idem?.Decision, "run");
  const effects = readExecutions(scene.effects);
  assert.equal(effects.executions.length, 1, effects.lines.join("\n"));
  assert.equal(result.Body, `ran ${effects.executions[0]?.pid} tls payload`);

  // The broker saw the agent on the TLS listener, authenticated as USER.
  assert.ok(
    scene.broker.log.some((line) => line.includes(`idem-${scene.agentId}`) && line.includes(`u'${USER}'`)),
    scene.broker.log.join("\n"),
  );
  assert.equal((await agent.stop()).code, 0, agent.tail());
});

test("with a wrong password the agent does not crash: it logs broker-error (not authorized) and keeps retrying", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openTlsScene(t, "tls-badpass");
  const agent = await scene.startAgentWithConfig(
    {
      url: `mqtts://127.0.0.1:${scene.tlsPort}`,
      username: USER,
      password: "not-the-password",
      ca: scene.pki.ca,
      cert: scene.pki.clientCert,
      key: scene.pki.clientKey,
      reconnectSeconds: 0.2,
    },
    { waitOnline: false },
  );
  // Three refusals in a row: it retries (reconnectSeconds 0.2), it did not exit.
  const errors = await agent.waitForLog(/\bevent=broker-error\b/, { count: 3 });
  for (const line of errors) assert.match(line, /not authori[sz]ed/i, line);
  assert.equal(agent.exited, undefined, "the agent is still running");
  assert.equal(
    parseLogfmt(errors[0] as string).code,
    "135",
    "refused by an MQTT 5 CONNACK: the broker speaks 5",
  );
  assert.deepEqual(
    agent.matching(/\bevent=protocol-fallback\b/),
    [],
    "a refused login is not a refused protocol version: the agent stays on MQTT 5",
  );
  assert.deepEqual(agent.matching(/\bevent=online\b/), [], "never online");
  assert.deepEqual(agent.matching(/\blevel=error\b/), [], `no error-level line:\n${agent.tail()}`);

  const stopped = await agent.stop();
  assert.equal(stopped.code, 0, agent.tail());
});
