/**
 * Writes agent/murano/plan_check.generated.ts from the Plan schema (tools/plan_check_code.ts):
 * `npm run gen:plan-check`. `--check` only compares, exiting 1 when the file is not current.
 */

import { writeGenerated } from "./generated_file.ts";
import { planCheckModule } from "./plan_check_code.ts";

writeGenerated(
  new URL("../agent/murano/plan_check.generated.ts", import.meta.url),
  planCheckModule(),
  "npm run gen:plan-check",
);
