/**
 * The FFI symbol table of the native kernels (`native_kernels.c`, `native_bf16.c`): one entry per exported C
 * function, its parameter and result types as `Deno.dlopen` takes them.
 * @module
 */

// FFI argument types, short so each signature reads on one line.
const B = "buffer", I = "i64", F = "f32";

/** C functions of the native library and their FFI signatures. */
export const NATIVE_SYMBOLS = {
  nk_set_threads: { parameters: ["i32"], result: "void" },
  nk_adamw: { parameters: [B, B, B, B, B, B, B, I, F, F, F, F, F, F, F, F], result: "void" },
  nk_gelu: { parameters: [B, B, I], result: "void" },
  nk_gelu_grad: { parameters: [B, B, B, I], result: "void" },
  nk_bias_gelu: { parameters: [B, B, B, I, I], result: "void" },
  nk_softmax_grad: { parameters: [B, B, B, I, I], result: "void" },
  nk_add: { parameters: [B, B, B, I, I], result: "void" },
  nk_softmax: { parameters: [B, B, I, I], result: "void" },
  nk_col_sum: { parameters: [B, B, I, I], result: "void" },
  nk_dropout: { parameters: [B, B, I, "u32", "u64", F], result: "void" },
  nk_layernorm: { parameters: [B, B, B, B, B, B, I, I, "f64"], result: "void" },
  nk_add_layernorm: { parameters: [B, B, B, B, B, I, I, "f64"], result: "void" },
  nk_open_blas: { parameters: [B], result: "i32" },
  nk_sgemm_batch: {
    parameters: ["i32", "i32", I, "i32", "i32", "i32", B, I, "i32", B, I, "i32", B, "i32"],
    result: "i32",
  },
  nk_layernorm_grad: { parameters: [B, B, B, B, B, B, B, B, I, I], result: "i32" },
  nk_binary_strided: { parameters: ["i32", B, B, B, "i32", B, B, B], result: "void" },
  nk_transpose: { parameters: [B, B, "i32", B, B], result: "void" },
  nk_gather_rows: { parameters: [B, B, B, I, I], result: "void" },
  nk_attention: { parameters: [B, B, B, B, B, I, I, I, I, F, "i32", "i32"], result: "i32" },
  // native_bf16.c
  nk_open_dnnl: { parameters: [B], result: "i32" },
  nk_dnnl_effective_isa: { parameters: [], result: "i32" },
  nk_to_bf16: { parameters: [B, B, I], result: "void" },
  nk_bf16_to_f32: { parameters: [B, B, I], result: "void" },
  nk_gemm_bf16: { parameters: ["i32", "i32", I, I, I, B, I, B, I, B, I], result: "i32" },
  nk_gemm_bf16_f32: {
    parameters: ["i32", "i32", I, I, I, I, B, B, I, I, I, B, B, I, I, I, B],
    result: "i32",
  },
} as const;
