/**
 * The libc functions idem calls directly, through koffi's C FFI (its napi addon, loaded as native/addon.ts says;
 * koffi's own JavaScript is not used): `posix_spawn` and what it needs (posix_spawn.ts), `malloc_trim`
 * (malloc_trim.ts) and `madvise` (start_pages.ts). Bound once, on first use. Linux with glibc ≥ 2.34 only (`posix_spawn_file_actions_addchdir_np`
 * and `..._addclosefrom_np`); elsewhere {@link libc} says why not, and the callers fall back.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { type AddonSpec, buildTarget, loadAddon } from "./addon.ts";

/** Set by build.mjs: SHA-256 of the embedded koffi addon. */
declare const __IDEM_KOFFI_SHA256__: string | undefined;

export const KOFFI: AddonSpec = {
  name: "koffi",
  file: "koffi.node",
  envVar: "IDEM_KOFFI_ADDON",
  digest: typeof __IDEM_KOFFI_SHA256__ === "string" ? __IDEM_KOFFI_SHA256__ : undefined,
  npmFile: "koffi's linux_x64/koffi.node (npm package @koromix/koffi-linux-x64)",
};

type Fn = ((...args: unknown[]) => number) & {
  /** The same call on one of koffi's worker threads; `done(error, result)` on the event loop. */
  async(...args: unknown[]): void;
};

/** The bound functions, named as in libc (`fa_` = `posix_spawn_file_actions_`, `attr_` = `posix_spawnattr_`). */
export interface LibcFunctions {
  posix_spawn: Fn;
  waitpid: Fn;
  pipe2: Fn;
  close: Fn;
  fa_init: Fn;
  fa_destroy: Fn;
  fa_adddup2: Fn;
  fa_addopen: Fn;
  fa_addchdir: Fn;
  fa_addclosefrom: Fn;
  attr_init: Fn;
  attr_destroy: Fn;
  attr_setflags: Fn;
  attr_setsigdefault: Fn;
  attr_setsigmask: Fn;
  sigfillset: Fn;
  sigemptyset: Fn;
  malloc_trim: Fn;
  madvise: Fn;
}

export type Libc = { functions: LibcFunctions; errno(): number } | { reason: string };

let bound: Libc | undefined;

/** libc's functions, or why they cannot be had here (Deno, not Linux, no koffi addon, an older libc). */
export function libc(): Libc {
  bound ??= bind();
  return bound;
}

/** What idem uses of koffi's addon. */
export interface Koffi {
  /** A library by path, or (null) the symbols of the process itself (`RTLD_DEFAULT`). */
  load(path: string | null): { func(declaration: string): Fn };
  /** errno as the last call through koffi left it. */
  errno(): number;
}

function bind(): Libc {
  if ((globalThis as { Deno?: unknown }).Deno !== undefined) return { reason: "Deno" };
  if (process.platform !== "linux") return { reason: `not Linux (${process.platform})` };
  try {
    const koffi = koffiModule();
    return { functions: bindFunctions(koffi), errno: () => koffi.errno() };
  } catch (error) {
    return { reason: (error as Error).message.split("\n")[0] ?? "koffi" };
  }
}

/**
 * The koffi addon's exports: from node_modules when running the sources, else as the bundles carry it. Throws
 * when it cannot be loaded (callers say why and fall back).
 */
export function koffiModule(): Koffi {
  if (buildTarget() !== "source") return loadAddon(KOFFI) as unknown as Koffi;
  const require = createRequire(import.meta.url);
  const arch = process.arch;
  const folder = dirname(require.resolve(`@koromix/koffi-linux-${arch}/package.json`));
  return require(join(folder, `linux_${arch}`, "koffi.node")) as Koffi;
}

function bindFunctions(koffi: Koffi): LibcFunctions {
  const lib = koffi.load("libc.so.6");
  const fn = (declaration: string) => lib.func(declaration);
  return {
    posix_spawn: fn(
      "int posix_spawn(_Out_ int *pid, const char *path, void *actions, void *attr, const char **argv, const char **envp)",
    ),
    waitpid: fn("int waitpid(int pid, _Out_ int *status, int options)"),
    pipe2: fn("int pipe2(_Out_ int *fds, int flags)"),
    close: fn("int close(int fd)"),
    fa_init: fn("int posix_spawn_file_actions_init(void *actions)"),
    fa_destroy: fn("int posix_spawn_file_actions_destroy(void *actions)"),
    fa_adddup2: fn("int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)"),
    fa_addopen: fn(
      "int posix_spawn_file_actions_addopen(void *actions, int fd, const char *path, int flags, uint32_t mode)",
    ),
    fa_addchdir: fn("int posix_spawn_file_actions_addchdir_np(void *actions, const char *path)"),
    fa_addclosefrom: fn("int posix_spawn_file_actions_addclosefrom_np(void *actions, int from)"),
    attr_init: fn("int posix_spawnattr_init(void *attr)"),
    attr_destroy: fn("int posix_spawnattr_destroy(void *attr)"),
    attr_setflags: fn("int posix_spawnattr_setflags(void *attr, short flags)"),
    attr_setsigdefault: fn("int posix_spawnattr_setsigdefault(void *attr, void *set)"),
    attr_setsigmask: fn("int posix_spawnattr_setsigmask(void *attr, void *set)"),
    sigfillset: fn("int sigfillset(void *set)"),
    sigemptyset: fn("int sigemptyset(void *set)"),
    malloc_trim: fn("int malloc_trim(size_t pad)"),
    // The address as an integer (start_pages.ts computes it from /proc/self/maps): same ABI as `void *`.
    madvise: fn("int madvise(uintptr_t addr, size_t length, int advice)"),
  };
}
