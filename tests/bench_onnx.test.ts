// The bench's onnxruntime entry (bench/onnx.ts) on a tiny configuration: both rows (fp32, int8)
// report throughput for every batch size, under the name the table and bench.json use.
import assert from "node:assert/strict";
import { ONNX_BACKEND, runOnnxTask } from "../bench/onnx.ts";

Deno.test("bench onnxruntime entry: fp32 and int8 rows with eval throughput", async () => {
  const results = await runOnnxTask({
    config: {
      name: "T",
      layers: 1,
      hidden: 32,
      heads: 2,
      inter: 64,
      seq: 16,
      batches: [1, 2],
      train: false,
      vocab: 100,
    },
    backend: ONNX_BACKEND,
    steps: 1,
    warmup: 1,
    evalSteps: 2,
    budgetS: 0,
    seed: 7,
  });
  assert.deepEqual(results.map((r) => r.backend), ["onnxruntime", "onnxruntime (int8)"]);
  for (const r of results) {
    assert.ok(r.ok, r.error ?? "");
    assert.match(r.label!, /onnxruntime-node .* intraOpNumThreads \d+/);
    assert.deepEqual(r.eval!.map((e) => e.batch), [1, 2]);
    for (const e of r.eval!) {
      assert.equal(e.error, undefined);
      assert.equal(e.steps, 2);
      assert.ok(e.tokensPerS > 0 && Number.isFinite(e.tokensPerS));
    }
  }
});
