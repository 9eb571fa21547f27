/**
 * Compile-time rules of two constructs idem refuses but whose CPython SyntaxErrors must still be found: the
 * names a match pattern binds (Python/compile.c pattern helpers: duplicate captures, or-patterns binding
 * different names, two starred names, repeated class-pattern keywords, duplicate mapping keys, f-strings and
 * irrefutable alternatives), and how many of the compiler's 20 nested blocks a `try` statement uses.
 */
import type { Pattern, PStmt } from "../syntax/syntax.ts";

type Fail = (message: string, at: number) => Error;

/** The names `p` binds, in order; throws CPython's error for an invalid pattern. */
export function patternNames(p: Pattern, fail: Fail): string[] {
  const names: string[] = [];
  const add = (name: string, at: number): void => {
    if (names.includes(name)) throw fail(`multiple assignments to name '${name}' in pattern`, at);
    names.push(name);
  };
  const visit = (q: Pattern): void => {
    switch (q.t) {
      case "MatchValue":
        if (q.value.t === "JoinedStr")
          throw fail("patterns may only match literals and attribute lookups", q.at);
        return;
      case "MatchSingleton":
        return;
      case "MatchSequence":
        if (q.patterns.filter((x) => x.t === "MatchStar").length > 1)
          throw fail("multiple starred names in sequence pattern", q.at);
        for (const x of q.patterns) visit(x);
        return;
      case "MatchStar":
        if (q.name) add(q.name, q.at);
        return;
      case "MatchAs":
        if (q.pattern) visit(q.pattern);
        if (q.name) add(q.name, q.at);
        return;
      case "MatchMapping": {
        const seen = new Set<string>();
        for (const k of q.keys) {
          if (k.t === "JoinedStr") throw fail("patterns may only match literals and attribute lookups", k.at);
          if (k.t === "Constant") {
            const key = JSON.stringify(String(k.value));
            if (seen.has(key)) throw fail(`mapping pattern checks duplicate key (${String(k.value)})`, k.at);
            seen.add(key);
          }
        }
        for (const x of q.patterns) visit(x);
        if (q.rest) add(q.rest, q.at);
        return;
      }
      case "MatchClass": {
        const attrs = new Set<string>();
        for (const a of q.kwdAttrs) {
          if (attrs.has(a)) throw fail(`attribute name repeated in class pattern: ${a}`, q.at);
          attrs.add(a);
        }
        for (const x of [...q.patterns, ...q.kwdPatterns]) visit(x);
        return;
      }
      case "MatchOr": {
        let first: string[] | null = null;
        q.patterns.forEach((alt, k) => {
          if (k < q.patterns.length - 1 && alt.t === "MatchAs" && alt.pattern === null)
            throw fail(
              alt.name
                ? `name capture '${alt.name}' makes remaining patterns unreachable`
                : "wildcard makes remaining patterns unreachable",
              alt.at,
            );
          const own = patternNames(alt, fail);
          if (first === null) first = own;
          else if (own.length !== first.length || own.some((n) => !first?.includes(n)))
            throw fail("alternative patterns bind different names", alt.at);
        });
        for (const n of first ?? []) add(n, q.at);
        return;
      }
    }
  };
  visit(p);
  return names;
}

/** The nested-block slots a try statement holds while its body runs (compile.c fblocks). */
export function nestedBlocks(st: PStmt & { t: "Try" }): number {
  return st.finalbody.length > 0 && st.handlers.length > 0 ? 2 : 1;
}
