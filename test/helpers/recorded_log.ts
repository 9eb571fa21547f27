/**
 * A debug-level logger for tests that drive agent parts in their own process (outbox, transport): it keeps every
 * line, echoes it to stderr with `IDEM_TEST_VERBOSE=1` (as agent_process.ts does for agent processes), and calls
 * `onLine` after each, so that a test can wait on what the log says without polling.
 */
import { createLogger, type Logger } from "../../agent/log.ts";
import { parseLogfmt } from "./agent_process.ts";

export interface RecordedLog {
  log: Logger;
  /** Every line so far (tests may push their own, e.g. `fatal …`). */
  lines: string[];
  /** The `event=name` lines, parsed. */
  events(name: string): Array<Record<string, string>>;
  /** The last `count` lines, for failure messages. */
  tail(count?: number): string;
}

export function recordedLog(onLine: () => void = () => {}): RecordedLog {
  const lines: string[] = [];
  const log = createLogger({
    level: "debug",
    write: (line) => {
      lines.push(line);
      if (process.env.IDEM_TEST_VERBOSE === "1") process.stderr.write(`${line}\n`);
      onLine();
    },
  });
  return {
    log,
    lines,
    events: (name) => lines.filter((line) => line.includes(` event=${name} `)).map(parseLogfmt),
    tail: (count = 30) => lines.slice(-count).join("\n"),
  };
}
