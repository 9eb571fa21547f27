/**
 * The parser's token cursor and its errors. A rule that does not match throws `ParseError`; a rule with
 * alternatives saves `i`, tries, and restores. As in CPython's PEG parser (Parser/pegen_errors.c), a generic
 * failure is reported at the furthest token any alternative looked at: "invalid syntax", or "unexpected indent"
 * when that token is an INDENT. Specific messages (CPython's `invalid_*` rules) are `ParseError`s with
 * `specific` set; alternatives do not swallow them.
 */
import type { PExpr } from "./syntax.ts";
import type { Token } from "./tokenizer.ts";

/**
 * The expression rules other parser files call through the cursor (parser.ts fills it in), so that the
 * grammar's mutual recursion needs no import cycle.
 */
export interface Grammar {
  expression(p: Cursor): PExpr;
  namedExpression(p: Cursor): PExpr;
  starNamedExpression(p: Cursor): PExpr;
  starExpressions(p: Cursor): PExpr;
  disjunction(p: Cursor): PExpr;
  bitwiseOr(p: Cursor): PExpr;
  startsExpression(p: Cursor): boolean;
  yieldExpr(p: Cursor): PExpr;
  /** star_targets of `for` (statement and comprehension): stops before `in`. */
  starTargets(p: Cursor): PExpr;
  /** Parses the expression of an f-string replacement field, `text[from, to)`, as CPython does: `(expr)`. */
  fstringExpr(p: Cursor, from: number, to: number): PExpr;
}

/** Python's hard keywords: never a NAME. */
export const HARD_KEYWORDS: ReadonlySet<string> = new Set(
  (
    "False None True and as assert async await break class continue def del elif else except finally for " +
    "from global if import in is lambda nonlocal not or pass raise return try while with yield"
  ).split(" "),
);

export type ErrorType = "SyntaxError" | "IndentationError" | "MemoryError";

export class ParseError extends Error {
  readonly at: number;
  readonly specific: boolean;
  readonly errorType: ErrorType;
  constructor(message: string, at: number, specific: boolean, errorType: ErrorType = "SyntaxError") {
    super(message);
    this.at = at;
    this.specific = specific;
    this.errorType = errorType;
  }
}

/** Pegen's stack limit (MAXSTACK, Parser/parser.c): deeper input raises MemoryError "too complex". */
const MAXSTACK = 6000;

export class Cursor {
  i = 0;
  /** The furthest token index any rule looked at. */
  furthest = 0;
  /**
   * Approximation of pegen's rule-call depth for right-recursive rules (unary, power, lambda, brackets),
   * starting from the depth of an expression statement in the Body (`2**2**…` overflows at 2982 operands).
   */
  level = 40;
  g!: Grammar;
  /** Valid Python the parser already knows idem refuses (`\N{...}`): reported unless a syntax error is found. */
  refusals: { message: string; at: number }[] = [];

  readonly tokens: Token[];
  readonly text: string;

  constructor(tokens: Token[], text: string) {
    this.tokens = tokens;
    this.text = text;
  }

  peek(k = 0): Token {
    const at = Math.min(this.i + k, this.tokens.length - 1);
    if (at > this.furthest) this.furthest = at;
    return this.tokens[at] as Token;
  }

  next(): Token {
    const t = this.peek();
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }

  /** Whether the next token is the operator or keyword `s` (keywords are NAME tokens). */
  at(s: string, k = 0): boolean {
    const t = this.peek(k);
    return (t.type === "OP" || t.type === "NAME") && t.text === s;
  }

  /** Consumes `s` if it is next. */
  eat(s: string): boolean {
    if (!this.at(s)) return false;
    this.next();
    return true;
  }

  expect(s: string): Token {
    if (!this.at(s)) throw this.fail();
    return this.next();
  }

  /** A NAME that is not a hard keyword. */
  atName(k = 0): boolean {
    const t = this.peek(k);
    return t.type === "NAME" && !HARD_KEYWORDS.has(t.text);
  }

  name(): Token {
    if (!this.atName()) throw this.fail();
    return this.next();
  }

  /** The generic error, at the furthest token looked at. */
  fail(): ParseError {
    const t = this.tokens[this.furthest] as Token;
    if (t.type === "INDENT") return new ParseError("unexpected indent", t.start, false, "IndentationError");
    if (t.type === "DEDENT") return new ParseError("unexpected unindent", t.start, false, "IndentationError");
    return new ParseError("invalid syntax", t.start, false);
  }

  /** A forced token (`&&'x'` in the grammar): anything else is "expected 'x'" at once. */
  force(s: string): Token {
    if (!this.at(s)) throw this.specific(`expected '${s}'`, this.peek().start);
    return this.next();
  }

  specific(message: string, at: number, errorType: ErrorType = "SyntaxError"): ParseError {
    return new ParseError(message, at, true, errorType);
  }

  /** Runs `rule`; on a generic failure restores the position and returns null. */
  attempt<T>(rule: () => T): T | null {
    const saved = this.i;
    const level = this.level;
    try {
      return rule();
    } catch (error) {
      if (error instanceof ParseError && !error.specific) {
        this.i = saved;
        this.level = level;
        return null;
      }
      throw error;
    }
  }

  /** Enters `cost` levels of pegen's stack; past MAXSTACK the input is "too complex" (MemoryError). */
  enter(cost: number): void {
    this.level += cost;
    if (this.level > MAXSTACK)
      throw new ParseError(
        "Parser stack overflowed - Python source too complex to parse",
        this.peek().start,
        true,
        "MemoryError",
      );
  }
}
