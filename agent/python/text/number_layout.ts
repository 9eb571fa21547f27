/**
 * Padding, sign and digit grouping of a formatted number, as CPython 3.11 lays it out for format specs
 * (Python/formatter_unicode.c `calc_number_widths` and `fill_number`, Objects/unicodeobject.c
 * `_PyUnicode_InsertThousandsGrouping`):
 *
 *     <left padding> <sign> <prefix> <sign-aware padding> <grouped digits> <decimal point> <remainder> <right padding>
 *
 * With fill `0` and `=` alignment the zeros are digits: they are grouped too (`format(1234, '010,')` is
 * `00,001,234`, and may overshoot the width: `format(1234, '08,')` is `0,001,234`).
 */

import { checkSize } from "../runtime/values.ts";
import { strLength } from "../types/text.ts";

/** Thousands grouping: a separator every `size` digits; `size` 0 is none. */
export interface Grouping {
  readonly separator: string;
  readonly size: number;
}

export const NO_GROUPING: Grouping = { separator: "", size: 0 };

/** The layout part of a format spec. */
export interface NumberLayout {
  readonly fill: string;
  readonly align: "<" | ">" | "=" | "^";
  /** The spec's sign option: `+`, ` `, or `-`/none (only negative numbers get a sign). */
  readonly sign: string;
  /** -1 when the spec has no width. */
  readonly width: number;
  readonly grouping: Grouping;
}

/** A number split as CPython's formatter sees it. */
export interface NumberParts {
  readonly negative: boolean;
  /** `0x`, `0o`, `0b` (the `#` form) or "". */
  readonly prefix: string;
  /** The leading digits, which grouping applies to ("" for `c` and inf/nan). */
  readonly digits: string;
  /** Whether a decimal point follows the digits. */
  readonly decimal: boolean;
  /** What follows (the fraction, an exponent, `%`, or the text of `c`/inf/nan). */
  readonly remainder: string;
}

/** The number laid out to the spec. Throws MemoryError for a width beyond what a Body may build. */
export function layoutNumber(parts: NumberParts, spec: NumberLayout): string {
  const sign = parts.negative ? "-" : spec.sign === "+" ? "+" : spec.sign === " " ? " " : "";
  const fixed = sign.length + parts.prefix.length + (parts.decimal ? 1 : 0) + strLength(parts.remainder);
  const minWidth = spec.fill === "0" && spec.align === "=" ? spec.width - fixed : 0;
  if (minWidth > 0) checkSize(minWidth, "str");
  const grouped = parts.digits === "" ? "" : groupDigits(parts.digits, minWidth, spec.grouping);
  const padding = spec.width - (fixed + grouped.length);
  let left = "";
  let inner = "";
  let right = "";
  if (padding > 0) {
    checkSize(spec.width, "str");
    switch (spec.align) {
      case "<":
        right = spec.fill.repeat(padding);
        break;
      case "^":
        left = spec.fill.repeat(padding >> 1);
        right = spec.fill.repeat(padding - (padding >> 1));
        break;
      case "=":
        inner = spec.fill.repeat(padding);
        break;
      default:
        left = spec.fill.repeat(padding);
    }
  }
  return `${left}${sign}${parts.prefix}${inner}${grouped}${parts.decimal ? "." : ""}${parts.remainder}${right}`;
}

/**
 * `digits` with separators, zero-padded on the left (zeros grouped too) to at least `minWidth` characters:
 * CPython's `_PyUnicode_InsertThousandsGrouping` loop, which builds the groups right to left.
 */
export function groupDigits(digits: string, minWidth: number, grouping: Grouping): string {
  const pieces: string[] = [];
  const separator = grouping.separator;
  let remaining = digits.length;
  let width = minWidth;
  let useSeparator = false;
  const take = (size: number): void => {
    const zeros = Math.max(0, size - remaining);
    const count = Math.max(0, Math.min(remaining, size));
    pieces.push(
      "0".repeat(zeros) + digits.slice(remaining - count, remaining) + (useSeparator ? separator : ""),
    );
    remaining -= count;
    useSeparator = true;
  };
  if (grouping.size > 0) {
    for (;;) {
      const size = Math.min(grouping.size, Math.max(remaining, width, 1));
      take(size);
      width -= size;
      if (remaining <= 0 && width <= 0) return pieces.reverse().join("");
      width -= separator.length;
    }
  }
  take(Math.max(remaining, width, 1));
  return pieces.reverse().join("");
}

/** Pads `text` (a str's formatting) to `width` code points: `<` (or `=`) left, `>` right, `^` centred. */
export function padText(text: string, width: number, align: string, fill: string): string {
  const length = strLength(text);
  if (width <= length) return text;
  checkSize(width, "str");
  const gap = width - length;
  const left = align === ">" ? gap : align === "^" ? gap >> 1 : 0;
  return fill.repeat(left) + text + fill.repeat(gap - left);
}
