/**
 * The checked syntax tree of a Body: only the constructs the interpreter supports exist here, so a tree
 * that was built is a tree that may run. Built by parser.ts, walked by evaluator.ts.
 */
import type { SourcePos } from "../runtime/exceptions.ts";

export type BinaryOp = "+" | "-" | "*" | "/" | "//" | "%" | "**" | BitwiseOp;
/** The bitwise operators: on ints and bools, and (`| & ^`, with `-`) on sets, dicts (`|`) and dict views. */
export type BitwiseOp = "|" | "&" | "^" | "<<" | ">>";
export type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in" | "is" | "is not";

/** A constant literal: None, bool, int (bigint), float (number), str, or an imaginary number (`2.5j`). */
export type Literal = null | boolean | bigint | number | string | ImaginaryLiteral;

/** `<imag>j`: the complex with real part +0.0 (the evaluator makes it a PyComplex). */
export interface ImaginaryLiteral {
  readonly imag: number;
}

export type Expr =
  | { kind: "literal"; value: Literal }
  | { kind: "name"; name: string; pos: SourcePos }
  | { kind: "attribute"; object: Expr; name: string }
  | { kind: "subscript"; object: Expr; index: Expr }
  | { kind: "slice"; lower: Expr | null; upper: Expr | null; step: Expr | null }
  | { kind: "call"; callee: Expr; args: Element[]; keywords: Keyword[] }
  | { kind: "binary"; op: BinaryOp; left: Expr; right: Expr }
  | { kind: "unary"; op: "-" | "+" | "~" | "not"; operand: Expr }
  | { kind: "logical"; op: "and" | "or"; left: Expr; right: Expr }
  | { kind: "compare"; first: Expr; rest: { op: CompareOp; right: Expr }[] }
  | { kind: "conditional"; test: Expr; whenTrue: Expr; whenFalse: Expr }
  | { kind: "list" | "tuple" | "set"; items: Element[] }
  | { kind: "dict"; entries: DictEntry[] }
  | { kind: "comprehension"; result: "list" | "set" | "generator"; element: Expr; loops: ComprehensionLoop[] }
  | { kind: "dictComprehension"; key: Expr; value: Expr; loops: ComprehensionLoop[] }
  | { kind: "fstring"; parts: (string | FormatField)[] };

/** `*value` inside a display or a call's positional arguments: the items of an iterable, spliced in. */
export interface Starred {
  kind: "starred";
  value: Expr;
}

/** An item of a list, tuple or set display, or a positional argument. */
export type Element = Expr | Starred;

/** `name=value`, or `**value` (name null): the keywords of a mapping, merged in call order. */
export interface Keyword {
  name: string | null;
  value: Expr;
}

/** `key: value`, or `**value` (key null): a mapping's entries, merged in display order. */
export interface DictEntry {
  key: Expr | null;
  value: Expr;
}

export interface ComprehensionLoop {
  target: Target;
  iterable: Expr;
  conditions: Expr[];
}

/** One `{expr!conv:spec}` of an f-string; the spec may itself hold fields. */
export interface FormatField {
  expr: Expr;
  conversion: "r" | "s" | "a" | null;
  spec: (string | FormatField)[];
}

export type Target =
  | { kind: "name"; name: string }
  | { kind: "attribute"; object: Expr; name: string }
  | { kind: "subscript"; object: Expr; index: Expr }
  | { kind: "unpack"; items: Target[] }
  /** `a, *rest, z = …`: the targets before and after the starred one, which takes a list of the rest. */
  | { kind: "starUnpack"; before: Target[]; star: Target; after: Target[] };

export type Stmt =
  | { kind: "expr"; expr: Expr }
  | { kind: "assign"; targets: Target[]; value: Expr }
  | { kind: "augassign"; target: Target; op: BinaryOp; value: Expr }
  | { kind: "if"; branches: { test: Expr; body: Stmt[] }[]; otherwise: Stmt[] }
  | { kind: "for"; target: Target; iterable: Expr; body: Stmt[]; otherwise: Stmt[] }
  | { kind: "return"; value: Expr | null }
  | { kind: "pass" | "break" | "continue" };

/** A whole checked Body: its statements and the names it assigns (Python makes those function locals). */
export interface BodyTree {
  statements: Stmt[];
  locals: ReadonlySet<string>;
}
