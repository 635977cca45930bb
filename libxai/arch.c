/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * arch.c - build an ONNX model (IR 8, opset 17) from an architecture text spec, with
 * shape inference layer by layer and seeded PyTorch-default initialisation.
 * Specs: ONNX IR (onnx.proto) and the operator documentation for opset 17 (Conv, Gemm,
 * BatchNormalization, MaxPool, AveragePool, GlobalAveragePool, Flatten, Dropout, LSTM,
 * Transpose, Reshape, Unsqueeze); PyTorch's nn.Conv*d / nn.Linear / nn.LSTM reset_parameters
 * for the initial weight distributions.
 *
 * Grammar (whitespace separates layers and may appear around '(' ',' '=' ')'):
 *
 *   spec     := layer { layer }
 *   layer    := NAME [ '(' arg { ',' arg } ')' ]
 *             | 'timedist' '(' spec ')'
 *   arg      := value | KEY '=' value | WORD
 *   value    := NUMBER | INT 'x' INT [ 'x' INT ]          (tuples for 2-D / 3-D kernels)
 *
 *   conv1d(C, k=K [,s=S] [,p=P] [,d=D] [,g=G])   Conv, C output channels; K/S/P/D scalar or
 *   conv2d(...)  conv3d(...)                     AxB / AxBxC (one value per spatial axis);
 *                                                defaults s=1 p=0 d=1 g=1 (p is symmetric,
 *                                                at most d*(k-1))
 *   dense(N) | linear(N)                         Gemm (transB=1, W[N,F]); needs a flat input
 *   bn | batchnorm                               BatchNormalization over axis 1, eps 1e-5
 *   relu  tanh  sigmoid  leakyrelu[(A)]  elu[(A)] activations (A: 0.01 / 1.0 by default)
 *   maxpool(K [,s=S] [,p=P])  avgpool(...)       S defaults to K (PyTorch); avgpool counts the
 *                                                padding like PyTorch (count_include_pad=1)
 *   gap                                          GlobalAveragePool, then Flatten -> [C]
 *   reference                                    x - c with c a constant of x's shape, zero (the
 *                                                identity) until xai_model_set_reference() sets it
 *                                                to the training mean; not trained
 *   flatten                                      Flatten(axis=1)
 *   dropout[(P)]                                 Dropout with ratio P (default 0.5), 0 <= P < 1
 *   lstm(H [,bidirectional] [,last|all])         LSTM (ONNX gate order i,o,f,c). Its input is a
 *                                                sequence [T, F] (the model input, or the output
 *                                                of lstm(...,all)) or a conv1d output [C, T]
 *                                                (time = the last axis, features = channels).
 *                                                last (default): the final hidden state of every
 *                                                direction, concatenated -> [ndir*H];
 *                                                all: every step -> flattened [T*ndir*H], or the
 *                                                sequence [T, ndir*H] when another lstm follows.
 *   timedist(LAYERS)                             only as the first layer, on an input
 *                                                [S, C, ...]: the CNN block LAYERS runs on the S
 *                                                slices as its batch, each slice is flattened and
 *                                                the S feature vectors form the sequence of the
 *                                                lstm(...) that must follow (DeepLight-style).
 *
 * A 2-D input {A, B} is a sequence [T, F] when the first layer that depends on the layout is
 * lstm, and channels-first [C, T] otherwise (conv1d, pools, bn, ...); a 1-D input is flat [F].
 * The last layer must be dense(N); its output is the graph output 'logits' [1, N].
 * The graph input 'input' is [1, ...input_shape], except after timedist where it is
 * input_shape itself ([S, C, ...]: the slices are the CNN batch axis).
 *
 * Examples:
 *   conv1d(16,k=7,p=3) bn relu maxpool(2) conv1d(32,k=5,d=2) relu flatten dropout(0.5) dense(10)
 *       on {C, T} (EEG channels x samples)
 *   conv2d(8,k=3x3,p=1) relu maxpool(2) conv2d(16,k=3,p=1) relu gap dense(4)   on {C, H, W}
 *   conv3d(8,k=3,p=1) relu avgpool(2) flatten dense(2)                         on {C, D, H, W}
 *   lstm(32,bidirectional) dense(5)                                             on {T, F}
 *   lstm(32,all) lstm(16) dense(3)                                              stacked LSTMs
 *   timedist(conv2d(8,k=3,p=1) relu maxpool(2) flatten) lstm(20,bidirectional) dense(2)
 *       on {S, C, H, W} (fMRI slices)
 *
 * Initialisation (PyTorch defaults, from a SplitMix64 stream seeded with the seed and consumed
 * in layer order: weight then bias, LSTM W, R, B): Conv/Dense weights and biases
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (Kaiming-uniform with a = sqrt(5)); LSTM every parameter
 * U(-1/sqrt(H), 1/sqrt(H)); BN scale 1, bias 0, running mean 0, running var 1.
 * Errors name the layer text and the 1-based column of the offending character.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph-int.h"
#include "splitmix.h"
#include "xai/train.h"

#define MAX_DIM ((int64_t)1 << 24)      /* largest size of any one axis or layer parameter */
#define MAX_NUMEL ((int64_t)1 << 31)    /* the importer's per-tensor limit */
#define MAX_PARAMS ((int64_t)1 << 27)   /* 512 MiB of float32 weights */
#define MAX_LAYERS 256
#define MAX_ARGS 8

/* ---------------------------------------------------------------- PRNG */

/* uniform in [-b, b): 53 random bits -> [0, 1) -> affine map */
static float uniform_pm(uint64_t *s, double b)
{
    double u = xai_splitmix_unit(s);
    return (float)((2.0 * u - 1.0) * b);
}

/* ---------------------------------------------------------------- parsed spec */

typedef enum {
    L_CONV, L_DENSE, L_BN, L_RELU, L_LRELU, L_ELU, L_TANH, L_SIGMOID, L_MAXPOOL, L_AVGPOOL, L_GAP, L_FLATTEN,
    L_DROPOUT, L_LSTM, L_TIMEDIST, L_REFERENCE
} lkind;

typedef struct {
    const char *key;   /* NULL for positional */
    size_t klen;
    const char *val;
    size_t vlen;
    int kcol, vcol;    /* 0-based offsets into the spec */
} arg;

typedef struct layer {
    lkind kind;
    int start, end;    /* 0-based [start, end) of the layer text in the spec */
    int nsp;           /* conv: spatial dims */
    int64_t n;         /* channels / units / hidden size */
    int64_t k[3], s[3], p[3], d[3], g;
    int nk, ns, np, nd; /* number of values given (1 = broadcast) */
    double a;          /* leakyrelu/elu alpha, dropout ratio */
    int bidir, all;
    struct layer *sub; /* timedist */
    int nsub;
} layer;

typedef struct {
    const char *spec;
    int depth;
    int td_start;      /* start of the enclosing timedist, for messages */
} parser;

static xai_status perr(const parser *ps, const layer *l, int col, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int len = l->end > l->start ? l->end - l->start : 0;
    if (len > 80)
        len = 80;
    return xai_error_set(XAI_EINVAL, "arch spec: '%.*s' at column %d: %s", len, ps->spec + l->start, col + 1, msg);
}

static void free_layers(layer *ls, int n)
{
    for (int i = 0; i < n; i++)
        free_layers(ls[i].sub, ls[i].nsub);
    free(ls);
}

static int skip_ws(const char *s, int i)
{
    while (s[i] && isspace((unsigned char)s[i]))
        i++;
    return i;
}

static int is_word(const arg *a, const char *w)
{
    return !a->key && a->vlen == strlen(w) && strncmp(a->val, w, a->vlen) == 0;
}

static int key_is(const arg *a, const char *k)
{
    return a->key && a->klen == strlen(k) && strncmp(a->key, k, a->klen) == 0;
}

/* a positive (or, with allow0, non-negative) integer in [.., MAX_DIM] */
static xai_status get_int(const parser *ps, const layer *l, const char *v, size_t len, int col, int allow0,
                          int64_t *out)
{
    if (len == 0 || !isdigit((unsigned char)v[0]))
        return perr(ps, l, col, "expected a number");
    int64_t x = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)v[i]))
            return perr(ps, l, col + (int)i, "expected a digit, got '%c'", v[i]);
        x = x * 10 + (v[i] - '0');
        if (x > MAX_DIM)
            return perr(ps, l, col, "%.*s is too large (at most %lld)", (int)len, v, (long long)MAX_DIM);
    }
    if (x == 0 && !allow0)
        return perr(ps, l, col, "must be at least 1");
    *out = x;
    return XAI_OK;
}

/* INT or INTxINT[xINT] */
static xai_status get_tuple(const parser *ps, const layer *l, const arg *a, int allow0, int64_t *out, int *n)
{
    const char *v = a->val;
    size_t len = a->vlen, i = 0;
    int cnt = 0;
    while (1) {
        size_t j = i;
        while (j < len && v[j] != 'x')
            j++;
        if (cnt == 3)
            return perr(ps, l, a->vcol + (int)i - 1, "at most 3 values in a tuple");
        xai_status st = get_int(ps, l, v + i, j - i, a->vcol + (int)i, allow0, &out[cnt]);
        if (st)
            return st;
        cnt++;
        if (j >= len)
            break;
        i = j + 1;
    }
    *n = cnt;
    return XAI_OK;
}

static xai_status get_real(const parser *ps, const layer *l, const arg *a, double lo, double hi, double *out)
{
    char buf[64];
    if (a->vlen == 0 || a->vlen >= sizeof buf)
        return perr(ps, l, a->vcol, a->vlen ? "number too long" : "expected a number");
    memcpy(buf, a->val, a->vlen);
    buf[a->vlen] = '\0';
    if (!(isdigit((unsigned char)buf[0]) || buf[0] == '.' || buf[0] == '-' || buf[0] == '+'))
        return perr(ps, l, a->vcol, "expected a number");
    char *e;
    errno = 0;
    double x = strtod(buf, &e);
    if (*e || errno || !isfinite(x))
        return perr(ps, l, a->vcol + (int)(e - buf), "expected a number");
    if (!(x >= lo && x <= hi))
        return perr(ps, l, a->vcol, "%g is outside [%g, %g]", x, lo, hi);
    *out = x;
    return XAI_OK;
}

static xai_status parse_spec(parser *ps, int *pos, int closing, layer **out, int *nout);

static const char *const layer_names =
    "conv1d conv2d conv3d dense bn relu leakyrelu elu tanh sigmoid maxpool avgpool gap reference flatten dropout lstm "
    "timedist";

/* conv1d/2d/3d(C, k=K [,s=S] [,p=P] [,d=D] [,g=G]) */
static xai_status conv_args(const parser *ps, layer *l, const arg *av, int na, int close_col)
{
    xai_status st;
    int have_k = 0;
    l->s[0] = l->d[0] = l->g = 1;
    l->p[0] = 0;
    l->ns = l->nd = l->np = 1;
    if (na < 1 || av[0].key)
        return perr(ps, l, na ? av[0].kcol : close_col, "expected the number of output channels first");
    if ((st = get_int(ps, l, av[0].val, av[0].vlen, av[0].vcol, 0, &l->n)))
        return st;
    for (int i = 1; i < na; i++) {
        const arg *a = &av[i];
        if (key_is(a, "k")) {
            st = get_tuple(ps, l, a, 0, l->k, &l->nk);
            have_k = 1;
        } else if (key_is(a, "s")) {
            st = get_tuple(ps, l, a, 0, l->s, &l->ns);
        } else if (key_is(a, "p")) {
            st = get_tuple(ps, l, a, 1, l->p, &l->np);
        } else if (key_is(a, "d")) {
            st = get_tuple(ps, l, a, 0, l->d, &l->nd);
        } else if (key_is(a, "g")) {
            st = get_int(ps, l, a->val, a->vlen, a->vcol, 0, &l->g);
        } else {
            return perr(ps, l, a->kcol, "unknown argument '%.*s' (conv takes C, k=, s=, p=, d=, g=)",
                        (int)(a->key ? a->klen : a->vlen), a->key ? a->key : a->val);
        }
        if (st)
            return st;
        int cnt = key_is(a, "k") ? l->nk : key_is(a, "s") ? l->ns : key_is(a, "p") ? l->np : key_is(a, "d") ? l->nd : 1;
        if (cnt != 1 && cnt != l->nsp)
            return perr(ps, l, a->vcol, "%d values for a %d-D convolution", cnt, l->nsp);
    }
    if (!have_k)
        return perr(ps, l, close_col, "missing kernel size k=K");
    return XAI_OK;
}

/* dense(N), lstm(H [,bidirectional] [,last|all]) */
static xai_status units_args(const parser *ps, layer *l, const arg *av, int na, int close_col)
{
    xai_status st;
    if (na < 1 || av[0].key)
        return perr(ps, l, na ? av[0].kcol : close_col, "expected the number of %s first",
                    l->kind == L_DENSE ? "units" : "hidden units");
    if ((st = get_int(ps, l, av[0].val, av[0].vlen, av[0].vcol, 0, &l->n)))
        return st;
    if (l->kind == L_DENSE) {
        if (na > 1)
            return perr(ps, l, av[1].kcol, "dense takes one argument");
        return XAI_OK;
    }
    for (int i = 1; i < na; i++) {
        if (is_word(&av[i], "bidirectional"))
            l->bidir = 1;
        else if (is_word(&av[i], "last"))
            l->all = 0;
        else if (is_word(&av[i], "all"))
            l->all = 1;
        else
            return perr(ps, l, av[i].kcol, "unknown argument '%.*s' (lstm takes H, bidirectional, last, all)",
                        (int)(av[i].key ? av[i].klen : av[i].vlen), av[i].key ? av[i].key : av[i].val);
    }
    return XAI_OK;
}

/* maxpool/avgpool(K [,s=S] [,p=P]); the stride defaults to K later (ns = 0 here) */
static xai_status pool_args(const parser *ps, layer *l, const arg *av, int na, int close_col)
{
    xai_status st;
    if (na < 1 || av[0].key)
        return perr(ps, l, na ? av[0].kcol : close_col, "expected the pool size first");
    arg k0 = av[0];
    if ((st = get_tuple(ps, l, &k0, 0, l->k, &l->nk)))
        return st;
    l->ns = 0;
    l->np = 1;
    l->p[0] = 0;
    for (int i = 1; i < na; i++) {
        if (key_is(&av[i], "s"))
            st = get_tuple(ps, l, &av[i], 0, l->s, &l->ns);
        else if (key_is(&av[i], "p"))
            st = get_tuple(ps, l, &av[i], 1, l->p, &l->np);
        else
            return perr(ps, l, av[i].kcol, "unknown argument '%.*s' (pools take K, s=, p=)",
                        (int)(av[i].key ? av[i].klen : av[i].vlen), av[i].key ? av[i].key : av[i].val);
        if (st)
            return st;
    }
    return XAI_OK;
}

/* leakyrelu[(A)], elu[(A)], dropout[(P)]: one optional number */
static xai_status number_args(const parser *ps, layer *l, const arg *av, int na)
{
    xai_status st;
    l->a = l->kind == L_LRELU ? 0.01 : l->kind == L_ELU ? 1.0 : 0.5;
    if (na > 1)
        return perr(ps, l, av[1].kcol, "takes at most one argument");
    if (na == 1) {
        if (av[0].key)
            return perr(ps, l, av[0].kcol, "expected a number");
        if (l->kind == L_DROPOUT) {
            if ((st = get_real(ps, l, &av[0], 0.0, 1.0, &l->a)))
                return st;
            if (l->a >= 1.0)
                return perr(ps, l, av[0].vcol, "the dropout ratio must be below 1");
        } else if ((st = get_real(ps, l, &av[0], -1e6, 1e6, &l->a))) {
            return st;
        }
    }
    return XAI_OK;
}

/* Interpret the arguments of one layer. */
static xai_status layer_args(const parser *ps, layer *l, const arg *av, int na, int close_col)
{
    switch (l->kind) {
    case L_CONV:
        return conv_args(ps, l, av, na, close_col);
    case L_DENSE:
    case L_LSTM:
        return units_args(ps, l, av, na, close_col);
    case L_MAXPOOL:
    case L_AVGPOOL:
        return pool_args(ps, l, av, na, close_col);
    case L_LRELU:
    case L_ELU:
    case L_DROPOUT:
        return number_args(ps, l, av, na);
    default:
        if (na > 0)
            return perr(ps, l, av[0].kcol, "takes no arguments");
        return XAI_OK;
    }
}

/* The layer name at *pos: its kind and spatial rank; *pos moves past it. */
static xai_status layer_name(const parser *ps, int *pos, layer *l)
{
    const char *s = ps->spec;
    int i = *pos, n0 = i;
    while (isalnum((unsigned char)s[i]) || s[i] == '_')
        i++;
    l->end = i;
    if (i == n0) {
        /* extend the quoted text to the next separator for context */
        int e = i;
        while (s[e] && !isspace((unsigned char)s[e]))
            e++;
        l->end = e > i ? e : i + (s[i] ? 1 : 0);
        return perr(ps, l, i, s[i] ? "expected a layer name, got '%c'" : "expected a layer name", s[i]);
    }
    int nl = i - n0;
    static const struct { const char *name; lkind kind; int nsp; } names[] = {
        {"conv1d", L_CONV, 1}, {"conv2d", L_CONV, 2}, {"conv3d", L_CONV, 3}, {"dense", L_DENSE, 0},
        {"linear", L_DENSE, 0}, {"bn", L_BN, 0}, {"batchnorm", L_BN, 0}, {"relu", L_RELU, 0},
        {"leakyrelu", L_LRELU, 0}, {"elu", L_ELU, 0}, {"tanh", L_TANH, 0}, {"sigmoid", L_SIGMOID, 0},
        {"maxpool", L_MAXPOOL, 0}, {"avgpool", L_AVGPOOL, 0}, {"gap", L_GAP, 0}, {"flatten", L_FLATTEN, 0},
        {"dropout", L_DROPOUT, 0}, {"lstm", L_LSTM, 0}, {"timedist", L_TIMEDIST, 0},
        {"reference", L_REFERENCE, 0},
    };
    int found = -1;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if ((int)strlen(names[k].name) == nl && strncmp(names[k].name, s + n0, (size_t)nl) == 0)
            found = (int)k;
    if (found < 0)
        return perr(ps, l, n0, "unknown layer '%.*s' (known: %s)", nl, s + n0, layer_names);
    l->kind = names[found].kind;
    l->nsp = names[found].nsp;
    *pos = i;
    return XAI_OK;
}

/* After 'key' (from a0 to a1) and its '=' at *pi: the value, up to the next separator. */
static xai_status key_value(const parser *ps, layer *l, int *pi, int a0, int a1, arg *a)
{
    const char *s = ps->spec;
    int i = *pi;
    a->key = s + a0;
    a->klen = (size_t)(a1 - a0);
    if (a->klen == 0) {
        l->end = i + 1;
        return perr(ps, l, i, "expected a name before '='");
    }
    for (size_t q = 0; q < a->klen; q++)
        if (!isalnum((unsigned char)a->key[q])) {
            l->end = i + 1;
            return perr(ps, l, a0 + (int)q, "unexpected '%c' in an argument name (separate arguments with ',')",
                        a->key[q]);
        }
    i = skip_ws(s, i + 1);
    int v0 = i;
    while (s[i] && s[i] != ',' && s[i] != ')' && s[i] != '(' && s[i] != '=')
        i++;
    int v1 = i;
    while (v1 > v0 && isspace((unsigned char)s[v1 - 1]))
        v1--;
    a->val = s + v0;
    a->vlen = (size_t)(v1 - v0);
    a->vcol = v0;
    *pi = i;
    return XAI_OK;
}

/* One argument from *pi ('value' or 'key=value'), which leaves *pi at its ',' or ')'; *use is 0 for
   the empty argument list "()". */
static xai_status parse_arg(const parser *ps, layer *l, int *pi, int na, arg *out, int *use)
{
    const char *s = ps->spec;
    xai_status st;
    int i = skip_ws(s, *pi);
    int a0 = i;
    while (s[i] && s[i] != ',' && s[i] != ')' && s[i] != '(' && s[i] != '=')
        i++;
    int a1 = i;
    while (a1 > a0 && isspace((unsigned char)s[a1 - 1]))
        a1--;
    arg a = {NULL, 0, s + a0, (size_t)(a1 - a0), a0, a0};
    if (s[i] == '=' && (st = key_value(ps, l, &i, a0, a1, &a)))
        return st;
    l->end = s[i] ? i + 1 : i;
    if (s[i] == '(' || s[i] == '=')
        return perr(ps, l, i, "unexpected '%c'", s[i]);
    if (!s[i])
        return perr(ps, l, i, "expected ')'");
    if (a.vlen == 0 && !a.key && !(s[i] == ')' && na == 0))
        return perr(ps, l, a0, "expected an argument");
    *use = a.vlen > 0 || a.key;
    if (*use) {
        for (size_t q = 0; q < a.vlen; q++)
            if (isspace((unsigned char)a.val[q]))
                return perr(ps, l, a.vcol + (int)q, "unexpected space inside a value (separate arguments with ',')");
        if (na == MAX_ARGS)
            return perr(ps, l, a0, "too many arguments");
    }
    *out = a;
    *pi = i;
    return XAI_OK;
}

/* timedist(LAYERS): the inner spec up to its ')' (not nested). */
static xai_status parse_timedist(parser *ps, int *pos, layer *l, int i, int n0)
{
    if (ps->depth > 0)
        return perr(ps, l, n0, "timedist cannot be nested");
    ps->depth++;
    ps->td_start = l->start;
    xai_status st = parse_spec(ps, &i, 1, &l->sub, &l->nsub);
    ps->depth--;
    l->end = i;
    if (st)
        return st;
    *pos = i;
    return XAI_OK;
}

static xai_status parse_layer(parser *ps, int *pos, layer *l)
{
    const char *s = ps->spec;
    int i = *pos, n0 = i;
    xai_status st;
    memset(l, 0, sizeof *l);
    l->start = i;
    if ((st = layer_name(ps, &i, l)))
        return st;
    int j = skip_ws(s, i);
    if (s[j] != '(') {
        /* no arguments */
        if (l->kind == L_CONV || l->kind == L_DENSE || l->kind == L_LSTM || l->kind == L_MAXPOOL ||
            l->kind == L_AVGPOOL || l->kind == L_TIMEDIST)
            return perr(ps, l, i, "expected '(' with arguments");
        *pos = i;
        return layer_args(ps, l, NULL, 0, i);
    }
    i = j + 1;
    if (l->kind == L_TIMEDIST)
        return parse_timedist(ps, pos, l, i, n0);
    arg av[MAX_ARGS];
    int na = 0;
    for (;;) {
        arg a = {0};
        int use = 0;
        if ((st = parse_arg(ps, l, &i, na, &a, &use)))
            return st;
        if (use)
            av[na++] = a;
        if (s[i] == ')')
            break;
        i++; /* ',' */
    }
    int close_col = i;
    *pos = i + 1;
    l->end = i + 1;
    return layer_args(ps, l, av, na, close_col);
}

/* layers until the end of the string (closing == 0) or a ')' (closing == 1, consumed) */
static xai_status parse_spec(parser *ps, int *pos, int closing, layer **out, int *nout)
{
    layer *ls = NULL;
    int n = 0, i = *pos;
    xai_status st = XAI_OK;
    *out = NULL;
    *nout = 0;
    while (1) {
        i = skip_ws(ps->spec, i);
        char c = ps->spec[i];
        if (!c) {
            if (closing) {
                layer tmp = {.start = ps->td_start, .end = i};
                st = perr(ps, &tmp, i, "expected ')' to close timedist(");
                goto fail;
            }
            break;
        }
        if (c == ')' && closing) {
            i++;
            break;
        }
        if (n == MAX_LAYERS) {
            layer tmp = {.start = i, .end = i + 1};
            st = perr(ps, &tmp, i, "too many layers (at most %d)", MAX_LAYERS);
            goto fail;
        }
        layer *nl = realloc(ls, sizeof *ls * (size_t)(n + 1));
        if (!nl) {
            st = xai_error_set(XAI_ENOMEM, "arch spec: out of memory");
            goto fail;
        }
        ls = nl;
        if ((st = parse_layer(ps, &i, &ls[n]))) {
            free_layers(ls[n].sub, ls[n].nsub);
            goto fail;
        }
        n++;
        c = ps->spec[i];
        if (c && !isspace((unsigned char)c) && !(c == ')' && closing)) {
            layer tmp = ls[n - 1];
            tmp.end = i + 1;
            st = perr(ps, &tmp, i, "expected a space before the next layer, got '%c'", c);
            goto fail;
        }
    }
    if (n == 0) {
        layer tmp = {.start = closing ? ps->td_start : 0, .end = i};
        st = perr(ps, &tmp, i > 0 ? i - 1 : 0, closing ? "timedist() needs layers" : "the spec is empty");
        goto fail;
    }
    *pos = i;
    *out = ls;
    *nout = n;
    return XAI_OK;
fail:
    free_layers(ls, n);
    return st;
}

/* ---------------------------------------------------------------- ONNX building */

enum { LAY_FLAT, LAY_CH, LAY_SEQ, LAY_TDSEQ };

typedef struct {
    const parser *ps;
    int dry;                    /* shape inference and parameter count only */
    int oom;
    uint64_t rng;
    int64_t nparams;
    Onnx__GraphProto *g;
    int counter;
    /* the current tensor */
    char cur[128];
    int rank;
    int64_t dim[XAI_MAX_DIMS];
    int layout;
    int nobatch;                /* timedist model: the input has no batch axis of 1 */
} bld;

static char *bdup(bld *b, const char *s)
{
    char *r = strdup(s);
    if (!r)
        b->oom = 1;
    return r;
}

#define PUSH_MSG(b, arr, n, item)                                                                   \
    do {                                                                                            \
        void *np_ = (item) ? realloc((arr), sizeof *(arr) * ((n) + 1)) : NULL;                      \
        if (!np_) {                                                                                 \
            (b)->oom = 1;                                                                           \
            if (item)                                                                               \
                protobuf_c_message_free_unpacked((ProtobufCMessage *)(item), NULL);                 \
        } else {                                                                                    \
            (arr) = np_;                                                                            \
            (arr)[(n)++] = (item);                                                                  \
        }                                                                                           \
    } while (0)

static Onnx__NodeProto *add_node(bld *b, const char *op, const char *name, int nin, const char *const *in,
                                 int nout, const char *const *out)
{
    if (b->dry)
        return NULL;
    Onnx__NodeProto *n = malloc(sizeof *n);
    if (!n) {
        b->oom = 1;
        return NULL;
    }
    onnx__node_proto__init(n);
    n->op_type = bdup(b, op);
    n->name = bdup(b, name);
    n->input = calloc((size_t)nin, sizeof(char *));
    n->output = calloc((size_t)nout, sizeof(char *));
    if (n->input)
        for (int i = 0; i < nin; i++)
            n->input[n->n_input++] = bdup(b, in[i]);
    if (n->output)
        for (int i = 0; i < nout; i++)
            n->output[n->n_output++] = bdup(b, out[i]);
    if (!n->input || !n->output)
        b->oom = 1;
    PUSH_MSG(b, b->g->node, b->g->n_node, n);
    return b->oom ? NULL : n;
}

static Onnx__AttributeProto *new_attr(bld *b, Onnx__NodeProto *n, const char *name, int type)
{
    if (!n)
        return NULL;
    Onnx__AttributeProto *a = malloc(sizeof *a);
    if (!a) {
        b->oom = 1;
        return NULL;
    }
    onnx__attribute_proto__init(a);
    a->name = bdup(b, name);
    a->has_type = 1;
    a->type = type;
    PUSH_MSG(b, n->attribute, n->n_attribute, a);
    return b->oom ? NULL : a;
}

static void attr_int(bld *b, Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = new_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (a) {
        a->has_i = 1;
        a->i = v;
    }
}

static void attr_float(bld *b, Onnx__NodeProto *n, const char *name, float v)
{
    Onnx__AttributeProto *a = new_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    if (a) {
        a->has_f = 1;
        a->f = v;
    }
}

static void attr_ints(bld *b, Onnx__NodeProto *n, const char *name, const int64_t *v, int cnt)
{
    Onnx__AttributeProto *a = new_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    if (!a)
        return;
    a->ints = malloc(sizeof(int64_t) * (size_t)cnt);
    if (!a->ints) {
        b->oom = 1;
        return;
    }
    memcpy(a->ints, v, sizeof(int64_t) * (size_t)cnt);
    a->n_ints = (size_t)cnt;
}

static void attr_str(bld *b, Onnx__NodeProto *n, const char *name, const char *v)
{
    Onnx__AttributeProto *a = new_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    if (!a)
        return;
    a->s.data = (uint8_t *)bdup(b, v);
    if (a->s.data) {
        a->s.len = strlen(v);
        a->has_s = 1;
    }
}

static void put_f32le(uint8_t *p, float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    p[0] = (uint8_t)u;
    p[1] = (uint8_t)(u >> 8);
    p[2] = (uint8_t)(u >> 16);
    p[3] = (uint8_t)(u >> 24);
}

static Onnx__TensorProto *new_tensor(bld *b, const char *name, int type, int nd, const int64_t *dims)
{
    Onnx__TensorProto *t = malloc(sizeof *t);
    if (!t) {
        b->oom = 1;
        return NULL;
    }
    onnx__tensor_proto__init(t);
    t->name = bdup(b, name);
    t->has_data_type = 1;
    t->data_type = type;
    if (nd > 0) {
        t->dims = malloc(sizeof(int64_t) * (size_t)nd);
        if (!t->dims)
            b->oom = 1;
        else {
            memcpy(t->dims, dims, sizeof(int64_t) * (size_t)nd);
            t->n_dims = (size_t)nd;
        }
    }
    PUSH_MSG(b, b->g->initializer, b->g->n_initializer, t);
    return b->oom ? NULL : t;
}

typedef enum { INIT_UNIFORM, INIT_CONST } init_kind;

/* Float initializer: U(-bound, bound) from the stream, or the constant cval. */
static void add_param(bld *b, const char *name, int nd, const int64_t *dims, init_kind ik, double bound, float cval)
{
    int64_t n = 1;
    for (int i = 0; i < nd; i++)
        n *= dims[i];
    b->nparams += n;
    if (b->dry)
        return;
    Onnx__TensorProto *t = new_tensor(b, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, nd, dims);
    if (!t)
        return;
    t->raw_data.data = malloc((size_t)(n ? n : 1) * 4);
    if (!t->raw_data.data) {
        b->oom = 1;
        return;
    }
    t->raw_data.len = (size_t)n * 4;
    t->has_raw_data = 1;
    for (int64_t k = 0; k < n; k++)
        put_f32le(t->raw_data.data + 4 * k, ik == INIT_UNIFORM ? uniform_pm(&b->rng, bound) : cval);
}

static void add_i64(bld *b, const char *name, int64_t n, const int64_t *vals)
{
    if (b->dry)
        return;
    Onnx__TensorProto *t = new_tensor(b, name, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, &n);
    if (!t)
        return;
    t->int64_data = malloc(sizeof(int64_t) * (size_t)n);
    if (!t->int64_data) {
        b->oom = 1;
        return;
    }
    memcpy(t->int64_data, vals, sizeof(int64_t) * (size_t)n);
    t->n_int64_data = (size_t)n;
}

static Onnx__ValueInfoProto *value_info(bld *b, const char *name, int nd, const int64_t *dims)
{
    Onnx__ValueInfoProto *vi = calloc(1, sizeof *vi);
    Onnx__TypeProto *tp = calloc(1, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = calloc(1, sizeof *tt);
    Onnx__TensorShapeProto *sh = calloc(1, sizeof *sh);
    Onnx__TensorShapeProto__Dimension **dv = calloc((size_t)nd + 1, sizeof *dv);
    if (!vi || !tp || !tt || !sh || !dv) {
        free(vi);
        free(tp);
        free(tt);
        free(sh);
        free(dv);
        b->oom = 1;
        return NULL;
    }
    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sh);
    vi->name = bdup(b, name);
    vi->type = tp;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt->shape = sh;
    sh->dim = dv;
    for (int i = 0; i < nd; i++) {
        Onnx__TensorShapeProto__Dimension *d = malloc(sizeof *d);
        if (!d) {
            b->oom = 1;
            break;
        }
        onnx__tensor_shape_proto__dimension__init(d);
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        d->dim_value = dims[i];
        dv[sh->n_dim++] = d;
    }
    return vi;
}

/* ---------------------------------------------------------------- shape inference + emission */

static void fmt_shape(char *buf, size_t cap, int rank, const int64_t *d, int skip_batch)
{
    size_t o = 0;
    o += (size_t)snprintf(buf + o, cap - o, "[");
    for (int i = skip_batch; i < rank && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%lld", i > skip_batch ? ", " : "", (long long)d[i]);
    if (o < cap)
        snprintf(buf + o, cap - o, "]");
}

static xai_status check_numel(bld *b, const layer *l)
{
    int64_t n = 1;
    for (int i = 0; i < b->rank; i++) {
        if (b->dim[i] < 1)
            return perr(b->ps, l, l->start, "output is empty");
        if (b->dim[i] > MAX_NUMEL / n)
            return perr(b->ps, l, l->start, "output is too large");
        n *= b->dim[i];
    }
    if (b->nparams > MAX_PARAMS)
        return perr(b->ps, l, l->start, "the model has more than %lld parameters", (long long)MAX_PARAMS);
    return XAI_OK;
}

static void set_cur(bld *b, const char *name)
{
    snprintf(b->cur, sizeof b->cur, "%s", name);
}

/* one single-input node from the current tensor to "<base>" (the new current tensor) */
static Onnx__NodeProto *simple(bld *b, const char *op, const char *base, const char *out)
{
    const char *in[1] = {b->cur};
    const char *o[1] = {out};
    Onnx__NodeProto *n = add_node(b, op, base, 1, in, 1, o);
    set_cur(b, out);
    return n;
}

static int64_t kval(const int64_t *v, int n, int i)
{
    return n == 1 ? v[0] : v[i];
}

/* One layer being emitted: "<prefix><kind><idx>" names its nodes and parameters, out is the tensor
   it leaves current ("logits" for the last layer), sh the input shape for messages. */
typedef struct {
    bld *b;
    const layer *l;
    const char *prefix;
    int idx, next_is_lstm;
    char base[48], out[64], sh[160];
} emit_ctx;

static xai_status emit_layer(bld *b, const layer *l, const char *prefix, int idx, int is_last, int next_is_lstm);

/* "<base>.weight" and "<base>.bias", PyTorch's U(-bound, bound), then the node reading them. */
static Onnx__NodeProto *weighted_node(const emit_ctx *c, const char *op, int wnd, const int64_t *wd, double bound)
{
    bld *b = c->b;
    char wn[96], bn[96];
    snprintf(wn, sizeof wn, "%s.weight", c->base);
    snprintf(bn, sizeof bn, "%s.bias", c->base);
    add_param(b, wn, wnd, wd, INIT_UNIFORM, bound, 0);
    add_param(b, bn, 1, &c->l->n, INIT_UNIFORM, bound, 0);
    const char *in[3] = {b->cur, wn, bn};
    const char *o[1] = {c->out};
    Onnx__NodeProto *n = add_node(b, op, c->base, 3, in, 1, o);
    set_cur(b, c->out);
    return n;
}

/* Conv output size per spatial axis (floor((in + 2p - d(k-1) - 1) / s) + 1), and the weight shape. */
static xai_status conv_geometry(const emit_ctx *c, int64_t *ks, int64_t *ss, int64_t *ds, int64_t *pads,
                                int64_t *wd, int64_t *fan_in)
{
    bld *b = c->b;
    const layer *l = c->l;
    for (int i = 0; i < l->nsp; i++) {
        ks[i] = kval(l->k, l->nk, i);
        ss[i] = kval(l->s, l->ns, i);
        ds[i] = kval(l->d, l->nd, i);
        pads[i] = pads[i + l->nsp] = kval(l->p, l->np, i);
        if (pads[i] > ds[i] * (ks[i] - 1))
            return perr(b->ps, l, l->start, "padding %lld is more than the kernel extent %lld (d*(k-1))",
                        (long long)pads[i], (long long)(ds[i] * (ks[i] - 1)));
        int64_t in = b->dim[2 + i];
        int64_t span = in + 2 * pads[i] - ds[i] * (ks[i] - 1) - 1;
        if (span < 0)
            return perr(b->ps, l, l->start, "kernel %lld (dilation %lld, padding %lld) does not fit input %s",
                        (long long)ks[i], (long long)ds[i], (long long)pads[i], c->sh);
        b->dim[2 + i] = span / ss[i] + 1;
        *fan_in *= ks[i];
        wd[2 + i] = ks[i];
    }
    return XAI_OK;
}

static xai_status emit_conv(const emit_ctx *c)
{
    bld *b = c->b;
    const layer *l = c->l;
    xai_status st;
    if (b->layout != LAY_CH || b->rank != l->nsp + 2)
        return perr(b->ps, l, l->start, "conv%dd needs a [C, %s] input, got %s", l->nsp,
                    l->nsp == 1 ? "T" : l->nsp == 2 ? "H, W" : "D, H, W", c->sh);
    int64_t cin = b->dim[1];
    if (cin % l->g || l->n % l->g)
        return perr(b->ps, l, l->start, "group %lld does not divide %lld input and %lld output channels",
                    (long long)l->g, (long long)cin, (long long)l->n);
    int64_t ks[3], ss[3], ds[3], pads[6], wd[5];
    int64_t fan_in = cin / l->g;
    if ((st = conv_geometry(c, ks, ss, ds, pads, wd, &fan_in)))
        return st;
    wd[0] = l->n;
    wd[1] = cin / l->g;
    if (fan_in > MAX_NUMEL || l->n > MAX_NUMEL / fan_in)
        return perr(b->ps, l, l->start, "too many weights");
    b->dim[1] = l->n;
    Onnx__NodeProto *n = weighted_node(c, "Conv", l->nsp + 2, wd, 1.0 / sqrt((double)fan_in));
    attr_ints(b, n, "kernel_shape", ks, l->nsp);
    attr_ints(b, n, "strides", ss, l->nsp);
    attr_ints(b, n, "pads", pads, 2 * l->nsp);
    attr_ints(b, n, "dilations", ds, l->nsp);
    attr_int(b, n, "group", l->g);
    return XAI_OK;
}

static xai_status emit_dense(const emit_ctx *c)
{
    bld *b = c->b;
    const layer *l = c->l;
    if (b->rank != 2)
        return perr(b->ps, l, l->start, "dense needs a flat input, got %s: add flatten or gap before it", c->sh);
    int64_t f = b->dim[1];
    int64_t wd[2] = {l->n, f};
    if (l->n > MAX_NUMEL / f)
        return perr(b->ps, l, l->start, "too many weights");
    attr_int(b, weighted_node(c, "Gemm", 2, wd, 1.0 / sqrt((double)f)), "transB", 1);
    b->dim[1] = l->n;
    b->layout = LAY_FLAT;
    return XAI_OK;
}

/* BatchNormalization starts as the identity: scale 1, bias 0, running mean 0, running var 1. */
static xai_status emit_bn(const emit_ctx *c)
{
    bld *b = c->b;
    const layer *l = c->l;
    if (b->layout == LAY_SEQ || b->layout == LAY_TDSEQ || b->rank < 2)
        return perr(b->ps, l, l->start, "bn needs channels first ([C, ...] or [F]), got the sequence %s", c->sh);
    int64_t ch = b->dim[1];
    char pn[4][96];
    static const char *const suf[4] = {"weight", "bias", "running_mean", "running_var"};
    static const float val[4] = {1.0f, 0.0f, 0.0f, 1.0f};
    for (int k = 0; k < 4; k++) {
        snprintf(pn[k], sizeof pn[k], "%s.%s", c->base, suf[k]);
        add_param(b, pn[k], 1, &ch, INIT_CONST, 0, val[k]);
    }
    const char *in[5] = {b->cur, pn[0], pn[1], pn[2], pn[3]};
    const char *o[1] = {c->out};
    Onnx__NodeProto *n = add_node(b, "BatchNormalization", c->base, 5, in, 1, o);
    attr_float(b, n, "epsilon", 1e-5f);
    attr_float(b, n, "momentum", 0.9f);
    set_cur(b, c->out);
    return XAI_OK;
}

static xai_status emit_activation(const emit_ctx *c)
{
    static const char *const op[] = {[L_RELU] = "Relu", [L_TANH] = "Tanh", [L_SIGMOID] = "Sigmoid",
                                     [L_LRELU] = "LeakyRelu", [L_ELU] = "Elu"};
    Onnx__NodeProto *n = simple(c->b, op[c->l->kind], c->base, c->out);
    if (c->l->kind == L_LRELU || c->l->kind == L_ELU)
        attr_float(c->b, n, "alpha", (float)c->l->a);
    return XAI_OK;
}

/* The ratio is an input (opset 12 on), a constant that is not trained. */
static xai_status emit_dropout(const emit_ctx *c)
{
    bld *b = c->b;
    char nm[96];
    snprintf(nm, sizeof nm, "%s.ratio", c->base);
    add_param(b, nm, 0, NULL, INIT_CONST, 0, (float)c->l->a);
    b->nparams -= 1; /* not a trainable parameter */
    const char *in[2] = {b->cur, nm};
    const char *o[1] = {c->out};
    add_node(b, "Dropout", c->base, 2, in, 1, o);
    set_cur(b, c->out);
    return XAI_OK;
}

static xai_status emit_pool(const emit_ctx *c)
{
    bld *b = c->b;
    const layer *l = c->l;
    int nsp = b->rank - 2;
    if (b->layout != LAY_CH || nsp < 1 || nsp > 3)
        return perr(b->ps, l, l->start, "pooling needs a [C, ...] input with 1 to 3 spatial axes, got %s", c->sh);
    if ((l->nk != 1 && l->nk != nsp) || (l->ns > 1 && l->ns != nsp) || (l->np != 1 && l->np != nsp))
        return perr(b->ps, l, l->start, "give 1 or %d values per argument for the input %s", nsp, c->sh);
    int64_t ks[3], ss[3], pads[6];
    for (int i = 0; i < nsp; i++) {
        ks[i] = kval(l->k, l->nk, i);
        ss[i] = l->ns ? kval(l->s, l->ns, i) : ks[i];
        pads[i] = pads[i + nsp] = kval(l->p, l->np, i);
        if (2 * pads[i] > ks[i])
            return perr(b->ps, l, l->start, "padding %lld is more than half the pool size %lld",
                        (long long)pads[i], (long long)ks[i]);
        int64_t span = b->dim[2 + i] + 2 * pads[i] - ks[i];
        if (span < 0)
            return perr(b->ps, l, l->start, "pool size %lld does not fit input %s", (long long)ks[i], c->sh);
        b->dim[2 + i] = span / ss[i] + 1;
    }
    Onnx__NodeProto *n = simple(b, l->kind == L_MAXPOOL ? "MaxPool" : "AveragePool", c->base, c->out);
    attr_ints(b, n, "kernel_shape", ks, nsp);
    attr_ints(b, n, "strides", ss, nsp);
    attr_ints(b, n, "pads", pads, 2 * nsp);
    if (l->kind == L_AVGPOOL && l->p[0] + l->p[1] + l->p[2] > 0)
        attr_int(b, n, "count_include_pad", 1);
    return XAI_OK;
}

static xai_status emit_gap(const emit_ctx *c)
{
    bld *b = c->b;
    char nm[96];
    if (b->layout != LAY_CH || b->rank < 3)
        return perr(b->ps, c->l, c->l->start, "gap needs a [C, ...] input, got %s", c->sh);
    snprintf(nm, sizeof nm, "%s.pooled", c->base);
    simple(b, "GlobalAveragePool", c->base, nm);
    snprintf(nm, sizeof nm, "%s_flatten", c->base);
    attr_int(b, simple(b, "Flatten", nm, c->out), "axis", 1);
    b->rank = 2;
    b->layout = LAY_FLAT;
    return XAI_OK;
}

/* x - c: c is zero (the identity) until xai_model_set_reference() sets it to the training mean;
   a constant, so not counted as trainable. */
static xai_status emit_reference(const emit_ctx *c)
{
    bld *b = c->b;
    char nm[96];
    if (b->nobatch)
        return perr(b->ps, c->l, c->l->start, "reference is not allowed inside timedist");
    snprintf(nm, sizeof nm, "%s.ref", c->base);
    add_param(b, nm, b->rank - 1, b->dim + 1, INIT_CONST, 0, 0.0f);
    int64_t n = 1;
    for (int i = 1; i < b->rank; i++)
        n *= b->dim[i];
    b->nparams -= n;
    const char *in[2] = {b->cur, nm};
    const char *o[1] = {c->out};
    add_node(b, "Sub", c->base, 2, in, 1, o);
    set_cur(b, c->out);
    return XAI_OK;
}

static xai_status emit_flatten(const emit_ctx *c)
{
    bld *b = c->b;
    if (b->rank < 2)
        return perr(b->ps, c->l, c->l->start, "nothing to flatten");
    int64_t f = 1;
    for (int i = 1; i < b->rank; i++)
        f *= b->dim[i];
    attr_int(b, simple(b, "Flatten", c->base, c->out), "axis", 1);
    b->dim[1] = f;
    b->rank = 2;
    b->layout = LAY_FLAT;
    return XAI_OK;
}

/* The LSTM's input in ONNX's time-major [T, 1, F] layout: a timedist sequence already is; a
   sequence [1, T, F] or a conv1d output [1, C, T] gets a Transpose. xn names the result. */
static xai_status lstm_input(const emit_ctx *c, char *xn, size_t cap, int64_t *T, int64_t *F)
{
    bld *b = c->b;
    char nm[96];
    if (b->layout == LAY_TDSEQ) {
        *T = b->dim[0];
        *F = b->dim[2];
        snprintf(xn, cap, "%s", b->cur);
        return XAI_OK;
    }
    if (!(b->rank == 3 && (b->layout == LAY_SEQ || b->layout == LAY_CH)))
        return perr(b->ps, c->l, c->l->start, "lstm needs a sequence [T, F] or a conv1d output [C, T], got %s",
                    c->sh);
    int64_t perm[3] = {1, 0, 2};
    if (b->layout == LAY_CH) {
        perm[0] = 2;
        perm[1] = 0;
        perm[2] = 1;
    }
    *T = b->dim[perm[0]];
    *F = b->dim[perm[2]];
    snprintf(xn, cap, "%s.x", c->base);
    snprintf(nm, sizeof nm, "%s_time_major", c->base);
    attr_ints(b, simple(b, "Transpose", nm, xn), "perm", perm, 3);
    return XAI_OK;
}

/* lstm(...,last): Y_h [ndir, 1, H] -> [1, ndir, H] -> flat [1, ndir*H]. */
static void lstm_last(const emit_ctx *c, const char *yh, int64_t ndir, int64_t H)
{
    bld *b = c->b;
    int64_t perm[3] = {1, 0, 2};
    char nm[96], tn[96];
    set_cur(b, yh);
    snprintf(nm, sizeof nm, "%s.h", c->base);
    snprintf(tn, sizeof tn, "%s_last", c->base);
    attr_ints(b, simple(b, "Transpose", tn, nm), "perm", perm, 3);
    snprintf(tn, sizeof tn, "%s_flatten", c->base);
    attr_int(b, simple(b, "Flatten", tn, c->out), "axis", 1);
    b->rank = 2;
    b->dim[0] = 1;
    b->dim[1] = ndir * H;
    b->layout = LAY_FLAT;
}

/* lstm(...,all): Y [T, ndir, 1, H] -> batch first [1, T, ndir, H], then the sequence [1, T, ndir*H]
   for a following lstm, else flat [1, T*ndir*H]. */
static void lstm_all(const emit_ctx *c, const char *yn, int64_t T, int64_t ndir, int64_t H)
{
    bld *b = c->b;
    int64_t perm[4] = {2, 0, 1, 3};
    char nm[96], tn[96];
    set_cur(b, yn);
    snprintf(nm, sizeof nm, "%s.seq", c->base);
    snprintf(tn, sizeof tn, "%s_batch_first", c->base);
    attr_ints(b, simple(b, "Transpose", tn, nm), "perm", perm, 4);
    if (c->next_is_lstm) {
        int64_t shp[3] = {1, T, ndir * H};
        char sn[96];
        snprintf(sn, sizeof sn, "%s.shape", c->base);
        add_i64(b, sn, 3, shp);
        const char *rin[2] = {b->cur, sn};
        const char *ro[1] = {c->out};
        snprintf(tn, sizeof tn, "%s_reshape", c->base);
        add_node(b, "Reshape", tn, 2, rin, 1, ro);
        set_cur(b, c->out);
        b->rank = 3;
        b->dim[0] = 1;
        b->dim[1] = T;
        b->dim[2] = ndir * H;
        b->layout = LAY_SEQ;
    } else {
        snprintf(tn, sizeof tn, "%s_flatten", c->base);
        attr_int(b, simple(b, "Flatten", tn, c->out), "axis", 1);
        b->rank = 2;
        b->dim[0] = 1;
        b->dim[1] = T * ndir * H;
        b->layout = LAY_FLAT;
    }
}

static xai_status emit_lstm(const emit_ctx *c)
{
    bld *b = c->b;
    const layer *l = c->l;
    xai_status st;
    int64_t T = 0, F = 0; /* set by lstm_input on success */
    char xn[128];
    if ((st = lstm_input(c, xn, sizeof xn, &T, &F)))
        return st;
    int64_t H = l->n, nd = l->bidir ? 2 : 1;
    if (4 * H > MAX_NUMEL / (F + H) / nd)
        return perr(b->ps, l, l->start, "too many weights");
    double bound = 1.0 / sqrt((double)H);
    char wn[96], rn[96], bnm[96], yn[96], yh[96];
    snprintf(wn, sizeof wn, "%s.W", c->base);
    snprintf(rn, sizeof rn, "%s.R", c->base);
    snprintf(bnm, sizeof bnm, "%s.B", c->base);
    snprintf(yn, sizeof yn, "%s.Y", c->base);
    snprintf(yh, sizeof yh, "%s.Y_h", c->base);
    int64_t wd[3] = {nd, 4 * H, F}, rd[3] = {nd, 4 * H, H}, bd[2] = {nd, 8 * H};
    add_param(b, wn, 3, wd, INIT_UNIFORM, bound, 0);
    add_param(b, rn, 3, rd, INIT_UNIFORM, bound, 0);
    add_param(b, bnm, 2, bd, INIT_UNIFORM, bound, 0);
    const char *in[4] = {xn, wn, rn, bnm};
    const char *o[2] = {yn, yh};
    Onnx__NodeProto *n = add_node(b, "LSTM", c->base, 4, in, 2, o);
    attr_int(b, n, "hidden_size", H);
    attr_str(b, n, "direction", l->bidir ? "bidirectional" : "forward");
    if (!l->all)
        lstm_last(c, yh, nd, H);
    else
        lstm_all(c, yn, T, nd, H);
    return XAI_OK;
}

/* timedist(LAYERS): the slices [S, C, ...] are the CNN's batch; each slice's features, flattened,
   become one step of the sequence [S, 1, F] that the following lstm reads. */
static xai_status emit_timedist(const emit_ctx *c)
{
    bld *b = c->b;
    const layer *l = c->l;
    xai_status st;
    char nm[96];
    if (c->idx != 0 || c->prefix[0])
        return perr(b->ps, l, l->start, "timedist must be the first layer");
    if (b->rank < 3 || b->layout != LAY_CH)
        return perr(b->ps, l, l->start, "timedist needs an input [S, C, ...] of slices, got %s", c->sh);
    char pre[32];
    snprintf(pre, sizeof pre, "td%d.", c->idx);
    for (int i = 0; i < l->nsub; i++) {
        const layer *s = &l->sub[i];
        if (s->kind == L_LSTM || s->kind == L_TIMEDIST)
            return perr(b->ps, s, s->start, "not allowed inside timedist (put the lstm after it)");
        if ((st = emit_layer(b, s, pre, i, 0, 0)))
            return st;
    }
    if (b->rank > 2) {
        int64_t f = 1;
        for (int i = 1; i < b->rank; i++)
            f *= b->dim[i];
        snprintf(nm, sizeof nm, "%s.flat", c->base);
        char tn[96];
        snprintf(tn, sizeof tn, "%s_flatten", c->base);
        attr_int(b, simple(b, "Flatten", tn, nm), "axis", 1);
        b->rank = 2;
        b->dim[1] = f;
    }
    snprintf(nm, sizeof nm, "%s.axes", c->base);
    int64_t ax = 1;
    add_i64(b, nm, 1, &ax);
    const char *in[2] = {b->cur, nm};
    const char *o[1] = {c->out};
    add_node(b, "Unsqueeze", c->base, 2, in, 1, o);
    set_cur(b, c->out);
    b->rank = 3;
    b->dim[2] = b->dim[1];
    b->dim[1] = 1;
    b->layout = LAY_TDSEQ;
    return XAI_OK;
}

/* Per layer kind (in lkind order): the name its nodes take, and the emitter that infers its output
   shape and adds its nodes and parameters. */
static const struct {
    const char *name;
    xai_status (*emit)(const emit_ctx *c);
} emitters[] = {
    [L_CONV] = {"conv", emit_conv},          [L_DENSE] = {"dense", emit_dense},
    [L_BN] = {"bn", emit_bn},                [L_RELU] = {"relu", emit_activation},
    [L_LRELU] = {"leakyrelu", emit_activation}, [L_ELU] = {"elu", emit_activation},
    [L_TANH] = {"tanh", emit_activation},    [L_SIGMOID] = {"sigmoid", emit_activation},
    [L_MAXPOOL] = {"maxpool", emit_pool},    [L_AVGPOOL] = {"avgpool", emit_pool},
    [L_GAP] = {"gap", emit_gap},             [L_FLATTEN] = {"flatten", emit_flatten},
    [L_DROPOUT] = {"dropout", emit_dropout}, [L_LSTM] = {"lstm", emit_lstm},
    [L_TIMEDIST] = {"timedist", emit_timedist}, [L_REFERENCE] = {"reference", emit_reference},
};
_Static_assert(sizeof emitters / sizeof emitters[0] == L_REFERENCE + 1, "one emitter per layer kind");

static xai_status emit_layer(bld *b, const layer *l, const char *prefix, int idx, int is_last, int next_is_lstm)
{
    xai_status st;
    emit_ctx c = {.b = b, .l = l, .prefix = prefix, .idx = idx, .next_is_lstm = next_is_lstm};
    snprintf(c.base, sizeof c.base, "%s%s%d", prefix, emitters[l->kind].name, idx);
    if (is_last)
        snprintf(c.out, sizeof c.out, "logits");
    else
        snprintf(c.out, sizeof c.out, "%s.out", c.base);
    fmt_shape(c.sh, sizeof c.sh, b->rank, b->dim, b->nobatch ? 0 : 1);
    if ((st = emitters[l->kind].emit(&c)))
        return st;
    if (b->oom)
        return xai_error_set(XAI_ENOMEM, "arch spec: out of memory");
    return check_numel(b, l);
}

static xai_status build_graph(bld *b, const layer *ls, int n, int ndim, const int64_t *shape)
{
    xai_status st;
    const layer *last = &ls[n - 1];
    if (last->kind != L_DENSE)
        return perr(b->ps, last, last->start, "the last layer must be dense(N) (it gives the logits)");
    if (ndim < 1 || ndim > XAI_MAX_DIMS - 1)
        return xai_error_set(XAI_EINVAL, "arch spec: input shape has %d dimensions (1 to %d supported)", ndim,
                             XAI_MAX_DIMS - 1);
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1 || shape[i] > MAX_DIM || shape[i] > MAX_NUMEL / numel)
            return xai_error_set(XAI_EINVAL, "arch spec: input dimension %d is %lld (must be 1 to %lld)", i,
                                 (long long)shape[i], (long long)MAX_DIM);
        numel *= shape[i];
    }
    int td = ls[0].kind == L_TIMEDIST;
    b->nobatch = td;
    b->rank = 0;
    if (!td)
        b->dim[b->rank++] = 1;
    for (int i = 0; i < ndim; i++)
        b->dim[b->rank++] = shape[i];
    if (td || ndim >= 2)
        b->layout = LAY_CH;
    else
        b->layout = LAY_FLAT;
    if (!td && ndim == 2) {
        for (int i = 0; i < n; i++) {
            lkind k = ls[i].kind;
            if (k == L_LSTM) {
                b->layout = LAY_SEQ;
                break;
            }
            if (k == L_CONV || k == L_MAXPOOL || k == L_AVGPOOL || k == L_GAP || k == L_BN || k == L_FLATTEN ||
                k == L_DENSE)
                break;
        }
    }
    set_cur(b, "input");
    if (!b->dry) {
        Onnx__ValueInfoProto *vi = value_info(b, "input", b->rank, b->dim);
        PUSH_MSG(b, b->g->input, b->g->n_input, vi);
    }
    for (int i = 0; i < n; i++) {
        if (i > 0 && ls[i - 1].kind == L_TIMEDIST && ls[i].kind != L_LSTM)
            return perr(b->ps, &ls[i], ls[i].start, "timedist(...) must be followed by lstm(...)");
        if ((st = emit_layer(b, &ls[i], "", i, i == n - 1, i + 1 < n && ls[i + 1].kind == L_LSTM)))
            return st;
    }
    if (!b->dry) {
        Onnx__ValueInfoProto *vo = value_info(b, "logits", b->rank, b->dim);
        PUSH_MSG(b, b->g->output, b->g->n_output, vo);
    }
    if (b->oom)
        return xai_error_set(XAI_ENOMEM, "arch spec: out of memory");
    return XAI_OK;
}

static Onnx__StringStringEntryProto *meta_entry(bld *b, const char *k, const char *v)
{
    Onnx__StringStringEntryProto *e = malloc(sizeof *e);
    if (!e) {
        b->oom = 1;
        return NULL;
    }
    onnx__string_string_entry_proto__init(e);
    e->key = bdup(b, k);
    e->value = bdup(b, v);
    return e;
}

static xai_status run(const char *spec, int ndim, const int64_t *input_shape, uint64_t seed, int dry,
                      int64_t *nparams, void **bytes, size_t *len)
{
    if (!spec || (ndim > 0 && !input_shape))
        return xai_error_set(XAI_EINVAL, "arch spec: NULL argument");
    parser ps = {spec, 0, 0};
    layer *ls;
    int n, pos = 0;
    xai_status st = parse_spec(&ps, &pos, 0, &ls, &n);
    if (st)
        return st;
    bld b;
    memset(&b, 0, sizeof b);
    b.ps = &ps;
    b.dry = dry;
    b.rng = seed;
    Onnx__ModelProto *mp = NULL;
    if (!dry) {
        mp = malloc(sizeof *mp);
        b.g = malloc(sizeof *b.g);
        if (!mp || !b.g) {
            free(mp);
            free(b.g);
            free_layers(ls, n);
            return xai_error_set(XAI_ENOMEM, "arch spec: out of memory");
        }
        onnx__model_proto__init(mp);
        onnx__graph_proto__init(b.g);
        mp->graph = b.g;
        b.g->name = bdup(&b, "xai_arch");
    }
    st = build_graph(&b, ls, n, ndim, input_shape);
    free_layers(ls, n);
    if (nparams)
        *nparams = b.nparams;
    if (st || dry) {
        if (mp)
            onnx__model_proto__free_unpacked(mp, NULL);
        return st;
    }
    mp->has_ir_version = 1;
    mp->ir_version = 8;
    mp->producer_name = bdup(&b, "libxai");
    mp->producer_version = bdup(&b, "0.1");
    Onnx__OperatorSetIdProto *os = malloc(sizeof *os);
    if (os) {
        onnx__operator_set_id_proto__init(os);
        os->domain = bdup(&b, "");
        os->has_version = 1;
        os->version = 17;
    }
    PUSH_MSG(&b, mp->opset_import, mp->n_opset_import, os);
    char sbuf[32];
    snprintf(sbuf, sizeof sbuf, "%" PRIu64, seed);
    Onnx__StringStringEntryProto *e1 = meta_entry(&b, "xai.arch", spec);
    PUSH_MSG(&b, mp->metadata_props, mp->n_metadata_props, e1);
    Onnx__StringStringEntryProto *e2 = meta_entry(&b, "xai.seed", sbuf);
    PUSH_MSG(&b, mp->metadata_props, mp->n_metadata_props, e2);
    if (b.oom) {
        onnx__model_proto__free_unpacked(mp, NULL);
        return xai_error_set(XAI_ENOMEM, "arch spec: out of memory");
    }
    size_t sz = onnx__model_proto__get_packed_size(mp);
    uint8_t *buf = malloc(sz ? sz : 1);
    if (!buf) {
        onnx__model_proto__free_unpacked(mp, NULL);
        return xai_error_set(XAI_ENOMEM, "arch spec: out of memory (%zu bytes)", sz);
    }
    size_t w = onnx__model_proto__pack(mp, buf);
    onnx__model_proto__free_unpacked(mp, NULL);
    *bytes = buf;
    *len = w;
    return XAI_OK;
}

xai_status xai_arch_build_onnx(const char *spec, int ndim, const int64_t *input_shape, uint64_t seed, void **bytes,
                               size_t *len)
{
    if (!bytes || !len)
        return xai_error_set(XAI_EINVAL, "arch spec: NULL output argument");
    *bytes = NULL;
    *len = 0;
    xai_error_clear();
    return run(spec, ndim, input_shape, seed, 0, NULL, bytes, len);
}

xai_status xai_arch_param_count(const char *spec, int ndim, const int64_t *input_shape, int64_t *nparams)
{
    if (!nparams)
        return xai_error_set(XAI_EINVAL, "arch spec: NULL output argument");
    *nparams = 0;
    xai_error_clear();
    int64_t np = 0;
    xai_status st = run(spec, ndim, input_shape, 0, 1, &np, NULL, NULL);
    if (st == XAI_OK)
        *nparams = np;
    return st;
}

xai_status xai_model_from_spec(const char *spec, int ndim, const int64_t *input_shape, uint64_t seed,
                               xai_model **out)
{
    if (!out)
        return xai_error_set(XAI_EINVAL, "arch spec: NULL output argument");
    *out = NULL;
    void *buf;
    size_t len;
    xai_status st = xai_arch_build_onnx(spec, ndim, input_shape, seed, &buf, &len);
    if (st)
        return st;
    st = xai_model_load_onnx_mem(buf, len, "(arch spec)", NULL, out);
    free(buf);
    return st;
}
