/** `always`: every plan runs, repeats included; a repeat of a pending or running key runs after it. */
import { definePolicy } from "../agent/mod.ts";

export default definePolicy({
  name: "always",
  description: "Run every plan, even an identical repeat (a repeat of a running key runs after it)",
  rerunsInterrupted: true,
  decide: () => ({ kind: "run" }),
});
