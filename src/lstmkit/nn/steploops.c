/* The step loops of the small recurrent layers, compiled.
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

static PyMethodDef methods[] = {
    {"simplernn_forward", py_simplernn_forward, METH_VARARGS,
     "simplernn_forward(io, h0, recurrent_t, batch, time, units): addresses of float32 buffers"},
    {"simplernn_backward", py_simplernn_backward, METH_VARARGS,
     "simplernn_backward(outputs, grad_outputs or 0, carried, recurrent, grad_pre, batch, time, units)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_steploops",
                                    "The small recurrent layers' step loops, compiled (steploops.c).", -1,
                                    methods};

PyMODINIT_FUNC PyInit__steploops(void) { return PyModule_Create(&module); }
