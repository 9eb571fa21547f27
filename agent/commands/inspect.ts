/**
 * `idem inspect [--data-dir DIR] [KEY|--queue|--outbox] [--json] [--limit N]` (SPEC 10): what the journal holds —
 * every key, one key's record and history, the run queue, the outbox — read while the agent runs.
 *
 * It never owns the data dir and never writes (`journal/reader.ts`: LMDB opened read-only, one more reader of
 * the agent's MVCC snapshots), so it is not refused while the agent runs, unlike `forget` and `fence`. Listings
 * are printed as they are read (JSON too: the document is written piece by piece), so a journal of a million
 * keys is never held in memory; `--limit N` stops after N rows.
 */
import { ErrorCode, IdemError } from "../errors.ts";
import { JournalReader } from "../journal/reader.ts";
import type { Command, CommandInput } from "./command.ts";
import {
  heading,
  KEY_COLUMNS,
  keyView,
  OUTBOX_COLUMNS,
  outboxView,
  printable,
  QUEUE_COLUMNS,
  queueView,
  type RecordView,
  recordView,
  row,
  shortTime,
} from "./inspect_views.ts";

const USAGE = `Usage: idem inspect [--data-dir DIR] [KEY | --queue | --outbox] [--json] [--limit N]

Shows what the agent's journal holds. Safe while the agent runs: it only reads (LMDB read-only, a consistent
snapshot) and never takes the data dir; run it as the agent's user.

  (no argument)  every key, in key order: state, attempts, result code, policy, generation, created/updated/
                 finished times, last plan ID
  KEY            that key's whole record: the above, fingerprint, first plan ID, queued plans, waiting
                 duplicates, process group, the stored result (Body) and its history (oldest first)
  --queue        plans queued to run, in order: seq, running|waiting, since, plan ID, key
  --outbox       results not yet acknowledged by the broker: seq, since, bytes, plan ID, topic
  --json         one JSON document instead of a table (field names below are stable)
  --limit N      at most N rows of a listing (default: all); a cut listing says so
  --data-dir DIR the agent's data dir (default IDEM_DATA_DIR, else ./idem-data)

JSON documents (times ISO 8601 UTC; null when unknown):
  listing   {"Keys": [{"Key", "State", "Policy", "Attempts", "Generation", "FirstSourceID", "LastSourceID",
            "CreatedAt", "UpdatedAt", "FinishedAt", "ErrorCode", "Queued"}], "More": bool}
  KEY       {the listing's fields, "Fingerprint", "Revision", "QueuedSeqs": [seq], "Waiters": [{"SourceID",
            "Topic"}], "BootID", "ProcessGroup", "Result": {"ErrorCode", "Time", "RanAs", "Attempt", "Body"
            (the result Body as JSON text)} | null, "History": [{"SourceID", "Fingerprint", "Decision",
            "ErrorCode", "Time"}]}
  --queue   {"Queue": [{"Seq", "Key", "SourceID", "Policy", "State": "running"|"waiting", "Since"}], "More": bool}
  --outbox  {"Outbox": [{"Seq", "Topic", "SourceID", "Since", "Bytes", "Replaced": 0|1|2}], "More": bool}
  "More" is true when --limit cut the listing.

Exit codes: 0 shown; 1 no record for KEY; 2 usage error, or no journal in --data-dir.`;

/** Longest Body shown in the table form of one key (the JSON form has all of it). */
const BODY_SHOWN = 4096;

type Mode = { kind: "keys" } | { kind: "key"; key: string } | { kind: "queue" } | { kind: "outbox" };

interface Request {
  dataDir: string;
  mode: Mode;
  json: boolean;
  limit: number;
}

function request(input: CommandInput): Request {
  const { values, positionals } = input;
  const queue = values.queue === true;
  const outbox = values.outbox === true;
  const chosen = [queue, outbox, positionals.length > 0].filter(Boolean).length;
  if (positionals.length > 1 || chosen > 1) {
    throw new IdemError(
      ErrorCode.InvalidPlan,
      "Cannot inspect: give one of KEY, --queue or --outbox (or none, for every key)",
    );
  }
  let limit = Number.POSITIVE_INFINITY;
  if (values.limit !== undefined) {
    const text = String(values.limit);
    if (!/^[1-9]\d*$/.test(text)) {
      throw new IdemError(ErrorCode.InvalidPlan, `Cannot use --limit ${text}: give a whole number ≥ 1`);
    }
    limit = Number(text);
  }
  const dataDir =
    typeof values["data-dir"] === "string" ? values["data-dir"] : (input.env.IDEM_DATA_DIR ?? "./idem-data");
  const key = positionals[0];
  const mode: Mode =
    key !== undefined
      ? { kind: "key", key }
      : queue
        ? { kind: "queue" }
        : outbox
          ? { kind: "outbox" }
          : { kind: "keys" };
  return { dataDir, mode, json: values.json === true, limit };
}

/** Output is written in pieces of about this many characters: few writes, and never the whole listing at once. */
const CHUNK = 64 * 1024;

/**
 * Prints `items` as they come: a table (heading, one line per item) or the JSON document `{"<name>": [...],
 * "More": bool}`, at most `limit` of them. A cut table says so on stderr.
 */
function list<T, V>(
  input: CommandInput,
  options: { name: string; json: boolean; limit: number; columns: Parameters<typeof row<V>>[0] },
  items: Iterable<T>,
  view: (item: T) => V,
): void {
  let pending = options.json ? `{${JSON.stringify(options.name)}:[` : `${heading(options.columns)}\n`;
  const write = (text: string) => {
    pending += text;
    if (pending.length >= CHUNK) {
      input.out(pending);
      pending = "";
    }
  };
  let shown = 0;
  let more = false;
  for (const item of items) {
    if (shown === options.limit) {
      more = true;
      break;
    }
    const v = view(item);
    write(
      options.json ? `${shown === 0 ? "\n" : ",\n"}${JSON.stringify(v)}` : `${row(options.columns, v)}\n`,
    );
    shown++;
  }
  input.out(options.json ? `${pending}\n],"More":${more}}\n` : pending);
  if (options.json) return;
  if (more) input.err(`(first ${shown} shown: more in the journal; raise --limit to see them)\n`);
  else if (shown === 0) input.err("(none)\n");
}

/** One key's record as lines of `Name: value`, then its history as a table. */
function keyText(v: RecordView): string {
  const show = (value: unknown) => (value === null || value === undefined ? "-" : String(value));
  const result = v.Result;
  const body =
    result === null
      ? "-"
      : result.Body.length > BODY_SHOWN
        ? `${result.Body.slice(0, BODY_SHOWN)}… (${result.Body.length - BODY_SHOWN} more characters: --json shows all)`
        : result.Body;
  const fields: [string, unknown][] = [
    ["Key", v.Key],
    ["State", v.State],
    ["Policy", v.Policy],
    ["Attempts", v.Attempts],
    ["Generation", v.Generation],
    ["Fingerprint", v.Fingerprint],
    ["First plan", v.FirstSourceID],
    ["Last plan", v.LastSourceID],
    ["Created", shortTime(v.CreatedAt)],
    ["Updated", shortTime(v.UpdatedAt)],
    ["Finished", shortTime(v.FinishedAt)],
    [
      "Result",
      result ? `code ${result.ErrorCode}, ran as ${result.RanAs} (attempt ${result.Attempt})` : null,
    ],
    ["Queued", v.QueuedSeqs.length ? `seq ${v.QueuedSeqs.join(", ")}` : "none"],
    ["Waiters", v.Waiters.length ? v.Waiters.map((w) => w.SourceID).join(", ") : "none"],
    ["Process group", v.ProcessGroup],
    ["Boot id", v.BootID],
  ];
  const lines = fields.map(([name, value]) => `${`${name}:`.padEnd(15)}${printable(show(value))}`);
  lines.push(`Body:          ${printable(body)}`, "", `History (oldest first, ${v.History.length} entries):`);
  lines.push(`${"TIME".padEnd(21)}${"DECISION".padEnd(13)}${"CODE".padEnd(6)}PLAN`);
  for (const h of v.History) {
    lines.push(
      `${shortTime(h.Time).padEnd(21)}${h.Decision.padEnd(13)}${show(h.ErrorCode).padEnd(6)}${printable(h.SourceID)}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

async function inspect(input: CommandInput): Promise<number> {
  const { dataDir, mode, json, limit } = request(input);
  const journal = JournalReader.open(dataDir);
  try {
    switch (mode.kind) {
      case "key": {
        const record = journal.record(mode.key);
        if (!record) {
          input.err(`no record for key ${JSON.stringify(mode.key)} in ${journal.path}\n`);
          return 1;
        }
        const view = recordView(record);
        input.out(json ? `${JSON.stringify(view, null, 2)}\n` : keyText(view));
        return 0;
      }
      case "keys":
        list(input, { name: "Keys", json, limit, columns: KEY_COLUMNS }, journal.records(), keyView);
        return 0;
      case "queue":
        list(input, { name: "Queue", json, limit, columns: QUEUE_COLUMNS }, journal.queue(), (entry) =>
          queueView(entry, journal),
        );
        return 0;
      case "outbox":
        list(input, { name: "Outbox", json, limit, columns: OUTBOX_COLUMNS }, journal.outbox(), outboxView);
        return 0;
    }
  } finally {
    await journal.close();
  }
}

export const inspectCommand: Command = {
  name: "inspect",
  summary:
    "show the journal's keys, one key's record and history, the queue or the outbox (safe while running)",
  usage: USAGE,
  options: {
    "data-dir": { type: "string" },
    queue: { type: "boolean" },
    outbox: { type: "boolean" },
    json: { type: "boolean" },
    limit: { type: "string" },
  },
  allowPositionals: true,
  run: inspect,
};
