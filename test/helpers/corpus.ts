/**
 * Where the Murano conformance corpus is: `../shared/murano-corpus` beside the repository (as on the
 * developers' machines and in CI), or `IDEM_MURANO_CORPUS`. It is read at test time, never copied.
 */
import { join } from "node:path";
import { REPO_ROOT } from "./agent_process.ts";

export const CORPUS_DIR: string =
  process.env.IDEM_MURANO_CORPUS ?? join(REPO_ROOT, "../shared/murano-corpus");
export const CORPUS_CASES: string = join(CORPUS_DIR, "cases");
