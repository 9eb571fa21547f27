import { open } from "lmdb";
const mu=()=>{const m=process.memoryUsage();return `ab ${(m.arrayBuffers/1e6).toFixed(1)} ext ${(m.external/1e6).toFixed(1)} rss ${(m.rss/1e6).toFixed(1)}`};
console.log("before", mu());
const db = open({ path: "/tmp/h12/lmtest", mapSize: 2**30 });
console.log("opened", mu());
await db.put("a", {x:1}); db.get("a");
console.log("put/get", mu());
const d2 = db.openDB({name:"x"}); await d2.put("b", "c"); d2.get("b");
console.log("sub", mu());
