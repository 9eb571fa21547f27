/**
 * Reads string literals: plain, raw, implicitly concatenated and f-strings (`{expr!r:spec}`, nested specs).
 */
import type { SyntaxNode } from "@lezer/common";
import type { Expr, FormatField } from "./ast.ts";
import { refuse, syntaxFail } from "./exceptions.ts";
import { decodeEscapes, decodeStringToken, splitStringToken } from "./literals.ts";
import { kids, type Reader, readExpr, snippet, text } from "./parse_expr.ts";

/**
 * murano-agent runs the Body as a function body, indented by 4 spaces: every line of a multi-line string
 * literal after its first gets those 4 spaces too.
 */
function wrapperIndent(source: string): string {
  return source.replace(/\n/g, "\n    ");
}

/** String, f-string and implicitly concatenated strings. */
export function readString(r: Reader, n: SyntaxNode): Expr {
  const pieces = n.name === "ContinuedString" ? kids(n) : [n];
  const parts: (string | FormatField)[] = [];
  for (const piece of pieces) {
    if (piece.name === "String")
      parts.push(decodeStringToken(wrapperIndent(text(r, piece)), r.pos(piece.from)));
    else if (piece.name === "FormatString") parts.push(...readFormatString(r, piece));
    else throw syntaxFail("invalid syntax", r.pos(piece.from));
  }
  if (parts.every((p) => typeof p === "string")) return { kind: "literal", value: parts.join("") };
  return { kind: "fstring", parts };
}

function readFormatString(r: Reader, n: SyntaxNode): (string | FormatField)[] {
  const { prefix, quote } = splitStringToken(text(r, n), r.pos(n.from));
  const start = n.from + prefix.length + quote.length;
  return readFormatParts(r, kids(n), start, n.to - quote.length, prefix.includes("r"));
}

function readFormatParts(
  r: Reader,
  fields: SyntaxNode[],
  from: number,
  to: number,
  raw: boolean,
): (string | FormatField)[] {
  const parts: (string | FormatField)[] = [];
  let cursor = from;
  const literal = (end: number): void => {
    const chunk = wrapperIndent(r.text.slice(cursor, end)).replace(/\{\{/g, "{").replace(/\}\}/g, "}");
    if (chunk) parts.push(raw ? chunk : decodeEscapes(chunk, r.pos(cursor)));
  };
  for (const field of fields) {
    if (field.name !== "FormatReplacement") continue;
    literal(field.from);
    parts.push(readFormatField(r, field, raw));
    cursor = field.to;
  }
  literal(to);
  return parts;
}

function readFormatField(r: Reader, field: SyntaxNode, raw: boolean): FormatField {
  const c = kids(field).slice(1, -1);
  const exprNode = c[0];
  if (!exprNode) throw syntaxFail("invalid syntax", r.pos(field.from));
  let conversion: FormatField["conversion"] = null;
  let spec: (string | FormatField)[] = [];
  for (const part of c.slice(1)) {
    if (part.name === "FormatConversion") {
      const conv = text(r, part).slice(1);
      if (conv !== "r" && conv !== "s" && conv !== "a")
        throw syntaxFail("invalid f-string conversion", r.pos(part.from));
      conversion = conv;
    } else if (part.name === "FormatSpec") {
      spec = readFormatParts(r, kids(part), part.from + 1, part.to, raw);
    } else {
      throw refuse(`"${snippet(r, part)}" in an f-string is not supported`, r.pos(part.from));
    }
  }
  return { expr: readExpr(r, exprNode), conversion, spec };
}
