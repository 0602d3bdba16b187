/**
 * Model and tokenizer setup with the rules of Hugging Face's `run_*_no_trainer.py`:
 *
 * - tokenizer from `tokenizer_name`, else from `model_name_or_path` (a new tokenizer cannot be
 *   trained here, as in the scripts);
 * - config from `config_name` (a folder or a `.json` file), else from `model_name_or_path`,
 *   else `BertConfig()` defaults ("training from scratch");
 * - weights from `model_name_or_path` (missing head weights initialised and reported), else
 *   freshly initialised from the config with `seed`;
 * - `config_overrides` ("key=value,key=value", as in `run_mlm.py`; unknown keys refused, see
 *   `parseConfigOverrides` in lib/models) adjusts a from-scratch config, e.g.
 *   `num_hidden_layers=2,hidden_size=128,num_attention_heads=2,intermediate_size=512`;
 * - from scratch, `vocab_size` follows the tokenizer (HF resizes the embeddings to
 *   `len(tokenizer)`); with a pretrained model a tokenizer larger than the embeddings is an error
 *   (resizing pretrained embeddings is not implemented).
 * @module
 */
import {
  BERT_CONFIG_DEFAULTS,
  type BertConfig,
  type BertModel,
  createFromConfig,
  loadPretrained,
  makeBertConfig,
  parseConfigOverrides,
  readConfig,
  saveModel,
  SHAPE_FIELDS,
  type Task,
} from "../models/mod.ts";
import { BertTokenizer } from "../tokenization/mod.ts";
import { SEED } from "../args/mod.ts";

/** Where the model and tokenizer come from (Hugging Face flag names). */
export interface ModelSourceArgs {
  model_name_or_path?: string;
  config_name?: string;
  tokenizer_name?: string;
  config_overrides?: string;
  seed?: number;
}

/** Loads the tokenizer per the HF rules; errors name the flag to set. */
export async function loadTokenizer(args: ModelSourceArgs): Promise<BertTokenizer> {
  // The arguments were checked (lib/args `modelSourceRule`): one of the two is set.
  const dir = (args.tokenizer_name ?? args.model_name_or_path)!;
  try {
    return await BertTokenizer.fromPretrained(dir);
  } catch (e) {
    throw new Error(`cannot load the tokenizer from ${dir}: ${(e as Error).message}`);
  }
}

/** The config a run will use, before any weights are created. */
export async function resolveConfig(
  args: ModelSourceArgs,
  tokenizer: BertTokenizer,
): Promise<{ config: BertConfig; fromScratch: boolean; notes: string[] }> {
  const notes: string[] = [];
  const fromScratch = !args.model_name_or_path;
  let values: Record<string, unknown>;
  if (args.config_name) {
    values = { ...(await readConfig(args.config_name)) };
  } else if (args.model_name_or_path) {
    values = { ...(await readConfig(args.model_name_or_path)) };
  } else {
    values = {};
    notes.push("You are instantiating a new config instance from scratch (BertConfig defaults).");
  }
  if (args.config_overrides) {
    const o = parseConfigOverrides(args.config_overrides, { ...BERT_CONFIG_DEFAULTS, ...values });
    notes.push(`Overriding config: ${args.config_overrides}`);
    values = { ...values, ...o };
  }
  if (fromScratch && values.vocab_size !== tokenizer.vocabSize) {
    if (values.vocab_size !== undefined) {
      notes.push(
        `vocab_size ${values.vocab_size} -> ${tokenizer.vocabSize} (the tokenizer's size)`,
      );
    }
    values.vocab_size = tokenizer.vocabSize;
  }
  delete values.architectures;
  const config = makeBertConfig(values, args.config_name ?? args.model_name_or_path ?? "config");
  if (!fromScratch && tokenizer.vocabSize > config.vocab_size) {
    throw new Error(
      `the tokenizer has ${tokenizer.vocabSize} tokens but the model's vocab_size is ` +
        `${config.vocab_size}; use the model's own tokenizer`,
    );
  }
  return { config, fromScratch, notes };
}

/** A model with head `T` and its tokenizer, ready for a task. */
export interface LoadedModel<T extends Task = Task> {
  model: BertModel<T>;
  tokenizer: BertTokenizer;
  config: BertConfig;
  fromScratch: boolean;
}

/** Loads or creates the model for `task` and its tokenizer (see the module rules). */
export async function loadModelAndTokenizer<T extends Task>(
  args: ModelSourceArgs,
  task: T,
  log: (message: string) => void = console.log,
): Promise<LoadedModel<T>> {
  const tokenizer = await loadTokenizer(args);
  const { config, fromScratch, notes } = await resolveConfig(args, tokenizer);
  notes.forEach((n) => log(n));
  let model: BertModel<T>;
  if (fromScratch) {
    model = createFromConfig(config, task, args.seed ?? SEED.default);
  } else {
    model = await loadPretrained(args.model_name_or_path!, task, {
      seed: args.seed ?? SEED.default,
      log,
    });
    if (args.config_name) {
      // A separate config can only change what does not change shapes (dropout rates).
      for (const k of SHAPE_FIELDS) {
        if (config[k] !== model.config[k]) {
          model.dispose();
          throw new Error(
            `--config_name ${args.config_name} has ${k}=${config[k]} but the weights in ` +
              `${args.model_name_or_path} have ${model.config[k]}`,
          );
        }
      }
      for (
        const k of ["hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout"]
      ) {
        model.config[k] = config[k];
      }
    }
  }
  return { model, tokenizer, config: model.config, fromScratch };
}

/** Saves a model and its tokenizer in Hugging Face layout. */
export async function saveModelAndTokenizer(
  model: BertModel,
  tokenizer: BertTokenizer,
  dir: string,
): Promise<void> {
  await saveModel(model, dir);
  await tokenizer.save(dir);
}

/** Copies weights from a checkpoint folder into an existing model (same config and task). */
export async function loadWeightsInto(model: BertModel, dir: string): Promise<void> {
  const loaded = await loadPretrained(dir, model.task, { log: () => {} });
  try {
    if (loaded.loadReport.missingKeys.length > 0) {
      throw new Error(`${dir}: checkpoint lacks ${loaded.loadReport.missingKeys.join(", ")}`);
    }
    for (const [name, v] of model.variables) {
      const src = loaded.variables.get(name);
      if (!src || src.shape.join(",") !== v.shape.join(",")) {
        throw new Error(`${dir}: '${name}' is missing or has another shape`);
      }
      v.assign(src);
    }
  } finally {
    loaded.dispose();
  }
}
