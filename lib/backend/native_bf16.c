/* bf16 matrix products for lib/backend/bf16.ts: float32 -> bf16 conversion (round to nearest even,
   the rounding of torch's .to(torch.bfloat16) and of AVX512-BF16's vcvtneps2bf16 on normal numbers)
   fused with oneDNN's dnnl_gemm_bf16bf16f32 (bf16 inputs, float32 accumulation and output), which
   runs on AMX tiles or AVX512-BF16 where the CPU has them. oneDNN is opened at run time (dlopen),
   so this library builds and loads without it. Conversion is written portably (integer
   arithmetic, vectorized by the compiler) so every CPU rounds denormals alike. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>

/* Below it the conversions run on the calling thread (also inside the attention kernel's per-head
   loop), still vectorized: `if (parallel: ...)`, see PAR_MIN in native_kernels.c. */
#define NK_BF_PAR_MIN 32768

/* dnnl_status_t dnnl_gemm_bf16bf16f32(char transa, char transb, dnnl_dim_t M, dnnl_dim_t N,
   dnnl_dim_t K, float alpha, const bfloat16_t *A, dnnl_dim_t lda, const bfloat16_t *B,
   dnnl_dim_t ldb, float beta, float *C, dnnl_dim_t ldc): row-major, like dnnl_sgemm. Exported
   by libdnnl 2.x though its dnnl.h does not declare it. */
typedef int (*nk_dnnl_gemm_bf16_fn)(char, char, int64_t, int64_t, int64_t, float,
                                    const uint16_t *, int64_t, const uint16_t *, int64_t, float,
                                    float *, int64_t);
static nk_dnnl_gemm_bf16_fn nk_dnnl_gemm_bf16;
static int (*nk_dnnl_isa)(void);

/* Finds oneDNN's bf16 gemm in the library at path. 0 when found. */
int nk_open_dnnl(const char *path) {
  void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  if (!h) h = dlopen(path, RTLD_NOW);
  if (!h) return 1;
  nk_dnnl_gemm_bf16 = (nk_dnnl_gemm_bf16_fn)dlsym(h, "dnnl_gemm_bf16bf16f32");
  nk_dnnl_isa = (int (*)(void))dlsym(h, "dnnl_get_effective_cpu_isa");
  return nk_dnnl_gemm_bf16 ? 0 : 2;
}

/* oneDNN's dnnl_cpu_isa_t for the instructions it uses (-1 when unknown). */
int nk_dnnl_effective_isa(void) { return nk_dnnl_isa ? nk_dnnl_isa() : -1; }

/* float32 -> bf16, round to nearest even; NaN stays a (quiet) NaN. */
static inline uint16_t nk_to_bf16_1(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  return (u & 0x7fffffffu) > 0x7f800000u ? (uint16_t)((u >> 16) | 0x40u) : (uint16_t)r;
}

void nk_to_bf16(const float *x, uint16_t *y, int64_t n) {
  #pragma omp parallel for simd schedule(static) if (parallel: n > NK_BF_PAR_MIN)
  for (int64_t i = 0; i < n; i++) y[i] = nk_to_bf16_1(x[i]);
}

void nk_bf16_to_f32(const uint16_t *x, float *y, int64_t n) {
  #pragma omp parallel for simd schedule(static) if (parallel: n > NK_BF_PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    uint32_t u = (uint32_t)x[i] << 16;
    memcpy(&y[i], &u, 4);
  }
}

/* C = op(A) op(B) for bf16 A and B already converted (row-major, ta/tb 0 or 1). Returns oneDNN's
   status (0: success), or -1 before nk_open_dnnl succeeded. */
int nk_gemm_bf16(int ta, int tb, int64_t m, int64_t n, int64_t k, const uint16_t *a, int64_t lda,
                 const uint16_t *b, int64_t ldb, float *c, int64_t ldc) {
  if (!nk_dnnl_gemm_bf16) return -1;
  return nk_dnnl_gemm_bf16(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.0f, a, lda, b, ldb, 0.0f,
                           c, ldc);
}

/* A batched product from float32 operands: A (na floats) and B (nb floats) are converted once
   (an operand whose bf16 copy a16 / b16 is given, e.g. a cached weight, is not converted),
   then C_i = op(A_i) op(B_i) with item strides sa, sb (0 broadcasts one matrix). batch == 1: one
   multi-threaded oneDNN call; more: one single-threaded call per item, the items over the
   threads (per-head attention products are too small to split). Returns 0, a oneDNN status, or
   -2 when it cannot allocate. */
/* Scratch for the converted operands, kept between calls (grow-only): fresh buffers of this size
   would come from mmap and page-fault on every product. Callers are serialized (JavaScript's one
   thread). */
static uint16_t *nk_scratch[2];
static int64_t nk_scratch_len[2];

static uint16_t *nk_scratch_get(int i, int64_t n) {
  if (nk_scratch_len[i] < n) {
    free(nk_scratch[i]);
    nk_scratch[i] = malloc((size_t)n * 2);
    nk_scratch_len[i] = nk_scratch[i] ? n : 0;
  }
  return nk_scratch[i];
}

int nk_gemm_bf16_f32(int ta, int tb, int64_t batch, int64_t m, int64_t n, int64_t k,
                     const float *a, const uint16_t *a16, int64_t na, int64_t sa, int64_t lda,
                     const float *b, const uint16_t *b16, int64_t nb, int64_t sb, int64_t ldb,
                     float *c) {
  if (!nk_dnnl_gemm_bf16) return -1;
  const uint16_t *abf = a16, *bbf = b16;
  if (!abf) {
    uint16_t *t = nk_scratch_get(0, na);
    if (!t) return -2;
    nk_to_bf16(a, t, na);
    abf = t;
  }
  if (!bbf) {
    uint16_t *t = nk_scratch_get(1, nb);
    if (!t) return -2;
    nk_to_bf16(b, t, nb);
    bbf = t;
  }
  int status = 0;
  if (batch == 1) {
    status = nk_dnnl_gemm_bf16(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.0f, abf, lda, bbf, ldb,
                               0.0f, c, n);
  } else {
    #pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < batch; i++) {
      int s = nk_dnnl_gemm_bf16(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.0f, abf + i * sa, lda,
                                bbf + i * sb, ldb, 0.0f, c + i * m * n, n);
      if (s) {
        #pragma omp atomic write
        status = s;
      }
    }
  }
  return status;
}
