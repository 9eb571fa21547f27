/**
 * The tokenizer's output without an object per token: each token is a kind (Uint8Array), a start and an end
 * offset (Int32Array) and, for NAME and OP tokens, the index of its spelling in a table of distinct spellings
 * (names and operators repeat: `x` costs one string however often it occurs). NUMBER and STRING text is cut
 * from the source only when the parser asks for it. A 4 MB Body has about 1.4 million tokens: kept as
 * objects they made the parse mostly garbage collection; kept here they are 13 bytes each.
 *
 * `token(i)` builds a short-lived `Token` view for the parser's convenience; offsets are those of the text the
 * parser reports against (the source offset plus `shift`: an f-string field is tokenized on its own).
 */
import { HARD_KEYWORDS } from "./keywords.ts";

export type TokenType = "NAME" | "NUMBER" | "STRING" | "OP" | "NEWLINE" | "INDENT" | "DEDENT" | "ENDMARKER";

/** The token kinds, as stored (index into TYPES). */
export const NAME = 0;
export const NUMBER = 1;
export const STRING = 2;
export const OP = 3;
export const NEWLINE = 4;
export const INDENT = 5;
export const DEDENT = 6;
export const ENDMARKER = 7;
export const TYPES: readonly TokenType[] = [
  "NAME",
  "NUMBER",
  "STRING",
  "OP",
  "NEWLINE",
  "INDENT",
  "DEDENT",
  "ENDMARKER",
];

/** A view of one token, made on demand. */
export interface Token {
  type: TokenType;
  /** The token's text (for INDENT/DEDENT/NEWLINE/ENDMARKER: ""). */
  text: string;
  start: number;
  end: number;
}

export class TokenList {
  count = 0;
  kinds: Uint8Array;
  starts: Int32Array;
  ends: Int32Array;
  /** Index into `spellings` for NAME and OP tokens, else -1. */
  spelling: Int32Array;
  /** The distinct spellings of NAME and OP tokens. */
  readonly spellings: string[] = [];
  /** Per spelling: its identifier (see `identifier`), once asked for. */
  private readonly identifiers: (string | undefined)[] = [];
  /** Per spelling: 1 when it is a hard keyword (never a NAME the grammar binds). */
  keyword = new Uint8Array(8);
  readonly source: string;
  readonly shift: number;
  /** Open addressing: spelling index + 1 per slot, 0 when empty; `hashes` per spelling. */
  private table = new Int32Array(16);
  private hashes = new Int32Array(8);

  constructor(source: string, shift = 0) {
    this.source = source;
    this.shift = shift;
    const capacity = Math.max(16, Math.min(source.length >> 1, 1 << 23));
    this.kinds = new Uint8Array(capacity);
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
    this.spelling = new Int32Array(capacity);
  }

  /** Appends a token; NAME and OP tokens get their spelling from the source range. */
  push(kind: number, start: number, end: number): void {
    if (this.count === this.kinds.length) this.grow();
    const i = this.count++;
    this.kinds[i] = kind;
    this.starts[i] = start + this.shift;
    this.ends[i] = end + this.shift;
    this.spelling[i] = kind === NAME || kind === OP ? this.intern(start, end) : -1;
  }

  /** Appends a token whose text is not in the source (the marker of a tokenizer error). */
  pushText(kind: number, text: string, start: number, end: number): void {
    if (this.count === this.kinds.length) this.grow();
    const i = this.count++;
    this.kinds[i] = kind;
    this.starts[i] = start;
    this.ends[i] = end;
    this.spelling[i] = this.add(text, 0);
  }

  type(i: number): TokenType {
    return TYPES[this.kinds[i] ?? ENDMARKER] ?? "ENDMARKER";
  }

  text(i: number): string {
    const s = this.spelling[i] ?? -1;
    if (s >= 0) return this.spellings[s] ?? "";
    const kind = this.kinds[i];
    if (kind !== NUMBER && kind !== STRING) return "";
    return this.source.slice((this.starts[i] ?? 0) - this.shift, (this.ends[i] ?? 0) - this.shift);
  }

  /**
   * The identifier NAME token `i` stands for: CPython normalizes every identifier to NFKC
   * (`_PyPegen_new_identifier`), so `ﬁ` is `fi`; a keyword is recognized before normalization.
   */
  identifier(i: number): string {
    const s = this.spelling[i] ?? -1;
    if (s < 0) return this.text(i);
    let known = this.identifiers[s];
    if (known === undefined) {
      known = this.spellings[s] ?? "";
      if (/[^\0-\x7f]/.test(known)) known = known.normalize("NFKC");
      this.identifiers[s] = known;
    }
    return known;
  }

  token(i: number): Token {
    return { type: this.type(i), text: this.text(i), start: this.starts[i] ?? 0, end: this.ends[i] ?? 0 };
  }

  private grow(): void {
    const size = this.kinds.length * 2;
    const kinds = new Uint8Array(size);
    kinds.set(this.kinds);
    this.kinds = kinds;
    const starts = new Int32Array(size);
    starts.set(this.starts);
    this.starts = starts;
    const ends = new Int32Array(size);
    ends.set(this.ends);
    this.ends = ends;
    const spelling = new Int32Array(size);
    spelling.set(this.spelling);
    this.spelling = spelling;
  }

  /** The spelling index of `source[start, end)`, adding it when new (FNV-1a over the UTF-16 code units). */
  private intern(start: number, end: number): number {
    const source = this.source;
    let hash = 0x811c9dc5 | 0;
    for (let k = start; k < end; k++) hash = Math.imul(hash ^ source.charCodeAt(k), 0x01000193);
    const mask = this.table.length - 1;
    const length = end - start;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.table[slot] ?? 0;
      if (entry === 0) break;
      const id = entry - 1;
      if (this.hashes[id] !== hash) continue;
      const known = this.spellings[id] as string;
      if (known.length !== length) continue;
      let same = true;
      for (let k = 0; k < length && same; k++) same = known.charCodeAt(k) === source.charCodeAt(start + k);
      if (same) return id;
    }
    return this.add(source.slice(start, end), hash);
  }

  private add(text: string, hash: number): number {
    const id = this.spellings.length;
    this.spellings.push(text);
    if (id === this.hashes.length) {
      const hashes = new Int32Array(id * 2);
      hashes.set(this.hashes);
      this.hashes = hashes;
      const keyword = new Uint8Array(id * 2);
      keyword.set(this.keyword);
      this.keyword = keyword;
    }
    this.hashes[id] = hash;
    this.keyword[id] = HARD_KEYWORDS.has(text) ? 1 : 0;
    this.place(id, hash);
    if (this.spellings.length * 2 > this.table.length) this.rehash();
    return id;
  }

  private place(id: number, hash: number): void {
    const mask = this.table.length - 1;
    let slot = hash & mask;
    while ((this.table[slot] ?? 0) !== 0) slot = (slot + 1) & mask;
    this.table[slot] = id + 1;
  }

  private rehash(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    for (const entry of old) if (entry !== 0) this.place(entry - 1, this.hashes[entry - 1] ?? 0);
  }
}
