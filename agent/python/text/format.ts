/**
 * `str.format` and `str.format_map`: a port of CPython 3.11's Objects/stringlib/unicode_format.h. The template
 * is read left to right and each field rendered as soon as it is parsed, so errors come in CPython's order.
 * A field is `{name[.attr|[key]]…[!conversion][:spec]}`; an empty name or a number is positional (automatic
 * and manual numbering cannot be mixed), anything else a keyword. A spec may hold nested fields (`{:{w}}`),
 * two levels deep at most. `%` formatting is in percent.ts (re-exported here for its callers).
 */
import { getAttr, getItem } from "../runtime/access.ts";
import { pyFail } from "../runtime/exceptions.ts";
import type { PyValue } from "../runtime/values.ts";
import { formatValue } from "./format_spec.ts";
import { decimalValue } from "./format_spec_parse.ts";
import { pyAscii, pyRepr, pyStr } from "./repr.ts";

export { percentFormat } from "./percent.ts";

/** Looks a keyword field up; undefined when absent (KeyError). `format_map` passes a mapping's `__getitem__`. */
export interface Keywords {
  get(name: string): PyValue | undefined;
}

/** Automatic field numbering, shared by the fields nested in specs (`'{:{}}'.format('x', 3)`). */
interface Numbering {
  state: "init" | "auto" | "manual";
  next: number;
}

/** `template.format(*args, **keywords)`; `args` null is `format_map`, which has no positional arguments. */
export function formatString(
  template: string,
  args: readonly PyValue[] | null,
  keywords: Keywords | null,
): string {
  return build(template, { args, keywords, numbering: { state: "init", next: 0 } }, 2);
}

interface Context {
  readonly args: readonly PyValue[] | null;
  readonly keywords: Keywords | null;
  readonly numbering: Numbering;
}

function build(template: string, ctx: Context, depth: number): string {
  if (depth <= 0) throw pyFail("ValueError", "Max string recursion exceeded");
  let out = "";
  let i = 0;
  const end = template.length;
  while (i < end) {
    // Literal text up to the first `{` or `}`; `{{` and `}}` are the braces themselves.
    let j = i;
    while (j < end && template[j] !== "{" && template[j] !== "}") j++;
    out += template.slice(i, j);
    if (j >= end) break;
    const brace = template[j];
    const atEnd = j + 1 >= end;
    if (brace === "}" && (atEnd || template[j + 1] !== "}"))
      throw pyFail("ValueError", "Single '}' encountered in format string");
    if (atEnd) throw pyFail("ValueError", "Single '{' encountered in format string");
    if (template[j + 1] === brace) {
      out += brace;
      i = j + 2;
      continue;
    }
    const field = parseField(template, j + 1);
    i = field.next;
    out += render(field, ctx, depth);
  }
  return out;
}

interface Field {
  name: string;
  conversion: string | null;
  spec: string;
  specHasFields: boolean;
  next: number;
}

/** CPython's `parse_field`: the field starting after its `{`. */
function parseField(t: string, start: number): Field {
  let i = start;
  let c = "";
  while (i < t.length) {
    c = t[i++] as string;
    if (c === "{") throw pyFail("ValueError", "unexpected '{' in field name");
    if (c === "[") {
      while (i < t.length && t[i] !== "]") i++;
      continue;
    }
    if (c === "}" || c === ":" || c === "!") break;
  }
  const name = t.slice(start, i - 1);
  if (c !== "!" && c !== ":") {
    if (c !== "}") throw pyFail("ValueError", "expected '}' before end of string");
    return { name, conversion: null, spec: "", specHasFields: false, next: i };
  }
  let conversion: string | null = null;
  if (c === "!") {
    if (i >= t.length) throw pyFail("ValueError", "end of string while looking for conversion specifier");
    conversion = String.fromCodePoint(t.codePointAt(i) ?? 0);
    i += conversion.length;
    if (i < t.length) {
      const after = t[i++];
      if (after === "}") return { name, conversion, spec: "", specHasFields: false, next: i };
      if (after !== ":") throw pyFail("ValueError", "expected ':' after conversion specifier");
    }
  }
  const specStart = i;
  let level = 1;
  let specHasFields = false;
  while (i < t.length) {
    const ch = t[i++];
    if (ch === "{") {
      specHasFields = true;
      level++;
    } else if (ch === "}" && --level === 0) {
      return { name, conversion, spec: t.slice(specStart, i - 1), specHasFields, next: i };
    }
  }
  throw pyFail("ValueError", "unmatched '{' in format spec");
}

/** CPython's `get_integer` on a field name part: its value when it is all decimal digits, else -1. */
function fieldIndex(text: string): number {
  if (text === "") return -1;
  let value = 0n;
  for (const ch of text) {
    const digit = decimalValue(ch);
    if (digit < 0) return -1;
    value = value * 10n + BigInt(digit);
    if (value > 9223372036854775807n) throw pyFail("ValueError", "Too many decimal digits in format string");
  }
  return Number(value);
}

function render(field: Field, ctx: Context, depth: number): string {
  let value = fieldValue(field.name, ctx);
  if (field.conversion !== null) value = convert(value, field.conversion);
  const spec = field.specHasFields ? build(field.spec, ctx, depth - 1) : field.spec;
  return formatValue(value, spec);
}

function convert(value: PyValue, conversion: string): string {
  if (conversion === "r") return pyRepr(value);
  if (conversion === "s") return pyStr(value);
  if (conversion === "a") return pyAscii(value);
  const cp = conversion.codePointAt(0) ?? 0;
  const shown = cp > 32 && cp < 127 ? conversion : `\\x${cp.toString(16)}`;
  throw pyFail("ValueError", `Unknown conversion specifier ${shown}`);
}

/** CPython's `get_field_object`: the argument, then each `.attr` / `[key]` applied in turn. */
function fieldValue(name: string, ctx: Context): PyValue {
  let i = 0;
  while (i < name.length && name[i] !== "." && name[i] !== "[") i++;
  const first = name.slice(0, i);
  const index = fieldIndex(first);
  let value: PyValue;
  if (first === "" || index !== -1) {
    const numbering = ctx.numbering;
    const auto = first === "";
    if (numbering.state === "init") numbering.state = auto ? "auto" : "manual";
    if (numbering.state === "manual" && auto)
      throw pyFail(
        "ValueError",
        "cannot switch from manual field specification to automatic field numbering",
      );
    if (numbering.state === "auto" && !auto)
      throw pyFail(
        "ValueError",
        "cannot switch from automatic field numbering to manual field specification",
      );
    const at = auto ? numbering.next++ : index;
    if (ctx.args === null) throw pyFail("ValueError", "Format string contains positional fields");
    if (at >= ctx.args.length)
      throw pyFail("IndexError", `Replacement index ${at} out of range for positional args tuple`);
    value = ctx.args[at] ?? null;
  } else {
    const found = ctx.keywords?.get(first);
    if (found === undefined) throw pyFail("KeyError", pyRepr(first));
    value = found;
  }
  while (i < name.length) {
    const kind = name[i++];
    let part: string;
    if (kind === ".") {
      const start = i;
      while (i < name.length && name[i] !== "." && name[i] !== "[") i++;
      part = name.slice(start, i);
    } else if (kind === "[") {
      const start = i;
      while (i < name.length && name[i] !== "]") i++;
      if (i >= name.length) throw pyFail("ValueError", "Missing ']' in format string");
      part = name.slice(start, i++);
    } else throw pyFail("ValueError", "Only '.' or '[' may follow ']' in format field specifier");
    if (part === "") throw pyFail("ValueError", "Empty attribute in format string");
    if (kind === ".") value = getAttr(value, part);
    else {
      const key = fieldIndex(part);
      value = getItem(value, key === -1 ? part : BigInt(key));
    }
  }
  return value;
}
