/**
 * The Body worker's entry point when idem runs from its sources (a bundle starts itself with BODY_WORKER_ARG).
 * Node's compile cache (os.tmpdir()/node-compile-cache) keeps the type-stripped interpreter between starts:
 * ~0.3 s instead of ~0.9 s for a worker from the sources.
 */
import module from "node:module";

(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const { serveBodyWorker } = await import("./worker_entry.ts");
serveBodyWorker();
