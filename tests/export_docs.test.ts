// docs/EXPORT.md's TypeScript examples run as written on exported smoke runs: each ```ts block
// is saved in a folder holding `exported/qa` and `exported/mc` and run (type-checked) by Deno
// with the project's import map.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { exportOnnx } from "../lib/export/mod.ts";
import { ROOT } from "./process_util.ts";
import { trainSmokeRuns } from "./export_util.ts";

await tf.setBackend("cpu");

Deno.test({
  name: "docs/EXPORT.md: the transformers.js QA and the onnxruntime MC examples run",
  sanitizeResources: false,
  fn: async () => {
    const doc = await Deno.readTextFile(`${ROOT}docs/EXPORT.md`);
    const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    assert.equal(blocks.length, 2, "a QA and an MC example");
    const runs = await trainSmokeRuns();
    try {
      for (const task of ["qa", "mc"] as const) {
        await exportOnnx({ modelDir: runs[task], outputDir: `${runs.root}/exported/${task}` });
      }
      const outputs: string[] = [];
      for (const [i, code] of blocks.entries()) {
        const file = `${runs.root}/example_${i}.ts`;
        await Deno.writeTextFile(file, code);
        const out = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "--check", "--config", `${ROOT}deno.json`, file],
          cwd: runs.root,
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = new TextDecoder().decode(out.stdout);
        assert.equal(out.code, 0, `example ${i}: ${new TextDecoder().decode(out.stderr)}`);
        outputs.push(text);
      }
      assert.match(outputs[0], /\S+ 0\.\d+/, "QA prints an answer and its score");
      assert.match(outputs[1], /relevant paragraph: [0-2]\n/);
    } finally {
      await Deno.remove(runs.root, { recursive: true });
    }
  },
});
