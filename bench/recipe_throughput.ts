// Training throughput (tokens/s) of small from-scratch BERTs on the sample data, for the recipe
// in docs/RECIPE.md: `deno run -A bench/recipe_throughput.ts [steps]`. Each shape runs a short
// masked-LM pretraining (packed 128-token blocks, batch 32) and a short QA fine-tuning
// (max_seq_length 128) through the real runners, on the backend `initBackend()` picks.
import { initBackend } from "../lib/backend/mod.ts";
import { pretrainMaskedLm, trainQuestionAnswering } from "../lib/pipeline/mod.ts";

const steps = Number(Deno.args[0] ?? 12);
const S = new URL("../data/sample/", import.meta.url).pathname;
const shapes = [
  "num_hidden_layers=2,hidden_size=64,num_attention_heads=2,intermediate_size=256",
  "num_hidden_layers=2,hidden_size=128,num_attention_heads=2,intermediate_size=512",
  "num_hidden_layers=2,hidden_size=256,num_attention_heads=4,intermediate_size=1024",
];
const backend = await initBackend();
console.log(`backend ${backend.name}; ${steps} updates per run`);
for (const shape of shapes) {
  const quiet = { log: () => {}, progress: "none" as const };
  const t0 = performance.now();
  const m = await pretrainMaskedLm({
    context_file: `${S}context.json`,
    tokenizer_name: S,
    config_overrides: shape,
    max_seq_length: 128,
    per_device_train_batch_size: 32,
    max_train_steps: steps,
    validation_split_percentage: 0,
    masking: "char",
  }, quiet);
  const mlmTok = 32 * 128 * steps / m.trainSeconds;
  m.model.dispose();
  const q = await trainQuestionAnswering({
    train_file: `${S}train.json`,
    context_file: `${S}context.json`,
    tokenizer_name: S,
    config_overrides: shape,
    max_seq_length: 128,
    doc_stride: 64,
    per_device_train_batch_size: 32,
    max_train_steps: steps,
  }, quiet);
  q.model.dispose();
  const secs = (performance.now() - t0) / 1000;
  console.log(
    `${shape}: mlm ${(m.trainSeconds / steps).toFixed(2)} s/update (${mlmTok.toFixed(0)} ` +
      `tokens/s); qa ${(q.trainSeconds / steps).toFixed(2)} s/update; total ${secs.toFixed(0)} s`,
  );
}
