/**
 * Decode: bytes off the wire → a plan object with a usable ID, or a verdict on why not.
 * A payload without a usable ID cannot be answered (there is nothing to correlate): it gets an event only.
 */
import { ErrorCode } from "../errors.ts";

export type Decoded =
  | { kind: "plan"; plan: Record<string, unknown>; planId: string; text: string }
  | { kind: "refused"; plan: Record<string, unknown>; planId: string; code: number; message: string }
  | { kind: "unanswerable"; message: string };

export function decode(payload: Uint8Array, options: { maxPlanBytes: number }): Decoded {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(payload);
  } catch {
    return {
      kind: "unanswerable",
      message: `Cannot decode a payload of ${payload.byteLength} bytes as UTF-8 text`,
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    return { kind: "unanswerable", message: `Cannot parse the payload as JSON: ${(cause as Error).message}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const shape = Array.isArray(value) ? "an array" : value === null ? "null" : typeof value;
    return { kind: "unanswerable", message: `Cannot take a plan that is ${shape}: a plan is a JSON object` };
  }
  const plan = value as Record<string, unknown>;
  const id = plan.ID;
  if (typeof id !== "string" || id.length === 0 || id.length > 255) {
    return {
      kind: "unanswerable",
      message: "Cannot answer a plan without an ID: give it a string ID of 1-255 characters",
    };
  }
  if (payload.byteLength > options.maxPlanBytes) {
    return {
      kind: "refused",
      plan,
      planId: id,
      code: ErrorCode.InvalidPlan,
      message: `Cannot take plan "${id}" as its ${payload.byteLength} bytes exceed maxPlanBytes (${options.maxPlanBytes})`,
    };
  }
  return { kind: "plan", plan, planId: id, text };
}
