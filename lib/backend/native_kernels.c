/* Native kernels of lib/backend/native.ts: AdamW, GELU, dropout, LayerNorm, softmax, adds,
   column sums and batched sgemm over float32 buffers, OpenMP threads. Built by native_build.ts
   (cc -O3 -march=native -fopenmp -shared) into a per-machine cache; called over Deno's FFI. */
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>

/* Loops over fewer elements run on the calling thread. On a combined `parallel for simd` the
   size test is written `if (parallel: ...)`: an `if` clause without the modifier applies to the
   simd construct too (OpenMP 5.0), so below the threshold GCC then runs the loop unvectorized
   (measured: 10x slower on 16K-element bf16 conversions and adds). */
#define PAR_MIN 32768

void nk_set_threads(int n) { omp_set_num_threads(n); }

/* AdamW (torch.optim.AdamW): outputs separate from inputs. */
void nk_adamw(const float *p, const float *m, const float *v, const float *g,
              float *op, float *om, float *ov, int64_t n,
              float b1, float b2, float c1, float c2, float eps, float step_size,
              float bc2_sqrt, float keep) {
  #pragma omp parallel for simd schedule(static) if (parallel: n > PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    float gi = g[i];
    float mi = b1 * m[i] + c1 * gi;
    float vi = b2 * v[i] + c2 * gi * gi;
    om[i] = mi;
    ov[i] = vi;
    op[i] = p[i] * keep - step_size * mi / (sqrtf(vi) / bc2_sqrt + eps);
  }
}

/* e^x for x in [-87, 88]: x = n ln2 + r with |r| <= ln2/2, e^r by its degree-6 Taylor
   polynomial (relative error ~2e-7), 2^n from the exponent bits. Branch-free (with
   -fno-trapping-math the clamps become selects), so loops over it vectorize. */
static inline float nk_exp(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest */
  float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666672f + r * (0.0416666679f +
            r * (0.00833333377f + r * 0.00138888892f)))));
  int32_t bits = ((int32_t)n + 127) << 23;
  float s;
  memcpy(&s, &bits, 4);
  return p * s;
}

/* e^(-v^2 / 2) in float with the relative accuracy of its argument kept in the tail: v^2 is split
   exactly into hi + lo (fmaf), e^(-hi/2) is reduced exactly by nk_exp (hi/2 is a float) and
   e^(-lo/2) ~ 1 - lo/2 (|lo| < ulp(hi)). Rounding v^2 / 2 + ... into one float argument instead
   would cost ~1e-7 * v^2 of relative accuracy (6e-6 at v = -7). */
static inline float nk_gauss(float v) {
  float v2 = v * v, lo = fmaf(v, v, -v2);
  /* Beyond v^2 = 174 the value is below float's normal range (nk_exp clamps there): 0, which
     also covers an overflowed v^2 (|v| > 1.8e19, inf) and its NaN lo. */
  return v2 < 174.0f ? nk_exp(-0.5f * v2) * (1.0f - 0.5f * lo) : 0.0f;
}

/* Phi(v) = erfc(-v / sqrt 2) / 2 by Numerical Recipes' erfcc (fractional error < 1.2e-7 in exact
   arithmetic), erfc(a) = t e^(-a^2) e^(P(t)) with e^(-a^2) by nk_gauss, so the relative accuracy
   holds in the negative tail (measured against double erfc: < 1e-6 down to v = -13; below, where
   e^(-a^2) leaves float's normal range, callers recompute in double). */
static inline float nk_phi(float v) {
  float a = fabsf(v) * 0.70710678118654752f;
  float t = 1.0f / (1.0f + 0.5f * a);
  float r = t * nk_gauss(v) * nk_exp(-1.26551223f + t * (1.00002368f + t * (0.37409196f +
            t * (0.09678418f + t * (-0.18628806f + t * (0.27886807f + t * (-1.13520398f +
            t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f)))))))));
  return v >= 0.0f ? 1.0f - 0.5f * r : 0.5f * r;
}

/* Below NK_FAR_TAIL (Phi < 1e-38, e^(-v^2/2) below float's normal range) the few elements are
   recomputed in double; a vectorized test over each chunk skips the pass when there are none. */
#define NK_FAR_TAIL -13.0f
static inline double nk_phi_tail(double v) { return 0.5 * erfc(-v * 0.70710678118654752); }

#define NK_CHUNK 4096

/* Chunks of the GELU loops below; each keeps its arguments in a per-thread buffer for the
   far-tail pass, so y may be x. */
#define NK_GELU_CHUNK 1024

/* GELU of len values, y = s * Phi(s) with s = x (b NULL) or x + b (a float add, as a separate
   bias add), and the far tail recomputed in double. v: len floats of scratch. */
static inline void nk_gelu_span(const float *x, const float *b, float *v, float *y, int64_t len) {
  int far = 0;
  #pragma omp simd reduction(|:far)
  for (int64_t i = 0; i < len; i++) {
    const float s = b ? x[i] + b[i] : x[i];
    v[i] = s;
    y[i] = s * nk_phi(s);
    far |= s < NK_FAR_TAIL;
  }
  if (!far) return;
  for (int64_t i = 0; i < len; i++) {
    if (v[i] < NK_FAR_TAIL) y[i] = (float)(v[i] * nk_phi_tail(v[i]));
  }
}

/* Exact GELU: y = x * Phi(x). */
void nk_gelu(const float *x, float *y, int64_t n) {
  #pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t c = 0; c < n; c += NK_GELU_CHUNK) {
    float v[NK_GELU_CHUNK];
    nk_gelu_span(x + c, NULL, v, y + c, (c + NK_GELU_CHUNK < n ? c + NK_GELU_CHUNK : n) - c);
  }
}

/* Evaluation's feed-forward activation after its product: y = GELU(x + b), b repeated on every row
   of n, in one pass (the bits of the bias add, then nk_gelu). */
void nk_bias_gelu(const float *x, const float *b, float *y, int64_t rows, int64_t n) {
  #pragma omp parallel for schedule(static) if (rows * n > PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    float v[NK_GELU_CHUNK];
    for (int64_t c = 0; c < n; c += NK_GELU_CHUNK) {
      const int64_t len = n - c < NK_GELU_CHUNK ? n - c : NK_GELU_CHUNK;
      nk_gelu_span(x + r * n + c, b + c, v, y + r * n + c, len);
    }
  }
}

/* dx = dy * (Phi(x) + x * phi(x)). */
void nk_gelu_grad(const float *dy, const float *x, float *dx, int64_t n) {
  #pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t c = 0; c < n; c += NK_CHUNK) {
    int64_t e = c + NK_CHUNK < n ? c + NK_CHUNK : n;
    int far = 0;
    for (int64_t i = c; i < e; i++) {
      float v = x[i];
      dx[i] = dy[i] * (nk_phi(v) + v * 0.39894228040143268f * nk_gauss(v));
      far |= v < NK_FAR_TAIL;
    }
    if (!far) continue;
    for (int64_t i = c; i < e; i++) {
      if (x[i] < NK_FAR_TAIL) {
        double v = x[i];
        dx[i] = (float)(dy[i] * (nk_phi_tail(v) + v * 0.39894228040143268 * exp(-0.5 * v * v)));
      }
    }
  }
}

/* Inverted dropout with the mask of createRng(seed) in lib/util/random.ts (mulberry32). That
   generator's state after i + 1 draws is init + (i + 1) * 0x6d2b79f5 (mod 2^32), so element i's
   draw needs no earlier one and the loop runs in parallel. The draw u = t / 2^32 keeps the element
   when u < keep, i.e. when t < threshold = ceil(keep * 2^32) (computed by the caller). The result
   is x * (scale or 0): the same float multiply as x * mask with the JavaScript-drawn mask. */
void nk_dropout(const float *x, float *y, int64_t n, uint32_t init, uint64_t threshold,
                float scale) {
  #pragma omp parallel for simd schedule(static) if (parallel: n > PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    uint32_t t = init + (uint32_t)(i + 1) * 0x6d2b79f5u;
    t = (t ^ (t >> 15)) * (t | 1u);
    t ^= t + (t ^ (t >> 7)) * (t | 61u);
    t ^= t >> 14;
    y[i] = x[i] * ((uint64_t)t < threshold ? scale : 0.0f);
  }
}

/* LayerNorm over rows of h values in double (as the JavaScript loop): population variance,
   rstd = 1 / sqrt(var + eps); writes y and each row's mean and rstd. */
/* One row of LayerNorm (may run in place: yr == xr); its mean and rstd into *mean, *rstd. */
static inline void nk_layernorm_row(const float *xr, const float *gamma, const float *beta,
                                    float *yr, float *mean, float *rstd, int64_t h, double eps) {
  double s = 0.0, q = 0.0;
  #pragma omp simd reduction(+:s)
  for (int64_t j = 0; j < h; j++) s += xr[j];
  double mu = s / (double)h;
  #pragma omp simd reduction(+:q)
  for (int64_t j = 0; j < h; j++) {
    double d = xr[j] - mu;
    q += d * d;
  }
  double rs = 1.0 / sqrt(q / (double)h + eps);
  *mean = (float)mu;
  *rstd = (float)rs;
  #pragma omp simd
  for (int64_t j = 0; j < h; j++) yr[j] = (float)((xr[j] - mu) * rs * gamma[j] + beta[j]);
}

void nk_layernorm(const float *x, const float *gamma, const float *beta, float *y, float *mean,
                  float *rstd, int64_t rows, int64_t h, double eps) {
  #pragma omp parallel for schedule(static) if (rows * h > PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    nk_layernorm_row(x + r * h, gamma, beta, y + r * h, mean + r, rstd + r, h, eps);
  }
}

/* LayerNorm(a + b) without its mean and rstd (evaluation's residual add and norm in one pass):
   each row's float32 sum is written to y, then normalised in place, the same operations as
   nk_add then nk_layernorm, so the same bits. */
void nk_add_layernorm(const float *a, const float *b, const float *gamma, const float *beta,
                      float *y, int64_t rows, int64_t h, double eps) {
  #pragma omp parallel for schedule(static) if (rows * h > PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    const float *ar = a + r * h, *br = b + r * h;
    float *yr = y + r * h, mean, rstd;
    #pragma omp simd
    for (int64_t j = 0; j < h; j++) yr[j] = ar[j] + br[j];
    nk_layernorm_row(yr, gamma, beta, yr, &mean, &rstd, h, eps);
  }
}

#define LN_BLOCK 32

/* LayerNorm backward (see layerNormGradValues in fused_ops.ts). The parameter gradients are
   summed per block of LN_BLOCK rows, then over the blocks in order: the same result for any
   thread count. Returns 1 when it cannot allocate (the caller then runs the JavaScript loop). */
int nk_layernorm_grad(const float *dy, const float *x, const float *gamma, const float *mean,
                      const float *rstd, float *dx, float *dgamma, float *dbeta, int64_t rows,
                      int64_t h) {
  int64_t nb = (rows + LN_BLOCK - 1) / LN_BLOCK;
  double *part = calloc((size_t)(nb * 2 * h), sizeof(double));
  if (!part) return 1;
  #pragma omp parallel for schedule(static) if (rows * h > PAR_MIN)
  for (int64_t blk = 0; blk < nb; blk++) {
    double *pg = part + blk * 2 * h, *pb = pg + h;
    int64_t end = (blk + 1) * LN_BLOCK < rows ? (blk + 1) * LN_BLOCK : rows;
    for (int64_t r = blk * LN_BLOCK; r < end; r++) {
      const float *xr = x + r * h, *dyr = dy + r * h;
      float *dxr = dx + r * h;
      double mu = mean[r], rs = rstd[r], sg = 0.0, sgx = 0.0;
      #pragma omp simd reduction(+:sg, sgx)
      for (int64_t j = 0; j < h; j++) {
        double xh = (xr[j] - mu) * rs, d = dyr[j], g = d * gamma[j];
        sg += g;
        sgx += g * xh;
        pg[j] += d * xh;
        pb[j] += d;
      }
      double mg = sg / (double)h, mgx = sgx / (double)h;
      #pragma omp simd
      for (int64_t j = 0; j < h; j++) {
        double xh = (xr[j] - mu) * rs;
        dxr[j] = (float)(rs * ((double)dyr[j] * gamma[j] - mg - xh * mgx));
      }
    }
  }
  #pragma omp parallel for schedule(static) if (nb * h > PAR_MIN)
  for (int64_t j = 0; j < h; j++) {
    double g = 0.0, b = 0.0;
    for (int64_t blk = 0; blk < nb; blk++) {
      g += part[blk * 2 * h + j];
      b += part[blk * 2 * h + h + j];
    }
    dgamma[j] = (float)g;
    dbeta[j] = (float)b;
  }
  free(part);
  return 0;
}

/* out = a + b, b repeated every m elements (m = n: same shapes; m = the trailing size: a bias). */
void nk_add(const float *a, const float *b, float *out, int64_t n, int64_t m) {
  if (m == n) {
    #pragma omp parallel for simd schedule(static) if (parallel: n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) out[i] = a[i] + b[i];
    return;
  }
  if (m == 1) {
    float c = b[0];
    #pragma omp parallel for simd schedule(static) if (parallel: n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) out[i] = a[i] + c;
    return;
  }
  #pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t r = 0; r < n / m; r++) {
    const float *ar = a + r * m;
    float *o = out + r * m;
    #pragma omp simd
    for (int64_t j = 0; j < m; j++) o[j] = ar[j] + b[j];
  }
}

/* Softmax of one row of h: exp(x - max) / sum. Terms below e^-87 (masked positions) are 0, as
   expf gives them. */
static inline void nk_softmax_row(const float *xr, float *yr, int64_t h) {
  float mx = xr[0], s = 0.0f;
  #pragma omp simd reduction(max:mx)
  for (int64_t j = 0; j < h; j++) mx = xr[j] > mx ? xr[j] : mx;
  #pragma omp simd reduction(+:s)
  for (int64_t j = 0; j < h; j++) {
    float d = xr[j] - mx;
    float e = d < -87.0f ? 0.0f : nk_exp(d);
    yr[j] = e;
    s += e;
  }
  float inv = 1.0f / s;
  #pragma omp simd
  for (int64_t j = 0; j < h; j++) yr[j] *= inv;
}

/* Softmax over rows of h (nk_softmax_row per row). */
void nk_softmax(const float *x, float *y, int64_t rows, int64_t h) {
  #pragma omp parallel for schedule(static) if (rows * h > PAR_MIN)
  for (int64_t r = 0; r < rows; r++) nk_softmax_row(x + r * h, y + r * h, h);
}

/* The float32 GEMM the matMul kernels opened, behind CBLAS's signature: OpenBLAS's cblas_sgemm
   (with openblas_set_num_threads), or oneDNN's dnnl_sgemm through nk_dnnl_as_cblas. */
typedef void (*nk_sgemm_fn)(int, int, int, int, int, int, float, const float *, int,
                            const float *, int, float, float *, int);
static nk_sgemm_fn nk_sgemm;
static void (*nk_blas_set_threads)(int);

/* dnnl_sgemm: row-major, 'N'/'T', 64-bit sizes, returns a dnnl_status_t. */
typedef int (*nk_dnnl_sgemm_fn)(char, char, int64_t, int64_t, int64_t, float, const float *,
                                int64_t, const float *, int64_t, float, float *, int64_t);
static nk_dnnl_sgemm_fn nk_dnnl_sgemm;

/* Set when a dnnl_sgemm call through nk_dnnl_as_cblas failed; read and cleared by the callers
   that return a status (nk_sgemm_batch, nk_attention). */
static int nk_gemm_failed;

static void nk_dnnl_as_cblas(int order, int ta, int tb, int m, int n, int k, float alpha,
                             const float *a, int lda, const float *b, int ldb, float beta,
                             float *c, int ldc) {
  (void)order; /* row-major only */
  if (nk_dnnl_sgemm(ta == 112 ? 'T' : 'N', tb == 112 ? 'T' : 'N', m, n, k, alpha, a, lda, b,
                    ldb, beta, c, ldc) != 0) {
    #pragma omp atomic write
    nk_gemm_failed = 1;
  }
}

/* oneDNN takes its threads from OpenMP: inside the parallel loop below each call runs on one. */
static void nk_no_threads(int threads) { (void)threads; }

/* Finds the GEMM in the library at path (already loaded by the process: dlopen returns that
   copy): oneDNN's dnnl_sgemm, else CBLAS's cblas_sgemm with openblas_set_num_threads. 0 when
   found. */
int nk_open_blas(const char *path) {
  nk_sgemm = NULL; /* a failed call leaves nothing linked */
  void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  if (!h) h = dlopen(path, RTLD_NOW);
  if (!h) return 1;
  nk_dnnl_sgemm = (nk_dnnl_sgemm_fn)dlsym(h, "dnnl_sgemm");
  if (nk_dnnl_sgemm) {
    nk_sgemm = nk_dnnl_as_cblas;
    nk_blas_set_threads = nk_no_threads;
    return 0;
  }
  /* An OpenMP build of OpenBLAS (openblas_get_parallel() == 2) sets the OpenMP thread count
     with openblas_set_num_threads, which would serialize the loop below: not used then. */
  int (*parallel)(void) = (int (*)(void))dlsym(h, "openblas_get_parallel");
  if (parallel && parallel() == 2) return 3;
  nk_sgemm_fn f = (nk_sgemm_fn)dlsym(h, "cblas_sgemm");
  nk_blas_set_threads = (void (*)(int))dlsym(h, "openblas_set_num_threads");
  if (!f || !nk_blas_set_threads) return 2;
  nk_sgemm = f;
  return 0;
}

/* A batched matMul, C_i = op(A_i) op(B_i) (row-major; sa or sb 0 broadcasts one matrix): one
   single-threaded sgemm per item, the items spread over the threads. Per-head attention
   products are too small to keep two BLAS threads busy each; side by side they run ~1.5-2x
   faster. BLAS gets blas_threads back afterwards. Returns 0, or 1 when a oneDNN call failed. */
int nk_sgemm_batch(int ta, int tb, int64_t batch, int m, int n, int k, const float *a,
                   int64_t sa, int lda, const float *b, int64_t sb, int ldb, float *c,
                   int blas_threads) {
  nk_gemm_failed = 0;
  nk_blas_set_threads(1);
  #pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < batch; i++) {
    nk_sgemm(101, ta, tb, m, n, k, 1.0f, a + i * sa, lda, b + i * sb, ldb, 0.0f,
             c + i * (int64_t)m * n, n);
  }
  nk_blas_set_threads(blas_threads);
  return nk_gemm_failed;
}

#define COL_CHUNK 64

/* Column sums of x viewed as [outer, inner] (bias gradients), each column accumulated over the
   rows in order in double, as sumLeadingRows in fused_wasm.ts: the same bits. Threads split the
   columns. */
void nk_col_sum(const float *x, float *out, int64_t outer, int64_t inner) {
  int64_t chunks = (inner + COL_CHUNK - 1) / COL_CHUNK;
  #pragma omp parallel for schedule(static) if (outer * inner > PAR_MIN)
  for (int64_t c = 0; c < chunks; c++) {
    int64_t j0 = c * COL_CHUNK, w = inner - j0 < COL_CHUNK ? inner - j0 : COL_CHUNK;
    double acc[COL_CHUNK] = {0.0};
    for (int64_t i = 0; i < outer; i++) {
      const float *row = x + i * inner + j0;
      #pragma omp simd
      for (int64_t j = 0; j < w; j++) acc[j] += row[j];
    }
    for (int64_t j = 0; j < w; j++) out[j0 + j] = (float)acc[j];
  }
}

/* Softmax gradient over rows of h: dx = y * (dy - sum(dy * y)). */
void nk_softmax_grad(const float *dy, const float *y, float *dx, int64_t rows, int64_t h) {
  #pragma omp parallel for schedule(static) if (rows * h > PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    const float *a = dy + r * h, *b = y + r * h;
    float *o = dx + r * h;
    float s = 0.0f;
    #pragma omp simd reduction(+:s)
    for (int64_t j = 0; j < h; j++) s += a[j] * b[j];
    #pragma omp simd
    for (int64_t j = 0; j < h; j++) o[j] = b[j] * (a[j] - s);
  }
}

/* Row offsets for the strided kernels below: the input offset of output row r (all output
   dimensions but the last) for each of up to two inputs with strides sa, sb (0 on broadcast
   dimensions). */
static inline void nk_row_offsets(int64_t r, int rank, const int64_t *shape, const int64_t *sa,
                                  const int64_t *sb, int64_t *oa, int64_t *ob) {
  int64_t a = 0, b = 0;
  for (int d = rank - 2; d >= 0; d--) {
    int64_t c = r % shape[d];
    r /= shape[d];
    a += c * sa[d];
    if (sb) b += c * sb[d];
  }
  *oa = a;
  *ob = b;
}

/* out = a op b (op 0: add, 1: multiply) over the output shape, each input read through its strides
   (0 where it broadcasts): one pass, rows over the threads. The float operations are tfjs's, so
   the bits are too. */
void nk_binary_strided(int op, const float *a, const float *b, float *out, int rank,
                       const int64_t *shape, const int64_t *sa, const int64_t *sb) {
  int64_t inner = shape[rank - 1], rows = 1;
  for (int d = 0; d < rank - 1; d++) rows *= shape[d];
  int64_t ia = sa[rank - 1], ib = sb[rank - 1];
  #pragma omp parallel for schedule(static) if (rows * inner > PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    int64_t oa, ob;
    nk_row_offsets(r, rank, shape, sa, sb, &oa, &ob);
    const float *ar = a + oa, *br = b + ob;
    float *o = out + r * inner;
    if (op == 0) {
      if (ia == 1 && ib == 1) {
        #pragma omp simd
        for (int64_t j = 0; j < inner; j++) o[j] = ar[j] + br[j];
      } else if (ia == 1 && ib == 0) {
        float c = br[0];
        #pragma omp simd
        for (int64_t j = 0; j < inner; j++) o[j] = ar[j] + c;
      } else {
        for (int64_t j = 0; j < inner; j++) o[j] = ar[j * ia] + br[j * ib];
      }
    } else {
      if (ia == 1 && ib == 1) {
        #pragma omp simd
        for (int64_t j = 0; j < inner; j++) o[j] = ar[j] * br[j];
      } else if (ia == 1 && ib == 0) {
        float c = br[0];
        #pragma omp simd
        for (int64_t j = 0; j < inner; j++) o[j] = ar[j] * c;
      } else {
        for (int64_t j = 0; j < inner; j++) o[j] = ar[j * ia] * br[j * ib];
      }
    }
  }
}

/* Tiles of the 2-D transpose below: 16 x 16 floats (1 KiB each way) stay in L1 while the reads
   stride across rows; contiguous writes (measured on the [768, 3072] weight copies: 4.2 -> 1.2 ms
   against one strided read per output row). */
#define NK_TR_TILE 16

/* y = x transposed: `shape` is the output's, `sx` the input strides of each output dimension. A
   copy, so exact; contiguous output rows whose input is contiguous too are copied whole, and a
   plain 2-D transpose goes by tiles. */
void nk_transpose(const float *x, float *y, int rank, const int64_t *shape, const int64_t *sx) {
  int64_t inner = shape[rank - 1], rows = 1;
  for (int d = 0; d < rank - 1; d++) rows *= shape[d];
  int64_t ix = sx[rank - 1];
  if (rank == 2 && sx[0] == 1 && ix != 1) {
    #pragma omp parallel for schedule(static) if (rows * inner > PAR_MIN)
    for (int64_t rb = 0; rb < rows; rb += NK_TR_TILE) {
      const int64_t re = rb + NK_TR_TILE < rows ? rb + NK_TR_TILE : rows;
      for (int64_t cb = 0; cb < inner; cb += NK_TR_TILE) {
        const int64_t ce = cb + NK_TR_TILE < inner ? cb + NK_TR_TILE : inner;
        for (int64_t r = rb; r < re; r++) {
          float *o = y + r * inner;
          for (int64_t c = cb; c < ce; c++) o[c] = x[r + c * ix];
        }
      }
    }
    return;
  }
  #pragma omp parallel for schedule(static) if (rows * inner > PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    int64_t ox, unused;
    nk_row_offsets(r, rank, shape, sx, 0, &ox, &unused);
    float *o = y + r * inner;
    if (ix == 1) {
      memcpy(o, x + ox, (size_t)inner * sizeof(float));
    } else {
      const float *xr = x + ox;
      for (int64_t j = 0; j < inner; j++) o[j] = xr[j * ix];
    }
  }
}

/* bf16 helpers of native_bf16.c (same library). */
void nk_to_bf16(const float *x, uint16_t *y, int64_t n);
int nk_gemm_bf16(int ta, int tb, int64_t m, int64_t n, int64_t k, const uint16_t *a, int64_t lda,
                 const uint16_t *b, int64_t ldb, float *c, int64_t ldc);

/* C = A B^T (tb) or A B of one head, [t, dh] or [t, t] operands in scratch: float32 sgemm, or
   with bf16 set both operands rounded to bf16 into a16 / b16 and oneDNN's bf16 product with
   float32 accumulation (what lib/backend/bf16.ts does for a matMul). 0 or a oneDNN status. */
static int nk_head_product(int bf16, int tb, int64_t m, int64_t n, int64_t k, const float *a,
                           const float *b, uint16_t *a16, uint16_t *b16, float *c) {
  const int64_t ldb = tb ? k : n;
  if (!bf16) {
    nk_sgemm(101, 111, tb ? 112 : 111, (int)m, (int)n, (int)k, 1.0f, a, (int)k, b, (int)ldb,
             0.0f, c, (int)n);
    return 0;
  }
  nk_to_bf16(a, a16, m * k);
  nk_to_bf16(b, b16, n * k);
  return nk_gemm_bf16(0, tb, m, n, k, a16, k, b16, ldb, c, n);
}

/* Self-attention of one layer without dropout or gradient (evaluation), for each sequence n and
   head h: out[n, :, h] = softmax((q[n, :, h] * scale) k[n, :, h]^T + mask[n]) v[n, :, h], with
   q, k, v and out as [N * T, heads * dh] rows, so the heads are read and written in place of
   the model's four transposes. Each (n, h) runs on one thread with its operands copied into
   scratch of the layout the unfused ops give them ([T, dh] rows; [T, T] scores), and the same
   float operations in the same order as those ops: the scale multiply, one single-threaded
   product per matMul (float32 sgemm, or with bf16 set bf16 operands and oneDNN's bf16 product, as
   --bf16 runs a matMul), the mask add, nk_softmax_row. BLAS gets blas_threads back afterwards.
   The bits equal the unfused path's (tests/backend_attention.test.ts). mask: [N, T] additive, or
   NULL. Returns 0, 1 before nk_open_blas, 2 when scratch memory cannot be had, 3 when a product
   (oneDNN) fails. */
int nk_attention(const float *q, const float *k, const float *v, const float *mask, float *out,
                 int64_t n_seq, int64_t t, int64_t heads, int64_t dh, float scale,
                 int blas_threads, int bf16) {
  if (!nk_sgemm) return 1;
  const int64_t hid = heads * dh, items = n_seq * heads;
  /* One item: no parallel region, so its products get every thread as the composed matMul's
     single product does (the same call, the same bits). */
  const int par = items > 1;
  int nomem = 0, badprod = 0;
  nk_gemm_failed = 0;
  if (par) nk_blas_set_threads(1);
  #pragma omp parallel if (par) reduction(|:nomem, badprod)
  {
    /* bf16 operands: the left one (q, then the probabilities), the right one (k, then v). */
    const int64_t left = t * (t > dh ? t : dh);
    float *qs = malloc(sizeof(float) * (size_t)(4 * t * dh + t * t));
    uint16_t *h16 = bf16 ? malloc(sizeof(uint16_t) * (size_t)(left + t * dh)) : NULL;
    const int ok = qs && (!bf16 || h16);
    float *ks = ok ? qs + t * dh : NULL, *vs = ok ? ks + t * dh : NULL;
    float *cs = ok ? vs + t * dh : NULL, *sc = ok ? cs + t * dh : NULL;
    uint16_t *l16 = h16, *r16 = h16 ? h16 + left : NULL;
    /* Every thread meets the worksharing loop; one without scratch skips its items. */
    #pragma omp for schedule(static)
    for (int64_t it = 0; it < items; it++) {
      if (!ok) {
        nomem = 1;
        continue;
      }
      const int64_t n = it / heads, h = it % heads;
      const int64_t base = n * t * hid + h * dh;
      for (int64_t i = 0; i < t; i++) {
        const float *qr = q + base + i * hid, *kr = k + base + i * hid, *vr = v + base + i * hid;
        #pragma omp simd
        for (int64_t d = 0; d < dh; d++) {
          qs[i * dh + d] = qr[d] * scale;
          ks[i * dh + d] = kr[d];
          vs[i * dh + d] = vr[d];
        }
      }
      if (nk_head_product(bf16, 1, t, t, dh, qs, ks, l16, r16, sc)) badprod = 1;
      for (int64_t i = 0; i < t; i++) {
        float *row = sc + i * t;
        if (mask) {
          const float *mr = mask + n * t;
          #pragma omp simd
          for (int64_t j = 0; j < t; j++) row[j] = row[j] + mr[j];
        }
        nk_softmax_row(row, row, t);
      }
      if (nk_head_product(bf16, 0, t, dh, t, sc, vs, l16, r16, cs)) badprod = 1;
      for (int64_t i = 0; i < t; i++) {
        float *orow = out + base + i * hid;
        #pragma omp simd
        for (int64_t d = 0; d < dh; d++) orow[d] = cs[i * dh + d];
      }
    }
    free(qs);
    free(h16);
  }
  if (par) nk_blas_set_threads(blas_threads);
  return nomem ? 2 : (badprod || nk_gemm_failed) ? 3 : 0;
}

/* Rows of a table by index, for any 4-byte element type: y[i, :] = x[idx[i], :] (the indices are
   checked by the caller). One memcpy per row, rows over the threads. */
void nk_gather_rows(const float *x, const int32_t *idx, float *y, int64_t n, int64_t inner) {
  #pragma omp parallel for schedule(static) if (n * inner > PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    memcpy(y + i * inner, x + (int64_t)idx[i] * inner, sizeof(float) * (size_t)inner);
  }
}
