/**
 * Dropping files from the page cache before a start, so that a benchmark sees the agent as a VM runs it after
 * boot (docs/benchmarks.md, "Start-up and idle memory"). A file just written (a fresh `node build.mjs`, a package
 * install) sits in the page cache in large folios, and one touched byte maps a whole folio into the process: the
 * same executable showed 61 MB of file-backed RSS right after its build and 49 MB once its pages had been dropped
 * and read back by the start itself. Used by bench/startup.ts (`--evict`) and bench/idem_rep.ts (`npm run bench`).
 */
import { execFileSync } from "node:child_process";

/**
 * Advises the kernel to drop `files`' cached pages (GNU dd `iflag=nocache count=0`: posix_fadvise DONTNEED over
 * the whole file). Pages some process has mapped stay; unprivileged is enough. Throws when dd fails (a missing
 * file), with dd's message.
 */
export function evictFromPageCache(files: readonly string[]): void {
  for (const file of files) {
    try {
      execFileSync("dd", [`if=${file}`, "iflag=nocache", "count=0", "status=none"], { stdio: "pipe" });
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
      throw new Error(`Cannot drop ${file} from the page cache: ${stderr || String(error)}`);
    }
  }
}
