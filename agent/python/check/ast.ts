/**
 * The checked syntax tree of a Body: only the constructs the interpreter supports exist here, so a tree
 * that was built is a tree that may run. Built by parser.ts, walked by evaluator.ts.
 */
import type { SourcePos } from "../runtime/exceptions.ts";

export type BinaryOp = "+" | "-" | "*" | "/" | "//" | "%" | "**";
export type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in" | "is" | "is not";

/** A constant literal: None, bool, int (bigint), float (number) or str. */
export type Literal = null | boolean | bigint | number | string;

export type Expr =
  | { kind: "literal"; value: Literal }
  | { kind: "name"; name: string; pos: SourcePos }
  | { kind: "attribute"; object: Expr; name: string }
  | { kind: "subscript"; object: Expr; index: Expr }
  | { kind: "slice"; lower: Expr | null; upper: Expr | null; step: Expr | null }
  | { kind: "call"; callee: Expr; args: Expr[]; keywords: Keyword[] }
  | { kind: "binary"; op: BinaryOp; left: Expr; right: Expr }
  | { kind: "unary"; op: "-" | "+" | "not"; operand: Expr }
  | { kind: "logical"; op: "and" | "or"; left: Expr; right: Expr }
  | { kind: "compare"; first: Expr; rest: { op: CompareOp; right: Expr }[] }
  | { kind: "conditional"; test: Expr; whenTrue: Expr; whenFalse: Expr }
  | { kind: "list" | "tuple" | "set"; items: Expr[] }
  | { kind: "dict"; entries: { key: Expr; value: Expr }[] }
  | { kind: "comprehension"; result: "list" | "set" | "generator"; element: Expr; loops: ComprehensionLoop[] }
  | { kind: "dictComprehension"; key: Expr; value: Expr; loops: ComprehensionLoop[] }
  | { kind: "fstring"; parts: (string | FormatField)[] };

export interface Keyword {
  name: string;
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
  | { kind: "unpack"; items: Target[] };

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
