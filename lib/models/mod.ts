/**
 * BERT models: configuration, encoder + heads (multiple choice, QA, masked LM), Hugging Face
 * checkpoint loading (`model.safetensors`, `pytorch_model.bin`) and saving, and the check that a
 * folder holds a model for a task.
 * @module
 */
export {
  BERT_CONFIG_DEFAULTS,
  type BertConfig,
  checkWindowFits,
  type ConfigDifference,
  configToJsonString,
  diffConfigs,
  formatConfig,
  makeBertConfig,
  parseConfigOverrides,
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
  canonicalNames,
  checkConfigAgainstWeights,
  formatLoadReport,
  type LoadOptions,
  loadPretrained,
  type LoadReport,
  modelFromTensors,
  readCheckpointHeader,
  readCheckpointTensors,
  saveModel,
  type TensorInfo,
} from "./checkpoint.ts";
export {
  checkModelForTask,
  checkModelsForTasks,
  inspectModelFolder,
  type ModelFolderInfo,
  type ModelUse,
  taskMismatch,
  taskOfFolder,
  WrongModelError,
} from "./task_check.ts";
export {
  type Float32Entry,
  parseSafetensors,
  parseSafetensorsHeader,
  readSafetensors,
  readSafetensorsHeader,
  type SafetensorsEntry,
  type SafetensorsFile,
  type SafetensorsHeader,
  serializeSafetensors,
} from "./safetensors.ts";
export { parseTorchCheckpoint, readTorchCheckpoint } from "./torch_pickle.ts";
export type { RawDtype, RawTensor } from "./tensors.ts";
