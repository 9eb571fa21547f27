/**
 * The journal's decoded values (`agent/journal/decoded_cache.ts`), on a real LMDB directory: a cached read always
 * returns what lmdb's own `get` decodes from the bytes stored now — after committed writes that told the cache
 * (`remember`), writes that did not (another handle, a raw put), transactions that threw after telling it, and
 * removals — and the values it hands out are frozen.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import fc from "fast-check";
import { open, type RootDatabase } from "lmdb";
import { DecodedCache, deepFreeze } from "../../agent/journal/decoded_cache.ts";

const dirs: string[] = [];
const roots: RootDatabase[] = [];
after(async () => {
  for (const root of roots) await root.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function database() {
  const dir = await mkdtemp(join(tmpdir(), "idem-decoded-"));
  dirs.push(dir);
  const root = open({ path: dir, maxDbs: 2 });
  roots.push(root);
  return { root, db: root.openDB<Value, string>({ name: "values" }) };
}

interface Value {
  n: number;
  text: string;
  list: number[];
  nested: { flag: boolean };
  maybe?: number | undefined;
}

// Plain objects, as the journal writes (fast-check may make null-prototype ones); `maybe` may be undefined, as an
// optional field the record machine leaves unset.
const value = fc
  .record({
    n: fc.integer(),
    text: fc.string({ maxLength: 40 }),
    list: fc.array(fc.integer(), { maxLength: 4 }),
    nested: fc.record({ flag: fc.boolean() }),
    maybe: fc.option(fc.integer(), { nil: undefined }),
  })
  .map(({ maybe, nested, ...rest }) => ({ ...rest, nested: { ...nested }, maybe }));
const key = fc.constantFrom("a", "b", "c");
const step = fc.oneof(
  fc.record({ op: fc.constant("commit" as const), key, value }),
  fc.record({ op: fc.constant("abort" as const), key, value }),
  fc.record({ op: fc.constant("raw" as const), key, value }),
  fc.record({ op: fc.constant("remove" as const), key }),
  fc.record({ op: fc.constant("read" as const), key }),
);

test("a cached read equals lmdb's own decode of what is stored, whatever wrote it", async (t) => {
  const { root, db } = await database();
  const seed = Number(process.env.IDEM_SEED ?? Date.now() % 2 ** 31);
  t.diagnostic(`seed ${seed} (IDEM_SEED=${seed} repeats this run)`);
  await fc.assert(
    fc.asyncProperty(fc.array(step, { maxLength: 30 }), async (steps) => {
      const cache = new DecodedCache(db);
      for (const s of steps) {
        if (s.op === "commit") {
          await root.childTransaction(() => {
            void db.put(s.key, s.value);
            cache.remember(s.key, s.value);
          });
        } else if (s.op === "abort") {
          await root
            .childTransaction(() => {
              void db.put(s.key, s.value);
              cache.remember(s.key, s.value);
              throw new Error("abort");
            })
            .catch(() => {});
        } else if (s.op === "raw") await db.put(s.key, s.value);
        else if (s.op === "remove") await db.remove(s.key);
        // Checked after every step, so that a stale value cannot hide behind a later write.
        for (const k of ["a", "b", "c"]) assert.deepEqual(cache.get(k), db.get(k), `key ${k} after ${s.op}`);
      }
    }),
    { seed, numRuns: 60, endOnFailure: true },
  );
});

test("inside a write transaction a read sees that transaction's own write", async () => {
  const { root, db } = await database();
  const cache = new DecodedCache(db);
  await db.put("k", { n: 1, text: "one", list: [], nested: { flag: false } });
  assert.equal(cache.get("k")?.n, 1);
  await root.childTransaction(() => {
    void db.put("k", { n: 2, text: "two", list: [], nested: { flag: true } });
    assert.equal(cache.get("k")?.n, 2);
  });
  assert.equal(cache.get("k")?.n, 2);
});

test("values handed out are deep-frozen: a caller that changes one throws instead of changing the next read", async () => {
  const { db } = await database();
  const cache = new DecodedCache(db);
  await db.put("k", { n: 1, text: "x", list: [1], nested: { flag: false } });
  const first = cache.get("k") as Value;
  assert.throws(() => {
    first.list.push(2);
  }, TypeError);
  assert.throws(() => {
    first.nested.flag = true;
  }, TypeError);
  assert.deepEqual(cache.get("k"), { n: 1, text: "x", list: [1], nested: { flag: false } });
});

test("deepFreeze leaves Buffers and typed arrays as they are (they cannot be frozen)", () => {
  const frozen = deepFreeze({ bytes: Buffer.from("ab"), inner: [{ a: 1 }] });
  assert.ok(Object.isFrozen(frozen.inner[0]));
  assert.ok(!Object.isFrozen(frozen.bytes));
});
