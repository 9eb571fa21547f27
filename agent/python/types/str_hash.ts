/**
 * `hash(s)` of a str exactly as CPython 3.11 computes it under PYTHONHASHSEED=1 (a set of strs iterates in
 * its hash table's order, set_table.ts). CPython hashes the str's internal bytes — 1, 2 or 4 bytes per code
 * point, little-endian, by the widest code point (PyUnicode_KIND) — with SipHash-1-3 (Python/pyhash.c
 * `siphash13`, the 3.11 default) keyed by `_Py_HashSecret`, which a fixed hash seed fills from
 * Python/bootstrap_hash.c `lcg_urandom(seed)`. '' hashes to 0 and -1 becomes -2 (`_Py_HashBytes`).
 * CPython picks a random seed per process unless PYTHONHASHSEED is set, so every seed is one of its possible
 * behaviours; seed 1 makes idem's choice reproducible with `PYTHONHASHSEED=1 python3`.
 * 64-bit arithmetic on pairs of 32-bit halves (no BigInt in the rounds). A leaf module.
 */

/** A 64-bit lane as [high, low] unsigned 32-bit halves. */
type U64 = [number, number];

const SEED = 1;

/** `_Py_HashSecret.siphash.k0` and `k1` for SEED: the first 16 bytes of lcg_urandom, little-endian. */
const [K0, K1] = ((): [U64, U64] => {
  const bytes: number[] = [];
  let x = SEED;
  for (let i = 0; i < 16; i++) {
    x = (Math.imul(x, 214013) + 2531011) >>> 0;
    bytes.push((x >>> 16) & 0xff);
  }
  const lane = (at: number): U64 => {
    const word = (k: number) =>
      ((bytes[k] ?? 0) |
        ((bytes[k + 1] ?? 0) << 8) |
        ((bytes[k + 2] ?? 0) << 16) |
        ((bytes[k + 3] ?? 0) << 24)) >>>
      0;
    return [word(at + 4), word(at)];
  };
  return [lane(0), lane(8)];
})();

function add(a: U64, b: U64): U64 {
  const lo = a[1] + b[1];
  return [(a[0] + b[0] + (lo > 0xffffffff ? 1 : 0)) >>> 0, lo >>> 0];
}

function xor(a: U64, b: U64): U64 {
  return [(a[0] ^ b[0]) >>> 0, (a[1] ^ b[1]) >>> 0];
}

function rotl(a: U64, n: number): U64 {
  if (n === 32) return [a[1], a[0]];
  const [h, l] = n > 32 ? [a[1], a[0]] : a;
  const s = n % 32;
  return [((h << s) | (l >>> (32 - s))) >>> 0, ((l << s) | (h >>> (32 - s))) >>> 0];
}

/** SipHash's SINGLE_ROUND (two HALF_ROUNDs) on v = [v0, v1, v2, v3], in place. */
function round(v: U64[]): void {
  const half = (a: number, b: number, c: number, d: number, s: number, t: number) => {
    v[a] = add(v[a] as U64, v[b] as U64);
    v[c] = add(v[c] as U64, v[d] as U64);
    v[b] = xor(rotl(v[b] as U64, s), v[a] as U64);
    v[d] = xor(rotl(v[d] as U64, t), v[c] as U64);
    v[a] = rotl(v[a] as U64, 32);
  };
  half(0, 1, 2, 3, 13, 16);
  half(2, 1, 0, 3, 17, 21);
}

/** The little-endian 64-bit word of bytes[at, at + 8) (missing bytes are 0). */
function word(bytes: Uint8Array, at: number): U64 {
  const b = (k: number) => (at + k < bytes.length ? (bytes[at + k] ?? 0) : 0);
  return [
    (b(4) | (b(5) << 8) | (b(6) << 16) | (b(7) << 24)) >>> 0,
    (b(0) | (b(1) << 8) | (b(2) << 16) | (b(3) << 24)) >>> 0,
  ];
}

function siphash13(bytes: Uint8Array): U64 {
  const v: U64[] = [
    xor(K0, [0x736f6d65, 0x70736575]),
    xor(K1, [0x646f7261, 0x6e646f6d]),
    xor(K0, [0x6c796765, 0x6e657261]),
    xor(K1, [0x74656462, 0x79746573]),
  ];
  const whole = bytes.length - (bytes.length % 8);
  for (let at = 0; at < whole; at += 8) {
    const m = word(bytes, at);
    v[3] = xor(v[3] as U64, m);
    round(v);
    v[0] = xor(v[0] as U64, m);
  }
  const tail = word(bytes, whole);
  const b: U64 = [(tail[0] | ((bytes.length & 0xff) << 24)) >>> 0, tail[1]];
  v[3] = xor(v[3] as U64, b);
  round(v);
  v[0] = xor(v[0] as U64, b);
  v[2] = xor(v[2] as U64, [0, 0xff]);
  round(v);
  round(v);
  round(v);
  return xor(xor(v[0] as U64, v[1] as U64), xor(v[2] as U64, v[3] as U64));
}

/** The bytes CPython hashes: each code point in 1, 2 or 4 little-endian bytes, by the widest one. */
function internalBytes(s: string): Uint8Array {
  const cps: number[] = [];
  let max = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    cps.push(cp);
    if (cp > max) max = cp;
  }
  const kind = max < 0x100 ? 1 : max < 0x10000 ? 2 : 4;
  const out = new Uint8Array(cps.length * kind);
  cps.forEach((cp, i) => {
    for (let k = 0; k < kind; k++) out[i * kind + k] = (cp >>> (8 * k)) & 0xff;
  });
  return out;
}

const cache = new Map<string, bigint>();

/** CPython 3.11's `hash(s)` under PYTHONHASHSEED=1, as a signed 64-bit value. */
export function strHash(s: string): bigint {
  if (s === "") return 0n;
  const known = cache.get(s);
  if (known !== undefined) return known;
  const [hi, lo] = siphash13(internalBytes(s));
  let h = (BigInt(hi) << 32n) | BigInt(lo);
  if (h >= 1n << 63n) h -= 1n << 64n;
  if (h === -1n) h = -2n;
  if (cache.size > 100_000) cache.clear();
  cache.set(s, h);
  return h;
}
