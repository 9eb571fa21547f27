// The start-up baseline for bench/startup.ts: the least a Node MQTT agent can do — load mqtt.js, connect, and
// publish a retained `online` status — with idem's command line (`run --broker URL --agent-id ID …`).
import { connect } from "mqtt";

const arg = (name) => process.argv[process.argv.indexOf(name) + 1];
const { hostname, port } = new URL(arg("--broker"));
const client = connect({ host: hostname, port: Number(port), protocolVersion: 5 });
client.on("connect", () => {
  client.publish(`idem/${arg("--agent-id")}/status`, JSON.stringify({ State: "online" }), {
    qos: 1,
    retain: true,
  });
});
process.on("SIGTERM", () => client.end(false, {}, () => process.exit(0)));
