/**
 * The full Python 3.11 syntax tree the parser builds (CPython's `ast` module, abridged): every construct of the
 * language, so that CPython's compile-time checks (compile_checks.ts) can run on any Body before the checker
 * (checker.ts) keeps the subset and turns it into the evaluator's tree (ast.ts). `at` is the offset of the
 * node's first character in the compiled text.
 */

export type ExprContext = "load" | "store" | "del";

export interface PyComplex {
  imag: number;
}

/** A constant: None, bool, int, float, str, bytes (as a marker), complex or Ellipsis. */
export type ConstValue =
  | null
  | boolean
  | bigint
  | number
  | string
  | PyComplex
  | { bytes: string }
  | { ellipsis: true };

export interface Keyword {
  /** null for `**mapping`. */
  arg: string | null;
  value: PExpr;
  at: number;
}

export interface Comprehension {
  target: PExpr;
  iter: PExpr;
  ifs: PExpr[];
  isAsync: boolean;
  at: number;
}

export interface FormattedValue {
  value: PExpr;
  conversion: "r" | "s" | "a" | null;
  spec: (string | FormattedValue)[] | null;
  at: number;
}

export interface Arguments {
  posonly: Arg[];
  args: Arg[];
  vararg: Arg | null;
  kwonly: Arg[];
  kwarg: Arg | null;
  /** Defaults of the last positional parameters, and of the keyword-only ones (null: none). */
  defaults: PExpr[];
  kwDefaults: (PExpr | null)[];
}

export interface Arg {
  name: string;
  annotation: PExpr | null;
  at: number;
}

export type PExpr =
  | { t: "Name"; id: string; at: number }
  | { t: "Constant"; value: ConstValue; at: number }
  | { t: "JoinedStr"; parts: (string | FormattedValue)[]; at: number }
  | { t: "Attribute"; value: PExpr; attr: string; at: number; attrAt: number }
  | { t: "Subscript"; value: PExpr; slice: PExpr; at: number }
  | { t: "Slice"; lower: PExpr | null; upper: PExpr | null; step: PExpr | null; at: number }
  | { t: "Starred"; value: PExpr; at: number }
  | { t: "Call"; func: PExpr; args: PExpr[]; keywords: Keyword[]; at: number }
  | { t: "BinOp"; op: string; left: PExpr; right: PExpr; at: number; opAt: number }
  | { t: "UnaryOp"; op: "-" | "+" | "~" | "not"; operand: PExpr; at: number }
  | { t: "BoolOp"; op: "and" | "or"; values: PExpr[]; at: number }
  | { t: "Compare"; left: PExpr; ops: string[]; comparators: PExpr[]; at: number }
  | { t: "IfExp"; test: PExpr; body: PExpr; orelse: PExpr; at: number }
  | { t: "NamedExpr"; target: PExpr; value: PExpr; at: number; parens?: boolean }
  | { t: "Lambda"; args: Arguments; body: PExpr; at: number }
  | { t: "List" | "Tuple" | "Set"; elts: PExpr[]; at: number; parens?: boolean }
  | { t: "Dict"; keys: (PExpr | null)[]; values: PExpr[]; at: number }
  | { t: "ListComp" | "SetComp" | "GeneratorExp"; elt: PExpr; generators: Comprehension[]; at: number }
  | { t: "DictComp"; key: PExpr; value: PExpr; generators: Comprehension[]; at: number }
  | { t: "Await"; value: PExpr; at: number }
  | { t: "Yield"; value: PExpr | null; at: number }
  | { t: "YieldFrom"; value: PExpr; at: number };

export interface Alias {
  name: string;
  asname: string | null;
  at: number;
}

export interface WithItem {
  context: PExpr;
  vars: PExpr | null;
}

export interface Handler {
  type: PExpr | null;
  name: string | null;
  body: PStmt[];
  at: number;
}

export interface MatchCase {
  pattern: Pattern;
  guard: PExpr | null;
  body: PStmt[];
}

export type Pattern =
  | { t: "MatchValue"; value: PExpr; at: number }
  | { t: "MatchSingleton"; value: null | boolean; at: number }
  | { t: "MatchSequence"; patterns: Pattern[]; at: number }
  | { t: "MatchMapping"; keys: PExpr[]; patterns: Pattern[]; rest: string | null; at: number }
  | {
      t: "MatchClass";
      cls: PExpr;
      patterns: Pattern[];
      kwdAttrs: string[];
      kwdPatterns: Pattern[];
      at: number;
    }
  | { t: "MatchStar"; name: string | null; at: number }
  | { t: "MatchAs"; pattern: Pattern | null; name: string | null; at: number }
  | { t: "MatchOr"; patterns: Pattern[]; at: number };

export type PStmt =
  | {
      t: "FunctionDef";
      name: string;
      args: Arguments;
      body: PStmt[];
      decorators: PExpr[];
      returns: PExpr | null;
      isAsync: boolean;
      at: number;
    }
  | {
      t: "ClassDef";
      name: string;
      bases: PExpr[];
      keywords: Keyword[];
      body: PStmt[];
      decorators: PExpr[];
      at: number;
    }
  | { t: "Return"; value: PExpr | null; at: number }
  | { t: "Delete"; targets: PExpr[]; at: number }
  | { t: "Assign"; targets: PExpr[]; value: PExpr; at: number }
  | { t: "AugAssign"; target: PExpr; op: string; value: PExpr; at: number; opAt: number }
  | { t: "AnnAssign"; target: PExpr; annotation: PExpr; value: PExpr | null; simple: boolean; at: number }
  | { t: "For"; target: PExpr; iter: PExpr; body: PStmt[]; orelse: PStmt[]; isAsync: boolean; at: number }
  | { t: "While"; test: PExpr; body: PStmt[]; orelse: PStmt[]; at: number }
  | { t: "If"; test: PExpr; body: PStmt[]; orelse: PStmt[]; at: number; elif?: boolean }
  | { t: "With"; items: WithItem[]; body: PStmt[]; isAsync: boolean; at: number }
  | { t: "Match"; subject: PExpr; cases: MatchCase[]; at: number }
  | { t: "Raise"; exc: PExpr | null; cause: PExpr | null; at: number }
  | {
      t: "Try";
      body: PStmt[];
      handlers: Handler[];
      orelse: PStmt[];
      finalbody: PStmt[];
      star: boolean;
      at: number;
    }
  | { t: "Assert"; test: PExpr; msg: PExpr | null; at: number }
  | { t: "Import"; names: Alias[]; at: number }
  | { t: "ImportFrom"; module: string | null; names: Alias[]; level: number; at: number }
  | { t: "Global" | "Nonlocal"; names: string[]; at: number }
  | { t: "Expr"; value: PExpr; at: number }
  | { t: "Pass" | "Break" | "Continue"; at: number };
