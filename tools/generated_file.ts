/**
 * A checked-in file that a generator writes (`npm run docs:config`, `npm run gen:plan-check`): writes `text` to
 * `file`, or with `--check` on the command line only compares, exiting 1 when the file is not current.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export function writeGenerated(file: URL, text: string, command: string): void {
  const name = fileURLToPath(file).replace(`${fileURLToPath(new URL("..", import.meta.url))}`, "");
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(file, "utf8");
    } catch {}
    if (current !== text) {
      process.stderr.write(`${name} is not current: run ${command}\n`);
      process.exit(1);
    }
  } else {
    writeFileSync(file, text);
    process.stdout.write(`wrote ${name}\n`);
  }
}
