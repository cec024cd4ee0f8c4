#ifndef CRECURRENT_KERNELS_H
#define CRECURRENT_KERNELS_H
// Float kernels of Recurrent: single-precision GEMM, the LSTM's fused gate
// arithmetic, and a small spin/sleep thread pool. Every function has an
// AVX2+FMA body (per-function target attributes, chosen at run time by cpuid)
// and a portable body; the package builds with no flags on any x86-64 or arm64.
//
// All matrices are row-major with leading dimensions (row strides), BLAS shapes:
// op(A) [m, k], op(B) [k, n], C [m, n].

#ifdef __cplusplus
extern "C" {
#endif

/// C = op(A) op(B) (accumulate == 0) or C += op(A) op(B), using up to `threads`
/// threads. Each element of C is computed by the same sequence of floating-point
/// operations whatever `threads` is, so results are bit-identical across thread counts.
void rk_sgemm(int transA, int transB, long m, long n, long k,
              const float *a, long lda, const float *b, long ldb,
              float *c, long ldc, int accumulate, int threads);

/// Runs fn(ctx, part, parts) for part = 0 ..< parts on the caller and the pool's
/// spinning workers, returning when every part has finished (a fork-join). A call made
/// while another thread holds the pool (or from inside a part) runs the parts one
/// after another on the calling thread instead.
void rk_parallel_for(int parts, void (*fn)(void *ctx, int part, int parts), void *ctx);

/// out[j] (+)= sum_r a[r * cols + j]: rows summed in order, per column.
void rk_column_sums(const float *a, long rows, long cols, float *out, int accumulate);

/// The relu step backward: dnet[i] = net[i] <= 0 ? 0 : dh[i] for i < n (exact; PyTorch's
/// threshold_backward, so a NaN net passes dh through).
void rk_relu_backward(long n, const float *net, const float *dh, float *dnet);

/// LSTM step, forward, for `rows` rows of `h` units. pre [rows, 4h] holds the gate
/// pre-activations (i, f, g, o) and is overwritten with the activated gates;
/// c_prev, c_new, h_new are [rows, h] with row strides h.
void rk_lstm_forward(long rows, long h, float *gates, const float *c_prev,
                     float *c_new, float *h_new);

/// LSTM step, backward (mirror of rk_lstm_forward). gates [rows, 4h] activated;
/// dh, dc [rows, h] in (dc is overwritten with dL/dc_{t-1}); dpre [rows, 4h] out.
void rk_lstm_backward(long rows, long h, const float *gates, const float *c_prev,
                      const float *c_new, const float *dh, float *dc, float *dpre);

/// rk_lstm_forward that also keeps tanh(c_new) for the backward pass in tanh_c [rows, h]
/// (row stride ldt): the values h_new = o tanh(c_new) was formed from, bit for bit.
void rk_lstm_forward_keep(long rows, long h, float *gates, const float *c_prev, float *c_new,
                          float *h_new, float *tanh_c, long ldt);

/// rk_lstm_backward reading tanh(c_t) kept by rk_lstm_forward_keep (tanh_c, row stride ldt)
/// instead of recomputing it from c_t: the same bits, one tanh fewer per unit.
void rk_lstm_backward_kept(long rows, long h, const float *gates, const float *c_prev,
                           const float *tanh_c, long ldt, const float *dh, float *dc, float *dpre);

/// The LSTM's whole backward step where a one-pass body applies (AVX2 without AVX-512, 1 <= h <= 256;
/// returns 0, doing nothing, elsewhere): rk_lstm_backward_kept (dh, dc [rows, h] in, dc overwritten
/// with dL/dc_{t-1}, dpre [rows, 4h] out), then dh [rows, h] = dpre W_hh (w_hh [4h, h], row stride h)
/// as rk_sgemm forms it: the same bits. next_gates, next_c_prev, next_tanh_c: the same rows of step
/// t-1's operands (strides as above), prefetched while the product runs; NULL at t = 0.
int rk_lstm_backward_step(long rows, long h, const float *gates, const float *c_prev, const float *tanh_c, long ldt,
                          float *dh, float *dc, float *dpre, const float *w_hh, const float *next_gates,
                          const float *next_c_prev, const float *next_tanh_c, int threads);

/// GRU step, forward (PyTorch's gate order r, z, n), for `rows` rows of `h` units:
/// x [rows, 3h] = W_i x + b_i, hh [rows, 3h] = W_h h_prev + b_h, h_prev [rows, h] in;
/// gates [rows, 3h] receives r, z, n and h_new [rows, h] = (1 - z) n + z h_prev.
void rk_gru_forward(long rows, long h, const float *x, const float *hh, const float *h_prev,
                    float *gates, float *h_new);

/// GRU step, backward (mirror of rk_gru_forward): from hh, gates, h_prev and dh [rows, h]
/// writes dL/d(input pre-activations) d_in [rows, 3h], dL/d(W_h h + b_h) d_hh [rows, 3h]
/// and the direct path direct = dh * z [rows, h].
void rk_gru_backward(long rows, long h, const float *hh, const float *gates, const float *h_prev,
                     const float *dh, float *d_in, float *d_hh, float *direct);

/// The tanh RNN's step after the product: net[i] = x[i] + r[i], h[i] = tanh(net[i]).
void rk_tanh_forward(long n, const float *x, const float *r, float *net, float *h);

/// A recurrent step's product in one pass: net = x + (bias + h_prev wt) for `rows` rows,
/// with wt = W_hhᵀ [k, n], h_prev [rows, k], x and net [rows, n], bias [n]; and, for the
/// simple RNN, h_new = f(net) with f = relu (activation 1) or tanh (2); activation 0 writes
/// net only (h_new unused: the LSTM's gate pre-activations). Each net value is the chain of
/// rk_sgemm with C = bias, then + x, so it equals the unfused step exactly.
void rk_recurrent_step(long rows, long n, long k, const float *h_prev, const float *wt, const float *bias,
                       const float *x, float *net, float *h_new, int activation, int threads);

/// rk_recurrent_step with W_hhᵀ given as the panels of rk_pack_b(1, k, n, W_hh, k, packed): the
/// same values bit for bit. A panel [k][16] is contiguous, so for large k (H > 256) a column
/// panel no longer spans k rows n floats apart (which thrashes L1 and the TLB).
void rk_recurrent_step_packed(long rows, long n, long k, const float *h_prev, const float *packed, const float *bias,
                              const float *x, float *net, float *h_new, int activation, int threads);

/// rk_recurrent_step (packed = 0: wt is W_hhᵀ [k, n]) or rk_recurrent_step_packed (packed = 1)
/// for one row (batch 1) as a matrix-vector product (gemv.c): up to 96 columns per pass over
/// k instead of 16; the same values bit for bit, the same split among threads.
void rk_recurrent_step_row(long n, long k, const float *h_prev, const float *wt, int packed, const float *bias,
                           const float *x, float *net, float *h_new, int activation, int threads);

/// Adam's constants for one update (Adam.update computes them; omb1 = 1 - b1, omb2 = 1 - b2 in float).
typedef struct {
    float b1, omb1, b2, omb2, correction2, eps, step, decay, wd;
    int decoupled, coupled;   // AdamW's p *= decay first; or Adam's g += wd p
} rk_adam_t;

/// Adam (Kingma & Ba 2015; AdamW, Loshchilov & Hutter 2019) for n elements, PyTorch's formula in
/// Adam.update's order: p *= decay (decoupled) or g += wd p (coupled); m = b1 m + omb1 g;
/// v = b2 v + (omb2 g) g; p -= (step m) / (sqrt(v) / correction2 + eps). The same bits as that
/// Swift loop in Float for any n and any split of the elements.
void rk_adam_update(long n, float *p, float *m, float *v, const float *g, const rk_adam_t *a);

/// Floats that rk_pack_b writes for op(B) [k, n]: ceil(n / 16) panels of [k][16].
long rk_packed_b_floats(long k, long n);

/// Packs op(B) [k, n] (B row-major with row stride ldb, transposed when transB) into 16-column
/// panels, each [k][16] contiguous and zero-padded past column n: the layout the micro-kernel
/// reads. For a B used by many products (a recurrent weight over T steps): pack once per pass.
void rk_pack_b(int transB, long k, long n, const float *b, long ldb, float *packed);

/// C = A op(B) (accumulate == 0) or C += A op(B), A [m, k] row-major (row stride lda), with op(B)
/// packed by rk_pack_b. Bit-identical to rk_sgemm(0, transB, ...) on the unpacked B for n > 2 (where
/// rk_sgemm does not take its dot-product path), for any
/// thread count: every element is the same fma chain over p = 0..k-1.
void rk_sgemm_packed_b(long m, long n, long k, const float *a, long lda, const float *packed,
                       float *c, long ldc, int accumulate, int threads);

/// A layer's weight gradients from dnet = dL/d(pre-activations) [rows, m] (row stride m, m = G*H),
/// the states h [rows, nh] (ldh) and the inputs x [rows, nx] (ldx) of the same rows:
/// dw_hh [m, nh] += dnetᵀ h, dw_ih [m, nx] += dnetᵀ x, db_hh[i] += Σ_r dnet[r, i] and
/// db_ih[i] += Σ_r dnet[r, i] (row strides nh and nx). Each value is what rk_sgemm(1, 0, ...,
/// accumulate 1) and rk_column_sums(..., 1) give, bit for bit (a column sum is the chain with
/// op(B) = 1: fma(d, 1, acc) = acc + d), for any thread count. With AVX-512 one pass over dnet:
/// a TN product on B = [h | x | 1 1] (dnet is read once, not four times); elsewhere those four
/// calls. dw_ih may be NULL when nx == 0.
void rk_weight_gradients(long rows, long m, const float *dnet, const float *h, long nh, long ldh,
                         const float *x, long nx, long ldx, float *dw_hh, float *dw_ih, float *db_hh, float *db_ih,
                         int threads);

/// rk_weight_gradients in parts, for sums formed chunk by chunk of rows (the backward loop's last
/// steps while they are in cache): 1 where the gathered body applies (AVX-512), else 0 (then the
/// caller runs the four products itself). C = [dW_hh | dW_ih | db_hh db_ih] [m, nh + nx + 2]:
/// gather copies the four in, rk_weight_gradients_into adds rows' products to C (each element
/// the chain rk_weight_gradients gives; threads split C's rows when m > nh + nx + 2, so that no
/// two pack the same columns of dnet, else its column panels), scatter copies them back out.
int rk_weight_gradients_gathered(void);
void rk_weight_gradients_gather(long m, long nh, long nx, const float *dw_hh, const float *dw_ih, const float *db_hh,
                                const float *db_ih, float *c);
void rk_weight_gradients_into(long rows, long m, const float *dnet, const float *h, long nh, long ldh, const float *x,
                              long nx, long ldx, float *c, int threads);
void rk_weight_gradients_scatter(long m, long nh, long nx, const float *c, float *dw_hh, float *dw_ih, float *db_hh,
                                 float *db_ih);

/// A layer's input projection: out [rows, n] = bias + x Wᵀ for x [rows, k] (row stride ldx),
/// W [n, k] (W_ih) and bias [n]: each value rk_sgemm(0, 1, ..., accumulate 1)'s chain onto the
/// bias (the bias copied into every row first), bit for bit; with AVX-512 and k <= 8 (n > 2) in
/// one pass that writes each value once. `threads` as rk_sgemm's.
void rk_input_projection(long rows, long n, long k, const float *x, long ldx, const float *w, const float *bias,
                         float *out, int threads);

/// Asks the C allocator to keep freed memory for reuse instead of returning it to the
/// OS (glibc: no trimming, no mmap for large blocks), so that a training loop that
/// frees and re-allocates its large per-step buffers does not page-fault them in again
/// every step. Process-wide; for programs (the CLI), not for the library to call.
/// Returns 1 when applied, 0 where unsupported.
int rk_retain_freed_memory(void);

/// 1 when the AVX2+FMA bodies are in use (x86-64 with both features), else 0.
int rk_uses_avx2(void);

/// The instruction sets whose bodies the kernels can run: portable C, AVX2+FMA, and AVX-512
/// (F, BW, DQ, VL; avx512.c) for the GEMM tiles and the fused step, AVX2 elsewhere.
enum { RK_ISA_GENERIC = 0, RK_ISA_AVX2 = 1, RK_ISA_AVX512 = 2 };

/// The best of RK_ISA_* that this CPU and OS support (AVX-512: CPUID and the OS saving ZMM state).
int rk_isa_available(void);

/// The RK_ISA_* in use: rk_isa_available(), capped once by the environment variable
/// RECURRENT_ISA=generic|avx2|avx512 (or RECURRENT_NO_AVX2: generic), or as set by rk_set_isa on
/// the calling thread. The AVX2 and AVX-512 bodies give the same bits (the same fma chain per
/// element, the same σ/tanh polynomials); the portable one takes σ and tanh from libm.
int rk_isa(void);

/// Uses the bodies of `isa` (RK_ISA_*) from now on on the calling thread, and in the pool pieces
/// its calls hand out (tests and benchmarks run one product through each; other threads keep
/// theirs). Returns the previous RK_ISA_*, or -1 (nothing changed) when
/// `isa` is unknown or more than rk_isa_available().
int rk_set_isa(int isa);

/// 1 when the AVX-512 bodies are in use, else 0.
int rk_uses_avx512(void);

/// Restricts the calling process to the first n CPUs it may use (Linux; no-op elsewhere).
/// Returns the number of CPUs in the resulting mask, or -1 when unsupported.
int rk_pin_first_cpus(int n);

/// Sets (on != 0) or clears the calling thread's flush-to-zero and denormals-are-zero modes
/// (x86 MXCSR FTZ and DAZ; AArch64 FPCR.FZ): results that would be subnormal become zero and
/// subnormal inputs read as zero, in Float and Double. Returns the previous setting (1 or 0),
/// or -1 where unsupported. The pool's workers take the caller's mode with each job
/// (rk_parallel_for), so a computation sees one mode whichever threads run it.
int rk_set_flush_denormals(int on);

/// 1 when the calling thread flushes denormals (see rk_set_flush_denormals), 0 when it
/// does not, -1 where unsupported.
int rk_flushes_denormals(void);

/// The relu (activation 1) or tanh (2) RNN over `steps` steps for the batch rows row0 ..< row0 + rows
/// of a batch of `batch` (time-major buffers, row t*batch + b): for t = 0 ..< steps,
/// gates[t] = pre_input[t] + (bias + hidden[t] W_hhᵀ) and hidden[t+1] = f(gates[t]), each step
/// rk_recurrent_step(_packed) (rk_recurrent_step_row for one row) with wt = W_hhᵀ [h, h] or its
/// panels (packed): the same bits, one C call per pass instead of one Swift call per step.
/// With `inputs` [steps*batch, in] (else NULL), W_ih [h, in] and bias_ih [h], step t's rows of
/// pre_input are formed just before the step, as rk_input_projection forms them (the same bits),
/// instead of in a pass of their own before the loop. For in > 8 (h > 2), W_ihᵀ is packed once per
/// call (rk_pack_b) and x is rk_sgemm_packed_b's chain from b_ih. Where the AVX2 step runs (no
/// AVX-512, rows > 1; for 1 <= in <= 8 and h > 2 also W_hhᵀ in place or h <= 256) the step forms
/// x in its epilogue, tile by tile, and pre_input is not written; elsewhere each step's rows of
/// pre_input are b_ih then rk_sgemm_packed_b (the same chain). With AVX2 or AVX-512, rows > 1 and
/// h <= 256, W_hhᵀ given in place is packed into panels once per call (rnn_panels: a 16-column
/// slice of it at h = 256 is 1 KiB-strided rows that collide in L1's sets); the same bits. gates
/// may be NULL for relu (activation 1): net is then not kept (the backward,
/// rk_relu_rnn_backward_rows, reads h only); h and every other value are the same.
/// Returns 0, doing nothing, for another activation (or tanh without gates).
int rk_rnn_forward_rows(long steps, long batch, long row0, long rows, long h, const float *wt, int packed,
                        const float *bias, long in, const float *inputs, const float *w_ih, const float *bias_ih,
                        float *pre_input, float *gates, float *hidden, int activation, int threads);

/// The relu RNN backward over t = steps-1 ... 0 for the same rows: dh [batch, h] holds dL/dh_T on
/// entry; per step dh += d_out[t] (when d_out [steps*batch, h] is not null), dnet[t] =
/// h_t <= 0 ? 0 : dh (rk_relu_backward on hidden [(steps+1)*batch, h]'s row block t+1, h_t =
/// max(0, net_t): the selection net_t <= 0 gives, NaN included), dh = dnet[t] W_hh (w = W_hh [h, h], or rk_pack_b's
/// panels of it when packed); dL/dh_0 is left in dh. The operations of the unroller's loop around
/// RNNCell.backwardStep, so the same bits; with AVX-512 and one thread the selection runs in the
/// epilogue of the previous step's product.
/// Only the steps t1 - 1 down to t0 (0 <= t0 < t1 <= steps; all: 0, steps), chunk after chunk
/// (the weight gradients' chunks): with AVX-512 and one thread a chunk with t0 > 0 also forms
/// dnet_{t0-1} in its last product's epilogue, and the chunk before it (t1 < steps) starts from
/// there; elsewhere dh carries dL/dh_{t0-1} to it. Either way the bits of one call over all steps.
void rk_relu_rnn_backward_rows(long steps, long t0, long t1, long batch, long row0, long rows, long h, const float *w,
                               int packed, const float *hidden, const float *d_out, float *dh, float *dnet, int threads);

// MARK: - IndRNN's time loop (indrnn.c)

/// IndRNN (relu) forward over all `steps` steps for the batch rows row0 ..< row0 + rows of a
/// batch of `batch`: for t = 0 ..< steps, pre_hidden[t] = u * hidden[t] + bias,
/// gates[t] = pre_input[t] + pre_hidden[t], hidden[t+1] = relu(gates[t]) (NaN and -0 kept).
/// u, bias [h]; pre_input, pre_hidden, gates [steps*batch, h] and hidden [(steps+1)*batch, h]
/// time-major (row t*batch + b). The operations of IndRNNCell's per-step loop: the same bits.
/// pre_hidden may be NULL: u * hidden[t] + bias is then not stored (nothing but the per-step
/// loop's own tests reads it).
void rk_indrnn_forward(long steps, long batch, long row0, long rows, long h,
                       const float *u, const float *bias, const float *pre_input,
                       float *pre_hidden, float *gates, float *hidden);

/// The mirror of rk_indrnn_forward, t = steps-1 ... 0, for the same rows: dh [batch, h] holds
/// dL/dh_T on entry; per step dh += d_out[t] (when d_out [steps*batch, h] is not null),
/// dpre[t] = gates[t] <= 0 ? 0 : dh (a NaN passes), dh = dpre[t] * u; dL/dh_0 is left in dh.
void rk_indrnn_backward(long steps, long batch, long row0, long rows, long h,
                        const float *u, const float *gates, const float *d_out,
                        float *dh, float *dpre);

/// du[j] += sum_r dnet[r, j] * hidden[r, j] and db[j] += sum_r dnet[r, j] over rows r in order
/// (dnet, hidden [rows, h]): IndRNN's recurrent gradients, the same additions as the plain loop.
void rk_indrnn_weight_gradients(long rows, long h, const float *dnet, const float *hidden, float *du, float *db);

/// rk_indrnn_forward with the input projection formed in the loop instead of read from a
/// [steps*batch, h] buffer (for small `in` = I): per element p = bias_ih[j], then
/// p = fma(x[t*batch + b, q], ut[q*h + j], p) for q = 0 ..< in (rk_sgemm's chain for
/// pre_input = bias_ih + x W_ihᵀ, so the same bits), x [steps*batch, in], ut = W_ihᵀ [in, h].
/// Writes gates[t] (net) and hidden[t+1] only.
void rk_indrnn_forward_projecting(long steps, long batch, long row0, long rows, long h, long in,
                                  const float *x, const float *ut, const float *bias_ih,
                                  const float *u, const float *bias, float *gates, float *hidden);

/// IndRNN's four weight gradients in one pass over rows r = 0 ..< rows in order, for the units
/// j0 ..< j1 (disjoint unit ranges may run on different threads: the same bits): with dnet
/// [rows, h], x [rows, in], hidden [rows, h] (h_{t-1} of row r),
///   dwt[q*h + j] = fma(dnet[r, j], x[r, q], dwt[q*h + j])   (dW_ih transposed [in, h]: rk_sgemm's chain)
///   dbi[j] += dnet[r, j]                                     (db_ih: rk_column_sums' additions)
///   du[j] += dnet[r, j] * hidden[r, j],  dbh[j] += dnet[r, j] (rk_indrnn_weight_gradients')
void rk_indrnn_gradients(long rows, long h, long j0, long j1, long in, const float *dnet, const float *x,
                         const float *hidden, float *dwt, float *dbi, float *du, float *dbh);

/// rk_indrnn_backward that also sums the weight gradients as it walks t downwards, per batch
/// row: partials [batch][in + 2][h] (zeroed by the caller) get, for row r,
///   [q]      p = fma(dpre, x[t*batch + r, q], p)   (dW_ih transposed),
///   [in]     p += dpre                            (db_ih = db_hh),
///   [in + 1] p += dpre * hidden[t*batch + r]      (du),
/// for t = steps-1 ... 0; dpre [steps*batch, h] is stored only when not NULL (dL/dx needs it).
/// Each row's sums belong to one row, so any split of the rows gives the same bits; the order
/// differs from the products' (t ascending over all rows), so the bits differ from theirs.
void rk_indrnn_backward_sum(long steps, long batch, long row0, long rows, long h, long in,
                            const float *u, const float *gates, const float *d_out, const float *x,
                            const float *hidden, float *dh, float *dpre, float *partials);

/// Adds rk_indrnn_backward_sum's partials over rows r = 0 ..< batch in order: dwt [in, h] +=,
/// dbi and dbh += the [in] parts, du += the [in + 1] parts.
void rk_indrnn_sum_partials(long batch, long h, long in, const float *partials, float *dwt, float *dbi, float *du, float *dbh);

// MARK: - The simple RNN's time loop at batch 1 (seqrow.c)

/// The relu (activation 1) or tanh (2) RNN over `steps` steps of one sequence: for t = 0 ..< steps,
/// net_t = x[t] + (bias + hidden[t] wt), hidden[t+1] = f(net_t), with x and net [steps, n] (net
/// written when not null), hidden [steps+1, n] (row 0 = h_{-1} on entry), bias [n], and W_hhᵀ as
/// wt [k, n] (packed 0) or rk_pack_b's panels of it (packed 1); n == k. Each value is the chain of
/// rk_recurrent_step_row: the same bits, for any instruction set (AVX2: 8 columns a vector;
/// AVX-512: 16) and any `threads` (where a step has 100,000 multiply-adds or more, each thread
/// keeps its own columns for the whole sequence, one synchronisation a step). Returns 0, doing nothing,
/// where no fast body applies (no AVX2+FMA, another activation, n != k): step by step then.
int rk_rnn_forward_row(long steps, long n, long k, const float *wt, int packed, const float *bias,
                       const float *x, float *net, float *hidden, int activation, int threads);

#ifdef __cplusplus
}
#endif
#endif
