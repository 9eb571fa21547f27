/**
 * THE one list of idem's deliberate deviations from murano-agent 10.0.0 on the conformance corpus
 * (../shared/murano-corpus, see conformance.test.ts). A corpus case (or a hidden plan in the same style) that
 * one of these matches is not compared with the oracle's recorded result: it must get the answer its entry
 * states instead. Every other case must match the oracle.
 *
 * Entries match on what a plan contains (format, script types, Body, files), not on case numbers, so a new
 * plan of the same kind is classified the same way; `cases` lists the corpus cases each entry covers today,
 * and the runner checks that list too. Order matters: the first matching entry wins, in the order idem's
 * pipeline finds the problem (plan validation before the Body check).
 */

/** One case file of the corpus (cases/NNN-….json). */
export interface CorpusCase {
  file: string;
  class: string;
  variant: string | null;
  selected: boolean;
  needs_network: boolean;
  message_id: string;
  plan: Record<string, unknown>;
  expected: { ErrorCode: number; Body: unknown };
  compare: "exact" | "errorcode";
  oracle_stage: "validation" | "run";
  notes: string;
}

/** What idem answers instead of murano-agent's recorded result. */
export type DeviationAnswer = { kind: "refused"; code: 2; message: RegExp } | { kind: "fixed"; code: 0 };

export interface Deviation {
  name: string;
  /** Why idem deviates. */
  reason: string;
  /** What murano-agent 10.0.0 does with such a plan. */
  murano: string;
  answer: DeviationAnswer;
  /** The corpus cases this entry covers (3-digit case numbers); checked by the runner. */
  cases: readonly string[];
  matches(c: CorpusCase): boolean;
}

const PYTHON2_CALL = /\.(iteritems|iterkeys|itervalues|has_key|viewitems|viewkeys|viewvalues)\s*\(/;
const PYTHON_ONLY =
  /^\s*(import\s|from\s+\S+\s+import\s|with\s)|(?<![.\w])(open|__import__|eval|exec)\s*\(|(?<![.\w])(os|sys|uuid|socket|yaml|subprocess)\./m;

export const DEVIATIONS: readonly Deviation[] = [
  {
    name: "chef-puppet",
    reason:
      "idem has no Chef or Puppet executor (SPEC section 3): a plan that needs one is refused by validation, " +
      "before any file is written or downloaded, instead of failing later on the VM",
    murano:
      "accepts Chef/Puppet scripts from format 2.1.0, downloads their cookbooks/modules, then fails when " +
      "chef-solo/puppet is missing (code 100, exit 127) or when the download fails (code 1, " +
      "\"'X' object has no attribute 'message'\")",
    answer: {
      kind: "refused",
      code: 2,
      message: /^Cannot run script "[^"]+": executor "(Chef|Puppet)" is not available$/,
    },
    cases: ["103", "104", "114", "115", "163", "164", "191"],
    matches: (c) => atLeast21(c.plan) && scriptTypes(c.plan).some((t) => t === "Chef" || t === "Puppet"),
  },
  {
    name: "python-only",
    reason:
      "the Body needs real Python (import, open, with, modules such as uuid/socket/yaml): idem evaluates a safe " +
      "subset without Python on the VM (SPEC section 6), so it refuses the plan before anything runs",
    murano: "exec()s the Body in the agent's own Python process, with the agent's privileges",
    answer: {
      kind: "refused",
      code: 2,
      message: /^Cannot run Body: "[^"]+" is not supported \(line \d+, column \d+\)$/,
    },
    cases: [
      "052",
      "076",
      "077",
      "081",
      "143",
      "148",
      "151",
      "157",
      "158",
      "159",
      "161",
      "162",
      "215",
      "216",
      "218",
    ],
    matches: (c) => c.class === "python-only" || PYTHON_ONLY.test(body(c.plan)),
  },
  {
    name: "python2-call",
    reason:
      "Python 2 calls such as dict.iteritems() cannot work under murano-agent 10 (Python 3) either: idem refuses " +
      "the plan before anything runs instead of failing half way, after earlier scripts already ran",
    murano:
      "runs the Body until the call, then fails with code 1 \"'dict' object has no attribute 'iteritems'\"",
    answer: {
      kind: "refused",
      code: 2,
      message: /^Cannot run Body: "\w+" is Python 2 only and not supported \(line \d+, column \d+\)$/,
    },
    cases: ["087", "131", "205", "220", "222", "227"],
    matches: (c) => PYTHON2_CALL.test(body(c.plan)),
  },
  {
    name: "unknown-name",
    reason:
      "SPEC v2 section 6: a name that is neither a built-in, a script of the plan, args, nor bound anywhere in " +
      "the Body cannot succeed on any path, so idem refuses the plan before anything runs (no script started)",
    murano: "runs the Body until the name is evaluated, then fails with code 1 \"name 'x' is not defined\"",
    answer: {
      kind: "refused",
      code: 2,
      message: /^Cannot run Body: unknown name "\w+" \(.*\) \(line \d+, column \d+\)$/,
    },
    cases: ["096"],
    matches: (c) => undefinedCall(c.plan) !== undefined,
  },
  {
    name: "lambda",
    reason:
      "SPEC section 6 refuses lambda (with def and class: no user-defined functions in a Body); the only corpus " +
      "use, map(lambda t: '='.join(t), d.items()), becomes ['='.join(t) for t in d.items()] for idem",
    murano: "runs it",
    answer: {
      kind: "refused",
      code: 2,
      message: /^Cannot run Body: "lambda" is not supported \(line \d+, column \d+\)$/,
    },
    cases: ["135"],
    matches: (c) => /\blambda\b/.test(body(c.plan)),
  },
  {
    name: "binary-files",
    reason:
      "idem fixes a murano-agent bug: a Base64 file is written as the bytes it decodes to, whatever they are, " +
      "so support files such as archives work",
    murano:
      "decodes the Base64 bytes as UTF-8 before writing them and fails with code 1 \"'utf-8' codec can't decode " +
      'byte ..." on any non-UTF-8 file',
    answer: { kind: "fixed", code: 0 },
    cases: ["239", "240"],
    matches: (c) => hasBinaryFile(c.plan),
  },
];

/** The deviation that applies to a case, if any (the first matching entry). */
export function deviationFor(c: CorpusCase): Deviation | undefined {
  return DEVIATIONS.find((d) => d.matches(c));
}

function body(plan: Record<string, unknown>): string {
  return typeof plan.Body === "string" ? plan.Body : "";
}

/** CPython 3.11's built-in names (`dir(builtins)`, exceptions and warnings aside). */
const PYTHON_BUILTINS = new Set(
  (
    "abs aiter all anext any ascii bin bool breakpoint bytearray bytes callable chr classmethod compile complex " +
    "copyright credits delattr dict dir divmod enumerate eval exec exit filter float format frozenset getattr " +
    "globals hasattr hash help hex id input int isinstance issubclass iter len license list locals map max " +
    "memoryview min next object oct open ord pow print property quit range repr reversed round set setattr " +
    "slice sorted staticmethod str sum super tuple type vars zip Ellipsis False None NotImplemented True"
  ).split(" "),
);

/**
 * A name the Body calls (`name(…)`, not `x.name(…)`) that is neither a Python built-in, a script of the plan,
 * `args`, nor bound anywhere in the Body (`name =`, `for name in`, a comprehension's `for name`): the unknown
 * name of SPEC section 6.
 */
function undefinedCall(plan: Record<string, unknown>): string | undefined {
  const source = body(plan);
  const scripts = new Set(Object.keys((plan.Scripts as object | null) ?? {}));
  for (const [, name = ""] of source.matchAll(/(?<![.\w])([A-Za-z_]\w*)\s*\(/g)) {
    if (PYTHON_BUILTINS.has(name) || /(Error|Exception|Warning|Exit|Interrupt|Iteration)$/.test(name))
      continue;
    if (
      scripts.has(name) ||
      name === "args" ||
      /^(and|or|not|in|is|if|elif|while|for|return|lambda)$/.test(name)
    )
      continue;
    const bound = new RegExp(
      `(?<![.\\w])${name}\\s*(=(?!=)|,[^\\n]*=(?!=)|[+\\-*/%]=)|\\bfor\\b[^\\n]*?(?<![.\\w])${name}\\b[^\\n]*?\\bin\\b`,
    );
    if (!bound.test(source)) return name;
  }
  return undefined;
}

function atLeast21(plan: Record<string, unknown>): boolean {
  const [major = 0, minor = 0] = String(plan.FormatVersion ?? "1.0.0")
    .split(".")
    .map(Number);
  return major > 2 || (major === 2 && minor >= 1);
}

function scriptTypes(plan: Record<string, unknown>): string[] {
  const scripts = plan.Scripts;
  if (typeof scripts !== "object" || scripts === null) return [];
  return Object.values(scripts).map((s) => String((s as { Type?: unknown } | null)?.Type));
}

function hasBinaryFile(plan: Record<string, unknown>): boolean {
  const files = plan.Files;
  if (typeof files !== "object" || files === null) return false;
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  return Object.values(files).some((f) => {
    const file = f as { BodyType?: unknown; Body?: unknown } | null;
    if (file?.BodyType !== "Base64" || typeof file.Body !== "string") return false;
    try {
      utf8.decode(Buffer.from(file.Body, "base64"));
      return false;
    } catch {
      return true;
    }
  });
}
