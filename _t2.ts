import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { loadPretrained } from "./lib/models/mod.ts";
import { bertToOnnx } from "./lib/export/bert_onnx.ts";
import { encodeModel } from "./lib/export/onnx_proto.ts";
await tf.setBackend("cpu");
const dir = "tests/fixtures/parity";
const ref = JSON.parse(await Deno.readTextFile(`${dir}/reference.json`));
const flat = (x: any): number[] => Array.isArray(x) ? x.flatMap(flat) : [x];
for (const task of ["qa", "mc", "mlm"] as const) {
  for (const quantize of [undefined, "int8"] as const) {
  const model = await loadPretrained(dir, task, { log: () => {} });
  const bytes = encodeModel(bertToOnnx(model, { quantize }));
  const s = await ort.InferenceSession.create(bytes);
  const inp = task === "mc" ? ref.mc_inputs : ref.inputs;
  const feeds: Record<string, ort.Tensor> = {};
  const shape = task === "mc" ? [inp.input_ids.length, inp.input_ids[0].length, inp.input_ids[0][0].length] : [inp.input_ids.length, inp.input_ids[0].length];
  for (const k of ["input_ids", "attention_mask", "token_type_ids"]) feeds[k] = new ort.Tensor("int64", BigInt64Array.from(flat(inp[k]), BigInt), shape);
  const out = await s.run(feeds);
  const cmp = (a: ArrayLike<number>, b: number[]) => { let m = 0; for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; };
  if (task === "qa") console.log(task, quantize, cmp(out.start_logits.data as Float32Array, flat(ref.qa_start_logits)), cmp(out.end_logits.data as Float32Array, flat(ref.qa_end_logits)), out.start_logits.dims);
  if (task === "mc") console.log(task, quantize, cmp(out.logits.data as Float32Array, flat(ref.mc_logits)), out.logits.dims);
  if (task === "mlm") console.log(task, quantize, cmp(out.logits.data as Float32Array, flat(ref.mlm_logits)), out.logits.dims);
  model.dispose();
  }
}
