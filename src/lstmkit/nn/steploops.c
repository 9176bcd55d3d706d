/* The step loops of the small recurrent layers (SimpleRNN, LSTM), compiled.
 *
 * A recurrent layer's steps depend on each other, so eager PyTorch dispatches every step's few
 * operations one by one (about 3.3 µs each on a 2-core AMD EPYC): at 32 units and batch 32 the
 * dispatches, not the arithmetic, bound the layer. Here a whole sequence is one call. The
 * products are small (batch × units by units × units), so blocks of rows multiplied into panels of
 * the recurrent matrix, in registers, do them without a BLAS. Every function takes float32 buffers
 * the caller (nn/steploops.py) made contiguous, and releases the GIL while it runs.
 *
 * Built with -fno-trapping-math, which lets the compiler evaluate both sides of a select and so
 * vectorise tanh. On x86-64 the product is written for AVX-512 (x86-64-v4), AVX2 with FMA (x86-64-v3)
 * and the baseline, chosen when the module loads; the loops are compiled for each of the three, and
 * the loader picks the one this CPU runs.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)
#define CLONES
#define FOR_EACH_CPU __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FOR_EACH_CPU
#endif

/* Eight floats, which the compiler keeps in one AVX register, or two SSE registers on the baseline. */
typedef float f8 __attribute__((vector_size(32)));

/* A matrix m (inner, cols) laid out for add_product (by nn/steploops.py): panels of `width` columns,
 * each (inner, width) contiguous, the last padded with zeros. A panel stays in the L1 cache while every row of x passes
 * over it, and its rows lie side by side (m's own rows, 4·units floats apart, fall into few cache sets). */
typedef struct {
    const float *values;
    int inner, cols;
} Panels;

/* out[r, :] += x[r, :] · m for `rows` rows, m as Panels; rows of x and out lie `x_stride` and `out_stride` floats apart. */
typedef void (*product_fn)(const float *x, ptrdiff_t x_stride, const Panels *m, float *out, ptrdiff_t out_stride,
                           int rows);

/* One product per instruction set: VEC holds LANES floats, a panel is two vectors wide, and blocks of
 * ROWS rows accumulate in 2·ROWS registers (AVX-512 has 32 of them, AVX2 16). Past the last full
 * block, blocks of 4, 2 and 1 rows (ROWS ≤ 8). Every output is the same chain of multiply-adds over k
 * in every version, so the versions agree exactly where both fuse the multiply-add. */
#define PANEL_PRODUCT(NAME, VEC, LANES, ROWS, TARGET)                                                          \
    TARGET static inline __attribute__((always_inline)) void NAME##_block(                                     \
        const float *x, ptrdiff_t x_stride, const float *panel, float *out, ptrdiff_t out_stride, int rows,    \
        int inner) {                                                                                           \
        VEC a[ROWS], b[ROWS];                                                                                  \
        for (int r = 0; r < rows; r++) {                                                                       \
            memcpy(&a[r], out + r * out_stride, sizeof(VEC));                                                  \
            memcpy(&b[r], out + r * out_stride + LANES, sizeof(VEC));                                          \
        }                                                                                                      \
        for (int k = 0; k < inner; k++) {                                                                      \
            VEC ma, mb;                                                                                        \
            memcpy(&ma, panel + (ptrdiff_t)k * 2 * LANES, sizeof(VEC));                                        \
            memcpy(&mb, panel + (ptrdiff_t)k * 2 * LANES + LANES, sizeof(VEC));                                \
            for (int r = 0; r < rows; r++) {                                                                   \
                const float s = x[r * x_stride + k];                                                           \
                a[r] += s * ma, b[r] += s * mb;                                                                \
            }                                                                                                  \
        }                                                                                                      \
        for (int r = 0; r < rows; r++) {                                                                       \
            memcpy(out + r * out_stride, &a[r], sizeof(VEC));                                                  \
            memcpy(out + r * out_stride + LANES, &b[r], sizeof(VEC));                                          \
        }                                                                                                      \
    }                                                                                                          \
    TARGET static void NAME##_rows(const float *x, ptrdiff_t x_stride, const float *panel, float *out,        \
                                   ptrdiff_t out_stride, int rows, int inner) {                                \
        int r = 0;                                                                                             \
        for (; r + ROWS <= rows; r += ROWS)                                                                    \
            NAME##_block(x + r * x_stride, x_stride, panel, out + r * out_stride, out_stride, ROWS, inner);    \
        for (int size = 4; size >= 1; size /= 2)                                                               \
            if (rows - r >= size) {                                                                            \
                NAME##_block(x + r * x_stride, x_stride, panel, out + r * out_stride, out_stride, size, inner); \
                r += size;                                                                                     \
            }                                                                                                  \
    }                                                                                                          \
    TARGET static void NAME(const float *x, ptrdiff_t x_stride, const Panels *m, float *out, ptrdiff_t out_stride, \
                            int rows) {                                                                        \
        enum { WIDTH = 2 * LANES };                                                                            \
        for (int j = 0; j < m->cols; j += WIDTH) {                                                             \
            const float *panel = m->values + (ptrdiff_t)j * m->inner;                                          \
            if (j + WIDTH <= m->cols) {                                                                        \
                NAME##_rows(x, x_stride, panel, out + j, out_stride, rows, m->inner);                          \
                continue;                                                                                      \
            }                                                                                                  \
            float tail[ROWS * WIDTH]; /* the last, narrower panel: through a full-width buffer */              \
            const int valid = m->cols - j;                                                                     \
            for (int r0 = 0; r0 < rows; r0 += ROWS) {                                                          \
                const int n = rows - r0 < ROWS ? rows - r0 : ROWS;                                             \
                memset(tail, 0, sizeof tail);                                                                  \
                for (int r = 0; r < n; r++) memcpy(tail + r * WIDTH, out + (r0 + r) * out_stride + j, valid * sizeof *tail); \
                NAME##_rows(x + r0 * x_stride, x_stride, panel, tail, WIDTH, n, m->inner);                     \
                for (int r = 0; r < n; r++) memcpy(out + (r0 + r) * out_stride + j, tail + r * WIDTH, valid * sizeof *tail); \
            }                                                                                                  \
        }                                                                                                      \
    }

PANEL_PRODUCT(product_portable, f8, 8, 4, )
#ifdef CLONES
typedef float f16 __attribute__((vector_size(64)));
PANEL_PRODUCT(product_avx2, f8, 8, 6, __attribute__((target("arch=x86-64-v3"))))
PANEL_PRODUCT(product_avx512, f16, 16, 8, __attribute__((target("arch=x86-64-v4"))))
#endif

/* The products, fastest first, and whether this CPU runs each. */
static int runs_anywhere(void) { return 1; }
#ifdef CLONES
static int runs_avx512(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
}
static int runs_avx2(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
#endif
static const struct {
    const char *name;
    product_fn product;
    int width;
    int (*runs)(void);
} PRODUCTS[] = {
#ifdef CLONES
    {"avx512", product_avx512, 32, runs_avx512},
    {"avx2", product_avx2, 16, runs_avx2},
#endif
    {"portable", product_portable, 16, runs_anywhere},
};

static product_fn add_product = product_portable;
static int panel_width = 16;
static const char *product_name = "portable";

/* Makes `name` the product, or the fastest this CPU runs for NULL -> whether this CPU runs it. */
static int use_product(const char *name) {
#ifdef CLONES
    __builtin_cpu_init();
#endif
    for (size_t i = 0; i < sizeof PRODUCTS / sizeof *PRODUCTS; i++)
        if ((!name || !strcmp(name, PRODUCTS[i].name)) && PRODUCTS[i].runs()) {
            add_product = PRODUCTS[i].product, panel_width = PRODUCTS[i].width, product_name = PRODUCTS[i].name;
            return 1;
        }
    return 0;
}

/* e^a for 0 ≤ a ≤ 40: a = k·ln2 + r with |r| ≤ ln2/2, e^r by its Taylor series to r^7 (relative
 * error under 1e-8 there), 2^k written into the exponent bits. */
static inline float exp_small(float a) {
    const float shifted = a * 1.44269504f + 12582912.f; /* adding 1.5·2^23 rounds to an integer */
    uint32_t n; /* unsigned: its arithmetic wraps, and the compiler vectorises it as such */
    memcpy(&n, &shifted, sizeof n);
    n -= 0x4b400000u; /* the bits of 12582912.f: n = k */
    const float k = shifted - 12582912.f;
    const float r = (a - k * 0.693145752f) - k * 1.42860682e-6f; /* ln2 in two parts: r exact */
    float p = 1.f / 5040.f;
    p = p * r + 1.f / 720.f;
    p = p * r + 1.f / 120.f;
    p = p * r + 1.f / 24.f;
    p = p * r + 1.f / 6.f;
    p = p * r + 0.5f;
    p = p * r + 1.f;
    p = p * r + 1.f;
    const uint32_t bits = (n + 127u) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* tanh within about 2e-7 of the exact value, in a form the compiler vectorises: near 0 its odd
 * series, elsewhere 1 - 2/(e^{2|x|} + 1); NaN stays NaN. */
static inline float tanh_small(float x) {
    const float a = fabsf(x);
    const float e = exp_small(a < 20.f ? 2.f * a : 40.f); /* tanh(20) is 1 in float32 */
    const float far = 1.f - 2.f / (e + 1.f);
    const float a2 = a * a;
    const float near = a + a * a2 * (-1.f / 3.f + a2 * (2.f / 15.f + a2 * (-17.f / 315.f)));
    const float t = a < 0.125f ? near : far;
    return x != x ? x : copysignf(t, x);
}

/* SimpleRNN forward, time-major: a step's (batch, units) block is contiguous, which keeps the rows
 * one step reads and writes in distinct cache sets (batch-major rows lie time·units floats apart,
 * and at 500 steps land in the same few). io (time, batch, units) holds x_t·W_ihᵀ + b on entry and
 * h_t on return; h0 (batch, units); recurrent_t = W_hhᵀ (units, units). */
FOR_EACH_CPU
static void simplernn_forward(float *io, const float *h0, const Panels *recurrent_t, int batch, int time,
                              int units) {
    const ptrdiff_t block = (ptrdiff_t)batch * units;
    for (int t = 0; t < time; t++) {
        float *step = io + t * block;
        add_product(t ? step - block : h0, units, recurrent_t, step, units, batch);
        for (ptrdiff_t i = 0; i < block; i++) step[i] = tanh_small(step[i]);
    }
}

/* SimpleRNN backward through time, time-major. outputs and grad_outputs (time, batch, units)
 * (grad_outputs may be NULL: no gradient reached the outputs); carried (batch, units) holds dL/dh
 * at the last step on entry and is scratch after; recurrent = W_hh (units, units). Writes dL/da_t
 * for every step into grad_pre (time, batch, units). */
FOR_EACH_CPU
static void simplernn_backward(const float *outputs, const float *grad_outputs, float *carried,
                               const Panels *recurrent, float *grad_pre, int batch, int time, int units) {
    const ptrdiff_t block = (ptrdiff_t)batch * units;
    for (int t = time - 1; t >= 0; t--) {
        const float *h = outputs + t * block;
        float *g = grad_pre + t * block;
        for (ptrdiff_t i = 0; i < block; i++) g[i] = carried[i] * (1.f - h[i] * h[i]);
        if (t == 0) break;
        if (grad_outputs)
            memcpy(carried, grad_outputs + (t - 1) * block, block * sizeof *carried);
        else
            memset(carried, 0, block * sizeof *carried);
        add_product(g, units, recurrent, carried, units, batch);
    }
}

static inline float sigmoid_small(float x) { return 0.5f + 0.5f * tanh_small(0.5f * x); }

/* One sample's step after the product: the gates' pre-activations in i, f, g, o (units each) are
 * replaced by their activations; the new cell and output from the cell before. Separate buffers
 * (restrict) and indices the compiler can follow, so it vectorises the loop. */
static inline void lstm_cell(float *restrict i, float *restrict f, float *restrict g, float *restrict o,
                             const float *restrict c_before, float *restrict c, float *restrict h,
                             ptrdiff_t units) {
    for (ptrdiff_t j = 0; j < units; j++) {
        i[j] = sigmoid_small(i[j]), f[j] = sigmoid_small(f[j]), g[j] = tanh_small(g[j]), o[j] = sigmoid_small(o[j]);
        c[j] = f[j] * c_before[j] + i[j] * g[j];
        h[j] = o[j] * tanh_small(c[j]);
    }
}

/* One sample's step of the backward before the product: from the activations i, f, g, o, the cell
 * before and after, and dL/dh, dL/dc carried into the step, dL/d(pre-activations) into di, df, dg,
 * d_o; dL/dc carried out. */
static inline void lstm_cell_backward(const float *restrict i, const float *restrict f, const float *restrict g,
                                      const float *restrict o, const float *restrict c_before,
                                      const float *restrict c, const float *restrict carried_h,
                                      float *restrict carried_c, float *restrict di, float *restrict df,
                                      float *restrict dg, float *restrict d_o, ptrdiff_t units) {
    for (ptrdiff_t j = 0; j < units; j++) {
        const float dh = carried_h[j], tc = tanh_small(c[j]);
        const float dc = carried_c[j] + dh * o[j] * (1.f - tc * tc);
        di[j] = dc * g[j] * i[j] * (1.f - i[j]);
        df[j] = dc * c_before[j] * f[j] * (1.f - f[j]);
        dg[j] = dc * i[j] * (1.f - g[j] * g[j]);
        d_o[j] = dh * tc * o[j] * (1.f - o[j]);
        carried_c[j] = dc * f[j];
    }
}

/* Where each step's gates start from, before the recurrent product: x_t·W_ihᵀ + b. Either one-hot
 * `ids` (time, batch) whose rows of `table` (vocab, 4·units) hold x·W_ihᵀ + b, or dense `inputs`
 * (batch, time, features), sample b's step t at b·sample + t·step (batch-major as a layer gets
 * them, or the time-major outputs of a layer below), times W_ihᵀ as panels, plus `bias`: read as
 * the step needs them, so the input's part is never written to memory and read back. */
typedef struct {
    const float *table;
    const int64_t *ids;
    const float *inputs;
    ptrdiff_t sample, step;
    const Panels *input_t;
    const float *bias;
} StepInputs;

/* LSTM forward, time-major, gates in the order (i, f, c̃, o), for the rows [first, first + rows) of a
 * batch of `batch` (rows never meet, so parts of a batch run side by side on the same buffers). With
 * `keep` (a backward follows), gates (time, batch, 4·units) receives every step's activations and
 * cells (time, batch, units) every c_t; without, gates holds one step (batch, 4·units) and cells two
 * (c_t in block t % 2), which stay in the cache (500 steps of gates at batch 64 and 32 units are
 * 16 MiB). h0, c0 (batch, units); recurrent_t = W_hhᵀ (units, 4·units) as panels. Writes h_t into
 * outputs (time, batch, units). */
FOR_EACH_CPU
static void lstm_forward(float *gates, const StepInputs *in, const float *h0, const float *c0,
                         const Panels *recurrent_t, float *outputs, float *cells, int keep, int batch, int time,
                         int units, int first, int rows) {
    const ptrdiff_t block = (ptrdiff_t)batch * units, width = 4 * (ptrdiff_t)units, end = first + rows;
    for (int t = 0; t < time; t++) {
        float *step = gates + (keep ? t : 0) * block * 4, *h = outputs + t * block;
        float *c = cells + (keep ? t : t % 2) * block;
        const float *c_before = t == 0 ? c0 : keep ? c - block : cells + (t - 1) % 2 * block;
        for (ptrdiff_t b = first; b < end; b++)
            memcpy(step + b * width, in->table ? in->table + in->ids[(ptrdiff_t)t * batch + b] * width : in->bias,
                   width * sizeof *step);
        if (!in->table) {
            add_product(in->inputs + first * in->sample + t * in->step, in->sample, in->input_t, step + first * width,
                        width, rows);
        }
        add_product((t ? h - block : h0) + first * units, units, recurrent_t, step + first * width, width, rows);
        for (ptrdiff_t b = first; b < end; b++) {
            float *row = step + b * width;
            lstm_cell(row, row + units, row + 2 * units, row + 3 * units, c_before + b * units, c + b * units,
                      h + b * units, units);
        }
    }
}

/* LSTM backward through time, time-major, for the rows [first, first + rows) of a batch of `batch`.
 * gates (time, batch, 4·units) the activations the forward left; cells (time, batch, units); c0
 * (batch, units); grad_outputs (time, batch, units) or NULL; carried_h, carried_c (batch, units) hold
 * dL/dh and dL/dc at the last step on entry, and dL/dc0 in carried_c on return; recurrent = W_hh
 * (4·units, units). Writes dL/d(pre-activation) of every gate and step into grad_pre (time, batch,
 * 4·units). */
FOR_EACH_CPU
static void lstm_backward(const float *gates, const float *cells, const float *c0, const float *grad_outputs,
                          float *carried_h, float *carried_c, const Panels *recurrent, float *grad_pre, int batch,
                          int time, int units, int first, int rows) {
    const ptrdiff_t block = (ptrdiff_t)batch * units, width = 4 * (ptrdiff_t)units, end = first + rows;
    float *carried_rows = carried_h + first * units;
    for (int t = time - 1; t >= 0; t--) {
        const float *step = gates + t * block * 4, *c = cells + t * block, *c_before = t ? c - block : c0;
        float *d = grad_pre + t * block * 4;
        for (ptrdiff_t b = first; b < end; b++) {
            const float *row = step + b * width;
            float *d_row = d + b * width;
            lstm_cell_backward(row, row + units, row + 2 * units, row + 3 * units, c_before + b * units,
                               c + b * units, carried_h + b * units, carried_c + b * units, d_row,
                               d_row + units, d_row + 2 * units, d_row + 3 * units, units);
        }
        if (t == 0) break;
        if (grad_outputs)
            memcpy(carried_rows, grad_outputs + (t - 1) * block + first * units, rows * units * sizeof *carried_h);
        else
            memset(carried_rows, 0, rows * units * sizeof *carried_h);
        add_product(d + first * width, width, recurrent, carried_rows, units, rows);
    }
}

/* The threads a loop's parts run on: PyTorch's own OpenMP team (its GOMP_parallel, given by
 * nn/steploops.py through set_team), so no thread of ours competes with the team's spinning ones.
 * Each thread takes the next part until none is left, with the caller's denormal flushing (MXCSR's
 * flush-to-zero and denormals-are-zero bits live in each thread). Inside a team (a lane), the nested
 * call runs on the calling thread alone, which then takes every part. */
typedef void (*team_member_fn)(void *);
static void (*gomp_parallel)(team_member_fn, void *, unsigned, unsigned) = NULL;

typedef struct {
    void (*run)(const void *args, int first, int rows); /* the loop on one part's rows */
    const void *args;
    int batch, parts, next;
#ifdef __SSE__
    unsigned csr;
#endif
} Team;

static void team_member(void *data) {
    Team *team = data;
#ifdef __SSE__
    const unsigned own = __builtin_ia32_stmxcsr();
    __builtin_ia32_ldmxcsr((own & ~0x8040u) | (team->csr & 0x8040u)); /* FTZ | DAZ */
#endif
    for (int part; (part = __atomic_fetch_add(&team->next, 1, __ATOMIC_RELAXED)) < team->parts;) {
        const int first = (int)((long long)team->batch * part / team->parts);
        team->run(team->args, first, (int)((long long)team->batch * (part + 1) / team->parts) - first);
    }
#ifdef __SSE__
    __builtin_ia32_ldmxcsr(own);
#endif
}

/* Runs `run` on the batch cut into `parts` row ranges, on up to `threads` threads of the team. */
static void in_parts(void (*run)(const void *, int, int), const void *args, int batch, int parts, int threads) {
    Team team = {run, args, batch, parts < 1 ? 1 : parts > batch ? batch : parts, 0};
#ifdef __SSE__
    team.csr = __builtin_ia32_stmxcsr();
#endif
    if (threads > team.parts) threads = team.parts;
    if (gomp_parallel && threads > 1)
        gomp_parallel(team_member, &team, (unsigned)threads, 0);
    else
        team_member(&team);
}

/* The wrappers below take the recurrent matrix (`inner` rows of `cols`) as panels nn/steploops.py
 * laid out (panel_width() wide) and run the loop without the GIL. */
#define WITH_PANELS(panels, address, inner_, cols_, ...)                                        \
    do {                                                                                        \
        const Panels panels = {(const float *)(uintptr_t)(address), inner_, cols_};              \
        Py_BEGIN_ALLOW_THREADS                                                                  \
        __VA_ARGS__;                                                                            \
        Py_END_ALLOW_THREADS                                                                    \
    } while (0)

static PyObject *py_panel_width(PyObject *self, PyObject *args) { return PyLong_FromLong(panel_width); }

static PyObject *py_product(PyObject *self, PyObject *args) { return PyUnicode_FromString(product_name); }

static PyObject *py_use_product(PyObject *self, PyObject *args) {
    const char *name;
    if (!PyArg_ParseTuple(args, "s", &name)) return NULL;
    return PyBool_FromLong(use_product(name));
}

static PyObject *py_simplernn_forward(PyObject *self, PyObject *args) {
    unsigned long long io, h0, recurrent_t;
    int batch, time, units;
    if (!PyArg_ParseTuple(args, "KKKiii", &io, &h0, &recurrent_t, &batch, &time, &units)) return NULL;
    WITH_PANELS(panels, recurrent_t, units, units,
                simplernn_forward((float *)(uintptr_t)io, (const float *)(uintptr_t)h0, &panels, batch, time, units));
    Py_RETURN_NONE;
}

static PyObject *py_simplernn_backward(PyObject *self, PyObject *args) {
    unsigned long long outputs, grad_outputs, carried, recurrent, grad_pre;
    int batch, time, units;
    if (!PyArg_ParseTuple(args, "KKKKKiii", &outputs, &grad_outputs, &carried, &recurrent, &grad_pre, &batch,
                          &time, &units))
        return NULL;
    WITH_PANELS(panels, recurrent, units, units,
                simplernn_backward((const float *)(uintptr_t)outputs, (const float *)(uintptr_t)grad_outputs,
                                   (float *)(uintptr_t)carried, &panels, (float *)(uintptr_t)grad_pre, batch, time,
                                   units));
    Py_RETURN_NONE;
}

typedef struct {
    float *gates;
    const StepInputs *in;
    const float *h0, *c0;
    const Panels *recurrent_t;
    float *outputs, *cells;
    int keep, batch, time, units;
} ForwardArgs;

static void lstm_forward_part(const void *args, int first, int rows) {
    const ForwardArgs *a = args;
    lstm_forward(a->gates, a->in, a->h0, a->c0, a->recurrent_t, a->outputs, a->cells, a->keep, a->batch, a->time,
                 a->units, first, rows);
}

static PyObject *py_lstm_forward(PyObject *self, PyObject *args) {
    unsigned long long gates, table, ids, inputs, input_t, bias, h0, c0, recurrent_t, outputs, cells;
    Py_ssize_t sample, step;
    int features, keep, batch, time, units, parts, threads;
    if (!PyArg_ParseTuple(args, "KKKKnnKKiKKKKKpiiiii", &gates, &table, &ids, &inputs, &sample, &step, &input_t,
                          &bias, &features, &h0, &c0, &recurrent_t, &outputs, &cells, &keep, &batch, &time, &units,
                          &parts, &threads))
        return NULL;
    const Panels input_panels = {(const float *)(uintptr_t)input_t, features, 4 * units};
    const StepInputs in = {(const float *)(uintptr_t)table, (const int64_t *)(uintptr_t)ids,
                           (const float *)(uintptr_t)inputs, sample, step, &input_panels,
                           (const float *)(uintptr_t)bias};
    WITH_PANELS(panels, recurrent_t, units, 4 * units, {
        const ForwardArgs a = {(float *)(uintptr_t)gates, &in, (const float *)(uintptr_t)h0,
                               (const float *)(uintptr_t)c0, &panels, (float *)(uintptr_t)outputs,
                               (float *)(uintptr_t)cells, keep, batch, time, units};
        in_parts(lstm_forward_part, &a, batch, parts, threads);
    });
    Py_RETURN_NONE;
}

typedef struct {
    const float *gates, *cells, *c0, *grad_outputs;
    float *carried_h, *carried_c;
    const Panels *recurrent;
    float *grad_pre;
    int batch, time, units;
} BackwardArgs;

static void lstm_backward_part(const void *args, int first, int rows) {
    const BackwardArgs *a = args;
    lstm_backward(a->gates, a->cells, a->c0, a->grad_outputs, a->carried_h, a->carried_c, a->recurrent, a->grad_pre,
                  a->batch, a->time, a->units, first, rows);
}

static PyObject *py_lstm_backward(PyObject *self, PyObject *args) {
    unsigned long long gates, cells, c0, grad_outputs, carried_h, carried_c, recurrent, grad_pre;
    int batch, time, units, parts, threads;
    if (!PyArg_ParseTuple(args, "KKKKKKKKiiiii", &gates, &cells, &c0, &grad_outputs, &carried_h, &carried_c,
                          &recurrent, &grad_pre, &batch, &time, &units, &parts, &threads))
        return NULL;
    WITH_PANELS(panels, recurrent, 4 * units, units, {
        const BackwardArgs a = {(const float *)(uintptr_t)gates, (const float *)(uintptr_t)cells,
                                (const float *)(uintptr_t)c0, (const float *)(uintptr_t)grad_outputs,
                                (float *)(uintptr_t)carried_h, (float *)(uintptr_t)carried_c, &panels,
                                (float *)(uintptr_t)grad_pre, batch, time, units};
        in_parts(lstm_backward_part, &a, batch, parts, threads);
    });
    Py_RETURN_NONE;
}

static PyObject *py_set_team(PyObject *self, PyObject *args) {
    unsigned long long address;
    if (!PyArg_ParseTuple(args, "K", &address)) return NULL;
    gomp_parallel = (void (*)(team_member_fn, void *, unsigned, unsigned))(uintptr_t)address;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"panel_width", py_panel_width, METH_NOARGS, "panel_width(): the columns of one panel of a recurrent matrix"},
    {"product", py_product, METH_NOARGS, "product(): the name of the product the loops use"},
    {"use_product", py_use_product, METH_VARARGS,
     "use_product(name): the loops use product avx512, avx2 or portable -> whether this CPU runs it"},
    {"simplernn_forward", py_simplernn_forward, METH_VARARGS,
     "simplernn_forward(io, h0, recurrent_t, batch, time, units): addresses of float32 buffers"},
    {"simplernn_backward", py_simplernn_backward, METH_VARARGS,
     "simplernn_backward(outputs, grad_outputs or 0, carried, recurrent, grad_pre, batch, time, units)"},
    {"lstm_forward", py_lstm_forward, METH_VARARGS,
     "lstm_forward(gates, table or 0, ids or 0, inputs or 0, sample, step, input_t or 0, bias or 0, features, h0, c0, "
     "recurrent_t, "
     "outputs, cells, keep, batch, time, units, parts, threads)"},
    {"lstm_backward", py_lstm_backward, METH_VARARGS,
     "lstm_backward(gates, cells, c0, grad_outputs or 0, carried_h, carried_c, recurrent, grad_pre, batch, time, units, "
     "parts, threads)"},
    {"set_team", py_set_team, METH_VARARGS,
     "set_team(address): the OpenMP runtime's GOMP_parallel, which runs the parts of a batch side by side"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_steploops",
                                    "The small recurrent layers' step loops, compiled (steploops.c).", -1,
                                    methods};

PyMODINIT_FUNC PyInit__steploops(void) {
    use_product(NULL);
    return PyModule_Create(&module);
}
