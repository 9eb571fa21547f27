/**
 * Writes agent/murano/plan_check.generated.ts from the Plan schema (agent/murano/plan_check_code.ts):
 * `npm run gen:plan-check`. `--check` only compares, exiting 1 when the file is not current.
 */
import { planCheckModule } from "../agent/murano/plan_check_code.ts";
import { writeGenerated } from "./generated_file.ts";

writeGenerated(
  new URL("../agent/murano/plan_check.generated.ts", import.meta.url),
  planCheckModule(),
  "npm run gen:plan-check",
);
