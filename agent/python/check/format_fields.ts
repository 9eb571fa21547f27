/**
 * The attributes a literal `str.format` template reads: the `.name` parts of its replacement fields, nested
 * fields of a format spec included (CPython's MarkupIterator and FieldNameIterator, Objects/stringlib/
 * unicode_format.h). The checker refuses a dunder among them before anything runs. The walk stops where the
 * template is malformed: CPython raises its ValueError there at run time, before any attribute is read.
 */

/** The `.name` parts of every replacement field of `template`, in order. */
export function formatAttributes(template: string): string[] {
  const out: string[] = [];
  scan(template, out, 2);
  return out;
}

function scan(t: string, out: string[], depth: number): void {
  if (depth <= 0) return;
  let i = 0;
  while (i < t.length) {
    const c = t[i++];
    if (c === "}") {
      if (t[i] !== "}") return;
      i++;
      continue;
    }
    if (c !== "{") continue;
    if (t[i] === "{") {
      i++;
      continue;
    }
    // The field name runs to `}`, `:` or `!`, a `[...]` key skipped whole.
    const start = i;
    let end = -1;
    while (i < t.length) {
      const ch = t[i++];
      if (ch === "{") return;
      if (ch === "[") {
        while (i < t.length && t[i] !== "]") i++;
        continue;
      }
      if (ch === "}" || ch === ":" || ch === "!") {
        end = i - 1;
        break;
      }
    }
    if (end < 0) return;
    nameAttributes(t.slice(start, end), out);
    if (t[end] === "}") continue;
    // A conversion and/or a spec: the spec may hold nested fields, up to the matching `}`.
    let level = 1;
    const specStart = i;
    while (i < t.length && level > 0) {
      const ch = t[i++];
      if (ch === "{") level++;
      else if (ch === "}") level--;
    }
    if (level > 0) return;
    scan(t.slice(specStart, i - 1), out, depth - 1);
  }
}

/** The `.attr` parts of one field name (`0.a[k].b` gives a, b). */
function nameAttributes(name: string, out: string[]): void {
  let i = 0;
  while (i < name.length && name[i] !== "." && name[i] !== "[") i++;
  while (i < name.length) {
    const kind = name[i++];
    const start = i;
    if (kind === "[") {
      while (i < name.length && name[i] !== "]") i++;
      i++;
    } else {
      while (i < name.length && name[i] !== "." && name[i] !== "[") i++;
      if (kind === ".") out.push(name.slice(start, i));
      else return;
    }
  }
}
