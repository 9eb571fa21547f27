/**
 * Python's `repr()` of a plain JSON value (agent/json/plain.ts), as murano-agent's validation messages show the
 * dicts, lists and strings of a plan (`Invalid file f1: {'Name': 'a'}`, `Script deploy misses file {'x': 'y'}`).
 * Numbers are the plain view's: an integer-valued float shows as an int here.
 */

/** Python's repr() of a JSON value, as murano-agent's messages show dicts and lists. */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return pyStr(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  if (typeof value === "object") {
    return `{${Object.entries(value)
      .map(([k, v]) => `${pyStr(k)}: ${pyRepr(v)}`)
      .join(", ")}}`;
  }
  return String(value);
}

function pyStr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === "\\" || ch === quote) out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || (code >= 0x7f && code < 0xa0)) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + quote;
}
