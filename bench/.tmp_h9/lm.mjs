const mb = (x) => (x / 1048576).toFixed(1);
const show = (w) => {
  const m = process.memoryUsage();
  console.log(w, `rss=${mb(m.rss)} heapUsed=${mb(m.heapUsed)} ab=${mb(m.arrayBuffers)}`);
};
show("start");
const { open } = await import("lmdb");
show("lmdb imported");
const root = open({ path: "/tmp/h9/db2", overlappingSync: false, mapSize: 1024 ** 3, maxDbs: 8 });
show("opened");
const db = root.openDB({ name: "a" });
await db.put("k", { a: 1 });
show("put");
await import("mqtt");
show("mqtt");
