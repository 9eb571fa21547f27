/**
 * `str.format` (`{}`, `{0}`, `{name}`, `{0.attr}`, `{0[key]}`, `!r`, nested specs) and `%` formatting,
 * with CPython's errors for a missing or mismatched argument.
 */
import { getAttr, getItem } from "./access.ts";
import { pyFail } from "./exceptions.ts";
import { formatFloat, formatInt, formatValue, pad, type Spec } from "./format_spec.ts";
import { toFloat } from "./ops.ts";
import { pyAscii, pyRepr, pyStr } from "./repr.ts";
import { numeric, PyDict, PyTuple, type PyValue, typeName } from "./values.ts";

/** `template.format(*args, **keywords)` */
export function formatString(template: string, args: PyValue[], keywords: Map<string, PyValue>): string {
  return render(template, args, keywords, { auto: 0, numbering: null }, 0);
}

/** Automatic field numbering is shared with the fields nested in specs (`'{:{}}'.format('x', 3)`). */
interface Numbering {
  auto: number;
  numbering: "auto" | "manual" | null;
}

function render(
  template: string,
  args: PyValue[],
  keywords: Map<string, PyValue>,
  state: Numbering,
  depth: number,
): string {
  let out = "";
  let i = 0;
  while (i < template.length) {
    const ch = template[i] ?? "";
    if (ch === "}") {
      if (template[i + 1] !== "}") throw pyFail("ValueError", "Single '}' encountered in format string");
      out += "}";
      i += 2;
      continue;
    }
    if (ch !== "{") {
      out += ch;
      i++;
      continue;
    }
    if (template[i + 1] === "{") {
      out += "{";
      i += 2;
      continue;
    }
    let level = 1;
    let j = i + 1;
    while (j < template.length && level > 0) {
      if (template[j] === "{") level++;
      else if (template[j] === "}") level--;
      j++;
    }
    if (level > 0) throw pyFail("ValueError", "expected '}' before end of string");
    const field = template.slice(i + 1, j - 1);
    i = j;
    const m = /^([^.[!:]*)((?:\.[^.[!:]*|\[[^\]]*\])*)(?:!([^:]*))?(?::([\s\S]*))?$/.exec(field);
    if (!m) throw pyFail("ValueError", "unmatched '{' in format spec");
    const [, name = "", path = "", conversion, spec = ""] = m;
    let value: PyValue;
    if (name === "" || /^\d+$/.test(name)) {
      const mode = name === "" ? "auto" : "manual";
      if (state.numbering !== null && state.numbering !== mode) {
        throw pyFail(
          "ValueError",
          mode === "auto"
            ? "cannot switch from manual field specification to automatic field numbering"
            : "cannot switch from automatic field numbering to manual field specification",
        );
      }
      state.numbering = mode;
      const index = name === "" ? state.auto++ : Number(name);
      if (index >= args.length)
        throw pyFail("IndexError", `Replacement index ${index} out of range for positional args tuple`);
      value = args[index] ?? null;
    } else {
      const found = keywords.get(name);
      if (found === undefined) throw pyFail("KeyError", pyRepr(name));
      value = found;
    }
    for (const step of path.match(/\.[^.[]*|\[[^\]]*\]/g) ?? []) {
      if (step.startsWith(".")) value = getAttr(value, step.slice(1));
      else {
        const key = step.slice(1, -1);
        value = getItem(value, /^\d+$/.test(key) ? BigInt(key) : key);
      }
    }
    if (conversion !== undefined) {
      if (conversion === "r") value = pyRepr(value);
      else if (conversion === "a") value = pyAscii(value);
      else if (conversion === "s") value = pyStr(value);
      else throw pyFail("ValueError", `Unknown conversion specifier ${conversion}`);
    }
    if (depth > 1) throw pyFail("ValueError", "Max string recursion exceeded");
    const fullSpec = spec.includes("{") ? render(spec, args, keywords, state, depth + 1) : spec;
    out += formatValue(value, fullSpec);
  }
  return out;
}

const PERCENT = /%(?:\(([^)]*)\))?([-+ #0]*)(\*|\d+)?(?:\.(\*|\d*))?[hlL]?([diouxXeEfFgGcrsa%])?/g;

/** `template % values` */
export function percentFormat(template: string, values: PyValue): string {
  const list = values instanceof PyTuple ? [...values.items] : [values];
  const mapping = values instanceof PyDict ? values : null;
  let next = 0;
  const take = (): PyValue => {
    if (next >= list.length) throw pyFail("TypeError", "not enough arguments for format string");
    return list[next++] ?? null;
  };
  let usedMapping = false;
  const out = template.replace(
    PERCENT,
    (
      whole,
      key: string | undefined,
      flags: string,
      width: string | undefined,
      precision: string | undefined,
      type: string | undefined,
    ) => {
      if (type === undefined)
        throw pyFail("ValueError", `unsupported format character at index ${template.indexOf(whole)}`);
      if (type === "%" && whole === "%%") return "%";
      let value: PyValue;
      if (key !== undefined) {
        if (!mapping) throw pyFail("TypeError", "format requires a mapping");
        const found = mapping.get(key);
        if (found === undefined) throw pyFail("KeyError", pyRepr(key));
        value = found;
        usedMapping = true;
      }
      const w = width === "*" ? Number(numeric(take()) ?? 0) : Number(width ?? 0);
      const p =
        precision === "*"
          ? Number(numeric(take()) ?? 0)
          : precision === undefined
            ? null
            : Number(precision || 0);
      if (type === "%") return "%";
      value ??= take();
      const spec: Spec = {
        fill: " ",
        align: flags.includes("-") ? "<" : null,
        sign: flags.includes("+") ? "+" : flags.includes(" ") ? " " : null,
        alternate: flags.includes("#"),
        zero: flags.includes("0") && !flags.includes("-"),
        width: w,
        grouping: null,
        precision: p,
        type,
      };
      return renderPercent(value, spec);
    },
  );
  if (!usedMapping && !mapping && next < list.length) {
    throw pyFail("TypeError", "not all arguments converted during string formatting");
  }
  return out;
}

function renderPercent(value: PyValue, spec: Spec): string {
  const type = spec.type;
  if ("sra".includes(type)) {
    const text = type === "s" ? pyStr(value) : type === "r" ? pyRepr(value) : pyAscii(value);
    const cut = spec.precision === null ? text : Array.from(text).slice(0, spec.precision).join("");
    return pad(cut, { ...spec, zero: false }, ">");
  }
  if (type === "c") {
    const n = numeric(value);
    const ch =
      typeof value === "string" && Array.from(value).length === 1
        ? value
        : typeof n === "bigint"
          ? String.fromCodePoint(Number(n))
          : null;
    if (ch === null) throw pyFail("TypeError", "%c requires int or char");
    return pad(ch, { ...spec, zero: false }, ">");
  }
  const n = numeric(value);
  if (n === undefined) {
    const message = "diuoxX".includes(type)
      ? `%${type} format: ${"diu".includes(type) ? "a real number" : "an integer"} is required, not ${typeName(value)}`
      : `must be real number, not ${typeName(value)}`;
    throw pyFail("TypeError", message);
  }
  if ("diuoxX".includes(type)) {
    if (typeof n === "number" && "oxX".includes(type))
      throw pyFail("TypeError", `%${type} format: an integer is required, not float`);
    const int = typeof n === "number" ? BigInt(Math.trunc(n)) : n;
    const text = formatInt(int, { ...spec, type: "diu".includes(type) ? "d" : type });
    return pad(precisionDigits(text, spec.precision), spec, ">");
  }
  return pad(formatFloat(toFloat(n), { ...spec, precision: spec.precision ?? 6 }), spec, ">");
}

/** `%.3d` pads the digits with zeros to the precision. */
function precisionDigits(text: string, precision: number | null): string {
  if (precision === null) return text;
  const m = /^([+\- ]?(?:0[xXo])?)(\d*)$/.exec(text);
  if (!m) return text;
  return (m[1] ?? "") + (m[2] ?? "").padStart(precision, "0");
}
