#!/usr/bin/env node
/**
 * The `idem` executable's entry (dist/idem.mjs, dist/idem, and `node agent/main.ts` from the sources): runs
 * {@link main} on the process's arguments and exits with its code.
 */
// First: a bundle started as a Body worker serves Bodies there and evaluates nothing of the agent below.
import "./python/worker/worker_dispatch.ts";
import { main } from "./cli.ts";

let finished = false;
// The event loop ran dry while the command still waited for something (a network operation a library dropped
// without settling it): a bug, never a silent exit 0.
process.on("beforeExit", () => {
  if (finished) return;
  process.stderr.write(
    `idem: the command stopped before it finished (an operation was dropped without an answer): whether it took effect is unknown; please report this with the command line\n`,
  );
  process.exit(2);
});
main(process.argv.slice(2)).then((code) => {
  finished = true;
  process.exit(code);
});
