/**
 * `strings: STRING+` — implicit concatenation, prefixes, escapes and f-strings, as CPython 3.11's
 * Parser/string_parser.c: an f-string's literal text has `{{`/`}}`; a replacement field `{expr=!conv:spec}` is
 * found by scanning (no backslash or `#` in it, quotes and brackets tracked), its expression parsed as
 * `(expr)` (so `{1,2}` is a tuple), `=` keeps the expression's text and defaults to repr, and the spec may
 * hold fields one level deep.
 */

import { checkBytes, decodeEscapes, EscapeError } from "./literals.ts";
import { type Cursor, fit, type ParseError } from "./parse_base.ts";
import type { FormattedValue, PExpr } from "./syntax.ts";

type Part = string | FormattedValue;

/** Every adjacent STRING token, as one Constant or JoinedStr. */
export function strings(p: Cursor): PExpr {
  const at = p.offset();
  const parts: Part[] = [];
  let bytes: boolean | null = null;
  let fstring = false;
  while (p.kind() === "STRING") {
    const t = p.next();
    const text = p.text;
    let quoteAt = t.start;
    while (quoteAt < t.end && text.charCodeAt(quoteAt) !== 39 && text.charCodeAt(quoteAt) !== 34) quoteAt++;
    const prefix = text.slice(t.start, quoteAt).toLowerCase();
    const quote = text.charCodeAt(quoteAt);
    const triple =
      t.end - quoteAt >= 6 &&
      text.charCodeAt(quoteAt + 1) === quote &&
      text.charCodeAt(quoteAt + 2) === quote;
    const q = triple ? 3 : 1;
    const from = quoteAt + q;
    const to = t.end - q;
    const body = p.text.slice(from, to);
    const isBytes = prefix.includes("b");
    if (bytes !== null && bytes !== isBytes)
      throw p.specific("cannot mix bytes and nonbytes literals", t.start);
    bytes = isBytes;
    const raw = prefix.includes("r");
    if (isBytes) {
      const problem = checkBytes(body, raw);
      if (problem) throw p.specific(problem, t.start);
      parts.push("");
    } else if (prefix.includes("f")) {
      fstring = true;
      parts.push(...fieldsOf(p, { from, to, raw, token: t.start }, 0).parts);
    } else parts.push(decode(p, body, raw, t.start));
  }
  if (bytes) return { t: "Constant", value: { bytes: "" }, at };
  if (!fstring) return { t: "Constant", value: parts.join(""), at };
  const merged: Part[] = [];
  for (const part of parts) {
    const last = merged[merged.length - 1];
    if (typeof part === "string" && typeof last === "string") merged[merged.length - 1] = last + part;
    else if (part !== "") merged.push(part);
  }
  return { t: "JoinedStr", parts: fit(merged), at };
}

function decode(p: Cursor, body: string, raw: boolean, at: number): string {
  if (raw) return body;
  try {
    return decodeEscapes(body);
  } catch (error) {
    if (error instanceof EscapeError) {
      if (!error.refused) throw p.specific(error.message, at);
      p.refusals.push({ message: error.message, at });
      return body;
    }
    throw error;
  }
}

interface Span {
  from: number;
  to: number;
  raw: boolean;
  token: number;
}

/**
 * The literal text and fields of an f-string body (or of a format spec, `depth` > 0) from `span.from`; stops at
 * the end, or at a `}` closing a spec. Returns the parts and where it stopped.
 */
function fieldsOf(p: Cursor, span: Span, depth: number): { parts: Part[]; end: number } {
  const text = p.text;
  const parts: Part[] = [];
  let i = span.from;
  let literalStart = i;
  const flush = (end: number): void => {
    if (end > literalStart) parts.push(decode(p, text.slice(literalStart, end), span.raw, span.token));
  };
  while (i < span.to) {
    let ch = text[i++];
    if (!span.raw && ch === "\\" && i < span.to) {
      ch = text[i++];
      if (ch === "N") {
        if (i < span.to && text[i++] === "{") while (i < span.to && text[i++] !== "}");
        continue;
      }
    }
    if (ch !== "{" && ch !== "}") continue;
    if (depth === 0 && i < span.to && text[i] === ch) {
      flush(i);
      i++;
      literalStart = i;
      continue;
    }
    if (ch === "}") {
      if (depth === 0) throw p.specific("f-string: single '}' is not allowed", span.token);
      i--;
      break;
    }
    i--;
    flush(i);
    const { field, end } = field_(p, span, i, depth);
    parts.push(...field);
    i = end;
    literalStart = i;
  }
  flush(Math.min(i, span.to));
  return { parts, end: i };
}

/** One replacement field starting at the `{` at `open`; returns its parts (`=` adds text) and its end. */
function field_(p: Cursor, span: Span, open: number, depth: number): { field: Part[]; end: number } {
  const text = p.text;
  const fail = (message: string): ParseError => p.specific(message, span.token);
  if (depth >= 2) throw fail("f-string: expressions nested too deeply");
  const exprStart = open + 1;
  let i = exprStart;
  let quote = "";
  let tripleQuote = false;
  const stack: string[] = [];
  for (; i < span.to; i++) {
    const ch = text[i] as string;
    if (ch === "\\") throw fail("f-string expression part cannot include a backslash");
    if (quote) {
      if (ch === quote && (!tripleQuote || (text[i + 1] === ch && text[i + 2] === ch && i + 2 < span.to))) {
        if (tripleQuote) i += 2;
        quote = "";
      }
      continue;
    }
    if (ch === "'" || ch === '"') {
      tripleQuote = i + 2 < span.to && text[i + 1] === ch && text[i + 2] === ch;
      if (tripleQuote) i += 2;
      quote = ch;
    } else if (ch === "[" || ch === "{" || ch === "(") {
      if (stack.length >= 200) throw fail("f-string: too many nested parenthesis");
      stack.push(ch);
    } else if (ch === "#") throw fail("f-string expression part cannot include '#'");
    else if (stack.length === 0 && "!:}=<>".includes(ch)) {
      const next = text[i + 1];
      if (i + 1 < span.to && next === "=" && "!=<>".includes(ch)) {
        i++;
        continue;
      }
      if (ch === "<" || ch === ">") continue;
      break;
    } else if (ch === "]" || ch === "}" || ch === ")") {
      const opening = stack.pop();
      if (!opening) throw fail(`f-string: unmatched '${ch}'`);
      if ({ ")": "(", "]": "[", "}": "{" }[ch] !== opening)
        throw fail(`f-string: closing parenthesis '${ch}' does not match opening parenthesis '${opening}'`);
    }
  }
  if (quote) throw fail("f-string: unterminated string");
  if (stack.length > 0) throw fail(`f-string: unmatched '${stack[stack.length - 1]}'`);
  const expecting = (): ParseError => fail("f-string: expecting '}'");
  if (i >= span.to) throw expecting();
  const exprEnd = i;
  if (/^[ \t\n\f]*$/.test(text.slice(exprStart, exprEnd))) {
    const c = text[exprEnd] as string;
    throw fail(
      "!:=".includes(c)
        ? `f-string: expression required before '${c}'`
        : "f-string: empty expression not allowed",
    );
  }
  const value = p.g.fstringExpr(p, exprStart, exprEnd);
  const out: Part[] = [];
  let selfDoc = false;
  if (text[i] === "=") {
    i++;
    while (i < span.to && /[ \t\n\r\f\v]/.test(text[i] as string)) i++;
    if (i >= span.to) throw expecting();
    out.push(text.slice(exprStart, i));
    selfDoc = true;
  }
  let conversion: FormattedValue["conversion"] = null;
  if (text[i] === "!") {
    i++;
    if (i >= span.to) throw expecting();
    const c = text[i++];
    if (c !== "r" && c !== "s" && c !== "a")
      throw fail("f-string: invalid conversion character: expected 's', 'r', or 'a'");
    conversion = c;
  }
  let spec: Part[] | null = null;
  if (i < span.to && text[i] === ":") {
    i++;
    if (i >= span.to) throw expecting();
    const inner = fieldsOf(p, { ...span, from: i }, depth + 1);
    spec = inner.parts;
    i = inner.end;
  }
  if (i >= span.to || text[i] !== "}") throw expecting();
  if (selfDoc && spec === null && conversion === null) conversion = "r";
  out.push({ value, conversion, spec, at: open });
  return { field: out, end: i + 1 };
}
