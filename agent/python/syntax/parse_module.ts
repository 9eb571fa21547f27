/**
 * Parses a Body exactly as murano-agent has CPython 3.11 compile it: the Body is un-indented (tabs expanded to
 * 4 columns, the smallest indentation removed), indented by 4 spaces under `def __execution_plan_main():` and
 * followed by the `try:` that calls it; that whole text is tokenized (tokenizer.ts) and parsed (parse_*.ts)
 * with Python 3.11's grammar. Returns the function's statements, or throws `BodySyntaxError` with CPython's
 * message and the position in the Body (line 1 = the Body's first line).
 */
import { Cursor, type Grammar, ParseError } from "./parse_base.ts";
import { statements } from "./parse_compound.ts";
import {
  bitwiseOr,
  disjunction,
  expression,
  namedExpression,
  starExpressions,
  starNamedExpression,
  startsExpression,
  yieldExpr,
} from "./parse_expr.ts";
import type { PStmt } from "./syntax.ts";
import { starTargets } from "./targets.ts";
import { OP } from "./token_list.ts";
import { type TokenError, tokenize } from "./tokenizer.ts";

/** What CPython raises when compile() fails, with its message; `at` is an offset in the compiled text. */
export class BodySyntaxError extends Error {
  /** The Body's line and column of the error, when CPython gives one. */
  readonly position: { line: number; column: number } | null;
  readonly errorType: string;
  constructor(message: string, position: { line: number; column: number } | null, errorType: string) {
    super(message);
    this.position = position;
    this.errorType = errorType;
  }
}

export interface ParsedBody {
  /** The text CPython compiles (the wrapped Body, newlines normalized). */
  text: string;
  /** The whole module: the wrapper function, then the wrapper's `try`. */
  module: PStmt[];
  /** The Body's statements (the wrapper function's body); null when part of the Body left the function. */
  body: PStmt[] | null;
  /** Constructs the parser already refused (see Cursor.refusals). */
  refusals: { message: string; at: number }[];
  /** Maps an offset of `text` to the Body's 1-based line and column. */
  position(at: number): { line: number; column: number };
}

/**
 * Which error CPython reports (Parser/pegen_errors.c `_PyPegen_set_syntax_error`): the tokenizer's when the
 * parser reached its token; else an "unexpected indent" as it is; else a tokenizer error found further on
 * (CPython tokenizes the rest of the text) or an unclosed bracket of an earlier line replaces the parser's.
 */
function choose(
  text: string,
  failure: ParseError,
  error: TokenError | null,
  reached: boolean,
): [string, number, string] {
  const tokenizer: [string, number, string] | null = error
    ? [error.message, error.at, error.indentation ? "IndentationError" : "SyntaxError"]
    : null;
  if (tokenizer && reached) return tokenizer;
  const own: [string, number, string] = [failure.message, failure.at, failure.errorType];
  if (!failure.specific && failure.errorType === "IndentationError") return own;
  if (failure.errorType === "MemoryError" || !error || !tokenizer || error.lazy) return own;
  if (!error.unclosed) return tokenizer;
  // CPython compares with the last token any pass fetched (its second pass may read further: not modelled).
  return lineBefore(text, error.at, failure.at) ? tokenizer : own;
}

/** Whether offset `a` is on an earlier line than offset `b` of `text`. */
function lineBefore(text: string, a: number, b: number): boolean {
  const newline = text.indexOf("\n", a);
  return newline >= 0 && newline < b;
}

const TRAILER =
  "\ntry:\n    __execution_plan_result = __execution_plan_main()\nexcept Exception as e:\n    __execution_plan_exception = e\n";

/** murano-agent's `_unindent(body, 4)` and `_prepare_script`; returns the text and the indentation removed. */
export function wrap(source: string): { text: string; indent: number } {
  const expanded = expandTabs(source);
  const indent = smallestIndent(expanded);
  const cut = Number.isFinite(indent) ? indent : Number.MAX_SAFE_INTEGER;
  const body =
    cut === 0
      ? `    ${expanded.replaceAll("\n", "\n    ")}`
      : expanded
          .split("\n")
          .map((line) => `    ${line.slice(cut)}`)
          .join("\n");
  return {
    text: `def __execution_plan_main():\n${body}${TRAILER}`,
    indent: Number.isFinite(indent) ? indent : 0,
  };
}

/** The fewest leading spaces of a line ("\n"-separated) that has something else; Infinity when none has. */
function smallestIndent(text: string): number {
  let indent = Number.POSITIVE_INFINITY;
  let spaces = 0;
  let leading = true;
  for (let k = 0; k < text.length && indent > 0; k++) {
    const c = text.charCodeAt(k);
    if (c === 10) {
      spaces = 0;
      leading = true;
    } else if (leading) {
      if (c === 32) spaces++;
      else {
        if (spaces < indent) indent = spaces;
        leading = false;
      }
    }
  }
  return indent;
}

/** Python's str.expandtabs(4): columns restart after "\n" and "\r". */
function expandTabs(s: string): string {
  if (!s.includes("\t")) return s;
  let out = "";
  let column = 0;
  for (const ch of s) {
    if (ch === "\t") {
      const pad = 4 - (column % 4);
      out += " ".repeat(pad);
      column += pad;
    } else {
      out += ch;
      column = ch === "\n" || ch === "\r" ? 0 : column + 1;
    }
  }
  return out;
}

const GRAMMAR: Grammar = {
  expression,
  namedExpression,
  starNamedExpression,
  starExpressions,
  disjunction,
  bitwiseOr,
  startsExpression,
  yieldExpr,
  starTargets,
  fstringExpr(p, from, to) {
    const shift = from - 1;
    const { tokens, error } = tokenize(`(${p.text.slice(from, to)})`, shift);
    if (error) throw new ParseError(error.message, error.at + shift, true);
    const sub = new Cursor(tokens, p.text);
    sub.g = p.g;
    sub.refusals = p.refusals;
    sub.level = p.level;
    try {
      const e = starExpressions(sub);
      if (sub.kind() !== "NEWLINE") throw sub.fail();
      return e;
    } catch (error) {
      if (!(error instanceof ParseError) || error.errorType === "MemoryError") throw error;
      throw new ParseError(`f-string: ${error.message}`, error.at, true);
    }
  },
};

/** Parses the Body inside murano-agent's wrapper; throws BodySyntaxError. */
export function parseModule(source: string): ParsedBody {
  const { text: wrapped, indent } = wrap(source);
  if (wrapped.includes("\0"))
    throw new BodySyntaxError("source code string cannot contain null bytes", null, "ValueError");
  const surrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.exec(wrapped);
  if (surrogate) {
    const code = (surrogate[0].codePointAt(0) ?? 0).toString(16);
    throw new BodySyntaxError(
      `'utf-8' codec can't encode character '\\u${code}' in position ${[...wrapped.slice(0, surrogate.index)].length}: surrogates not allowed`,
      null,
      "UnicodeEncodeError",
    );
  }
  const text = wrapped.replace(/\r\n?/g, "\n");
  const lineStarts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lineStarts.push(i + 1);
  const lineIndex = (at: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const bodyLines = lineStarts.length - 6;
  const position = (at: number): { line: number; column: number } => {
    const index = lineIndex(at);
    const line = Math.min(Math.max(index, 1), Math.max(bodyLines, 1));
    const column = line === index ? at - (lineStarts[index] ?? 0) - 4 + indent + 1 : 1;
    return { line, column: Math.max(column, 1) };
  };
  /** CPython's error at an offset; "line N" in its message counts the wrapper's line too: the Body's is N - 1. */
  const raise = (message: string, at: number, type: string): BodySyntaxError => {
    if (message.startsWith("expected an indented block after function definition on line 1"))
      return new BodySyntaxError("the Body has no statements", null, type);
    const mapped = message.replace(/\bline (\d+)/g, (_, n: string) => `line ${Math.max(Number(n) - 1, 1)}`);
    return new BodySyntaxError(mapped, position(at), type);
  };
  const { tokens, error } = tokenize(text);
  // The token CPython's tokenizer fails on: the parser fails there too, unless it fails earlier.
  if (error) tokens.pushText(OP, "\0", error.unclosed ? text.length : error.at, text.length);
  const p = new Cursor(tokens, text);
  p.g = GRAMMAR;
  let module: PStmt[];
  try {
    module = statements(p);
    if (p.kind() !== "ENDMARKER") throw p.fail();
  } catch (failure) {
    if (!(failure instanceof ParseError)) throw failure;
    throw raise(...choose(text, failure, error, tokens.text(p.furthest) === "\0"));
  }
  const main = module[0];
  // A carriage return can end a Body line at column 0: the rest then runs outside the function (checker).
  const body = module.length === 2 && main?.t === "FunctionDef" ? main.body : null;
  return { text, module, body, refusals: p.refusals, position };
}
