/**
 * CPython's `repr(float)`: a leaf module shared by the plan's canonical form (agent/json) and the Body
 * interpreter (agent/murano), so that neither imports the other.
 */

/**
 * `repr(x)` for a Python float, exactly as CPython 3 prints it: the shortest digits that read back as `x`
 * (`float_repr_style == 'short'`), in positional form for exponents -4..15 (`0.0001`, `1.0`, `1234.5`) and in
 * exponent form otherwise with a sign and at least two exponent digits (`1e-05`, `1e+16`, `1.5e+308`);
 * `-0.0`, `inf`, `-inf` and `nan` as Python spells them. Never throws.
 */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa = "", expText = "0"] = x.toExponential().split("e");
  const exp = Number(expText);
  const digits = mantissa.replace("-", "").replace(".", "");
  const sign = x < 0 ? "-" : "";
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  return `${sign}${whole}.${digits.slice(exp + 1) || "0"}`;
}
