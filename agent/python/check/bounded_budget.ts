/**
 * The budgets of an in-process Body (check/bounded.ts): whether a Body of a given {@link Bound} runs in-process
 * for a plan, given the plan's own inputs: the size of its Parameters and the cap of a script's output.
 */
import type { JsonValue } from "../../json/parse.ts";
import { type Bound, unitsOf } from "./bounded_size.ts";

/** The memory budget of one in-process Body, in units (a character is 2 bytes: 8 MiB units ≈ 16 MB). */
export const MEMORY_UNITS = 8 * 1024 * 1024;
/** The computing budget of one in-process Body, in units (~10-40 ms of event loop at worst on this machine). */
export const TIME_UNITS = 32 * 1024 * 1024;

/**
 * Whether a plan whose Body has `bound` runs in-process: `parameterUnits` is the size of its Parameters (the
 * length of their JSON text bounds it), `outputCapBytes` the cap of each captured stream of a script.
 */
export function fitsInProcess(
  bound: Bound,
  inputs: { parameterUnits: number; outputCapBytes: number },
): boolean {
  const units = { A: inputs.parameterUnits, O: 2 * inputs.outputCapBytes + 64 };
  const time = unitsOf(bound.time, units) * (bound.calls + 1) + 6 * unitsOf(bound.result, units);
  return unitsOf(bound.memory, units) <= MEMORY_UNITS && time <= TIME_UNITS;
}

/**
 * The size in units of the plan's Parameters (A of bounded_size.ts): a string's characters, a number's text (a
 * float's repr up to 24), an element or member 2 more (its separators) — what `args` can hold and print.
 */
export function parameterUnits(value: JsonValue): number {
  if (typeof value === "string") return value.length + 2;
  if (typeof value === "bigint") return value.toString(16).length * 2 + 2;
  if (typeof value === "number") return 24;
  if (value === null || typeof value === "boolean") return 5;
  let units = 2;
  if (Array.isArray(value)) for (const item of value) units += parameterUnits(item) + 2;
  else for (const [key, item] of value) units += key.length + parameterUnits(item) + 4;
  return units;
}
