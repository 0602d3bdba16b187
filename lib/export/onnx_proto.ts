/**
 * The part of ONNX's protobuf schema (`onnx.proto`) that a BERT graph needs, as plain objects, and
 * their binary encoding with protobufjs's `Writer`. Field numbers and enum values are those of
 * `onnx.proto` (proto2: repeated scalars are written unpacked, one tag per element).
 * @module
 */
import protobuf from "protobufjs";

/** `TensorProto.DataType` values used here. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
} as const;

/** One of {@link DataType}'s values. */
export type DataTypeValue = (typeof DataType)[keyof typeof DataType];

/** A constant tensor (`TensorProto`), its values little-endian in `rawData`. */
export interface TensorProto {
  name: string;
  dataType: DataTypeValue;
  dims: number[];
  rawData: Uint8Array;
}

/** A node attribute's value: float, int, ints, string or tensor (`AttributeProto`). */
export type AttributeValue =
  | { float: number }
  | { int: number }
  | { ints: number[] }
  | { string: string }
  | { tensor: TensorProto };

/** One operator call (`NodeProto`). */
export interface NodeProto {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, AttributeValue>;
  /** Operator set domain; "" (default) is `ai.onnx`. */
  domain?: string;
}

/** A graph input or output: name, element type, dims (a string names a dynamic axis). */
export interface ValueInfoProto {
  name: string;
  elemType: DataTypeValue;
  dims: (number | string)[];
}

/** `GraphProto`: nodes in topological order, initializers, inputs and outputs. */
export interface GraphProto {
  name: string;
  nodes: NodeProto[];
  initializers: TensorProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
}

/** `ModelProto`. */
export interface ModelProto {
  irVersion: number;
  opsetImports: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  docString?: string;
  graph: GraphProto;
  /** `metadata_props` key → value. */
  metadata?: Record<string, string>;
}

// Wire types.
const VARINT = 0, FIXED32 = 5, LEN = 2;
// AttributeProto.AttributeType values.
const ATTR_FLOAT = 1, ATTR_INT = 2, ATTR_STRING = 3, ATTR_TENSOR = 4, ATTR_INTS = 7;

type Writer = protobuf.Writer;

const tag = (w: Writer, field: number, wire: number) => w.uint32((field << 3) | wire);

function message(w: Writer, field: number, body: (w: Writer) => void): void {
  tag(w, field, LEN).fork();
  body(w);
  w.ldelim();
}

function str(w: Writer, field: number, s: string): void {
  tag(w, field, LEN).string(s);
}

function writeTensor(w: Writer, t: TensorProto): void {
  for (const d of t.dims) tag(w, 1, VARINT).int64(d); // dims
  tag(w, 2, VARINT).int32(t.dataType); // data_type
  str(w, 8, t.name); // name
  tag(w, 9, LEN).bytes(t.rawData); // raw_data
}

function writeAttribute(w: Writer, name: string, a: AttributeValue): void {
  str(w, 1, name); // name
  if ("float" in a) {
    tag(w, 2, FIXED32).float(a.float); // f
    tag(w, 20, VARINT).int32(ATTR_FLOAT); // type
  } else if ("int" in a) {
    tag(w, 3, VARINT).int64(a.int); // i
    tag(w, 20, VARINT).int32(ATTR_INT);
  } else if ("string" in a) {
    tag(w, 4, LEN).bytes(new TextEncoder().encode(a.string)); // s
    tag(w, 20, VARINT).int32(ATTR_STRING);
  } else if ("tensor" in a) {
    message(w, 5, (m) => writeTensor(m, a.tensor)); // t
    tag(w, 20, VARINT).int32(ATTR_TENSOR);
  } else {
    for (const i of a.ints) tag(w, 8, VARINT).int64(i); // ints
    tag(w, 20, VARINT).int32(ATTR_INTS);
  }
}

function writeNode(w: Writer, n: NodeProto): void {
  for (const i of n.inputs) str(w, 1, i); // input
  for (const o of n.outputs) str(w, 2, o); // output
  str(w, 3, n.name); // name
  str(w, 4, n.opType); // op_type
  for (const [name, a] of Object.entries(n.attributes ?? {})) {
    message(w, 5, (m) => writeAttribute(m, name, a)); // attribute
  }
  if (n.domain) str(w, 7, n.domain); // domain
}

function writeValueInfo(w: Writer, v: ValueInfoProto): void {
  str(w, 1, v.name); // name
  message(w, 2, (type) =>
    // type: TypeProto
    message(type, 1, (tensor) => { // tensor_type: TypeProto.Tensor
      tag(tensor, 1, VARINT).int32(v.elemType); // elem_type
      message(tensor, 2, (shape) => { // shape: TensorShapeProto
        for (const d of v.dims) {
          message(shape, 1, (dim) => { // dim: Dimension
            if (typeof d === "number") tag(dim, 1, VARINT).int64(d); // dim_value
            else str(dim, 2, d); // dim_param
          });
        }
      });
    }));
}

function writeGraph(w: Writer, g: GraphProto): void {
  for (const n of g.nodes) message(w, 1, (m) => writeNode(m, n)); // node
  str(w, 2, g.name); // name
  for (const t of g.initializers) message(w, 5, (m) => writeTensor(m, t)); // initializer
  for (const v of g.inputs) message(w, 11, (m) => writeValueInfo(m, v)); // input
  for (const v of g.outputs) message(w, 12, (m) => writeValueInfo(m, v)); // output
}

/**
 * Encodes a model as ONNX's binary protobuf (what `onnx.save` writes).
 *
 * @example The smallest model: y = Identity(x)
 * ```ts
 * import { DataType, encodeModel } from "./onnx_proto.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeModel({
 *   irVersion: 8, opsetImports: [{ domain: "", version: 17 }],
 *   producerName: "example", producerVersion: "1",
 *   graph: {
 *     name: "g", initializers: [],
 *     nodes: [{ opType: "Identity", name: "id", inputs: ["x"], outputs: ["y"] }],
 *     inputs: [{ name: "x", elemType: DataType.FLOAT, dims: ["n"] }],
 *     outputs: [{ name: "y", elemType: DataType.FLOAT, dims: ["n"] }],
 *   },
 * });
 * assert.equal(bytes[0], (1 << 3) | 0); // field 1 (ir_version), varint
 * assert.equal(bytes[1], 8);
 * ```
 */
export function encodeModel(m: ModelProto): Uint8Array {
  const w = protobuf.Writer.create();
  tag(w, 1, VARINT).int64(m.irVersion); // ir_version
  str(w, 2, m.producerName); // producer_name
  str(w, 3, m.producerVersion); // producer_version
  if (m.docString) str(w, 6, m.docString); // doc_string
  message(w, 7, (g) => writeGraph(g, m.graph)); // graph
  for (const o of m.opsetImports) {
    message(w, 8, (op) => { // opset_import: OperatorSetIdProto
      str(op, 1, o.domain);
      tag(op, 2, VARINT).int64(o.version);
    });
  }
  for (const [key, value] of Object.entries(m.metadata ?? {})) {
    message(w, 14, (e) => { // metadata_props: StringStringEntryProto
      str(e, 1, key);
      str(e, 2, value);
    });
  }
  return w.finish();
}
