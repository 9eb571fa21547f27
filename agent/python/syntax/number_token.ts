/**
 * The end of a NUMBER token, exactly as CPython 3.11's tokenizer finds it (tok_get's number branch,
 * tok_decimal_tail, verify_end_of_number): hex/octal/binary with underscores, `0777` refused, `5.`, `.5`,
 * `1.e5`, `1_000.5e-3j`; a number running into a letter is "invalid decimal literal" unless the letters start
 * a keyword that may follow a number (`1if x else 2`: CPython only warns).
 */

export interface NumberError {
  message: string;
  at: number;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isHex = (c: number): boolean => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
const isIdentChar = (c: number): boolean =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || isDigit(c) || c >= 128;

/** Keywords CPython lets touch a number (with a warning): and else for if in is not or. */
const FOLLOWERS = ["and", "else", "for", "if", "in", "is", "not", "or"];

/** Returns the end offset of the number starting at `start`, or CPython's error. */
export function numberEnd(text: string, start: number): number | NumberError {
  let p = start;
  const at = (i: number): number => (i < text.length ? text.charCodeAt(i) : -1);
  const fail = (message: string, where = p - 1): NumberError => ({ message, at: where });
  /** verify_end_of_number: a letter may follow only as the start of a keyword listed in FOLLOWERS. */
  const endOk = (kind: string): number | NumberError => {
    if (FOLLOWERS.some((k) => text.startsWith(k, p))) return p;
    if (isIdentChar(at(p))) return fail(`invalid ${kind} literal`);
    return p;
  };
  /** Digits with single underscores between them; p is on the first digit. */
  const decimalTail = (): NumberError | null => {
    for (;;) {
      while (isDigit(at(p))) p++;
      if (at(p) !== 95) return null;
      p++;
      if (!isDigit(at(p))) return fail("invalid decimal literal");
    }
  };
  const radix = (valid: (c: number) => boolean, kind: string, digitsOf: (c: number) => boolean) => {
    p += 2;
    do {
      if (at(p) === 95) p++;
      if (!valid(at(p))) {
        if (digitsOf(at(p)))
          return fail(`invalid digit '${String.fromCharCode(at(p))}' in ${kind} literal`, p);
        return fail(`invalid ${kind} literal`);
      }
      while (valid(at(p))) p++;
    } while (at(p) === 95);
    if (digitsOf(at(p))) return fail(`invalid digit '${String.fromCharCode(at(p))}' in ${kind} literal`, p);
    return endOk(kind);
  };
  const fraction = (): number | NumberError => {
    // p is just after the "."
    if (isDigit(at(p))) {
      const e = decimalTail();
      if (e) return e;
    }
    return exponent();
  };
  const exponent = (): number | NumberError => {
    const c = at(p);
    if (c === 101 || c === 69) {
      const e = p;
      p++;
      if (at(p) === 43 || at(p) === 45) {
        p++;
        if (!isDigit(at(p))) return fail("invalid decimal literal");
      } else if (!isDigit(at(p))) {
        p = e;
        return endOk("decimal");
      }
      const t = decimalTail();
      if (t) return t;
    }
    return imaginary();
  };
  const imaginary = (): number | NumberError => {
    if (at(p) === 106 || at(p) === 74) {
      p++;
      return endOk("imaginary");
    }
    return endOk("decimal");
  };

  if (at(p) === 46) {
    p++;
    return fraction();
  }
  if (at(p) === 48) {
    const c = at(p + 1);
    if (c === 120 || c === 88) return radix(isHex, "hexadecimal", () => false);
    if (c === 111 || c === 79) return radix((d) => d >= 48 && d <= 55, "octal", isDigit);
    if (c === 98 || c === 66) return radix((d) => d === 48 || d === 49, "binary", isDigit);
    // Zeros (with underscores), maybe followed by other digits: an old-style octal unless a float follows.
    p++;
    for (;;) {
      if (at(p) === 95) {
        p++;
        if (!isDigit(at(p))) return fail("invalid decimal literal");
      }
      if (at(p) !== 48) break;
      p++;
    }
    let nonzero = false;
    if (isDigit(at(p))) {
      nonzero = true;
      const e = decimalTail();
      if (e) return e;
    }
    const c2 = at(p);
    if (c2 === 46) {
      p++;
      return fraction();
    }
    if (c2 === 101 || c2 === 69) return exponent();
    if (c2 === 106 || c2 === 74) return imaginary();
    if (nonzero)
      return fail(
        "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers",
        start,
      );
    return endOk("decimal");
  }
  const e = decimalTail();
  if (e) return e;
  if (at(p) === 46) {
    p++;
    return fraction();
  }
  return exponent();
}
