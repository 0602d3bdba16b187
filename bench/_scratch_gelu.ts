import { geluGradValues, geluValues } from "../lib/backend/fused_ops.ts";
const n = 2048 * 1024;
const x = new Float32Array(n).map(() => Math.random() * 4 - 2);
const y = new Float32Array(n), dx = new Float32Array(n);
for (let r = 0; r < 5; r++) {
  let t0 = performance.now();
  geluValues(x, y);
  const a = performance.now() - t0;
  t0 = performance.now();
  geluGradValues(x, x, dx);
  console.log("fwd", a.toFixed(1), "bwd", (performance.now() - t0).toFixed(1));
}
