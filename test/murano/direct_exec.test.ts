/**
 * agent/murano/direct_exec.ts: a script the agent starts without `/bin/sh -c` sees and reports exactly what it
 * would have through the shell — checked differentially with real processes: each case runs once as it is
 * (direct when plain) and once with ` ;` after the command line, which forces the shell and changes nothing else
 * (the script is the list's only command). The script prints its `$PPID`, which tells the two paths apart (the
 * test process is the direct script's parent), then what it was given: arguments, `$0`, its environment as the
 * kernel gave it, in its order (/proc/$$/environ), its folder and its input.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import fc from "fast-check";
import { directStart } from "../../agent/murano/direct_exec.ts";
import { runScript, type ScriptRun } from "../../agent/murano/script_runner.ts";

const root = mkdtempSync(join(tmpdir(), "idem-direct-"));
after(() => rmSync(root, { recursive: true, force: true }));

const SHOW = `#!/bin/sh
echo "ppid=$PPID"
echo "zero=$0 argc=$#"
for a in "$@"; do printf '<%s>\\n' "$a"; done
tr '\\0' '\\n' < /proc/$$/environ
pwd -P
cat
case "$1" in
  exit=*) exit "\${1#exit=}" ;;
  kill=*) kill -s "\${1#kill=}" $$ ;;
  core) ulimit -c unlimited; kill -s SEGV $$ ;;
  trap) trap 'echo caught; exit 5' TERM; echo ready >&2; while :; do sleep 0.05; done ;;
  background) (sleep 10) & exit 4 ;;
esac
`;

function folder(name: string, files: Record<string, { text: string; mode?: number }>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, { text, mode }] of Object.entries(files)) {
    writeFileSync(join(dir, file), text);
    chmodSync(join(dir, file), mode ?? 0o755);
  }
  return dir;
}

const showDir = folder("show", { "show.sh": { text: SHOW } });
const BASE_ENV = { PATH: "/usr/bin:/bin", HOME: "/", LANG: "C.UTF-8" };

interface Case {
  cwd?: string;
  entryPoint?: string;
  commandline?: string;
  env?: Record<string, string>;
  input?: string | null;
  timeoutMs?: number;
  /** Aborts the run once the started process has exited, before the agent could reap it (its event loop held). */
  abortAfterExit?: boolean;
}

function run(c: Case, shell: boolean): Promise<ScriptRun> {
  const commandline = c.commandline ?? "";
  return runScript({
    cwd: c.cwd ?? showDir,
    entryPoint: c.entryPoint ?? "show.sh",
    commandline: shell ? `${commandline} ;` : commandline,
    input: c.input ?? null,
    env: c.env ?? BASE_ENV,
    outputCapBytes: 1 << 20,
    killGraceMs: 2000,
    ...(c.timeoutMs === undefined ? {} : { timeoutMs: c.timeoutMs }),
    ...(c.abortAfterExit ? abortAfterExit() : {}),
  });
}

/** An abort signal and an onSpawn that, holding the event loop, waits for the process to exit, then aborts. */
function abortAfterExit() {
  const controller = new AbortController();
  return {
    signal: controller.signal,
    onSpawn(pid: number) {
      // Synchronously, so that the agent's reaper (on the event loop) cannot run in between: /proc says when the
      // process is a zombie.
      const deadline = Date.now() + 10_000;
      while (!readFileSync(`/proc/${pid}/stat`, "latin1").match(/\) Z /)) {
        if (Date.now() > deadline) throw new Error(`process ${pid} did not exit`);
      }
      controller.abort();
    },
  };
}

/** Runs the case both ways; returns both with the `ppid=` line taken out of stdout and whether each was direct. */
async function both(c: Case) {
  const strip = (result: ScriptRun) => {
    const lines = (result.stdout ?? "").split("\n");
    const direct = lines[0] === `ppid=${process.pid}`;
    const stdout = lines[0]?.startsWith("ppid=") ? lines.slice(1).join("\n") : result.stdout;
    return { direct, seen: { ...result, stdout, pgid: 0 } };
  };
  const plain = strip(await run(c, false));
  const shell = strip(await run(c, true));
  assert.equal(shell.direct, false, "the ` ;` twin must go through the shell");
  return { plain, shell };
}

async function sameAsShell(c: Case, direct = true): Promise<ScriptRun> {
  const { plain, shell } = await both(c);
  assert.equal(plain.direct, direct, direct ? "expected a direct start" : "expected the shell");
  assert.deepEqual(plain.seen, shell.seen);
  return plain.seen;
}

test("plain words reach the script as the shell splits them (property, both ways)", async (t) => {
  const seed = Number(process.env.IDEM_SEED ?? Date.now() % 2 ** 31);
  t.diagnostic(`seed ${seed} (IDEM_SEED=${seed} repeats this run)`);
  const word = fc.stringMatching(/^[A-Za-z0-9_./,:=+@%-]{1,12}$/);
  const blank = fc.constantFrom(" ", "  ", "\t", " \t ");
  const commandline = fc
    .tuple(fc.array(fc.tuple(blank, word), { maxLength: 5 }), fc.constantFrom("", " ", "\t"))
    .map(([pairs, end]) => pairs.map(([b, w]) => `${b}${w}`).join("") + end);
  await fc.assert(
    fc.asyncProperty(commandline, async (line) => {
      const seen = await sameAsShell({ commandline: line });
      assert.match(seen.stdout ?? "", /^zero=\.\/show\.sh argc=/);
    }),
    { seed, numRuns: 25, endOnFailure: true },
  );
});

test("the environment is passed as the shell passes it: values as they are, PWD the physical folder", async () => {
  const linked = join(root, "linked");
  symlinkSync(showDir, linked);
  const env = { ...BASE_ENV, MULTI: "a\nb", UNICODE: "é✓", EQUALS: "x=y", EMPTY: "", OLDPWD: "/x" };
  const seen = await sameAsShell({ cwd: linked, env });
  assert.ok(seen.stdout?.includes(`PWD=${showDir}\n`), seen.stdout ?? "");
  assert.ok(seen.stdout?.includes("UNICODE=é✓\n"), seen.stdout ?? "");
});

test("the environment reaches the script in dash's own order, whatever the names (property, both ways)", async (t) => {
  const seed = Number(process.env.IDEM_SEED ?? Date.now() % 2 ** 31);
  t.diagnostic(`seed ${seed} (IDEM_SEED=${seed} repeats this run)`);
  // dash's own variables among them: they keep the places dash gives them before it imports the environment.
  const known = fc.constantFrom(
    "PATH",
    "MAIL",
    "MAILPATH",
    "PS1",
    "PS2",
    "PS4",
    "HOME",
    "LANG",
    "LINENO",
    "_",
  );
  const name = fc.oneof(known, fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/));
  const env = fc
    .uniqueArray(name, { maxLength: 16 })
    .map((names) =>
      Object.fromEntries(names.filter((n) => !/^(IFS|OPTIND|PPID|PWD)$/.test(n)).map((n) => [n, "v"])),
    );
  await fc.assert(
    fc.asyncProperty(env, async (vars) => void (await sameAsShell({ env: vars }))),
    { seed, numRuns: 25, endOnFailure: true },
  );
});

test("names the shell would drop or set leave the script to the shell", async () => {
  for (const extra of [
    { IFS: ":" },
    { OPTIND: "3" },
    { PPID: "1" },
    { PWD: "/" },
    { "A-B": "1" },
    { "1X": "2" },
  ]) {
    const env = { ...BASE_ENV, ...extra };
    assert.equal(directStart({ cwd: showDir, entryPoint: "show.sh", commandline: "", env }), undefined);
    const { plain } = await both({ env });
    assert.equal(plain.direct, false, JSON.stringify(extra));
  }
});

test("shell syntax in the command line or the entry point's name leaves the script to the shell", async () => {
  for (const commandline of [
    "$HOME",
    "'a b'",
    "a\\ b",
    "*",
    "~",
    "#x",
    "a;b",
    "a|cat",
    ">out",
    "a\nb",
    "é",
  ]) {
    assert.equal(directStart({ cwd: showDir, entryPoint: "show.sh", commandline, env: BASE_ENV }), undefined);
  }
  const odd = folder("odd", { "a$b.sh": { text: SHOW } });
  assert.equal(directStart({ cwd: odd, entryPoint: "a$b.sh", commandline: "", env: BASE_ENV }), undefined);
  await sameAsShell({ cwd: odd, entryPoint: "a$b.sh" }, false);
});

test("exit statuses and deaths by signal are reported as the shell reports them", async () => {
  for (const commandline of [
    "exit=0",
    "exit=3",
    "exit=255",
    "kill=KILL",
    "kill=TERM",
    "kill=INT",
    "kill=PIPE",
    "kill=40",
    "core",
  ]) {
    const seen = await sameAsShell({ commandline });
    if (commandline === "kill=KILL") assert.deepEqual([seen.exitCode, seen.stderr], [137, "Killed"]);
    if (commandline === "kill=PIPE") assert.deepEqual([seen.exitCode, seen.stderr], [141, null]);
    if (commandline === "exit=3") assert.equal(seen.exitCode, 3);
  }
});

test("input reaches the script's stdin", async () => {
  const seen = await sameAsShell({ input: "line one\nline two" });
  assert.match(seen.stdout ?? "", /line one\nline two$/);
});

test("a script the agent kills is reported as the shell's death by TERM, even when it traps TERM", async () => {
  // Whether the TERM finds the trap set depends on how far the script got in 300 ms: its output may differ between
  // the two runs, its end may not.
  const { plain, shell } = await both({ commandline: "trap", timeoutMs: 300 });
  assert.equal(plain.direct, true);
  for (const seen of [plain.seen, shell.seen])
    assert.deepEqual([seen.killed, seen.exitCode], ["timeout", -15]);
});

test("a group killed after the script itself ended reports the script's own end, as the shell's would be", async () => {
  // The script exits 4 at once; its background child holds the pipes until the timeout kills the group.
  // 2 s: the script (environ, pwd, cat, then exit 4) ends well before it, on a loaded machine too.
  const seen = await sameAsShell({ commandline: "background", timeoutMs: 2000 });
  assert.deepEqual([seen.killed, seen.exitCode], ["timeout", 4]);
});

test("a group killed after the script exited but before the agent reaped it reports the script's own end", async () => {
  const seen = await sameAsShell({ commandline: "exit=0", abortAfterExit: true });
  assert.deepEqual([seen.killed, seen.exitCode], ["abort", 0]);
});

test("names that act on dash itself (the loader's, malloc's) leave the script to the shell", async () => {
  for (const extra of [
    { LD_PRELOAD: "/nonexistent.so" },
    { LD_LIBRARY_PATH: "/x" },
    { GLIBC_TUNABLES: "" },
  ]) {
    const env = { ...BASE_ENV, ...extra };
    assert.equal(directStart({ cwd: showDir, entryPoint: "show.sh", commandline: "", env }), undefined);
    const { plain } = await both({ env });
    assert.equal(plain.direct, false, JSON.stringify(extra));
  }
});

test("an environment name __proto__ reaches the script as the shell passes it", async () => {
  const env = JSON.parse('{"PATH":"/usr/bin:/bin","__proto__":"polluted","LANG":"C.UTF-8"}');
  const seen = await sameAsShell({ env });
  assert.ok(seen.stdout?.includes("__proto__=polluted\n"), seen.stdout ?? "");
});

test("a command line too long for the shell's argument fails as it did through the shell", async () => {
  const commandline = Array.from({ length: 14_000 }, () => "wordwordw").join(" ");
  assert.equal(directStart({ cwd: showDir, entryPoint: "show.sh", commandline, env: BASE_ENV }), undefined);
  await assert.rejects(run({ commandline }, false), /E2BIG/);
});

test("an entry point that cannot be started gets the shell's own message and status", async () => {
  const dir = folder("broken", {
    "plain.txt": { text: "#!/bin/sh\necho hi\n", mode: 0o644 },
    "noshebang.sh": { text: 'echo "no shebang $# $1"\n' },
    "badinterp.sh": { text: "#!/nonexistent/interpreter\n" },
  });
  const missing = await sameAsShell({ cwd: dir, entryPoint: "missing.sh" }, false);
  assert.equal(missing.exitCode, 127);
  assert.match(missing.stderr ?? "", /missing\.sh: not found/);
  const notExecutable = await sameAsShell({ cwd: dir, entryPoint: "plain.txt" }, false);
  assert.equal(notExecutable.exitCode, 126);
  assert.match(notExecutable.stderr ?? "", /Permission denied/);
  assert.equal((await sameAsShell({ cwd: dir, entryPoint: "badinterp.sh" }, false)).exitCode, 127);
  // No `#!` line: run by /bin/sh either way (dash does the same itself).
  const noShebang = await both({ cwd: dir, entryPoint: "noshebang.sh", commandline: "x" });
  assert.deepEqual(noShebang.plain.seen, noShebang.shell.seen);
  assert.equal(noShebang.plain.seen.stdout, "no shebang 1 x");
});
