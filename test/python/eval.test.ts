import assert from "node:assert/strict";
import { test } from "node:test";
import { IdemError } from "../../agent/errors.ts";
import {
  compileBody,
  evaluateBody,
  type PyValue,
  pyRepr,
  pyToJson,
  type ScriptCaller,
} from "../../agent/python/mod.ts";
import { pyJson } from "../helpers/json_value.ts";

interface RunOptions {
  params?: string;
  scripts?: string[];
  call?: ScriptCaller;
}

/** A fake script runner for pure-logic tests: echoes `<name>:<commandline>` as the stub scripts do. */
const echo: ScriptCaller = (name, commandline, input) => ({
  exitCode: 0,
  stdout: `${name}:${commandline}`,
  stderr: input,
});

async function run(source: string, options: RunOptions = {}): Promise<PyValue> {
  return evaluateBody(compileBody(source), {
    args: pyJson(options.params ?? "{}"),
    scripts: new Set(options.scripts ?? ["deploy"]),
    call: options.call ?? echo,
  });
}

async function repr(source: string, options: RunOptions = {}): Promise<string> {
  return pyRepr(await run(source, options));
}

async function assertFails(source: string, message: string, options: RunOptions = {}): Promise<void> {
  await assert.rejects(run(source, options), (error: unknown) => {
    assert.ok(error instanceof IdemError, `expected IdemError, got ${String(error)}`);
    assert.equal(error.code, 1);
    assert.equal(error.message, message);
    return true;
  });
}

test("a Body without return returns None", async () => {
  assert.equal(await run("x = 1"), null);
});

test("args reads Parameters by attribute and by key; nested dicts are plain dicts as in murano-agent", async () => {
  const params = '{"name": "app", "cfg": {"port": 80}}';
  assert.equal(
    await repr("return args.name, args['name'], args.cfg['port']", { params }),
    "('app', 'app', 80)",
  );
  await assertFails("return args.cfg.port", "'dict' object has no attribute 'port'", { params });
  await assertFails("return args.missing", "'missing'", { params });
});

test("a script call passes str(commandline) and returns a Bunch of exitCode, stdout and stderr", async () => {
  const seen: [string, string, string | null][] = [];
  const call: ScriptCaller = (name, commandline, input) => {
    seen.push([name, commandline, input]);
    return { exitCode: 0, stdout: "out", stderr: null };
  };
  const result = await run(
    "r = deploy('{0} {1}'.format(args.a, args.cfg))\nreturn r.stdout, r['exitCode'], deploy.fn(input=5)",
    { params: '{"a": true, "cfg": {"k": [1, "x"]}}', call },
  );
  assert.deepEqual(seen, [
    ["deploy", "True {'k': [1, 'x']}", null],
    ["deploy", "", "5"],
  ]);
  assert.equal(pyToJson(result), '["out", 0, {"exitCode": 0, "stdout": "out", "stderr": null}]');
});

test("script call arguments follow murano's run(commandline='', input=None)", async () => {
  await assertFails(
    "deploy('a', 'b', 'c')",
    "ApplicationExecutor.run() takes from 2 to 4 positional arguments but 5 were given",
  );
  await assertFails("deploy(cmd='x')", "ApplicationExecutor.run() got an unexpected keyword argument 'cmd'");
});

test("an IdemError thrown by the script runner ends the Body unchanged", async () => {
  const failure = new IdemError(100, "Script deploy returned error code", { info: { exitCode: 3 } });
  const called: string[] = [];
  const call: ScriptCaller = (name) => {
    called.push(name);
    throw failure;
  };
  await assert.rejects(run("deploy()\nafter()", { scripts: ["deploy", "after"], call }), (error) => {
    assert.equal(error, failure);
    return true;
  });
  assert.deepEqual(called, ["deploy"]);
});

test("calling a name that is no script, built-in or variable is a NameError at run time", async () => {
  await assertFails("return deploymentsName('x').stdout", "name 'deploymentsName' is not defined");
});

test("int and float arithmetic follow Python 3", async () => {
  assert.equal(
    await repr("return 7 / 2, 7 // 2, -7 // 2, -7 % 3, 2 ** 100, 2 ** -1"),
    "(3.5, 3, -4, 2, 1267650600228229401496703205376, 0.5)",
  );
  assert.equal(
    await repr("return str(2.0), int('3') * 100, float('1e3'), 0.1 + 0.2, int(-2.9)"),
    "('2.0', 300, 1000.0, 0.30000000000000004, -2)",
  );
  assert.equal(await repr("return True + 1, 1 == 1.0 == True, 10 ** 20 == 1e20"), "(2, True, True)");
  await assertFails("return 1 / 0", "division by zero");
  await assertFails("return int('abc')", "invalid literal for int() with base 10: 'abc'");
  await assertFails("return 'x' + 1", 'can only concatenate str (not "int") to str');
});

test("truthiness and and/or return operands with short-circuit", async () => {
  assert.equal(
    await repr("return [] or {} or 0 or '' or None, 1 and 'a' and [0], not '', bool('0')"),
    "(None, [0], True, True)",
  );
  assert.equal(
    await run("return args.e and deploy('never')", {
      params: '{"e": ""}',
      call: () => assert.fail("called"),
    }),
    "",
  );
});

test("comparisons chain and include in, not in, is and is not", async () => {
  assert.equal(
    await repr("return 1 < 2 < 3, 1 < 3 < 2, 'a' in 'cat', 3 not in [1], None is None, 1 is not None"),
    "(True, False, True, True, True, True)",
  );
  await assertFails("return 1 < 'a'", "'<' not supported between instances of 'int' and 'str'");
});

test("dicts keep insertion order, numeric-looking keys included", async () => {
  const params = '{"ports": {"8080": "a", "2222": "b", "1": "c"}}';
  assert.equal(await repr("return list(args.ports.keys())", { params }), "['8080', '2222', '1']");
  assert.equal(pyToJson(await run("return args.ports", { params })), '{"8080": "a", "2222": "b", "1": "c"}');
});

test("for loops unpack dict items and support break, continue and else", async () => {
  const params = '{"portMap": {"80": 8080, "443": 8443}}';
  const source = [
    "options = ['-d']",
    "for host, container in args.portMap.items():",
    "  if host == '443':",
    "    continue",
    "  options.append('-p {0}:{1}'.format(host, container))",
    "else:",
    "  options.append('done')",
    "return ' '.join(options)",
  ].join("\n");
  assert.equal(await run(source, { params }), "-d -p 80:8080 done");
});

test("assignment targets include subscripts, attributes of args, tuples and augmented assignment", async () => {
  const source =
    "d = {}\nd['n'] = 1\nd['n'] += 2\nargs.extra = 'x'\na, (b, c) = 1, [2, 3]\nl = [1]\nl += 'ab'\nreturn d, args.extra, a + b + c, l";
  assert.equal(await repr(source), "({'n': 3}, 'x', 6, [1, 'a', 'b'])");
  await assertFails("a, b = [1, 2, 3]", "too many values to unpack (expected 2)");
  await assertFails(
    "return y\ny = 1",
    "cannot access local variable 'y' where it is not associated with a value",
  );
});

test("map with a built-in, comprehensions and sorted work as in the Kubernetes plans", async () => {
  const params = '{"labels": {"app": "frontend", "tier": "web"}, "ports": [80, 443]}';
  assert.equal(
    await run("return ','.join(['='.join(t) for t in args.labels.items()])", { params }),
    "app=frontend,tier=web",
  );
  assert.equal(await run("return ' '.join(map(str, args.ports))", { params }), "80 443");
  assert.equal(await repr("return sorted(['ccc', 'a', 'bb'], key=len)"), "['a', 'bb', 'ccc']");
  assert.equal(
    await repr("return [x * 2 for x in [3, 1, 2] if x > 1], sorted([3, 1, 2], reverse=True)"),
    "([6, 4], [3, 2, 1])",
  );
});

test("run-time type errors carry CPython's messages", async () => {
  await assertFails("return len(5)", "object of type 'int' has no len()");
  await assertFails("return [1][3]", "list index out of range");
  await assertFails("return {'a': 1}['b']", "'b'");
  await assertFails("return 'x'.strip().foo", "'str' object has no attribute 'foo'");
  await assertFails("x = 5\nreturn x()", "'int' object is not callable");
});

test("operand order, pow, join and format-spec errors carry CPython 3.11's messages", async () => {
  await assertFails("return 'a' > 1", "'>' not supported between instances of 'str' and 'int'");
  await assertFails("return [1, 'a'] >= [1, 2]", "'>=' not supported between instances of 'str' and 'int'");
  await assertFails("return 1 < 'a'", "'<' not supported between instances of 'int' and 'str'");
  await assertFails("return 2 ** {}", "unsupported operand type(s) for ** or pow(): 'int' and 'dict'");
  await assertFails("return ' '.join(5)", "can only join an iterable");
  await assertFails("return ' '.join([1])", "sequence item 0: expected str instance, int found");
  await assertFails("return '{0:,}'.format('abc')", "Cannot specify ',' with 's'.");
  await assertFails("return '{0:,x}'.format(255)", "Cannot specify ',' with 'x'.");
  await assertFails(
    "return '{0:#}'.format('abc')",
    "Alternate form (#) not allowed in string format specifier",
  );
  assert.equal(await run("return '{0:_x} {0:,} {1:,.1f}'.format(65535, 1234.5)"), "ffff 65,535 1,234.5");
});
