/**
 * The command line argument that makes the agent's own executable (a bundle, the SEA) a Body worker: a module of
 * its own, so that the executable's main script (agent/native/sea_main.ts) can tell a worker's start without
 * loading the worker's protocol.
 */
export const BODY_WORKER_ARG = "__idem-body-worker";
