/**
 * The reference for the differential test of the Body interpreter: CPython 3 (`python3`) running each Body as
 * murano-agent 10.0.0 does, in one long-lived process (JSON lines in, JSON lines out, in order).
 *
 * murano-agent's semantics, as its sources read (execution_plan_runner.py, bunch.py, script_runner.py,
 * executors/application, execution_result.py, execution_plan_queue.py): the Body is unindented (tabs expanded to
 * 4, the smallest indent removed), indented by 4 under `def __execution_plan_main():` and `exec`uted with
 * globals `args` (a Bunch — a dict whose attributes are its keys — of `json.loads(Parameters)`) and one
 * ScriptRunner per script (callable, and `name.anything(...)` calls it too, through
 * `ApplicationExecutor.run(function, commandline='', input=None)`; a call returns a Bunch `{exitCode, stdout,
 * stderr}`). The return value is written with `json.dumps` (a failure there is the plan's code-1 error); an
 * exception gives ErrorCode 1 (an AgentException its own code and data) and Message `str(exception)`. A Body that
 * does not compile is a syntax error. A Body running over 2 s of CPU is answered `hang` (the generator must not
 * make such Bodies).
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { BodyCase, Outcome } from "./body_case.ts";

const REFERENCE = String.raw`
import json, resource, signal, sys, tracemalloc
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
sys.setrecursionlimit(1000)

class Bunch(dict):
    def __getattr__(self, item):
        return self.__getitem__(item)
    def __setattr__(self, key, value):
        return self.__setitem__(key, value)
    def __delattr__(self, key):
        del self[key]

class AgentException(Exception):
    def __init__(self, code, message, additional_data):
        super().__init__(message)
        self.error_code = code
        self.additional_data = additional_data

class ApplicationExecutor(object):
    def __init__(self, spec):
        self.spec = spec
    def run(self, function, commandline='', input=None):
        spec = self.spec
        line = '{0}'.format(commandline)
        stdout = '%s:%s' % (spec['name'], line) if spec['echo'] else spec['stdout']
        result = {'exitCode': spec['exitCode'], 'stdout': stdout, 'stderr': spec['stderr']}
        if spec['verify'] and spec['exitCode'] != 0:
            raise AgentException(100, 'Script {0} returned error code'.format(spec['name']), result)
        return Bunch(result)

class FunctionRunner(object):
    def __init__(self, name, script_runner):
        self._name = name
        self._script_executor = script_runner
    def __call__(self, *args, **kwargs):
        return self._script_executor.execute_function(self._name, *args, **kwargs)

class ScriptRunner(object):
    def __init__(self, spec):
        self._executor = ApplicationExecutor(spec)
    def __call__(self, *args, **kwargs):
        return self.execute_function(None, *args, **kwargs)
    def execute_function(self, name, *args, **kwargs):
        return self._executor.run(name, *args, **kwargs)
    def __getattr__(self, item):
        return FunctionRunner(item, self)

def unindent(script, initial_indent):
    lines = script.expandtabs(4).split('\n')
    least = sys.maxsize
    for line in lines:
        stripped = len(line) - len(line.lstrip(' '))
        if stripped < len(line):
            least = min(least, stripped)
    return '\n'.join(' ' * initial_indent + line[least:] for line in lines)

WRAPPER_END = '''
try:
    __execution_plan_result = __execution_plan_main()
except Exception as e:
    __execution_plan_exception = e
'''

class Hang(BaseException):
    pass

def on_alarm(signum, frame):
    raise Hang()

signal.signal(signal.SIGVTALRM, on_alarm)

def run(case):
    source = 'def __execution_plan_main():\n' + unindent(case['body'], 4) + WRAPPER_END
    try:
        code = compile(source, '<string>', 'exec')
    except (SyntaxError, ValueError) as e:
        return {'kind': 'syntax', 'message': str(e)}
    scope = {'args': Bunch(json.loads(case['params']) or {})}
    for spec in case['scripts']:
        scope[spec['name']] = ScriptRunner(spec)
    trace = case.get('trace')
    # Traced, allocations run slower: more time, and the peak is the Body's own (not the compile's, not the dumps').
    signal.setitimer(signal.ITIMER_VIRTUAL, 10.0 if trace else 2.0)
    try:
        if trace:
            tracemalloc.start()
            try:
                exec(code, scope)
                peak[0] = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
        else:
            exec(code, scope)
        error = scope.get('__execution_plan_exception')
        if error is None:
            try:
                return {'kind': 'ok', 'json': json.dumps(scope.get('__execution_plan_result'))}
            except Exception as e:
                error = e
    except Hang:
        return {'kind': 'hang', 'message': 'CPython ran over 2 s'}
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
    if isinstance(error, AgentException):
        info = json.dumps(error.additional_data, separators=(',', ':'), ensure_ascii=False)
        return {'kind': 'error', 'code': error.error_code, 'type': None, 'message': str(error), 'info': info}
    return {'kind': 'error', 'code': 1, 'type': type(error).__name__, 'message': str(error), 'info': None}

peak = [0]

for raw in sys.stdin:
    try:
        case = json.loads(raw)
        peak[0] = 0
        answer = run(case)
        if case.get('trace'):
            answer['peak'] = peak[0]
    except Hang:
        answer = {'kind': 'hang', 'message': 'CPython ran over 2 s'}
    except BaseException as e:
        answer = {'kind': 'hang', 'message': 'reference failed: %r' % (e,)}
    sys.stdout.write(json.dumps(answer) + '\n')
    sys.stdout.flush()
`;

/** A running python3 with murano-agent's semantics; answers come back in the order cases were sent. */
export class PythonBodies {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiting: ((o: Outcome) => void)[] = [];
  #failed: Error | null = null;

  /** `hashSeed`: PYTHONHASHSEED, which orders sets of strings (run two to find Bodies that depend on it). */
  constructor(options: { hashSeed?: number } = {}) {
    const env = { ...process.env, PYTHONHASHSEED: String(options.hashSeed ?? 0), PYTHONWARNINGS: "ignore" };
    this.#child = spawn("python3", ["-c", REFERENCE], { stdio: ["pipe", "pipe", "pipe"], env });
    let stderr = "";
    this.#child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    this.#child.on("exit", (code) => {
      this.#failed = new Error(`python3 exited (${code}): ${stderr}`);
      for (const reject of this.#waiting.splice(0)) {
        reject({ kind: "hang", message: this.#failed.message });
      }
    });
    createInterface({ input: this.#child.stdout }).on("line", (line) => {
      this.#waiting.shift()?.(JSON.parse(line) as Outcome);
    });
  }

  /** CPython's answer to each case (one process for the whole batch, written and read as a stream). */
  run(cases: readonly BodyCase[]): Promise<Outcome[]> {
    return this.#send(cases);
  }

  /**
   * The most memory, in bytes, CPython's allocator held at once while it executed each case's Body (tracemalloc's
   * peak over the `exec` alone: not the compile, not the result's `json.dumps`), with its answer. Traced runs are
   * slower: they get 10 s of CPU instead of 2.
   */
  async peaks(cases: readonly BodyCase[]): Promise<{ outcome: Outcome; peak: number }[]> {
    const answers = await this.#send(cases.map((c) => ({ ...c, trace: true })));
    return answers.map((a) => {
      const { peak, ...outcome } = a as Outcome & { peak?: number };
      return { outcome: outcome as Outcome, peak: peak ?? 0 };
    });
  }

  #send(cases: readonly (BodyCase & { trace?: boolean })[]): Promise<Outcome[]> {
    if (this.#failed) return Promise.reject(this.#failed);
    const answers = cases.map(
      (c) =>
        new Promise<Outcome>((resolve) => {
          this.#waiting.push(resolve);
          this.#child.stdin.write(`${JSON.stringify(c)}\n`);
        }),
    );
    return Promise.all(answers);
  }

  close(): void {
    this.#child.stdin.end();
  }
}
