/**
 * The first import of agent/main.ts (the entry). A bundle (dist/idem.mjs on Node or Deno, dist/idem) started by the agent as
 * a Body worker (worker_command.ts: its first argument is BODY_WORKER_ARG) serves Bodies right here, and
 * `serveBodyWorker` never returns: the agent's other modules (MQTT, the journal, the pipeline) are never
 * evaluated in a worker. Being imported first, only the interpreter is evaluated before (ES modules run in import
 * order): a worker answers its first Body ~35% sooner than after evaluating the whole bundle (docs/benchmarks.md).
 */
import { serveBodyWorker } from "./worker_entry.ts";
import { BODY_WORKER_ARG } from "./worker_protocol.ts";

if (process.argv[2] === BODY_WORKER_ARG) serveBodyWorker();
