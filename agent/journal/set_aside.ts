/**
 * Setting a journal aside (SPEC 5.5): the journal folder is renamed, never deleted, so that an operator can
 * still read what it held; the agent then begins a fresh one. Used when the journal belongs to another VM (a
 * clone) and when an operator asks for it (`idem run --reset-journal` on a damaged journal).
 */
import { existsSync, renameSync } from "node:fs";
import { join } from "node:path";

/** Why a journal was set aside; part of the folder's new name. */
export type SetAsideReason = "other-instance" | "reset";

/**
 * Renames `<dataDir>/journal` to `<dataDir>/journal.<reason>.<UTC time>`; resolves with the new path, or
 * undefined when there was no journal. Throws what the rename throws (the caller reports it).
 */
export function setAside(dataDir: string, reason: SetAsideReason, now = new Date()): string | undefined {
  const journal = join(dataDir, "journal");
  if (!existsSync(journal)) return undefined;
  const stamp = now
    .toISOString()
    .replaceAll(":", "")
    .replace(/\.\d+Z$/, "Z");
  let target = `${journal}.${reason}.${stamp}`;
  for (let n = 2; existsSync(target); n++) target = `${journal}.${reason}.${stamp}.${n}`;
  renameSync(journal, target);
  return target;
}
