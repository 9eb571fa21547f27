/**
 * Downloadable files (plan format 2.1+): fetched into a folder as murano-agent's FilesManager does — a git
 * repository is cloned into the folder, an svn URL checked out, anything else downloaded into the folder under
 * the URL's last `/`-segment (query string included, murano's naming rule).
 *
 * Fixed murano-agent 10.0.0 bugs: its errors end in "'X' object has no attribute 'message'" (Python 3), an HTTP
 * error page is saved as if it were the file, and `git+http(s)://` URLs are passed to git unchanged (which git
 * refuses). idem reports the URL and the reason (code 1), refuses non-2xx answers, and strips `git+`.
 */
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ErrorCode, IdemError } from "../errors.ts";
import { runCommand } from "./script_runner.ts";
import { scriptEnvironment } from "./script_user.ts";

export interface DownloadOptions {
  /** Aborting stops the transfer (and kills git/svn). */
  signal?: AbortSignal;
  /** The environment of git/svn: the scripts' (`script_user.ts`), never the agent's own. Default PATH, HOME, LANG. */
  env?: Record<string, string>;
  /**
   * The scripts run as another user (`runAs`): git and svn (run as the agent, into the agent's folder) then read
   * no configuration that user may write (its HOME: a `core.hooksPath` or `credential.helper` there would run as
   * root), and fetch nothing local (`file://`, a path): a plan could otherwise copy out a repository only root
   * may read. `configDir` is an empty folder of the agent's for svn's own configuration.
   */
  confined?: { configDir: string };
}

/** Fetches `url` into the existing, empty `folder`. Throws `IdemError(1)` naming the URL on failure. */
export async function download(url: string, folder: string, options: DownloadOptions = {}): Promise<void> {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(url) && !url.startsWith("//")) {
    throw new IdemError(ErrorCode.BodyFailed, `Provided URL is not valid ${url}`);
  }
  const confined = options.confined;
  if (isGitRepository(url)) {
    const guard = confined ? ["-c", "protocol.file.allow=never", "-c", "protocol.ext.allow=never"] : [];
    await fetchWith(
      "git",
      url,
      ["git", ...guard, "clone", "--quiet", "--", url.replace(/^git\+/, ""), folder],
      options,
    );
  } else if (isSvnRepository(url)) {
    const guard = confined ? ["--config-dir", confined.configDir] : [];
    const argv = [
      "svn",
      "checkout",
      url,
      folder,
      "--non-interactive",
      "--trust-server-cert",
      ...guard,
    ] as const;
    await fetchWith("svn", url, argv, options);
  } else {
    await downloadFile(url, folder, options);
  }
}

/** murano-agent's `_is_git_repository` (its `"git+https:/"` prefix, with one slash, included). */
export function isGitRepository(url: string): boolean {
  return (
    ["git://", "git+http://", "git+https:/"].some((prefix) => url.startsWith(prefix)) || url.endsWith(".git")
  );
}

export function isSvnRepository(url: string): boolean {
  return /https?:\/\/(.*)\/svn\/(.*)/.test(url) || /svn:\/\/(.*)/.test(url);
}

async function fetchWith(
  tool: "git" | "svn",
  url: string,
  argv: readonly [string, ...string[]],
  options: DownloadOptions,
): Promise<void> {
  const action = tool === "git" ? "clone the git repository" : "check out the svn repository";
  let result: Awaited<ReturnType<typeof runCommand>>;
  try {
    result = await runCommand(argv, {
      env: { ...toolEnvironment(options), GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" },
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === "ENOENT" ? `${tool} is not installed` : String(error);
    throw new IdemError(ErrorCode.BodyFailed, `Cannot ${action} ${url}: ${reason}`, { cause: error });
  }
  if (result.exitCode !== 0) {
    const reason = firstError(result.stderr) || `${tool} exited with code ${result.exitCode}`;
    throw new IdemError(ErrorCode.BodyFailed, `Cannot ${action} ${url}: ${reason}`);
  }
}

/** git's and svn's environment: the scripts', and with `confined` no configuration of the scripts' user. */
function toolEnvironment(options: DownloadOptions): Record<string, string> {
  const env = { ...(options.env ?? scriptEnvironment({})) };
  if (!options.confined) return env;
  delete env.XDG_CONFIG_HOME;
  // "/" is root's: no .gitconfig, .config/git or .subversion a script could have written.
  return { ...env, HOME: "/", GIT_CONFIG_GLOBAL: "/dev/null" };
}

async function downloadFile(url: string, folder: string, options: DownloadOptions): Promise<void> {
  const fail = (reason: string, cause?: unknown): never => {
    throw new IdemError(ErrorCode.BodyFailed, `Cannot download the file ${url}: ${reason}`, { cause });
  };
  const name = url.split("/").at(-1) ?? "";
  if (name === "" || name === "." || name === "..") fail("its URL does not end with a file name");
  if (!/^https?:/i.test(url)) fail("only http(s), git and svn URLs are supported");
  let response: Response;
  try {
    response = await fetch(url, options.signal ? { signal: options.signal } : {});
  } catch (error) {
    return fail(describe(error), error);
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    fail(`the server answered ${response.status} ${response.statusText}`.trim());
  }
  try {
    await pipeline(
      Readable.fromWeb(response.body as import("node:stream/web").ReadableStream),
      createWriteStream(join(folder, name)),
    );
  } catch (error) {
    fail(describe(error), error);
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}

/** git and svn put the cause on their first `fatal:` / `error:` / `svn: E…` line, advice after it. */
function firstError(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  const line = lines.find((l) => /^(fatal|error):|^svn: E\d+/.test(l)) ?? lines[0] ?? "";
  return line.replace(/^(fatal|error): /, "");
}
