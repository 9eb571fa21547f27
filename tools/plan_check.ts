/**
 * Writes agent/murano/plan_check.generated.ts from the Plan schema (agent/murano/plan_check_code.ts):
 * `npm run gen:plan-check`. `--check` only compares, exiting 1 when the file is not current.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { planCheckModule } from "../agent/murano/plan_check_code.ts";

const file = new URL("../agent/murano/plan_check.generated.ts", import.meta.url);
const text = planCheckModule();
if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(file, "utf8");
  } catch {}
  if (current !== text) {
    process.stderr.write("agent/murano/plan_check.generated.ts is not current: run npm run gen:plan-check\n");
    process.exit(1);
  }
} else {
  writeFileSync(file, text);
  process.stdout.write("wrote agent/murano/plan_check.generated.ts\n");
}
