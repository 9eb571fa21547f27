/**
 * Who scripts run as, and what they see of the agent (SPEC 6, 9a): least privilege.
 *
 * - **User.** `runAs` (`{user, group?}`, names or numeric ids; names looked up with `getent`, so NSS users work,
 *   else in /etc/passwd and /etc/group) makes every script run with that uid and gid (the user's primary group
 *   unless `group` says otherwise; no supplementary groups), and the folders and files of its scripts belong to that
 *   user. The agent (root) starts each such process through util-linux's `setpriv` ({@link SETPRIV_PATHS}),
 *   which switches to the user after its own exec: libuv waits synchronously for a child's exec, and a child that
 *   switched before it (Node's spawn `uid`/`gid`) could be stopped there by any process of that user, freezing the
 *   agent. An agent that is not root can only run scripts as itself, and one without setpriv cannot run them as
 *   another user: either `runAs` is refused at start.
 * - **Environment.** A script sees PATH (the agent's, else a standard one), HOME (its user's), LANG (the agent's,
 *   else C.UTF-8), the config's `environment`, and the agent's marks `IDEM_JOURNAL` / `IDEM_EXECUTION` (which
 *   the orphan reaper relies on, so they win over `environment`). Nothing else of the agent's own environment:
 *   no broker password, no cloud credentials.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { userInfo } from "node:os";
import type { Config } from "../config.ts";
import { ErrorCode, IdemError } from "../errors.ts";

/** The user scripts run as. */
export interface ScriptUser {
  uid: number;
  gid: number;
  /** The user's name (its uid as text when it has none). */
  name: string;
  /** The user's home folder, from the user database ("/" when it has none). */
  home: string;
  /** True when it is not the agent's own uid and gid: scripts are started through setpriv, their files given. */
  other: boolean;
}

export interface ResolveOptions {
  /** The agent's effective uid and gid (default: the process's). */
  euid?: number;
  egid?: number;
  /** Where setpriv is (default {@link setprivPath}); undefined: not installed. */
  setpriv?: () => string | undefined;
}

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The user that `runAs` names, or undefined without `runAs` (scripts run as the agent). Throws IdemError(2)
 * when it names nobody, or another user than the agent's when the agent is not root or has no setpriv.
 */
export function resolveRunAs(runAs: Config["runAs"], options: ResolveOptions = {}): ScriptUser | undefined {
  if (runAs === undefined) return undefined;
  const euid = options.euid ?? process.geteuid?.() ?? 0;
  const egid = options.egid ?? process.getegid?.() ?? 0;
  const passwd = lookup("passwd", runAs.user);
  const uid = numericId(passwd, runAs.user, "user");
  let gid: number;
  if (runAs.group !== undefined) gid = numericId(lookup("group", runAs.group), runAs.group, "group");
  else if (passwd) gid = Number(passwd[3]);
  else {
    throw new IdemError(
      ErrorCode.InvalidPlan,
      `Cannot run scripts as uid ${uid} without a group as the user database does not know that uid: give runAs.group too`,
    );
  }
  const other = uid !== euid || gid !== egid;
  if (other && euid !== 0) {
    throw new IdemError(
      ErrorCode.InvalidPlan,
      `Cannot run scripts as ${describeUser(runAs)} (uid ${uid}, gid ${gid}) as the agent itself runs as uid ${euid}, gid ${egid}, not as root: start the agent as root, or leave runAs out to run scripts as the agent's own user`,
    );
  }
  if (other && (options.setpriv ?? setprivPath)() === undefined) {
    throw new IdemError(
      ErrorCode.InvalidPlan,
      `Cannot run scripts as ${describeUser(runAs)} (uid ${uid}, gid ${gid}) as setpriv is not installed (looked in ${SETPRIV_PATHS.join(", ")}): the agent starts such scripts through it; install util-linux's setpriv (Debian, Ubuntu, RHEL: util-linux; Alpine: setpriv), or leave runAs out`,
    );
  }
  return { uid, gid, name: passwd?.[0] ?? String(uid), home: passwd?.[5] || "/", other };
}

/** Where setpriv is looked for (fixed places: never a PATH a config or an environment could point elsewhere). */
export const SETPRIV_PATHS = ["/usr/bin/setpriv", "/bin/setpriv", "/usr/sbin/setpriv", "/sbin/setpriv"];

let setpriv: string | null | undefined;

/** The first executable of {@link SETPRIV_PATHS}, looked up once per process; undefined when there is none. */
export function setprivPath(): string | undefined {
  if (setpriv === undefined) {
    setpriv =
      SETPRIV_PATHS.find((path) => {
        try {
          accessSync(path, constants.X_OK);
          return true;
        } catch {
          return false;
        }
      }) ?? null;
  }
  return setpriv ?? undefined;
}

/** The id a user or group database entry gives, else the number given; a name nobody knows is refused. */
function numericId(entry: string[] | undefined, given: string | number, what: "user" | "group"): number {
  if (entry) return Number(entry[2]);
  if (typeof given === "number") return given;
  const as = what === "user" ? "as user" : "with group";
  throw new IdemError(
    ErrorCode.InvalidPlan,
    `Cannot run scripts ${as} "${given}" as there is no such ${what}: give runAs.${what} as an existing ${what} name or a ${what === "user" ? "uid" : "gid"}`,
  );
}

const resolved = new Map<string, ScriptUser | undefined>();

/** {@link resolveRunAs}, looked up once per process and `runAs` value. */
export function scriptUser(runAs: Config["runAs"]): ScriptUser | undefined {
  const key = JSON.stringify(runAs ?? null);
  if (!resolved.has(key)) resolved.set(key, resolveRunAs(runAs));
  return resolved.get(key);
}

/** The whole environment of a script (SPEC 6): see the module comment. */
export function scriptEnvironment(options: {
  /** The config's `environment`. */
  environment?: Readonly<Record<string, string>>;
  /** The agent's IDEM_* marks. */
  marks?: Readonly<Record<string, string>>;
  user?: ScriptUser | undefined;
}): Record<string, string> {
  const home = options.user?.home ?? process.env.HOME ?? agentHome();
  return {
    PATH: process.env.PATH || DEFAULT_PATH,
    HOME: home,
    LANG: process.env.LANG || "C.UTF-8",
    ...options.environment,
    ...options.marks,
  };
}

function agentHome(): string {
  try {
    return userInfo().homedir || "/";
  } catch {
    return "/";
  }
}

function describeUser(runAs: NonNullable<Config["runAs"]>): string {
  const user = typeof runAs.user === "number" ? `uid ${runAs.user}` : `user "${runAs.user}"`;
  if (runAs.group === undefined) return user;
  return `${user}, ${typeof runAs.group === "number" ? `gid ${runAs.group}` : `group "${runAs.group}"`}`;
}

/** The fields of the `passwd` or `group` entry for a name or id, or undefined when there is none. */
function lookup(database: "passwd" | "group", key: string | number): string[] | undefined {
  const run = spawnSync("getent", [database, String(key)], { encoding: "utf8", env: { PATH: DEFAULT_PATH } });
  if (!run.error) {
    const line = run.status === 0 ? run.stdout.split("\n")[0] : undefined;
    return line ? line.split(":") : undefined;
  }
  // No getent (a minimal image): the files themselves.
  let text: string;
  try {
    text = readFileSync(`/etc/${database}`, "utf8");
  } catch {
    return undefined;
  }
  const column = typeof key === "number" ? 2 : 0;
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields.length >= 3 && fields[column] === String(key)) return fields;
  }
  return undefined;
}
