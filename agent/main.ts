#!/usr/bin/env node
/**
 * The `idem` executable's entry (dist/idem.mjs, dist/idem, and `node agent/main.ts` from the sources): runs
 * {@link main} on the process's arguments and exits with its code.
 */
// First: a bundle started as a Body worker serves Bodies there and evaluates nothing of the agent below.
import "./python/worker/worker_dispatch.ts";
import { main } from "./cli.ts";

main(process.argv.slice(2)).then((code) => process.exit(code));
