/**
 * The backend layer: TensorFlow.js initialisation ({@link initBackend} picks the fastest usable
 * backend and says why; `choose.ts`) and the project's kernels for the wasm and cpu backends
 * (BLAS matMuls, fused ops, native element-wise kernels) and for WebGPU. Re-exports only.
 * @module
 */
export {
  BACKEND_NAMES,
  type BackendChoice,
  BackendError,
  backendLabel,
  type BackendName,
  initBackend,
  useBackend,
  useWebGpuIfAvailable,
} from "./choose.ts";

export {
  Bf16Error,
  type Bf16Info,
  bf16Info,
  bf16Units,
  type MatmulPrecision,
  matmulPrecision,
  openBf16,
  setMatmulPrecision,
} from "./bf16.ts";
export {
  blasFusedBiasActive,
  type BlasInfo,
  denseGelu,
  float32Gemm,
  linkBatchedGemm,
  openBlas,
  registerBlasKernels,
  weightCopiesActive,
} from "./blas.ts";
export { fastWasmKernelNames, registerFastWasmKernels } from "./fused_wasm.ts";
export {
  ADAMW_HOST_MOMENTS_KERNEL,
  ADAMW_KERNEL,
  adamwCoefficients,
  adamwComposite,
  adamwUpdate,
  type AdamWUpdateAttrs,
  adamwUpdateHostMoments,
  adamwValues,
  registerAdamWKernels,
} from "./fused_adamw.ts";
export {
  addLayerNorm,
  FUSED_OP_KERNELS,
  gelu,
  geluComposite,
  geluFusedHere,
  layerNorm,
  layerNormComposite,
  registerFusedOpKernels,
} from "./fused_ops.ts";

export {
  type AdamWCoefficients,
  type NativeInfo,
  nativeInfo,
  type NativeKernels,
  nativeKernels,
  openNative,
} from "./native.ts";
export { buildNative, NATIVE_SOURCE_FILES, readNativeSources } from "./native_build.ts";
export { NATIVE_SYMBOLS } from "./native_symbols.ts";
export {
  dropout,
  DROPOUT_KERNEL,
  dropoutMask,
  dropoutValues,
  registerDropoutKernel,
} from "./fused_dropout.ts";
export { NATIVE_OP_KERNELS, registerNativeOps } from "./native_ops.ts";
export {
  attention,
  ATTENTION_KERNEL,
  attentionComposite,
  type AttentionDims,
  fusedAttentionActive,
  registerAttentionKernel,
} from "./fused_attention.ts";
export { registerSoftmaxGrad, SOFTMAX_GRAD_KERNEL, softmaxGradComposite } from "./fused_softmax.ts";
export { projectKernelNames, registerProjectKernels, segmentSumValues } from "./kernels.ts";
export { type BackendPlan, type Candidate, planBackends } from "./rules.ts";
export {
  adapterLabel,
  type GpuAdapterFacts,
  guardReadSync,
  isSoftwareAdapter,
  probeWebGpu,
  WEBGPU_HINT,
  type WebGpuProbe,
  WebGpuSyncReadError,
} from "./webgpu.ts";
export { registerWebGpuKernels, webgpuKernelNames } from "./webgpu_kernels.ts";
