/**
 * The parser's token cursor and its errors. A rule that does not match throws `ParseError`; a rule with
 * alternatives saves `i`, tries, and restores. As in CPython's PEG parser (Parser/pegen_errors.c), a generic
 * failure is reported at the furthest token any alternative looked at: "invalid syntax", or "unexpected indent"
 * when that token is an INDENT. Specific messages (CPython's `invalid_*` rules) are `ParseError`s with
 * `specific` set; alternatives do not swallow them.
 */
import type { PExpr } from "./syntax.ts";
import { NAME, OP, type Token, type TokenList, type TokenType, TYPES } from "./token_list.ts";

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

/**
 * `items` in an array of exactly its length. An array grown by `push` keeps 16 or more slots: a 4 MB Body's
 * tree holds some 300,000 lists (call arguments, bodies, operands), and their slack was a third of its size
 * and of the garbage collector's work.
 */
export function fit<T>(items: T[]): T[] {
  return items.length === 0 ? [] : items.slice();
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

  readonly tokens: TokenList;
  readonly text: string;

  constructor(tokens: TokenList, text: string) {
    this.tokens = tokens;
    this.text = text;
  }

  /**
   * The index of the token `k` ahead (the last one, ENDMARKER, past the end), recorded as looked at. The
   * accessors below read the token lists's arrays and allocate nothing; `peek` and `next` make a view.
   */
  look(k = 0): number {
    const last = this.tokens.count - 1;
    const at = Math.min(this.i + k, last);
    if (at > this.furthest) this.furthest = at;
    return at;
  }

  peek(k = 0): Token {
    return this.tokens.token(this.look(k));
  }

  next(): Token {
    const t = this.peek();
    if (this.i < this.tokens.count - 1) this.i++;
    return t;
  }

  /** Consumes the next token; returns its start offset. */
  skip(): number {
    const start = this.tokens.starts[this.look()] ?? 0;
    if (this.i < this.tokens.count - 1) this.i++;
    return start;
  }

  /** The type of the token `k` ahead. */
  kind(k = 0): TokenType {
    return TYPES[this.tokens.kinds[this.look(k)] ?? 0] ?? "ENDMARKER";
  }

  /** The text of the token `k` ahead ("" for NEWLINE, INDENT, DEDENT, ENDMARKER). */
  spelling(k = 0): string {
    return this.tokens.text(this.look(k));
  }

  /** The start offset of the token `k` ahead. */
  offset(k = 0): number {
    return this.tokens.starts[this.look(k)] ?? 0;
  }

  /** Whether the next token is the operator or keyword `s` (keywords are NAME tokens). */
  at(s: string, k = 0): boolean {
    const at = this.look(k);
    const tokens = this.tokens;
    const kind = tokens.kinds[at];
    return (kind === OP || kind === NAME) && tokens.spellings[tokens.spelling[at] ?? 0] === s;
  }

  /** Consumes `s` if it is next. */
  eat(s: string): boolean {
    if (!this.at(s)) return false;
    this.skip();
    return true;
  }

  /** Consumes `s`, else fails; returns its start offset. */
  expect(s: string): number {
    if (!this.at(s)) throw this.fail();
    return this.skip();
  }

  /** A NAME that is not a hard keyword. */
  atName(k = 0): boolean {
    const at = this.look(k);
    const tokens = this.tokens;
    return tokens.kinds[at] === NAME && tokens.keyword[tokens.spelling[at] ?? 0] === 0;
  }

  /** Consumes a NAME that is not a hard keyword; its text is the identifier (NFKC-normalized, PEP 3131). */
  name(): Token {
    if (!this.atName()) throw this.fail();
    const t = this.next();
    t.text = this.tokens.identifier(this.i - 1);
    return t;
  }

  /** The identifier a NAME token `k` ahead stands for: its text, NFKC-normalized (PEP 3131). */
  identifier(k = 0): string {
    return this.tokens.identifier(this.look(k));
  }

  /** The generic error, at the furthest token looked at. */
  fail(): ParseError {
    const t = this.tokens.token(this.furthest);
    if (t.type === "INDENT") return new ParseError("unexpected indent", t.start, false, "IndentationError");
    if (t.type === "DEDENT") return new ParseError("unexpected unindent", t.start, false, "IndentationError");
    return new ParseError("invalid syntax", t.start, false);
  }

  /** A forced token (`&&'x'` in the grammar): anything else is "expected 'x'" at once. */
  force(s: string): number {
    if (!this.at(s)) throw this.specific(`expected '${s}'`, this.offset());
    return this.skip();
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
        this.offset(),
        true,
        "MemoryError",
      );
  }
}
