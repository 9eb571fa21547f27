/**
 * CPython 3.11's tokenizer (Parser/tokenizer.c) for the text murano-agent compiles: NEWLINE/INDENT/DEDENT,
 * implicit line joining inside brackets (at most 200 open: MAXLEVEL), backslash continuation, comments, numbers
 * and string tokens with CPython's error for each malformed spelling. The whole text is tokenized up front into
 * a TokenList (kinds and offsets in typed arrays, no object per token: token_list.ts); a tokenizer error is
 * returned as `error` with the tokens read before it (parse_module.ts `choose` ranks it against a parser
 * error). Offsets are UTF-16 indices into the text.
 */
import { numberEnd } from "./number_token.ts";
import { DEDENT, ENDMARKER, INDENT, NAME, NEWLINE, NUMBER, OP, STRING, TokenList } from "./token_list.ts";

export type { Token, TokenType } from "./token_list.ts";
export { TokenList } from "./token_list.ts";

/** A tokenizer error: CPython's message, its offset, and whether it is an IndentationError. */
export interface TokenError {
  message: string;
  at: number;
  indentation?: boolean;
  /** An unclosed bracket found at the end of the text: it only wins over a parser error on a later line. */
  unclosed?: boolean;
  /**
   * CPython's tokenizer only records these (indentation, line continuation, EOF) and raises them when the
   * parser asks for that token; the others it raises as soon as it meets them, even after a parser error.
   */
  lazy?: boolean;
}

export interface Tokens {
  tokens: TokenList;
  error: TokenError | null;
}

const MAXLEVEL = 200;
const MAXINDENT = 100;
const STRING_PREFIXES = new Set(["b", "r", "u", "f", "br", "rb", "fr", "rf"]);
const THREE = new Set(["**=", "...", "//=", "<<=", ">>="]);
const TWO = new Set("!= %= &= ** *= += -= -> // /= := << <= <> == >= >> @= ^= |=".split(" "));
const CLOSING: Record<string, string> = { ")": "(", "]": "[", "}": "{" };
const ID_START = /[\p{XID_Start}_]/u;
const ID_CONTINUE = /[\p{XID_Continue}]/u;
const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

const isAsciiLetter = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isIdentChar = (c: number): boolean => isAsciiLetter(c) || isDigit(c) || c >= 128;

/** Whether Python's str.isprintable() holds for the character. */
export function isPrintable(ch: string): boolean {
  return ch === " " || !NOT_PRINTABLE.test(ch);
}

function hex4(code: number): string {
  return code.toString(16).toUpperCase().padStart(4, "0");
}

/**
 * Tokenizes `text` (newlines already "\n"); stops at the first error. `shift` is added to every token's
 * offsets (not to the error's).
 */
export function tokenize(text: string, shift = 0): Tokens {
  const tokens = new TokenList(text, shift);
  const indents = [0];
  const brackets: { ch: string; at: number; line: number }[] = [];
  let pos = 0;
  let line = 1;
  let atLineStart = true;
  const n = text.length;
  const push = (kind: number, start: number, end: number): void => tokens.push(kind, start, end);
  /** The kind of the last token, or -1. */
  const lastKind = (): number => (tokens.count > 0 ? (tokens.kinds[tokens.count - 1] ?? -1) : -1);
  const fail = (message: string, at: number, kind: "" | "indentation" | "lazy" = ""): Tokens => ({
    tokens,
    error:
      kind === "indentation"
        ? { message, at, indentation: true, lazy: true }
        : kind === "lazy"
          ? { message, at, lazy: true }
          : { message, at },
  });
  for (;;) {
    if (atLineStart) {
      atLineStart = false;
      let col = 0;
      let p = pos;
      for (; p < n; p++) {
        const c = text.charCodeAt(p);
        if (c === 32) col++;
        else if (c === 9) col = (Math.floor(col / 8) + 1) * 8;
        else if (c === 12) col = 0;
        else break;
      }
      const c = p < n ? text.charCodeAt(p) : -1;
      const blank = c === 35 || c === 10 || c === -1;
      if (!blank && brackets.length === 0) {
        const top = indents[indents.length - 1] ?? 0;
        if (col > top) {
          if (indents.length >= MAXINDENT) return fail("too many levels of indentation", p, "indentation");
          indents.push(col);
          push(INDENT, p, p);
        } else if (col < top) {
          while (col < (indents[indents.length - 1] ?? 0)) {
            indents.pop();
            push(DEDENT, p, p);
          }
          if (col !== indents[indents.length - 1])
            return fail("unindent does not match any outer indentation level", p, "indentation");
        }
      }
      pos = p;
    }
    // Skip spaces and comments.
    let c = pos < n ? text.charCodeAt(pos) : -1;
    while (c === 32 || c === 9 || c === 12) c = ++pos < n ? text.charCodeAt(pos) : -1;
    if (c === 35) {
      while (pos < n && text.charCodeAt(pos) !== 10) pos++;
      c = pos < n ? 10 : -1;
    }
    if (c === -1) {
      const open = brackets[brackets.length - 1];
      if (open)
        return { tokens, error: { message: `'${open.ch}' was never closed`, at: open.at, unclosed: true } };
      const last = lastKind();
      if (last !== -1 && last !== NEWLINE && last !== DEDENT && last !== INDENT) push(NEWLINE, n, n);
      while (indents.length > 1) {
        indents.pop();
        push(DEDENT, n, n);
      }
      push(ENDMARKER, n, n);
      return { tokens, error: null };
    }
    const start = pos;
    if (c === 10) {
      pos++;
      line++;
      atLineStart = true;
      const last = lastKind();
      const blankLine = last === -1 || last === NEWLINE || last === INDENT || last === DEDENT;
      if (brackets.length === 0 && !blankLine) push(NEWLINE, start, pos);
      continue;
    }
    if (c === 92) {
      if (text.charCodeAt(pos + 1) !== 10)
        return fail("unexpected character after line continuation character", pos + 1, "lazy");
      pos += 2;
      line++;
      if (pos >= n) return fail("unexpected EOF while parsing", pos, "lazy");
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(text.charCodeAt(pos + 1)))) {
      const end = numberEnd(text, pos);
      if (typeof end !== "number") return fail(end.message, end.at);
      push(NUMBER, start, end);
      pos = end;
      continue;
    }
    if (isAsciiLetter(c) || c >= 128) {
      // A string prefix (CPython accepts b, r, u, f in the combinations of tok_get) followed by a quote.
      let p = pos;
      while (p < n && isAsciiLetter(text.charCodeAt(p)) && p - pos < 2) p++;
      const q = text.charCodeAt(p);
      if ((q === 39 || q === 34) && STRING_PREFIXES.has(text.slice(pos, p).toLowerCase())) {
        const end = stringEnd(text, pos, p, line);
        if (typeof end !== "number") return fail(end.message, end.at);
        for (let k = p; k < end; k++) if (text.charCodeAt(k) === 10) line++;
        push(STRING, start, end);
        pos = end;
        continue;
      }
      let nonAscii = false;
      p = pos;
      while (p < n && isIdentChar(text.charCodeAt(p))) {
        if (text.charCodeAt(p) >= 128) nonAscii = true;
        p++;
      }
      if (nonAscii) {
        const bad = invalidIdentifierChar(text.slice(pos, p));
        if (bad !== null) {
          const at = pos + bad.index;
          const ch = bad.ch;
          const code = ch.codePointAt(0) ?? 0;
          return fail(
            isPrintable(ch)
              ? `invalid character '${ch}' (U+${hex4(code)})`
              : `invalid non-printable character U+${hex4(code)}`,
            at,
          );
        }
      }
      push(NAME, start, p);
      pos = p;
      continue;
    }
    if (c === 39 || c === 34) {
      const end = stringEnd(text, pos, pos, line);
      if (typeof end !== "number") return fail(end.message, end.at);
      for (let k = pos; k < end; k++) if (text.charCodeAt(k) === 10) line++;
      push(STRING, start, end);
      pos = end;
      continue;
    }
    const c2 = text.charCodeAt(pos + 1);
    // Second characters of two- and three-character operators: = * / < > - .
    if (c2 === 61 || c2 === 42 || c2 === 47 || c2 === 60 || c2 === 62 || c2 === 46) {
      if (THREE.has(text.slice(pos, pos + 3))) {
        push(OP, start, pos + 3);
        pos += 3;
        continue;
      }
      if (TWO.has(text.slice(pos, pos + 2))) {
        push(OP, start, pos + 2);
        pos += 2;
        continue;
      }
    }
    const ch = text[pos] ?? "";
    if (ch === "(" || ch === "[" || ch === "{") {
      if (brackets.length >= MAXLEVEL) return fail("too many nested parentheses", pos);
      brackets.push({ ch, at: pos, line });
    } else if (ch === ")" || ch === "]" || ch === "}") {
      const open = brackets.pop();
      if (!open) return fail(`unmatched '${ch}'`, pos);
      if (open.ch !== CLOSING[ch])
        return fail(
          open.line !== line
            ? `closing parenthesis '${ch}' does not match opening parenthesis '${open.ch}' on line ${open.line}`
            : `closing parenthesis '${ch}' does not match opening parenthesis '${open.ch}'`,
          pos,
        );
    } else if (!(c > 32 && c < 127) && !isPrintable(ch)) {
      return fail(`invalid non-printable character U+${hex4(c)}`, pos);
    }
    push(OP, start, pos + 1);
    pos++;
  }
}

/** The index and character at which a non-ASCII identifier stops being one (PEP 3131), or null. */
function invalidIdentifierChar(word: string): { index: number; ch: string } | null {
  let index = 0;
  for (const ch of word) {
    if (!(index === 0 ? ID_START.test(ch) : ID_CONTINUE.test(ch))) return { index, ch };
    index += ch.length;
  }
  return null;
}

/** The end of the string literal whose first quote is at `q`, or CPython's error for an unterminated one. */
function stringEnd(text: string, start: number, q: number, line: number): number | TokenError {
  const quote = text.charCodeAt(q);
  const triple = text.charCodeAt(q + 1) === quote && text.charCodeAt(q + 2) === quote;
  let p = q + (triple ? 3 : 1);
  let lines = line;
  const n = text.length;
  while (p < n) {
    const c = text.charCodeAt(p);
    if (c === 10) {
      if (!triple) break;
      lines++;
    } else if (c === quote) {
      if (!triple) return p + 1;
      if (text.charCodeAt(p + 1) === quote && text.charCodeAt(p + 2) === quote) return p + 3;
    } else if (c === 92) {
      if (text.charCodeAt(p + 1) === 10) lines++;
      p++;
    }
    p++;
  }
  return {
    message: triple
      ? `unterminated triple-quoted string literal (detected at line ${lines})`
      : `unterminated string literal (detected at line ${lines})`,
    at: start,
  };
}
