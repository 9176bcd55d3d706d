/* The step loops of the small recurrent layers (SimpleRNN, LSTM), compiled.
 *
 * A recurrent layer's steps depend on each other, so eager PyTorch dispatches every step's few
 * operations one by one (about 3.3 µs each on a 2-core AMD EPYC): at 32 units and batch 32 the
 * dispatches, not the arithmetic, bound the layer. Here a whole sequence is one call. The
 * products are small (batch × units by units × units), so a row-by-row multiply-add that the
 * compiler vectorises does them without a BLAS. Every function takes float32 buffers the caller
 * (nn/steploops.py) made contiguous, and releases the GIL while it runs.
 *
 * Built with -fno-trapping-math, which lets the compiler evaluate both sides of a select and so
 * vectorise tanh. On x86-64 each hot function is compiled twice, for AVX2 with FMA (x86-64-v3) and for the
 * baseline, and the loader picks the one this CPU runs.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)
#define FOR_EACH_CPU __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define FOR_EACH_CPU
#endif

/* Eight floats, which the compiler keeps in one AVX register, or two SSE registers on the baseline. */
typedef float f8 __attribute__((vector_size(32)));

static inline f8 load8(const float *p) {
    f8 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void store8(float *p, f8 v) { memcpy(p, &v, sizeof v); }

#define ROWS 4 /* rows a block of the product computes at once: each m load serves four */

/* out[r, :] += x[r, :] · m for each of `rows` rows; x rows are `inner` long, m is (inner, cols)
 * contiguous, rows of x and out lie `x_stride` and `out_stride` floats apart. Blocks of 4 rows by
 * 16 columns accumulate in eight registers; the columns past a multiple of 16 go one by one. */
static inline void add_product(const float *x, ptrdiff_t x_stride, const float *restrict m, float *out,
                               ptrdiff_t out_stride, int rows, int inner, int cols) {
    const int wide = cols - cols % 16;
    int r0 = 0;
    for (; r0 + ROWS <= rows; r0 += ROWS) {
        const float *x0 = x + r0 * x_stride, *x1 = x0 + x_stride, *x2 = x1 + x_stride, *x3 = x2 + x_stride;
        float *o0 = out + r0 * out_stride, *o1 = o0 + out_stride, *o2 = o1 + out_stride, *o3 = o2 + out_stride;
        for (int j = 0; j < wide; j += 16) {
            f8 a0 = load8(o0 + j), b0 = load8(o0 + j + 8), a1 = load8(o1 + j), b1 = load8(o1 + j + 8);
            f8 a2 = load8(o2 + j), b2 = load8(o2 + j + 8), a3 = load8(o3 + j), b3 = load8(o3 + j + 8);
            for (int k = 0; k < inner; k++) {
                const f8 ma = load8(m + (ptrdiff_t)k * cols + j), mb = load8(m + (ptrdiff_t)k * cols + j + 8);
                a0 += x0[k] * ma, b0 += x0[k] * mb;
                a1 += x1[k] * ma, b1 += x1[k] * mb;
                a2 += x2[k] * ma, b2 += x2[k] * mb;
                a3 += x3[k] * ma, b3 += x3[k] * mb;
            }
            store8(o0 + j, a0), store8(o0 + j + 8, b0), store8(o1 + j, a1), store8(o1 + j + 8, b1);
            store8(o2 + j, a2), store8(o2 + j + 8, b2), store8(o3 + j, a3), store8(o3 + j + 8, b3);
        }
    }
    for (int r = 0; r < rows; r++) { /* the columns from `wide` on, and the last rows % ROWS rows */
        const int first = r < r0 ? wide : 0;
        if (first == cols) continue;
        const float *xr = x + r * x_stride;
        float *outr = out + r * out_stride;
        for (int k = 0; k < inner; k++) {
            const float *mk = m + (ptrdiff_t)k * cols;
            for (int j = first; j < cols; j++) outr[j] += xr[k] * mk[j];
        }
    }
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
static void simplernn_forward(float *io, const float *h0, const float *recurrent_t, int batch, int time,
                              int units) {
    const ptrdiff_t block = (ptrdiff_t)batch * units;
    for (int t = 0; t < time; t++) {
        float *step = io + t * block;
        add_product(t ? step - block : h0, units, recurrent_t, step, units, batch, units, units);
        for (ptrdiff_t i = 0; i < block; i++) step[i] = tanh_small(step[i]);
    }
}

/* SimpleRNN backward through time, time-major. outputs and grad_outputs (time, batch, units)
 * (grad_outputs may be NULL: no gradient reached the outputs); carried (batch, units) holds dL/dh
 * at the last step on entry and is scratch after; recurrent = W_hh (units, units). Writes dL/da_t
 * for every step into grad_pre (time, batch, units). */
FOR_EACH_CPU
static void simplernn_backward(const float *outputs, const float *grad_outputs, float *carried,
                               const float *recurrent, float *grad_pre, int batch, int time, int units) {
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
        add_product(g, units, recurrent, carried, units, batch, units, units);
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

/* LSTM forward, time-major, gates in the order (i, f, c̃, o). gates (time, batch, 4·units) holds
 * x_t·W_ihᵀ + b on entry and the gates' activations on return (what the backward reads); h0, c0
 * (batch, units); recurrent_t = W_hhᵀ (units, 4·units). Writes h_t into outputs and c_t into cells
 * (time, batch, units). */
FOR_EACH_CPU
static void lstm_forward(float *gates, const float *h0, const float *c0, const float *recurrent_t, float *outputs,
                         float *cells, int batch, int time, int units) {
    const ptrdiff_t block = (ptrdiff_t)batch * units, width = 4 * (ptrdiff_t)units;
    for (int t = 0; t < time; t++) {
        float *step = gates + t * block * 4, *h = outputs + t * block, *c = cells + t * block;
        const float *c_before = t ? c - block : c0;
        add_product(t ? h - block : h0, units, recurrent_t, step, width, batch, units, 4 * units);
        for (ptrdiff_t b = 0; b < batch; b++) {
            float *row = step + b * width;
            lstm_cell(row, row + units, row + 2 * units, row + 3 * units, c_before + b * units, c + b * units,
                      h + b * units, units);
        }
    }
}

/* LSTM backward through time, time-major. gates (time, batch, 4·units) the activations the forward
 * left; cells (time, batch, units); c0 (batch, units); grad_outputs (time, batch, units) or NULL;
 * carried_h, carried_c (batch, units) hold dL/dh and dL/dc at the last step on entry, and dL/dc0
 * in carried_c on return; recurrent = W_hh (4·units, units). Writes dL/d(pre-activation) of every
 * gate and step into grad_pre (time, batch, 4·units). */
FOR_EACH_CPU
static void lstm_backward(const float *gates, const float *cells, const float *c0, const float *grad_outputs,
                          float *carried_h, float *carried_c, const float *recurrent, float *grad_pre, int batch,
                          int time, int units) {
    const ptrdiff_t block = (ptrdiff_t)batch * units, width = 4 * (ptrdiff_t)units;
    for (int t = time - 1; t >= 0; t--) {
        const float *step = gates + t * block * 4, *c = cells + t * block, *c_before = t ? c - block : c0;
        float *d = grad_pre + t * block * 4;
        for (ptrdiff_t b = 0; b < batch; b++) {
            const float *row = step + b * width;
            float *d_row = d + b * width;
            lstm_cell_backward(row, row + units, row + 2 * units, row + 3 * units, c_before + b * units,
                               c + b * units, carried_h + b * units, carried_c + b * units, d_row,
                               d_row + units, d_row + 2 * units, d_row + 3 * units, units);
        }
        if (t == 0) break;
        if (grad_outputs)
            memcpy(carried_h, grad_outputs + (t - 1) * block, block * sizeof *carried_h);
        else
            memset(carried_h, 0, block * sizeof *carried_h);
        add_product(d, width, recurrent, carried_h, units, batch, 4 * units, units);
    }
}

static PyObject *py_simplernn_forward(PyObject *self, PyObject *args) {
    unsigned long long io, h0, recurrent_t;
    int batch, time, units;
    if (!PyArg_ParseTuple(args, "KKKiii", &io, &h0, &recurrent_t, &batch, &time, &units)) return NULL;
    Py_BEGIN_ALLOW_THREADS
    simplernn_forward((float *)(uintptr_t)io, (const float *)(uintptr_t)h0,
                      (const float *)(uintptr_t)recurrent_t, batch, time, units);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *py_simplernn_backward(PyObject *self, PyObject *args) {
    unsigned long long outputs, grad_outputs, carried, recurrent, grad_pre;
    int batch, time, units;
    if (!PyArg_ParseTuple(args, "KKKKKiii", &outputs, &grad_outputs, &carried, &recurrent, &grad_pre, &batch,
                          &time, &units))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    simplernn_backward((const float *)(uintptr_t)outputs, (const float *)(uintptr_t)grad_outputs,
                       (float *)(uintptr_t)carried, (const float *)(uintptr_t)recurrent,
                       (float *)(uintptr_t)grad_pre, batch, time, units);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *py_lstm_forward(PyObject *self, PyObject *args) {
    unsigned long long gates, h0, c0, recurrent_t, outputs, cells;
    int batch, time, units;
    if (!PyArg_ParseTuple(args, "KKKKKKiii", &gates, &h0, &c0, &recurrent_t, &outputs, &cells, &batch, &time,
                          &units))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    lstm_forward((float *)(uintptr_t)gates, (const float *)(uintptr_t)h0, (const float *)(uintptr_t)c0,
                 (const float *)(uintptr_t)recurrent_t, (float *)(uintptr_t)outputs, (float *)(uintptr_t)cells,
                 batch, time, units);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *py_lstm_backward(PyObject *self, PyObject *args) {
    unsigned long long gates, cells, c0, grad_outputs, carried_h, carried_c, recurrent, grad_pre;
    int batch, time, units;
    if (!PyArg_ParseTuple(args, "KKKKKKKKiii", &gates, &cells, &c0, &grad_outputs, &carried_h, &carried_c,
                          &recurrent, &grad_pre, &batch, &time, &units))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    lstm_backward((const float *)(uintptr_t)gates, (const float *)(uintptr_t)cells, (const float *)(uintptr_t)c0,
                  (const float *)(uintptr_t)grad_outputs, (float *)(uintptr_t)carried_h,
                  (float *)(uintptr_t)carried_c, (const float *)(uintptr_t)recurrent, (float *)(uintptr_t)grad_pre,
                  batch, time, units);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"simplernn_forward", py_simplernn_forward, METH_VARARGS,
     "simplernn_forward(io, h0, recurrent_t, batch, time, units): addresses of float32 buffers"},
    {"simplernn_backward", py_simplernn_backward, METH_VARARGS,
     "simplernn_backward(outputs, grad_outputs or 0, carried, recurrent, grad_pre, batch, time, units)"},
    {"lstm_forward", py_lstm_forward, METH_VARARGS,
     "lstm_forward(gates, h0, c0, recurrent_t, outputs, cells, batch, time, units)"},
    {"lstm_backward", py_lstm_backward, METH_VARARGS,
     "lstm_backward(gates, cells, c0, grad_outputs or 0, carried_h, carried_c, recurrent, grad_pre, batch, time, units)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_steploops",
                                    "The small recurrent layers' step loops, compiled (steploops.c).", -1,
                                    methods};

PyMODINIT_FUNC PyInit__steploops(void) { return PyModule_Create(&module); }
