/**
 * Logs for operators: one line per event on stderr, so that `grep event=stale` or `grep key=sha256:4f2a` finds
 * what happened to a plan. Two formats (`logFormat`, `--log-format`):
 *
 * - `logfmt` (the default): `time=… level=… event=… key=value …`; a value with a space, `"` or `=` is JSON-quoted.
 * - `json`: one JSON object per line, `{"time", "level", "event", …fields}` with the fields at the top level
 *   (`jq 'select(.event == "finished")'`). A field named like one of the three is written as `field.time` (and so on).
 *
 * Event names are stable and kebab-case (`finished`, `run-retry`, `native-addon-replaced`): they are the log's API.
 * Levels: `warn` for what an operator should look at (a failed plan, ErrorCode ≥ 100, is one), `error` for what
 * the agent could not do.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "logfmt" | "json";
export type LogFields = Record<string, string | number | boolean | null | undefined>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const RESERVED = new Set(["time", "level", "event"]);

/**
 * The format of the process's own log on stderr: that of the last logger made without a `write` (the agent's), so
 * that lines written before or beside it (`native/lmdb_addon.ts`) read the same.
 */
let processFormat: LogFormat = "logfmt";

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  /** Lines below this level are dropped. Default `info`. */
  level?: LogLevel;
  /** Default `logfmt`. */
  format?: LogFormat;
  /** Where a line goes (without its newline). Default: stderr, and the process's format becomes `format`. */
  write?: (line: string) => void;
}

/**
 * Code points that JSON leaves as they are but a terminal or a log viewer acts on: DEL and the C1 controls (ESC's
 * 8-bit form, CSI, NEL), the line and paragraph separators, and the bidirectional overrides and isolates
 * ("Trojan Source"). Values come from plans and control requests (keys, targets): written raw, one could forge a
 * line or recolour the operator's terminal.
 */
const UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** JSON text with {@link UNSAFE} code points escaped as `\uXXXX` (still valid JSON). */
function escaped(json: string): string {
  return json.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A logfmt value: bare when it is plain printable text, else JSON-quoted with every control character escaped. */
function quote(value: string): string {
  return /^[^\s"=\p{Cc}\p{Cf}\u2028\u2029]+$/u.test(value) ? value : escaped(JSON.stringify(value));
}

/**
 * One log line (no newline) in `format` (default: the process's format). Undefined fields are left out; a number
 * that is not finite is written as its name (`Infinity`, `NaN`) in logfmt and as a string in JSON.
 */
export function formatLine(
  level: LogLevel,
  event: string,
  fields: LogFields = {},
  format: LogFormat = processFormat,
): string {
  const time = new Date().toISOString();
  if (format === "json") {
    const line: Record<string, string | number | boolean | null> = { time, level, event };
    for (const [name, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      const safe = typeof value === "number" && !Number.isFinite(value) ? String(value) : value;
      line[RESERVED.has(name) ? `field.${name}` : name] = safe;
    }
    return escaped(JSON.stringify(line));
  }
  let line = `time=${time} level=${level} event=${event}`;
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    line += ` ${name}=${quote(String(value))}`;
  }
  return line;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = RANK[options.level ?? "info"];
  const format = options.format ?? "logfmt";
  if (options.write === undefined) processFormat = format;
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const at = (level: LogLevel) => (event: string, fields?: LogFields) => {
    if (RANK[level] >= threshold) write(formatLine(level, event, fields, format));
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
