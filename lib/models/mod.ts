/**
 * BERT models: configuration, encoder + heads (multiple choice, QA, masked LM), Hugging Face
 * checkpoint loading (`model.safetensors`, `pytorch_model.bin`) and saving.
 * @module
 */
export {
  BERT_CONFIG_DEFAULTS,
  type BertConfig,
  type ConfigDifference,
  configToJsonString,
  diffConfigs,
  formatConfig,
  makeBertConfig,
  readConfig,
  renderConfigDiff,
  SHAPE_FIELDS,
  writeConfig,
} from "./config.ts";
export {
  type BaseOutput,
  BertModel,
  createFromConfig,
  type ForwardOptions,
  hasPooler,
  initialValues,
  type McOutput,
  type MlmOutput,
  type ModelInputs,
  type ModelOutput,
  parameterSpecs,
  type ParamSpec,
  type QaOutput,
  type Task,
  TASK_ARCHITECTURES,
  type TaskOutputs,
  TASKS,
} from "./bert.ts";
export {
  canonicalKey,
  formatLoadReport,
  type LoadOptions,
  loadPretrained,
  type LoadReport,
  modelFromTensors,
  readCheckpointTensors,
  saveModel,
} from "./checkpoint.ts";
export {
  type Float32Entry,
  parseSafetensors,
  readSafetensors,
  type SafetensorsFile,
  serializeSafetensors,
} from "./safetensors.ts";
export { parseTorchCheckpoint, readTorchCheckpoint } from "./torch_pickle.ts";
export type { RawDtype, RawTensor } from "./tensors.ts";
