/**
 * What a Body may name: the supported built-ins and methods, and the Python names it may not use. The checker
 * (parser.ts) refuses the rest before anything runs; the evaluator implements exactly these.
 */

/**
 * Built-in functions a Body may call: pure ones, without side effects or introspection. `map`, `filter` and
 * `key=` take only a callable of the subset (a built-in, a method, a script).
 */
export const BUILTINS: ReadonlySet<string> = new Set(
  (
    "int str float complex bool len set list dict tuple sorted map filter range zip enumerate reversed " +
    "abs round sum max min divmod pow any all isinstance repr ascii format chr ord bin oct hex"
  ).split(" "),
);

/** The built-ins that are classes in Python (`<class 'zip'>`, usable with isinstance); the others are functions. */
export const BUILTIN_TYPES: ReadonlySet<string> = new Set(
  "int str float complex bool set list dict tuple map filter range zip enumerate reversed".split(" "),
);

/** Python 2 spellings that murano-agent 10 (Python 3) fails on at run time: refused before anything runs. */
export const PYTHON2_ONLY: ReadonlySet<string> = new Set([
  "iteritems",
  "iterkeys",
  "itervalues",
  "has_key",
  "viewitems",
  "viewkeys",
  "viewvalues",
]);

/** Python's reserved words: never a name or an attribute (`args.pass` is a SyntaxError). */
export const KEYWORDS: ReadonlySet<string> = new Set(
  (
    "False None True and as assert async break class continue def del elif else except finally for " +
    "from global if import in is lambda nonlocal not or pass raise return try while with yield"
  ).split(" "),
);

/**
 * A dunder: a name of the `__name__` form (two underscores at both ends, something between: longer than 4).
 * Python's reference ("Reserved classes of identifiers") reserves `__*__` names for the interpreter: as
 * attributes they reach object internals (`x.__class__`, `args.__dict__`), as names the interpreter's own
 * globals (`__builtins__`, `__import__`, `__name__`). A Body may use none of them, in any context; `__x`, `__`,
 * `___` and `__setup` are ordinary names (CPython mangles `__x` only inside a class, which a Body cannot have).
 */
export function isDunder(name: string): boolean {
  return name.length > 4 && name.startsWith("__") && name.endsWith("__");
}

/**
 * The globals murano-agent's wrapper defines in the module the Body runs in (`__execution_plan_main`, the
 * function holding the Body, and the result and exception it stores after the Body returns). A Body reading
 * one as a global would reach murano-agent's machinery: refused; a Body may still bind them as its own locals.
 */
export const WRAPPER_GLOBALS: ReadonlySet<string> = new Set([
  "__execution_plan_main",
  "__execution_plan_result",
  "__execution_plan_exception",
]);

/**
 * Python built-ins outside the subset. CPython would find them (a plan could read files, import modules,
 * reach object internals), so a Body naming one is refused rather than left to fail at run time.
 */
export const REFUSED_BUILTINS: ReadonlySet<string> = new Set(
  (
    "abs aiter all anext any ascii bin breakpoint bytearray bytes callable chr classmethod compile complex " +
    "copyright credits delattr dir divmod enumerate eval exec exit filter format frozenset getattr globals " +
    "hasattr hash help hex id input isinstance issubclass iter len license locals max memoryview min next object " +
    "oct open ord pow print property quit range repr reversed round setattr slice staticmethod sum super type " +
    "vars zip BaseException Exception ArithmeticError AssertionError AttributeError EnvironmentError " +
    "EOFError IOError ImportError IndexError KeyError LookupError NameError NotImplemented NotImplementedError " +
    "OSError OverflowError RuntimeError StopIteration SyntaxError SystemExit TypeError ValueError " +
    "ZeroDivisionError Ellipsis"
  )
    .split(" ")
    .filter((name) => !BUILTINS.has(name)),
);
