/**
 * ONNX export of trained models: an ONNX protobuf writer, the BERT graph with the math of
 * `lib/models/bert.ts`, int8 dynamic quantization, and the folder transformers.js loads.
 * @module
 */
export {
  type AttributeValue,
  DataType,
  type DataTypeValue,
  encodeModel,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from "./onnx_proto.ts";
export { GraphBuilder, type TensorValues } from "./graph.ts";
export { INT8_WEIGHT_MAX, quantizeColumns, type QuantizedWeight } from "./quantize.ts";
export {
  type BertOnnxOptions,
  bertToOnnx,
  EXPORT_TASKS,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  ONNX_PRODUCER,
} from "./bert_onnx.ts";
export {
  exportOnnx,
  type ExportOnnxOptions,
  type ExportOnnxResult,
  exportTask,
  ONNX_FILES,
} from "./folder.ts";
export { type CollatedBatch, ONNX_INPUT_NAMES, onnxFeeds } from "./feeds.ts";
export { type Int64Tensor, onnxMcLogits, onnxQaLogits, type OnnxSession } from "./runtime.ts";
