const mb = (x) => (x / 1048576).toFixed(1);
const r0 = process.memoryUsage();
await import(process.argv[2]);
globalThis.gc?.();
const r1 = process.memoryUsage();
console.log(process.argv[2], `rss +${mb(r1.rss - r0.rss)} heapUsed +${mb(r1.heapUsed - r0.heapUsed)}`);
