// Throw-away measurement (H7): idem's 500 queued plans on RabbitMQ 3.10 with mqtt.prefetch 10 (default) vs 100.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../test/helpers/agent_process.ts";
import { startRabbitMq } from "../test/helpers/rabbitmq.ts";
import { idemRep } from "./idem_rep.ts";
import { pct } from "./lab.ts";

const reps = Number(process.argv[2] ?? 2);
for (const prefetch of [10, 100]) {
  const rabbit = await startRabbitMq({
    extraConfig: [`mqtt.prefetch = ${prefetch}`, "mqtt.subscription_ttl = 604800000"],
  });
  try {
    for (let i = 0; i < reps; i++) {
      const work = mkdtempSync(join(tmpdir(), "h7-prefetch-"));
      try {
        const { rep } = await idemRep({ port: rabbit.port, command: [join(REPO_ROOT, "dist/idem")], work });
        console.log(
          `prefetch ${prefetch}: startup ${rep.startupMs.toFixed(0)} ms, p50 ${pct(rep.latencyMs, 50).toFixed(1)} ms, 500: ${rep.plansPerS.toFixed(1)}/s, CPU/plan ${rep.cpuMsPerPlan.toFixed(2)} ms`,
        );
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    }
  } finally {
    await rabbit.dispose();
  }
}
process.exit(0);
