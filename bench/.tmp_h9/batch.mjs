import { rmSync } from "node:fs";
import { open } from "lmdb";

rmSync("/tmp/h9/db", { recursive: true, force: true });
const root = open({ path: "/tmp/h9/db", overlappingSync: false });
const db = root.openDB({ name: "a" });
await db.put("warm", 1);
const mode = process.argv[2];
for (let i = 0; i < 100; i++) {
  if (mode === "same-tick") {
    await Promise.all([
      root.childTransaction(() => db.put("x" + i, i)),
      root.childTransaction(() => db.put("y" + i, i)),
    ]);
  } else if (mode === "microtask") {
    const a = root.childTransaction(() => db.put("x" + i, i));
    await Promise.resolve();
    await Promise.resolve();
    const b = root.childTransaction(() => db.put("y" + i, i));
    await Promise.all([a, b]);
  } else if (mode === "unawaited") {
    db.put("p" + i, i);
    await root.childTransaction(() => db.put("x" + i, i));
  } else if (mode === "single") {
    await root.childTransaction(() => db.put("x" + i, i));
  } else if (mode === "nosync-put") {
    /* put inside txn callback of next commit */ await root.childTransaction(() => db.put("x" + i, i));
  }
}
await root.close();
