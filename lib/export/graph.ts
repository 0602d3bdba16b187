/**
 * A small builder for ONNX graphs: named constants (initializers) and operator nodes whose outputs
 * get fresh names, so a model is written as a sequence of calls, one per operator.
 * @module
 */
import {
  type AttributeValue,
  DataType,
  type DataTypeValue,
  type GraphProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from "./onnx_proto.ts";

/** Typed arrays an initializer can be made from. */
export type TensorValues = Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

const TYPE_OF: Record<string, DataTypeValue> = {
  Float32Array: DataType.FLOAT,
  Int8Array: DataType.INT8,
  Uint8Array: DataType.UINT8,
  Int32Array: DataType.INT32,
  BigInt64Array: DataType.INT64,
};

/** Little-endian bytes of a typed array (a copy; the platforms ONNX runs on are little-endian). */
function rawBytes(values: TensorValues): Uint8Array {
  return new Uint8Array(
    values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength),
  );
}

/** Builds a {@link GraphProto} node by node. */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  #count = 0;
  #constants = new Map<string, string>();

  /** Adds a graph input. Returns its name. */
  input(name: string, elemType: DataTypeValue, dims: (number | string)[]): string {
    this.inputs.push({ name, elemType, dims });
    return name;
  }

  /** Names `value` as the graph output `name` (through an Identity node when renamed). */
  output(value: string, name: string, elemType: DataTypeValue, dims: (number | string)[]): void {
    if (value !== name) this.op("Identity", [value], {}, name);
    this.outputs.push({ name, elemType, dims });
  }

  /** Adds an initializer of `dims` holding `values`. Returns its name. */
  initializer(name: string, values: TensorValues, dims: number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== values.length) {
      throw new Error(`initializer ${name}: ${values.length} values for dims [${dims}]`);
    }
    this.initializers.push({
      name,
      dataType: TYPE_OF[values.constructor.name],
      dims,
      rawData: rawBytes(values),
    });
    return name;
  }

  /** A small shared constant: int64 values (`[]` dims for a scalar), made once per value. */
  int64s(values: number[], scalar = false): string {
    const key = `i64:${scalar}:${values.join(",")}`;
    let name = this.#constants.get(key);
    if (!name) {
      name = this.initializer(
        `const_${this.#constants.size}`,
        BigInt64Array.from(values, BigInt),
        scalar ? [] : [values.length],
      );
      this.#constants.set(key, name);
    }
    return name;
  }

  /** A shared float32 scalar constant. */
  float(value: number): string {
    const key = `f32:${value}`;
    let name = this.#constants.get(key);
    if (!name) {
      name = this.initializer(`const_${this.#constants.size}`, new Float32Array([value]), []);
      this.#constants.set(key, name);
    }
    return name;
  }

  /**
   * Adds one node of `opType` on `inputs` ("" skips an optional input); returns its first output's
   * name (`output` when given, else a fresh one).
   */
  op(
    opType: string,
    inputs: string[],
    attributes: Record<string, AttributeValue> = {},
    output?: string,
  ): string {
    return this.opN(opType, inputs, 1, attributes, output ? [output] : undefined)[0];
  }

  /** Like {@link op} with `n` outputs; returns their names. */
  opN(
    opType: string,
    inputs: string[],
    n: number,
    attributes: Record<string, AttributeValue> = {},
    outputs?: string[],
  ): string[] {
    const id = this.#count++;
    const names = outputs ?? Array.from({ length: n }, (_, k) => `${opType}_${id}_out${k}`);
    this.nodes.push({ opType, name: `${opType}_${id}`, inputs, outputs: names, attributes });
    return names;
  }

  /** The finished graph. */
  build(name: string): GraphProto {
    return {
      name,
      nodes: this.nodes,
      initializers: this.initializers,
      inputs: this.inputs,
      outputs: this.outputs,
    };
  }
}
