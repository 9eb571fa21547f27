/**
 * The generator of the differential test: `bodyCase`, a fast-check arbitrary of whole Murano Bodies with their
 * Parameters and stub scripts, weighted towards realistic Body shapes (read args, call scripts, format, return a
 * dict) but reaching the corners of numbers, formatting, strings, containers, control flow and the parser.
 *
 * A Body is: a prelude binding each typed variable it reads (n, m int; x float; s, w str; xs, ws, out list;
 * d dict; ok bool; tp tuple; st set; alias = xs; r a script result), its statements, and a return. Every name a
 * Body reads is bound in it, so idem never refuses one for an unknown name (SPEC 6); everything it uses is in
 * the documented subset (docs/murano.md), so idem must answer exactly as CPython does.
 */
import fc from "fast-check";
import type { BodyCase, StubScript } from "./body_case.ts";
import { expressions, type Level } from "./body_expressions.ts";
import { formatting } from "./body_formatting.ts";
import { floatLiteral, intLiteral, strLiteral, text } from "./body_literals.ts";
import { paramsJson } from "./body_params.ts";
import { scriptCall, statement } from "./body_statements.ts";
import { syntaxBody } from "./body_syntax.ts";

const e1 = expressions(1);
const e2 = expressions(2);
const e3 = expressions(3);

const listLiteral = fc
  .array(fc.oneof(intLiteral, strLiteral), { maxLength: 4 })
  .map((x) => `[${x.join(", ")}]`);
/** Initial values: literals, except alias (xs) and r (a script call that may read the variables above it). */
const PRELUDE: readonly [string, fc.Arbitrary<string>][] = [
  ["n", intLiteral],
  ["m", intLiteral],
  ["x", floatLiteral],
  ["s", strLiteral],
  ["w", strLiteral],
  ["xs", listLiteral],
  ["ws", fc.array(strLiteral, { maxLength: 4 }).map((x) => `[${x.join(", ")}]`)],
  ["out", fc.constant("[]")],
  [
    "d",
    fc
      .array(fc.tuple(strLiteral, intLiteral), { maxLength: 3 })
      .map((kv) => `{${kv.map(([k, v]) => `${k}: ${v}`).join(", ")}}`),
  ],
  ["ok", fc.constantFrom("True", "False")],
  [
    "tp",
    fc
      .array(fc.oneof(intLiteral, strLiteral), { maxLength: 3 })
      .map((x) => `(${x.join(", ")}${x.length === 1 ? "," : ""})`),
  ],
  [
    "st",
    fc
      .array(fc.integer({ min: -3, max: 40 }), { maxLength: 4 })
      .map((x) => (x.length ? `{${x.join(", ")}}` : "set()")),
  ],
  ["alias", fc.constant("xs")],
  ["r", scriptCall(e1)],
];
/** The prelude variables `code` reads (string literals other than f-strings blanked first). */
function reads(code: string): string[] {
  const bare = code.replace(
    /([A-Za-z_]*)('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")/g,
    (all, prefix: string) =>
      /^[rR]?[fF][rR]?$/.test(prefix) ? all : /^[rRuU]?$/.test(prefix) ? "''" : `${prefix}''`,
  );
  return PRELUDE.map(([name]) => name).filter((name) => new RegExp(`\\b${name}\\b`).test(bare));
}

/** Prepends the prelude lines for the variables `code` reads, and for those their own values read. */
function withPrelude(code: string, values: readonly string[]): string {
  const used = new Set(reads(code));
  for (let size = -1; size !== used.size; ) {
    size = used.size;
    PRELUDE.forEach(([name], i) => {
      if (used.has(name)) for (const other of reads(values[i] ?? "")) used.add(other);
    });
  }
  const lines = PRELUDE.flatMap(([name], i) => (used.has(name) ? [`${name} = ${values[i]}`] : []));
  return [...lines, code].join("\n");
}

const VAR_TUPLE = fc
  .uniqueArray(fc.constantFrom("n", "m", "x", "s", "w", "xs", "ws", "out", "d", "ok", "tp", "alias"), {
    minLength: 1,
    maxLength: 4,
  })
  .map((vs) => `return ${vs.join(", ")}`);

const exprs = (l: Level) => [l.int, l.float, l.bool, l.str, l.list, l.dict, l.tuple, l.any];
const returnOf = (a: fc.Arbitrary<string>) => a.map((x) => `return ${x}`);

/** What a script result is used for in real Bodies. */
const resultUse = fc.constantFrom(
  "r.stdout",
  "r['stdout']",
  "r.stderr",
  "r.exitCode",
  "r['exitCode'] == 0",
  "'%(stdout)s' % r",
  "'%(stdout)s/%(stderr)r' % r",
  "'{0}'.format(r.stdout)",
  "r.get('stdout') or ''",
  "(r.stdout or '').split()",
  "r.stdout.strip().split(':')",
  "r.missing",
  "list(r.keys())",
  "dict(r)",
  "r",
  "[r.exitCode, r.stdout, r.stderr]",
  "{'code': r.exitCode, 'out': r.stdout}",
  "str(r)",
  "r.stdout if r.exitCode == 0 else None",
);

/** Whole Bodies shaped like real Murano plans: run scripts with args, parse their output, build a result. */
const murano = fc.constantFrom(
  [
    "resp = deploy('-p {0} -n {1}'.format(args.port, args.name))",
    "if resp.exitCode != 0:",
    "    return {'error': resp.stderr}",
    "lines = (resp.stdout or '').split(' ')",
    "return dict(line.split(':', 1) for line in lines if ':' in line)",
  ].join("\n"),
  [
    "cfg = args.get('cfg') or {}",
    "opts = ' '.join('--{0}={1}'.format(k, v) for k, v in sorted(cfg.items()))",
    "r = deploy(opts)",
    "return r.stdout",
  ].join("\n"),
  [
    "hosts = args.get('items') or []",
    "out = []",
    "for h in hosts:",
    "    r = deploy(str(h))",
    "    out.append({'host': h, 'ok': r.exitCode == 0, 'out': r.stdout})",
    "return out",
  ].join("\n"),
  [
    "port = int(args.get('port', 80))",
    "if port < 1024:",
    "    port += 8000",
    "return deploy.configure('%d' % port).stdout or 'port %s' % port",
  ].join("\n"),
  [
    "name = args.name.strip().lower() if args.get('name') else 'default'",
    "return '%(stdout)s' % quiet(name)",
  ].join("\n"),
  ["r = deploy(args)", "return [r['stdout'], r.stderr, r.exitCode]"].join("\n"),
  ["result = {}", "for k in args:", "    result[k.upper()] = repr(args[k])", "return result"].join("\n"),
  ["v = args.get('ratio', 1)", "return '{0:.2f} {0!r} {1}'.format(float(v), isinstance(v, float))"].join(
    "\n",
  ),
  ["big = args.get('big', 0)", "return big, big + 1, str(big), big * 1.0, big // 3"].join("\n"),
  ["bad('x')", "return 'unreachable'"].join("\n"),
);

/** Bodies by topic: the topic names where a disagreement came from. */
const TOPICS: readonly [string, number, fc.Arbitrary<string>][] = [
  [
    "numbers",
    4,
    fc
      .array(fc.oneof(e2.int, e2.float, e2.bool, e3.int, e3.float), { minLength: 1, maxLength: 3 })
      .map((xs) => `return ${xs.join(", ")}`),
  ],
  [
    "formatting",
    4,
    fc.array(formatting(e1), { minLength: 1, maxLength: 2 }).map((xs) => `return ${xs.join(", ")}`),
  ],
  ["strings", 3, fc.oneof(e2.str, e3.str, e2.list, e2.bool).map((x) => `return ${x}`)],
  [
    "containers",
    3,
    fc
      .tuple(
        fc.array(statement(e1, 0), { maxLength: 3 }),
        fc.oneof(VAR_TUPLE, returnOf(fc.oneof(e2.list, e2.dict, e2.tuple, e2.set, e3.list))),
      )
      .map(([ss, r]) => [...ss, r].join("\n")),
  ],
  [
    "control",
    3,
    fc
      .tuple(
        fc.array(statement(e1, 2), { minLength: 1, maxLength: 4 }),
        fc.oneof(VAR_TUPLE, returnOf(fc.oneof(...exprs(e1))), fc.constant("")),
      )
      .map(([ss, r]) => [...ss, r].join("\n")),
  ],
  [
    "args",
    2,
    fc
      .tuple(fc.array(statement(e1, 1), { maxLength: 2 }), returnOf(fc.oneof(e2.any, e2.str, e2.dict)))
      .map(([ss, r]) => [...ss, r].join("\n")),
  ],
  [
    "scripts",
    2,
    fc
      .tuple(fc.array(statement(e1, 1), { maxLength: 2 }), resultUse)
      .map(([ss, u]) => [...ss, `return ${u}`].join("\n")),
  ],
  ["parser", 1, syntaxBody],
  ["murano", 1, murano],
];

const stubs: fc.Arbitrary<StubScript[]> = fc
  .record({
    echo: fc.boolean(),
    stdout: fc.option(text, { freq: 4 }),
    stderr: fc.option(text, { freq: 2 }),
    badCode: fc.constantFrom(1, 2, 127),
    verify: fc.boolean(),
  })
  .map((p) => [
    { name: "deploy", exitCode: 0, stdout: p.stdout, stderr: p.stderr, echo: p.echo, verify: true },
    { name: "quiet", exitCode: 0, stdout: null, stderr: null, echo: false, verify: true },
    { name: "bad", exitCode: p.badCode, stdout: "partial", stderr: "failed", echo: false, verify: p.verify },
  ]);

/** A Body sometimes arrives indented (murano-agent removes the common indentation), or with tabs. */
const layout = fc.constantFrom("", "", "", "", "", "    ", "\t", "  ");

/** A whole case: topic, Body (prelude + statements + return), Parameters JSON, stub scripts. */
export const bodyCase: fc.Arbitrary<BodyCase> = fc
  .record({
    main: fc.oneof(
      ...TOPICS.map(([topic, weight, body]) => ({ weight, arbitrary: body.map((b) => ({ topic, b })) })),
    ),
    values: fc.tuple(...PRELUDE.map(([, v]) => v)),
    pad: layout,
    params: paramsJson,
    scripts: stubs,
  })
  .map(({ main, values, pad, params, scripts }) => ({
    topic: main.topic,
    body: withPrelude(main.b, values)
      .split("\n")
      .map((line) => pad + line)
      .join("\n"),
    params,
    scripts,
  }));
