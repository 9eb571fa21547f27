/**
 * fast-check arbitraries of Body statements as Python source text: assignments (typed, augmented with arithmetic
 * and bitwise operators, subscript, unpacking with and without a starred target, aliasing `b = a; a += [1]`), mutating method calls, script calls, `if/elif/else` and `for` loops
 * (with `break`/`continue`/`else`, nested). A statement is one or more lines, indented relative to its block.
 * Loop variables (`i`, `v`, `k`) are read only inside their loop, so every name a Body reads is bound somewhere.
 */
import fc from "fast-check";
import type { Level } from "./body_formatting.ts";
import { strLiteral } from "./body_literals.ts";

const indent = (block: string) =>
  block
    .split("\n")
    .map((line) => `    ${line}`)
    .join("\n");
const small = fc.integer({ min: -3, max: 5 }).map((n) => (n < 0 ? `(${n})` : String(n)));

/** A script call as Bodies make them: positional or keyword command line, input, `deploy.anything(...)`. */
export function scriptCall(e: Level): fc.Arbitrary<string> {
  const cmd = fc.oneof(
    { weight: 3, arbitrary: strLiteral },
    {
      weight: 2,
      arbitrary: fc.constantFrom("'-p {0}'.format(args.get('port'))", "'%s %s' % (args.get('name'), n)"),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom("[1, 'a']", "args.get('cfg')", "n", "x", "None", "{'k': 1.0}", "ok"),
    },
    { weight: 1, arbitrary: e.any },
  );
  return fc
    .tuple(
      fc.constantFrom("deploy", "deploy", "deploy.install", "quiet", "bad"),
      fc.oneof(
        { weight: 4, arbitrary: cmd },
        { weight: 1, arbitrary: fc.constant("") },
        { weight: 1, arbitrary: cmd.map((c) => `commandline=${c}`) },
        { weight: 1, arbitrary: fc.tuple(cmd, strLiteral).map(([c, i]) => `${c}, ${i}`) },
        {
          weight: 1,
          arbitrary: fc.tuple(cmd, fc.constantFrom("None", "'in'")).map(([c, i]) => `${c}, input=${i}`),
        },
        { weight: 1, arbitrary: fc.constantFrom("1, 2, 3", "cmd='x'", "'a', commandline='b'") },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            "*['a', 'in']",
            "**{'commandline': 'x'}",
            "*xs[:1], **{'input': None}",
            "**{'cmd': 1}",
            "*[1, 2, 3]",
            "'a', **{'commandline': 'b'}",
          ),
        },
      ),
    )
    .map(([name, args]) => `${name}(${args})`);
}

/**
 * A list or str grown by itself in a loop doubles each time (past idem's documented 10,000,000 limit, where
 * CPython goes on): the Body's own lists and strs add at most two items to themselves.
 */
const bounded = (x: string) => (/^(xs|ws|alias|s|w)$/.test(x) ? `${x}[:2]` : x);

/** Single-line statements on the Body's typed variables. */
function simple(e: Level): fc.Arbitrary<string> {
  const assign = (names: string[], a: fc.Arbitrary<string>) =>
    fc.tuple(fc.constantFrom(...names), a).map(([v, x]) => `${v} = ${x}`);
  const aug = (names: string[], ops: string[], a: fc.Arbitrary<string>) =>
    fc.tuple(fc.constantFrom(...names), fc.constantFrom(...ops), a).map(([v, op, x]) => `${v} ${op}= ${x}`);
  return fc.oneof(
    { weight: 3, arbitrary: assign(["n", "m"], e.int) },
    { weight: 1, arbitrary: assign(["x"], e.float) },
    { weight: 2, arbitrary: assign(["s", "w"], e.str) },
    { weight: 2, arbitrary: assign(["xs", "ws"], e.list) },
    { weight: 1, arbitrary: assign(["d"], e.dict) },
    { weight: 1, arbitrary: assign(["ok"], e.bool) },
    { weight: 1, arbitrary: assign(["tp"], e.tuple) },
    { weight: 1, arbitrary: assign(["st"], e.set) },
    { weight: 2, arbitrary: aug(["n", "m"], ["+", "-", "*", "//", "%"], e.int) },
    { weight: 1, arbitrary: aug(["n", "x"], ["**"], small) },
    { weight: 1, arbitrary: aug(["x"], ["+", "-", "*", "/", "//", "%"], fc.oneof(e.float, e.int)) },
    { weight: 2, arbitrary: aug(["s", "w"], ["+"], e.str.map(bounded)) },
    {
      weight: 1,
      arbitrary: aug(["s", "xs", "tp"], ["*"], fc.constantFrom("0", "1", "(-1)", "True", "False")),
    },
    { weight: 2, arbitrary: aug(["xs", "ws"], ["+"], fc.oneof(e.list.map(bounded), e.str, e.tuple)) },
    {
      weight: 1,
      arbitrary: aug(["st"], ["-", "|", "&", "^"], fc.oneof({ weight: 4, arbitrary: e.set }, e.list)),
    },
    { weight: 1, arbitrary: aug(["n", "m"], ["|", "&", "^", ">>"], e.int) },
    { weight: 1, arbitrary: aug(["n", "m"], ["<<"], small) },
    { weight: 1, arbitrary: aug(["d"], ["|"], fc.oneof(e.dict, e.list)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "a, *b = xs",
        "*a, b = s",
        "a, *b, c = tp",
        "a, *b = d",
        "n, *ws = ws",
        "*xs, = xs",
        "a, *b = st",
        "[a, *b] = args",
      ),
    },
    { weight: 1, arbitrary: aug(["tp"], ["+"], e.tuple) },
    {
      weight: 1,
      arbitrary: fc.constantFrom("alias = xs", "alias = d", "xs = alias", "alias = xs[:]", "alias *= 0"),
    },
    { weight: 2, arbitrary: fc.tuple(small, e.any).map(([i, v]) => `xs[${i}] = ${v}`) },
    {
      weight: 1,
      arbitrary: fc.tuple(small, small, e.list.map(bounded)).map(([a, b, v]) => `xs[${a}:${b}] = ${v}`),
    },
    { weight: 1, arbitrary: fc.tuple(small, e.int).map(([i, v]) => `xs[${i}] += ${v}`) },
    { weight: 2, arbitrary: fc.tuple(e.str, e.any).map(([k, v]) => `d[${k}] = ${v}`) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom("'a'", "'port'"), e.int).map(([k, v]) => `d[${k}] += ${v}`),
    },
    { weight: 4, arbitrary: mutation(e) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "n, m = m, n",
        "n, m = divmod(n, 3)",
        "s, w = w, s",
        "a, b = xs",
        "a, b = b, a = 1, 2",
        "pass",
      ),
    },
    { weight: 1, arbitrary: scriptCall(e) },
    { weight: 1, arbitrary: scriptCall(e).map((c) => `r = ${c}`) },
  );
}

/** Mutating method calls on the Body's list, dict and set. */
function mutation(e: Level): fc.Arbitrary<string> {
  return fc.oneof(
    fc.tuple(fc.constantFrom("xs", "ws", "alias"), e.any).map(([v, x]) => `${v}.append(${x})`),
    fc
      .tuple(fc.constantFrom("xs", "ws"), fc.oneof(e.list.map(bounded), e.str))
      .map(([v, x]) => `${v}.extend(${x})`),
    fc.tuple(small, e.any).map(([i, x]) => `xs.insert(${i}, ${x})`),
    fc.constantFrom("xs.pop()", "xs.pop(0)", "xs.pop(-2)", "xs.reverse()", "xs.clear()", "ws.sort()"),
    fc.constantFrom(
      "xs.sort()",
      "xs.sort(reverse=True)",
      "xs.sort(key=str)",
      "ws.sort(key=len)",
      "ws.sort(key=str.lower)",
    ),
    e.any.map((x) => `xs.remove(${x})`),
    e.dict.map((x) => `d.update(${x})`),
    fc.constantFrom(
      "d.update(a=1, b=2.5)",
      "d.update([('k', 1)])",
      "d.popitem()",
      "d.clear()",
      "d.pop('a')",
      "d.pop('zz', None)",
    ),
    fc.tuple(e.str, e.any).map(([k, v]) => `d.setdefault(${k}, ${v})`),
    e.int.map((x) => `st.add(${x})`),
    e.int.map((x) => `st.discard(${x})`),
    e.int.map((x) => `st.remove(${x})`),
    e.list.map((x) => `st.update(${x})`),
  );
}

/** Statements inside a loop over `v` (with `i` or `k` when the loop binds them). */
function loopBody(e: Level, names: string[], depth: number): fc.Arbitrary<string> {
  const uses = fc.oneof(
    fc.constantFrom(...names).map((v) => `xs.append(${v})`),
    fc.constantFrom(...names).map((v) => `s += str(${v})`),
    fc.constantFrom(...names).map((v) => `d[str(${v})] = ${v}`),
    fc.tuple(fc.constantFrom(...names), e.any).map(([v, x]) => `if ${v} == ${x}:\n    break`),
    fc
      .tuple(fc.constantFrom(...names), fc.constantFrom("continue", "break", "n += 1"))
      .map(([v, s]) => `if not ${v}:\n    ${s}`),
    fc.constantFrom(...names).map((v) => `n += len(str(${v}))`),
    fc.constantFrom(...names).map((v) => `deploy(${v})`),
  );
  return fc
    .array(fc.oneof({ weight: 3, arbitrary: uses }, { weight: 2, arbitrary: statement(e, depth - 1) }), {
      minLength: 1,
      maxLength: 3,
    })
    .map((lines) => lines.join("\n"));
}

/** A loop over the Body's own list iterates a copy: appending to the list it walks would never end. */
const snapshot = (x: string) => (/^(xs|ws|alias)$/.test(x) ? `${x}[:]` : x);

/** One statement, compound ones nested up to `depth`. */
export function statement(e: Level, depth: number): fc.Arbitrary<string> {
  if (depth <= 0) return simple(e);
  const block = fc
    .array(statement(e, depth - 1), { minLength: 1, maxLength: 3 })
    .map((s) => indent(s.join("\n")));
  const orElse = fc.option(block, { freq: 3 }).map((b) => (b === null ? "" : `\nelse:\n${b}`));
  const loop = (head: fc.Arbitrary<string>, names: string[]) =>
    fc
      .tuple(head, loopBody(e, names, depth).map(indent), orElse)
      .map(([h, body, tail]) => `for ${h}:\n${body}${tail}`);
  return fc.oneof(
    { weight: 6, arbitrary: simple(e) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(e.bool, block, fc.option(fc.tuple(e.bool, block), { freq: 3 }), orElse)
        .map(([c, b, elif, tail]) => `if ${c}:\n${b}${elif ? `\nelif ${elif[0]}:\n${elif[1]}` : ""}${tail}`),
    },
    {
      weight: 2,
      arbitrary: loop(
        fc.oneof(e.list, e.str, e.tuple, e.set).map((x) => `v in ${snapshot(x)}`),
        ["v"],
      ),
    },
    {
      weight: 1,
      arbitrary: loop(
        e.list.map((x) => `i, v in enumerate(${snapshot(x)})`),
        ["v", "i"],
      ),
    },
    {
      weight: 1,
      arbitrary: loop(
        small.map((x) => `v in range(${x})`),
        ["v"],
      ),
    },
    {
      weight: 1,
      arbitrary: loop(fc.constantFrom("k, v in d.items()", "k, v in args.items()", "k in sorted(d)"), ["k"]),
    },
    {
      weight: 1,
      arbitrary: loop(fc.constantFrom("v, *k in [xs[:], ws[:]]", "*k, v in d.items()", "v, *k in [s, w]"), [
        "v",
        "k",
      ]),
    },
  );
}
