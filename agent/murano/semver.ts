/**
 * Semantic versions as murano-agent reads a plan's FormatVersion (python-semanticversion's `Version` and `Spec`,
 * SemVer 2.0.0 precedence): parsing, printing, comparing, and the version ranges of its validation rules.
 */

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  prerelease: string[];
  build: string;
}

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/;

/** `"2.1.0-rc.1+b5"` → its parts; undefined when `text` is not a semantic version (`"2.1"`, `"v2.1.0"`). */
export function parseSemVer(text: string): SemVer | undefined {
  const match = SEMVER.exec(text);
  if (!match) return undefined;
  const [, major, minor, patch, prerelease, build] = match;
  return {
    major: Number(major),
    minor: Number(minor),
    patch: Number(patch),
    prerelease: prerelease ? prerelease.split(".") : [],
    build: build ?? "",
  };
}

/** The version as text, as semantic_version prints it. */
export function showSemVer(v: SemVer): string {
  const pre = v.prerelease.length > 0 ? `-${v.prerelease.join(".")}` : "";
  return `${v.major}.${v.minor}.${v.patch}${pre}${v.build ? `+${v.build}` : ""}`;
}

/** SemVer precedence (build metadata ignored): negative, 0 or positive as `a` is below, at or above `b`. */
export function compareSemVer(a: SemVer, b: SemVer | string): number {
  const other = typeof b === "string" ? known(b) : b;
  const core = a.major - other.major || a.minor - other.minor || a.patch - other.patch;
  if (core !== 0) return Math.sign(core);
  if (a.prerelease.length === 0 || other.prerelease.length === 0) {
    return other.prerelease.length - a.prerelease.length === 0 ? 0 : a.prerelease.length === 0 ? 1 : -1;
  }
  for (let i = 0; i < Math.max(a.prerelease.length, other.prerelease.length); i++) {
    const x = a.prerelease[i];
    const y = other.prerelease[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) return Math.sign(Number(x) - Number(y));
    if (nx !== ny) return nx ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * semantic_version's `Spec('>=low,<high')`: `<high` also excludes the pre-releases of `high` (so 2.1.0-rc1 is
 * in neither the 2.0 nor the 2.1 rules, as with murano-agent).
 */
export function inRange(version: SemVer, low: string, high?: string): boolean {
  if (compareSemVer(version, low) < 0) return false;
  if (high === undefined) return true;
  const h = known(high);
  const sameCore = version.major === h.major && version.minor === h.minor && version.patch === h.patch;
  return compareSemVer(version, h) < 0 && !sameCore;
}

/** A version the code names (a bound of a rule). @throws TypeError when it is malformed: a bug. */
function known(text: string): SemVer {
  const version = parseSemVer(text);
  if (version === undefined) throw new TypeError(`Cannot read "${text}" as a semantic version`);
  return version;
}
