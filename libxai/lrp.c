/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * lrp.c - Layer-wise Relevance Propagation sweep, composites, per-layer overrides and
 * the gradient baselines (gradient, gradient x input, SmoothGrad, Integrated Gradients).
 * Relevance moves output -> input through each node's ops->relevance() with the rule the
 * composite assigns it; fan-out accumulates. Conventions: the README, "LRP conventions" (Zennit).
 * Refs: Bach et al. 2015; Montavon et al. 2017, 2019; Kohlbrenner et al. 2020;
 * Smilkov et al. 2017; Sundararajan et al. 2017.
 *
 * Override syntax (xai-explain --rule, repeatable; entries also split on ';'):
 *   SELECTOR=RULE
 *   SELECTOR: first        the first Conv or Dense layer
 *             all          every node a rule applies to
 *             layer K      the K-th Conv/Dense layer, 0-based, in graph order (also "layerK", "#K")
 *             node:NAME    the node with that name
 *             Conv | Dense | Gemm | MatMul | MaxPool | AveragePool | Add | ...   by op type
 *   RULE:     epsilon(E) zplus alphabeta(A,B) gamma(G) zbox(L,H) zbox flat wsquare pass norm gradient
 *             zplus-nobias alphabeta-nobias(A,B): z+ and alpha-beta with the bias left out of
 *             the denominators (Zennit's zero_params='bias'; Yeom et al.'s conv rule)
 *   Example:  --rule "layer 0=zbox(-3,3); Conv=gamma(0.1); Dense=epsilon(0.25)"
 * Overrides are matched in order before the composite; the first match wins.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "graph-int.h"
#include "lrp-int.h"
#include "splitmix.h"

#define MAX_OVERRIDES 64

static const char *const rule_names[XAI_RULE_COUNT] = {
    [XAI_RULE_DEFAULT] = "default", [XAI_RULE_EPSILON] = "epsilon", [XAI_RULE_ZPLUS] = "zplus",
    [XAI_RULE_ALPHABETA] = "alphabeta", [XAI_RULE_GAMMA] = "gamma", [XAI_RULE_ZBOX] = "zbox",
    [XAI_RULE_FLAT] = "flat", [XAI_RULE_WSQUARE] = "wsquare", [XAI_RULE_PASS] = "pass",
    [XAI_RULE_NORM] = "norm", [XAI_RULE_GRADIENT] = "gradient",
};
_Static_assert(sizeof rule_names / sizeof rule_names[0] == XAI_RULE_COUNT, "one name per rule");

static const char *const method_names[XAI_METHOD_COUNT] = {
    [XAI_METHOD_LRP] = "lrp", [XAI_METHOD_GRADIENT] = "gradient", [XAI_METHOD_GRADIENT_X_INPUT] = "gradient-x-input",
    [XAI_METHOD_SMOOTHGRAD] = "smoothgrad", [XAI_METHOD_INTEGRATED_GRADIENTS] = "integrated-gradients",
};

const char *xai_rule_name(xai_rule_kind k)
{
    return (unsigned)k < XAI_RULE_COUNT ? rule_names[k] : "unknown";
}

/* the name a layer's rule is reported by: the kind's, or its bias-free variant's */
static const char *rule_label(const xai_rule *r)
{
    if (r->no_bias && (r->kind == XAI_RULE_ZPLUS || r->kind == XAI_RULE_ALPHABETA))
        return r->kind == XAI_RULE_ZPLUS ? "zplus-nobias" : "alphabeta-nobias";
    return xai_rule_name(r->kind);
}

const char *xai_method_name(xai_method m)
{
    return (unsigned)m < XAI_METHOD_COUNT ? method_names[m] : NULL;
}

xai_status xai_method_parse(const char *s, xai_method *out)
{
    for (int i = 0; i < XAI_METHOD_COUNT; i++)
        if (strcmp(s, method_names[i]) == 0) {
            *out = (xai_method)i;
            return XAI_OK;
        }
    XAI_FAIL(XAI_EINVAL, "unknown method '%s' (lrp, gradient, gradient-x-input, smoothgrad, integrated-gradients)", s);
}

void xai_explain_config_init(xai_explain_config *c)
{
    memset(c, 0, sizeof *c);
    c->method = XAI_METHOD_LRP;
    c->composite = "epsilon-plus-flat";
    c->epsilon = 1e-6f;
    c->gamma = 0.25f;
    c->bn = XAI_BN_FOLD;
    c->init = XAI_INIT_AUTO;
    c->target = -1;
    c->lstm_epsilon = 1e-3f;
    c->smooth_n = 20;
    c->smooth_sigma = 0.1f;
    c->ig_steps = 20;
    c->batch = 64;
    c->layer_sums = 1;
}

void xai_explain_result_free(xai_explain_result *r)
{
    if (!r)
        return;
    free(r->logits);
    free(r->target);
    free(r->rel_sum);
    free(r->init_sum);
    for (int i = 0; i < r->nlayers; i++) {
        if (r->layer_name)
            free(r->layer_name[i]);
        if (r->layer_op)
            free(r->layer_op[i]);
    }
    free(r->layer_name);
    free(r->layer_op);
    free(r->layer_rule);
    free(r->layer_in_sum);
    free(r->layer_out_sum);
    free(r->init_state_sum);
    memset(r, 0, sizeof *r);
}

/* ---------------------------------------------------------------- rule specs */

typedef enum { SEL_FIRST, SEL_ALL, SEL_LAYER, SEL_NODE, SEL_OP } sel_kind;

typedef struct {
    sel_kind sel;
    int index;
    char name[128];
    xai_rule rule;
} override;

static void rule_defaults(xai_rule *r, xai_rule_kind k)
{
    memset(r, 0, sizeof *r);
    r->kind = k;
    r->epsilon = 1e-6f;
    r->stabilizer = 1e-6f;
    r->gamma = 0.25f;
    r->alpha = 2.0f;
    r->beta = 1.0f;
}

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n')
        s++;
    return s;
}

/* the parenthesised parameters of a rule: name is cut at '(' and up to two numbers go into p */
static xai_status rule_params(char *name, double p[2], int *np_)
{
    char *par = strchr(name, '(');
    *np_ = 0;
    if (!par)
        return XAI_OK;
    char *end = strchr(par, ')');
    if (!end || end[1] != '\0')
        XAI_FAIL(XAI_EINVAL, "rule '%s': missing or misplaced ')'", name);
    *par = '\0';
    *end = '\0';
    char *q = par + 1;
    while (*skip_ws(q)) {
        if (*np_ == 2)
            XAI_FAIL(XAI_EINVAL, "rule '%s': too many parameters", name);
        char *e;
        p[(*np_)++] = strtod(q, &e);
        if (e == q)
            XAI_FAIL(XAI_EINVAL, "rule '%s': bad number '%s'", name, q);
        q = (char *)skip_ws(e);
        if (*q == ',')
            q++;
        else if (*q)
            XAI_FAIL(XAI_EINVAL, "rule '%s': expected ',' in parameters", name);
    }
    return XAI_OK;
}

/* the given parameters over the rule's defaults, with each rule's constraints */
static xai_status rule_set_params(xai_rule *r, const double p[2], int np_)
{
    switch (r->kind) {
    case XAI_RULE_EPSILON:
        if (np_)
            r->epsilon = (float)p[0];
        if (r->epsilon < 0)
            XAI_FAIL(XAI_EINVAL, "epsilon must be >= 0");
        break;
    case XAI_RULE_GAMMA:
        if (np_)
            r->gamma = (float)p[0];
        break;
    case XAI_RULE_ALPHABETA:
        if (np_ == 2) {
            r->alpha = (float)p[0];
            r->beta = (float)p[1];
        } else if (np_ == 1) {
            XAI_FAIL(XAI_EINVAL, "alphabeta takes two parameters (alpha, beta)");
        }
        if (r->alpha < 0 || r->beta < 0 || fabs(r->alpha - r->beta - 1.0) > 1e-6)
            XAI_FAIL(XAI_EINVAL, "alphabeta(%g,%g): need alpha - beta = 1 with alpha, beta >= 0", r->alpha, r->beta);
        break;
    case XAI_RULE_ZBOX: /* without bounds: each sample's own, or the per-element ones of the config */
        r->low = np_ ? (float)p[0] : NAN;
        r->high = np_ ? (float)p[1] : NAN;
        if (np_ && !(r->low < r->high))
            XAI_FAIL(XAI_EINVAL, "zbox(%g,%g): low must be below high", r->low, r->high);
        break;
    default:
        break;
    }
    return XAI_OK;
}

static xai_status parse_rule(const char *s, size_t len, xai_rule *r)
{
    char buf[128];
    if (len >= sizeof buf)
        XAI_FAIL(XAI_EINVAL, "rule '%.*s' is too long", (int)len, s);
    memcpy(buf, s, len);
    buf[len] = '\0';
    while (len && (buf[len - 1] == ' ' || buf[len - 1] == '\t'))
        buf[--len] = '\0';
    char *name = (char *)skip_ws(buf);
    double p[2] = {0, 0};
    int np_;
    xai_status st = rule_params(name, p, &np_);
    if (st)
        return st;
    size_t nl = strlen(name);
    while (nl && name[nl - 1] == ' ')
        name[--nl] = '\0';
    /* Zennit's zero_params='bias': the rule's denominators without the bias */
    static const char nobias[] = "-nobias";
    const size_t ns_ = sizeof nobias - 1;
    int no_bias = nl > ns_ && strcasecmp(name + nl - ns_, nobias) == 0;
    if (no_bias)
        name[nl - ns_] = '\0';
    static const struct {
        const char *n;
        xai_rule_kind k;
        int params;
    } tab[] = {{"epsilon", XAI_RULE_EPSILON, 1}, {"zplus", XAI_RULE_ZPLUS, 0}, {"alphabeta", XAI_RULE_ALPHABETA, 2},
               {"gamma", XAI_RULE_GAMMA, 1},     {"zbox", XAI_RULE_ZBOX, 2},   {"flat", XAI_RULE_FLAT, 0},
               {"wsquare", XAI_RULE_WSQUARE, 0}, {"pass", XAI_RULE_PASS, 0},   {"norm", XAI_RULE_NORM, 0},
               {"gradient", XAI_RULE_GRADIENT, 0}};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        if (strcasecmp(name, tab[i].n) != 0)
            continue;
        rule_defaults(r, tab[i].k);
        if (np_ > tab[i].params || (np_ == 1 && tab[i].k == XAI_RULE_ZBOX))
            XAI_FAIL(XAI_EINVAL, "rule '%s' takes %d parameter(s)", name, tab[i].params);
        if (no_bias && tab[i].k != XAI_RULE_ZPLUS && tab[i].k != XAI_RULE_ALPHABETA)
            XAI_FAIL(XAI_EINVAL, "rule '%s-nobias': only zplus and alphabeta have a bias-free variant", name);
        r->no_bias = no_bias;
        return rule_set_params(r, p, np_);
    }
    XAI_FAIL(XAI_EINVAL, "unknown rule '%s%s' (epsilon(E), zplus, alphabeta(A,B), gamma(G), zbox(L,H), zbox, flat, wsquare, pass, norm, gradient; zplus-nobias, alphabeta-nobias(A,B))", name, no_bias ? nobias : "");
}

static xai_status parse_overrides(const char *spec, override *ov, int *nov)
{
    *nov = 0;
    if (!spec)
        return XAI_OK;
    const char *s = spec;
    while (*s) {
        const char *e = s;
        int depth = 0;
        while (*e && !(depth == 0 && (*e == ';' || *e == '\n'))) {
            depth += *e == '(';
            depth -= *e == ')';
            e++;
        }
        const char *eq = memchr(s, '=', (size_t)(e - s));
        const char *a = skip_ws(s);
        if (a < e) {
            if (!eq)
                XAI_FAIL(XAI_EINVAL, "rule override '%.*s' has no '=' (expected SELECTOR=RULE)", (int)(e - s), s);
            if (*nov == MAX_OVERRIDES)
                XAI_FAIL(XAI_EINVAL, "more than %d rule overrides", MAX_OVERRIDES);
            override *o = &ov[(*nov)++];
            memset(o, 0, sizeof *o);
            size_t sl = (size_t)(eq - a);
            while (sl && (a[sl - 1] == ' ' || a[sl - 1] == '\t'))
                sl--;
            if (sl == 0 || sl >= sizeof o->name)
                XAI_FAIL(XAI_EINVAL, "rule override '%.*s': bad selector", (int)(e - s), s);
            char sel[128];
            memcpy(sel, a, sl);
            sel[sl] = '\0';
            if (strcasecmp(sel, "first") == 0) {
                o->sel = SEL_FIRST;
            } else if (strcasecmp(sel, "all") == 0 || strcmp(sel, "*") == 0) {
                o->sel = SEL_ALL;
            } else if (strncasecmp(sel, "node:", 5) == 0) {
                o->sel = SEL_NODE;
                snprintf(o->name, sizeof o->name, "%s", sel + 5);
            } else if (strncasecmp(sel, "layer", 5) == 0 || sel[0] == '#') {
                const char *num = skip_ws(sel + (sel[0] == '#' ? 1 : 5));
                char *end;
                long k = strtol(num, &end, 10);
                if (end == num || *skip_ws(end) || k < 0)
                    XAI_FAIL(XAI_EINVAL, "rule override selector '%s': expected 'layer K' with K >= 0", sel);
                o->sel = SEL_LAYER;
                o->index = (int)k;
            } else {
                o->sel = SEL_OP;
                snprintf(o->name, sizeof o->name, "%s", sel);
            }
            xai_status st = parse_rule(eq + 1, (size_t)(e - eq - 1), &o->rule);
            if (st)
                return st;
        }
        s = *e ? e + 1 : e;
    }
    return XAI_OK;
}

xai_status xai_rules_check(const char *spec)
{
    override ov[MAX_OVERRIDES];
    int n;
    return parse_overrides(spec, ov, &n);
}

/* ---------------------------------------------------------------- composites */

typedef enum { C_EPSILON, C_EPSILON_PLUS, C_EPSILON_PLUS_FLAT, C_EPSILON_AB, C_EPSILON_AB_FLAT, C_EPSILON_GAMMA_BOX,
               C_COUNT } composite;

static const char *const composite_names[C_COUNT] = {"epsilon", "epsilon-plus", "epsilon-plus-flat",
                                                     "epsilon-alpha2-beta1", "epsilon-alpha2-beta1-flat",
                                                     "epsilon-gamma-box"};

xai_status xai_composite_check(const char *name)
{
    for (int c = 0; c < C_COUNT; c++)
        if (name && strcmp(name, composite_names[c]) == 0)
            return XAI_OK;
    XAI_FAIL(XAI_EINVAL, "unknown composite '%s' (epsilon, epsilon-plus, epsilon-plus-flat, epsilon-alpha2-beta1, "
             "epsilon-alpha2-beta1-flat, epsilon-gamma-box)", name ? name : "(null)");
}

static int op_matches(const xai_node *n, const char *sel)
{
    if (strcasecmp(sel, n->op_type) == 0)
        return 1;
    if (strcasecmp(sel, "Dense") == 0 || strcasecmp(sel, "Linear") == 0)
        return n->kind == K_GEMM;
    if (strcasecmp(sel, "Pool") == 0)
        return n->kind == K_MAXPOOL || n->kind == K_AVGPOOL || n->kind == K_GAP;
    return 0;
}

/* Resolve the rule of every node. */
/* x - c with c a constant of x's shape, the read-out's reference point (reference.c): the
   deviations keep their relevance (Pass), as under BatchNorm's running mean, instead of the Norm
   rule dividing it by a difference near zero */
static int is_reference(const xai_model *m, const xai_node *n)
{
    if (n->kind != K_SUB || n->in[0] < 0 || n->in[1] < 0 || m->vals[n->in[0]].is_const)
        return 0;
    const xai_value *c = &m->vals[n->in[1]];
    return c->is_const && c->numel == m->vals[n->in[0]].numel;
}

/* Nodes downstream of an LSTM (the head of a recurrent model) take the LSTM linear rule:
   Arras et al. start from the logit "through the output layer by the same linear rule".
   Returns a flag per node (caller frees), NULL when out of memory. */
static char *mark_after_lstm(const xai_model *m)
{
    char *after_lstm = calloc((size_t)m->nnodes + 1, 1);
    if (!after_lstm)
        return NULL;
    for (int i = 0; i < m->nnodes; i++)
        for (int k = 0; k < m->nodes[i].nin; k++) {
            int v = m->nodes[i].in[k];
            int p = v >= 0 ? m->vals[v].producer : -1;
            if (p >= 0 && (m->nodes[p].kind == K_LSTM || after_lstm[p]))
                after_lstm[i] = 1;
        }
    return after_lstm;
}

/* the composite's rule kind for Conv/Dense node i */
static xai_rule_kind composite_kind(int comp, int i, int dense, int first_lin, int first_conv)
{
    switch (comp) {
    case C_EPSILON: return XAI_RULE_EPSILON;
    case C_EPSILON_PLUS: return dense ? XAI_RULE_EPSILON : XAI_RULE_ZPLUS;
    case C_EPSILON_PLUS_FLAT: return i == first_lin ? XAI_RULE_FLAT : dense ? XAI_RULE_EPSILON : XAI_RULE_ZPLUS;
    case C_EPSILON_AB: return dense ? XAI_RULE_EPSILON : XAI_RULE_ALPHABETA;
    case C_EPSILON_AB_FLAT:
        return i == first_lin ? XAI_RULE_FLAT : dense ? XAI_RULE_EPSILON : XAI_RULE_ALPHABETA;
    default: return i == first_conv ? XAI_RULE_ZBOX : dense ? XAI_RULE_EPSILON : XAI_RULE_GAMMA;
    }
}

/* what resolve_rules() fixes once per model: the composite, its "first layer" (the first
   Conv/Dense, or Conv, that is not downstream of an LSTM) and the input bounds for zbox */
typedef struct {
    int comp, first_lin, first_conv;
    float low, high;
    const char *after_lstm;
} rule_plan;

/* the composite's rule for node i before any override */
static void default_rule(const xai_model *m, const xai_explain_config *cfg, const rule_plan *pl, int i, xai_rule *r)
{
    const xai_node *n = &m->nodes[i];
    if (n->is_linear) {
        xai_rule_kind k = composite_kind(pl->comp, i, n->kind == K_GEMM, pl->first_lin, pl->first_conv);
        if (pl->after_lstm[i])
            k = XAI_RULE_EPSILON;
        rule_defaults(r, k);
        r->epsilon = pl->after_lstm[i] ? cfg->lstm_epsilon : cfg->epsilon;
        r->gamma = cfg->gamma;
        r->low = pl->low;
        r->high = pl->high;
        r->bias_factor = k == XAI_RULE_EPSILON ? cfg->bias_factor : 0.0f;
    } else if (n->kind == K_MAXPOOL || n->kind == K_AVGPOOL || n->kind == K_GAP) {
        rule_defaults(r, XAI_RULE_NORM); /* MaxPool: winner-take-all; average: Norm */
    } else if (n->kind == K_ADD || n->kind == K_SUB) {
        rule_defaults(r, is_reference(m, n) ? XAI_RULE_PASS : XAI_RULE_NORM);
    } else if (n->kind == K_RELU || n->kind == K_LEAKYRELU || n->kind == K_SIGMOID || n->kind == K_TANH ||
               n->kind == K_ELU) {
        rule_defaults(r, XAI_RULE_PASS);
    } else if (n->kind == K_BN) {
        /* folded into the Conv/Dense before it: identity (Pass); --bn pass: Pass; a BN that
           cannot be folded has no rule in Zennit, so the gradient (x gamma/sigma) flows */
        rule_defaults(r, (cfg->bn == XAI_BN_FOLD && n->bn_of < 0) ? XAI_RULE_GRADIENT : XAI_RULE_PASS);
    } else if (n->kind == K_LSTM) {
        rule_defaults(r, XAI_RULE_EPSILON);
        r->epsilon = cfg->lstm_epsilon;
        r->bias_factor = cfg->bias_factor;
    } else {
        rule_defaults(r, XAI_RULE_GRADIENT);
    }
}

/* the first override that selects node i (li: its Conv/Dense index or -1) replaces its rule */
static xai_status apply_override(const xai_explain_config *cfg, const override *ov, int nov, const xai_node *n, int i,
                                 int li, int first_lin, xai_rule *r)
{
    for (int k = 0; k < nov; k++) {
        const override *o = &ov[k];
        int hit = 0;
        switch (o->sel) {
        case SEL_FIRST: hit = i == first_lin; break;
        case SEL_ALL: hit = n->is_linear; break;
        case SEL_LAYER: hit = li == o->index; break;
        case SEL_NODE: hit = strcmp(o->name, n->name) == 0; break;
        default: hit = op_matches(n, o->name); break;
        }
        if (!hit)
            continue;
        xai_rule_kind k2 = o->rule.kind;
        if (!n->is_linear && k2 != XAI_RULE_PASS && k2 != XAI_RULE_NORM && k2 != XAI_RULE_GRADIENT &&
            !(n->kind == K_LSTM && k2 == XAI_RULE_EPSILON))
            XAI_FAIL(XAI_EINVAL, "rule %s cannot apply to node '%s' (%s): only pass, norm or gradient",
                     xai_rule_name(k2), n->name, n->op_type);
        *r = o->rule;
        if (r->kind == XAI_RULE_EPSILON && n->is_linear)
            r->bias_factor = cfg->bias_factor;
        break;
    }
    return XAI_OK;
}

static xai_status resolve_rules(const xai_model *m, const xai_explain_config *cfg, float low, float high,
                                xai_rule *rules)
{
    rule_plan pl = {.comp = -1, .first_lin = -1, .first_conv = -1, .low = low, .high = high};
    const char *cname = cfg->composite ? cfg->composite : "epsilon-plus-flat";
    for (int c = 0; c < C_COUNT; c++)
        if (strcmp(cname, composite_names[c]) == 0)
            pl.comp = c;
    if (pl.comp < 0)
        XAI_FAIL(XAI_EINVAL, "unknown composite '%s' (epsilon, epsilon-plus, epsilon-plus-flat, epsilon-alpha2-beta1, "
                 "epsilon-alpha2-beta1-flat, epsilon-gamma-box)", cname);
    override ov[MAX_OVERRIDES];
    int nov;
    xai_status st = parse_overrides(cfg->rules, ov, &nov);
    if (st)
        return st;
    char *after_lstm = mark_after_lstm(m);
    if (!after_lstm)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    pl.after_lstm = after_lstm;
    for (int i = 0; i < m->nnodes; i++) {
        if (m->nodes[i].is_linear && pl.first_lin < 0 && !after_lstm[i])
            pl.first_lin = i;
        if (m->nodes[i].kind == K_CONV && pl.first_conv < 0 && !after_lstm[i])
            pl.first_conv = i;
    }
    int lin_index = 0;
    for (int i = 0; i < m->nnodes && !st; i++) {
        const xai_node *n = &m->nodes[i];
        int li = n->is_linear ? lin_index++ : -1;
        default_rule(m, cfg, &pl, i, &rules[i]);
        st = apply_override(cfg, ov, nov, n, i, li, pl.first_lin, &rules[i]);
    }
    free(after_lstm);
    if (st)
        return st;
    for (int k = 0; k < nov; k++)
        if (ov[k].sel == SEL_LAYER && ov[k].index >= lin_index)
            XAI_FAIL(XAI_EINVAL, "rule override 'layer %d': the model has %d Conv/Dense layers", ov[k].index, lin_index);
    return XAI_OK;
}

/* ---------------------------------------------------------------- sweeps */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Sum in double with eight running partial sums (the loop vectorises; one chain of dependent
   adds ran at a quarter of the speed); the order depends on n only. */
static double vsum(const float *p, int64_t n)
{
    double a[8] = {0, 0, 0, 0, 0, 0, 0, 0}, t = 0;
    int64_t k = 0;
    for (; k + 8 <= n; k += 8)
        for (int j = 0; j < 8; j++)
            a[j] += p[k + j];
    for (; k < n; k++)
        t += p[k];
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])) + t;
}

static int init_is_logit(const xai_model *m, const xai_explain_config *cfg)
{
    if (cfg->init == XAI_INIT_LOGIT)
        return 1;
    if (cfg->init == XAI_INIT_AUTO)
        for (int i = 0; i < m->nnodes; i++)
            if (m->nodes[i].kind == K_LSTM)
                return 1;
    return 0;
}

/*
 * The contrastive starts for one sample: relevance r_k on each difference d_k = z_t - z_k,
 * put on the logits as z_t * sum_k s_k at t and -z_k * s_k at k with s_k = r_k / d_k, so an
 * output rule that divides by z hands a_j (w_jt - w_jk) s_k to its inputs: LRP-0 of the
 * difference neuron. @p eps stabilises d_k as the epsilon rule does. Returns sum_k r_k.
 */
static double seed_contrast(const float *z, int64_t nc, int t, int logodds, float eps, float *g)
{
    double mx = -HUGE_VAL, se = 0, mean = 0;
    for (int64_t k = 0; k < nc; k++)
        if (k != t && z[k] > mx)
            mx = z[k];
    for (int64_t k = 0; k < nc; k++)
        if (k != t) {
            se += exp(z[k] - mx);
            mean += z[k] / (double)(nc - 1);
        }
    const double eta = logodds ? z[t] - (mx + log(se)) : z[t] - mean;
    double st = 0, tot = 0;
    for (int64_t k = 0; k < nc; k++) {
        if (k == t)
            continue;
        double d = (double)z[t] - z[k], w = logodds ? exp(z[k] - mx) / se : 1.0 / (double)(nc - 1);
        double e = eps > 0 ? eps : 1e-6;
        double s = logodds ? w * eta / (d + (d >= 0 ? e : -e)) : w;
        st += s;
        g[k] = (float)(-z[k] * s);
        tot += g[k];
    }
    g[t] = (float)(z[t] * st);
    return tot + g[t];
}

/* Seed the output adjoint; targets[] per sample (-1 = argmax) are filled in. */
static xai_status seed(const xai_model *m, xai_workspace *ws, const xai_explain_config *cfg, int *targets,
                       double *init_sum)
{
    int64_t nc = m->vals[m->output].numel;
    const float *lg = ws->val[m->output];
    float *g = ws->adj[m->output];
    for (int64_t s = 0; s < ws->ns; s++) {
        int t = targets[s];
        if (t < 0) {
            t = 0;
            for (int64_t c = 1; c < nc; c++)
                if (lg[s * nc + c] > lg[s * nc + t])
                    t = (int)c;
            targets[s] = t;
        }
        if (t >= nc)
            XAI_FAIL(XAI_EINVAL, "class %d is out of range: the model has %lld outputs", t, (long long)nc);
        if (cfg->init == XAI_INIT_LOGODDS || cfg->init == XAI_INIT_CONTRAST) {
            if (nc < 2)
                XAI_FAIL(XAI_EINVAL, "a contrastive start needs at least 2 classes; the model has %lld output",
                         (long long)nc);
            double v = seed_contrast(lg + s * nc, nc, t, cfg->init == XAI_INIT_LOGODDS, cfg->epsilon, g + s * nc);
            if (init_sum)
                init_sum[s] = v;
            continue;
        }
        float v = init_is_logit(m, cfg) ? lg[s * nc + t] : 1.0f;
        g[s * nc + t] = v;
        if (init_sum)
            init_sum[s] = v;
    }
    return XAI_OK;
}

typedef struct {
    const xai_rule *rules;  /* NULL: gradient sweep */
    double *in_sum, *out_sum; /* [ns][nnodes] or NULL */
    float *copy_to;         /* the relevance of value copy_v is copied here when complete (or NULL):
                               in a shared workspace it lives only until its producer's pass */
    int copy_v;
} sweep_opts;

/* Per-layer sums: the relevance sum of a value, per sample, is computed once after each node that
   adds to it and kept (cache[v * ns + s], known[v]); the next consumer's "before" and the producer's
   output sum read it, since nothing writes to the value in between. */
typedef struct {
    double *sum;
    unsigned char *known;
} sum_cache;

static double value_sum(const xai_model *m, const xai_workspace *ws, sum_cache *c, int v, int64_t s)
{
    if (!c->known[v]) {
        for (int64_t i = 0; i < ws->ns; i++)
            c->sum[v * ws->ns + i] = vsum(ws->adj[v] + i * vnumel(m, v), vnumel(m, v));
        c->known[v] = 1;
    }
    return c->sum[v * ws->ns + s];
}

static xai_status sweep_node(const xai_model *m, xai_workspace *ws, const sweep_opts *so, int i)
{
    const xai_node *n = &m->nodes[i];
    if (so->rules) {
        if (!n->ops->relevance)
            XAI_FAIL(XAI_EUNSUPPORTED, "node '%s' (%s) has no relevance rule", n->name, n->op_type);
        return n->ops->relevance(m, n, &so->rules[i], ws);
    }
    if (!n->ops->backward)
        XAI_FAIL(XAI_EUNSUPPORTED, "node '%s' (%s) has no backward pass", n->name, n->op_type);
    return n->ops->backward(m, n, ws);
}

static int writes_first(const xai_node *n, const xai_rule *r)
{
    return (n->is_linear && xai_linear_writes_first(n, r)) || xai_pool_writes_first(n, r) ||
           xai_pass_writes_first(n, r);
}

/* Relevance written over its own activation. Node i (about to run, having been named the first
   writer of its first input v's relevance) may write it in place when v has no other reader, the
   rule reads v's activation no more once it wrote the relevance (xai_linear_in_place), and v's
   producer, whose pass in this sweep ends both buffers' lifetimes, reads neither v's activation nor
   its own input's under its rule (Flat, WSquare). The explanation then touches one buffer of v's
   size fewer: on the EEG app model 0.8 of 1.7 MB, which a new process's one explanation reads
   from memory. Only in the plan's shared workspaces, whose buffers hold data only during their
   lifetimes. @return v (ws->adj[v] now points at the activation), or -1 */
#define ALIAS_MAX 16

static int alias_in_place(const xai_model *m, xai_workspace *ws, const sweep_opts *so, int i, int lo)
{
    const xai_node *n = &m->nodes[i];
    int v = ws->fresh_adj;
    if (!so->rules || !ws->shared || v < 0 || v != n->in[0] || v == so->copy_v || m->vals[v].nconsumers != 1)
        return -1;
    for (int k = 1; k < n->nin; k++)
        if (n->in[k] == v)
            return -1;
    int p = m->vals[v].producer;
    if (p < lo || p >= i || !xai_linear_in_place(n, &so->rules[i]) ||
        !xai_linear_reads_no_activation(&m->nodes[p], &so->rules[p]))
        return -1;
    ws->adj[v] = ws->val[v];
    return v;
}

static xai_status sweep_range(const xai_model *m, xai_workspace *ws, const sweep_opts *so, int hi, int lo)
{
    int alias_v[ALIAS_MAX], nalias = 0;
    float *alias_home[ALIAS_MAX];
    int64_t ns = ws->ns;
    sum_cache c = {NULL, NULL};
    if (so->in_sum && ns <= 64) {
        c.sum = calloc((size_t)(m->nvals * ns), sizeof(double));
        c.known = calloc((size_t)m->nvals, 1);
        if (!c.sum || !c.known) {
            free(c.sum);
            free(c.known);
            XAI_FAIL(XAI_ENOMEM, "out of memory");
        }
    }
    xai_status st = XAI_OK;
    for (int i = hi; i >= lo && st == XAI_OK; i--) {
        const xai_node *n = &m->nodes[i];
        double before[8][64];
        xai_ws_zero_before(ws, i, so->rules && writes_first(n, &so->rules[i]));
        if (nalias < ALIAS_MAX) {
            float *home = ws->fresh_adj >= 0 ? ws->adj[ws->fresh_adj] : NULL;
            int v = alias_in_place(m, ws, so, i, lo);
            if (v >= 0) {
                alias_v[nalias] = v;
                alias_home[nalias++] = home;
            }
        }
        if (so->copy_to && m->vals[so->copy_v].producer == i)
            memcpy(so->copy_to, ws->adj[so->copy_v], sizeof(float) * (size_t)(ns * vnumel(m, so->copy_v)));
        if (c.sum) {
            for (int k = 0; k < n->nin && k < 8; k++)
                for (int64_t s = 0; s < ns; s++) {
                    int v = n->in[k];
                    before[k][s] = (v >= 0 && !m->vals[v].is_const && m->vals[v].nconsumers > 1)
                                       ? value_sum(m, ws, &c, v, s) : 0;
                }
            for (int64_t s = 0; s < ns; s++)
                so->out_sum[s * m->nnodes + i] = value_sum(m, ws, &c, n->out[0], s);
        }
        if ((st = sweep_node(m, ws, so, i)) || !c.sum)
            continue;
        for (int k = 0; k < n->nin && k < 8; k++)
            if (n->in[k] >= 0 && !m->vals[n->in[k]].is_const)
                c.known[n->in[k]] = 0; /* this node added to it */
        for (int64_t s = 0; s < ns; s++) {
            double tot = 0;
            for (int k = 0; k < n->nin && k < 8; k++) {
                int v = n->in[k];
                if (v >= 0 && !m->vals[v].is_const)
                    tot += value_sum(m, ws, &c, v, s) - before[k][s];
            }
            so->in_sum[s * m->nnodes + i] = tot;
        }
    }
    free(c.sum);
    free(c.known);
    while (nalias > 0) { /* the buffers' lifetimes ended at their producers' passes */
        nalias--;
        ws->adj[alias_v[nalias]] = alias_home[nalias];
    }
    return st;
}

static xai_status sweep(const xai_model *m, xai_workspace *ws, const sweep_opts *so)
{
    return sweep_range(m, ws, so, m->nnodes - 1, 0);
}

xai_status xai_lrp_sweep_nodes(const xai_model *m, xai_workspace *ws, const xai_rule *rules, int hi, int lo)
{
    sweep_opts so = {rules, NULL, NULL, NULL, -1};
    return sweep_range(m, ws, &so, hi < m->nnodes ? hi : m->nnodes - 1, lo < 0 ? 0 : lo);
}

xai_status xai_lrp_seed(const xai_model *m, xai_workspace *ws, const xai_explain_config *cfg, int *targets,
                        double *init_sum)
{
    return seed(m, ws, cfg, targets, init_sum);
}

/* Box-Muller on SplitMix64 for SmoothGrad noise. */
static double gauss(uint64_t *s)
{
    double u1 = ((xai_splitmix64(s) >> 11) + 1.0) / 9007199254740993.0;
    double u2 = (xai_splitmix64(s) >> 11) / 9007199254740992.0;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* names: copy the layers' names and op types (a result the caller receives) */
static xai_status alloc_result(const xai_model *m, int64_t n, int names, xai_explain_result *res)
{
    memset(res, 0, sizeof *res);
    res->n = n;
    res->nclasses = m->vals[m->output].numel;
    res->nlayers = m->nnodes;
    res->logits = calloc((size_t)(n * res->nclasses), sizeof(float));
    res->target = calloc((size_t)n, sizeof(int));
    res->rel_sum = calloc((size_t)n, sizeof(double));
    res->init_sum = calloc((size_t)n, sizeof(double));
    res->init_state_sum = calloc((size_t)n, sizeof(double));
    res->layer_name = calloc((size_t)m->nnodes + 1, sizeof(char *));
    res->layer_op = calloc((size_t)m->nnodes + 1, sizeof(char *));
    res->layer_rule = calloc((size_t)m->nnodes + 1, sizeof(char *));
    res->layer_in_sum = calloc((size_t)(n * m->nnodes) + 1, sizeof(double));
    res->layer_out_sum = calloc((size_t)(n * m->nnodes) + 1, sizeof(double));
    if (!res->logits || !res->target || !res->rel_sum || !res->init_sum || !res->init_state_sum || !res->layer_name ||
        !res->layer_op || !res->layer_rule || !res->layer_in_sum || !res->layer_out_sum) {
        xai_explain_result_free(res);
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    }
    for (int i = 0; i < m->nnodes; i++) {
        if (names) {
            res->layer_name[i] = strdup(m->nodes[i].name);
            res->layer_op[i] = strdup(m->nodes[i].op_type);
        }
        res->layer_rule[i] = "gradient";
    }
    return XAI_OK;
}

/* ---------------------------------------------------------------- the explain plan */

/* Plan once, run many. An explanation runs its samples in sub-batches of `sb`, each through
   the whole network (forward, then relevance) on a workspace sized for one sub-batch, so the
   activations of a sub-batch stay in the core's L2 cache instead of every layer streaming a
   64-sample stack through memory; the pool's threads take whole sub-batches, each on a
   workspace of its own. The workspaces are made at the first explanation and kept by the
   model, so later calls (and batches) allocate nothing and touch no new pages. The sub-batch
   size depends on the model's shapes only (never on the thread count), and every sub-batch is
   computed the same way whichever thread takes it, so results do not depend on the threads. */
#define PLAN_L2_BUDGET ((size_t)1 << 20) /* bytes of activations, gradients and scratch per sub-batch */

struct xai_explain_plan {
    int64_t sb;             /* samples per sub-batch */
    int64_t model_sb;       /* plan_sub_batch() of the model (sb is at most this) */
    size_t scratch_touched; /* floats of each workspace's scratch faulted in by xai_model_prepare() */
    int nws;                /* workspaces: one per pool thread */
    xai_workspace **ws;
    double *fwd_ms;         /* [nws] forward time per workspace, this call */
    xai_explain_result spare; /* the result of calls that return none, kept for the next (n: capacity) */
};

void xai_explain_plan_free(xai_explain_plan *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->nws; i++)
        xai_workspace_free(p->ws[i]);
    free(p->ws);
    free(p->fwd_ms);
    xai_explain_result_free(&p->spare);
    free(p);
}

/* Samples per sub-batch: as many as fit the L2 budget with everything a sample needs (its
   activations and their relevance, the largest node scratch, kept indices), 1 to 64. Models
   with an LSTM keep whole stacks: its recurrent products take all sequences of a step at once,
   which measured faster than cache-sized sub-batches. */
static int64_t plan_sub_batch(const xai_model *m)
{
    for (int i = 0; i < m->nnodes; i++)
        if (m->nodes[i].kind == K_LSTM)
            return 64;
    size_t per = 0, scr = 0;
    for (int v = 0; v < m->nvals; v++)
        if (!m->vals[v].is_const)
            per += 2 * (size_t)m->vals[v].numel;
    for (int i = 0; i < m->nnodes; i++) {
        per += m->nodes[i].ibuf;
        scr = m->nodes[i].scratch > scr ? m->nodes[i].scratch : scr;
    }
    size_t bytes = (per + scr) * sizeof(float), sb = bytes ? PLAN_L2_BUDGET / bytes : 64;
    return sb < 1 ? 1 : sb > 64 ? 64 : (int64_t)sb;
}

/* The model's plan for sub-batches of sb samples on the current pool (made or grown here). */
static xai_status plan_get(xai_model *m, int64_t sb, xai_explain_plan **out)
{
    int nt = xai_par_threads();
    xai_explain_plan *p = m->plan;
    if (p && (p->sb < sb || p->nws < nt)) {
        xai_explain_plan_free(p);
        m->plan = p = NULL;
    }
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p || !(p->ws = calloc((size_t)nt, sizeof *p->ws)) || !(p->fwd_ms = calloc((size_t)nt, sizeof(double)))) {
            xai_explain_plan_free(p);
            XAI_FAIL(XAI_ENOMEM, "out of memory");
        }
        p->sb = sb;
        p->model_sb = plan_sub_batch(m);
        p->nws = nt;
        for (int i = 0; i < nt; i++) {
            xai_status st = xai_workspace_new_shared(m, sb, &p->ws[i]);
            if (st) {
                xai_explain_plan_free(p);
                return st;
            }
            xai_workspace_touch(p->ws[i], 0);
        }
        m->plan = p;
    }
    *out = p;
    return XAI_OK;
}

/* Build every lazily derived weight the rules read before sub-batches run in parallel. */
static xai_status plan_prepare(const xai_model *m, const xai_rule *rules, int fold, xai_workspace *ws)
{
    for (int i = 0; rules && i < m->nnodes; i++) {
        const xai_node *n = &m->nodes[i];
        if (!n->is_linear)
            continue;
        xai_status st = xai_linear_prepare(n, &rules[i], fold, ws->scratch + n->scratch_fixed, ws->scratch);
        if (st)
            return st;
    }
    return XAI_OK;
}

/* Floats of workspace scratch an explanation with these rules (NULL: gradients) reaches. */
static size_t plan_scratch(const xai_model *m, const xai_rule *rules, int64_t sb)
{
    size_t most = 0;
    xai_rule grad = {.kind = XAI_RULE_GRADIENT};
    for (int i = 0; i < m->nnodes; i++) {
        const xai_node *n = &m->nodes[i];
        size_t per = n->is_linear ? xai_linear_rule_scratch(n, rules ? &rules[i] : &grad) : n->scratch;
        size_t s = n->scratch_fixed + per * (size_t)sb;
        most = s > most ? s : most;
    }
    return most;
}

static xai_status explain_setup(const xai_model *m, xai_explain_config *cfg, int64_t n, const xai_rule **rules_out);

/* The workspaces and the rules' derived weights of explanations of up to max_batch samples
   (cfg: as xai_explain() will be called), made and faulted in now; under the model's lock. */
static xai_status prepare_locked(xai_model *m, int64_t max_batch, xai_explain_config *cfg)
{
    int64_t B = cfg->batch > 0 ? cfg->batch : 64;
    B = B > max_batch ? max_batch : B > 64 ? 64 : B;
    if (cfg->method != XAI_METHOD_LRP && cfg->method != XAI_METHOD_GRADIENT &&
        cfg->method != XAI_METHOD_GRADIENT_X_INPUT) {
        if (m->ws_cache && m->ws_cache->cap >= B)
            return XAI_OK;
        xai_workspace_free(m->ws_cache);
        m->ws_cache = NULL;
        xai_status st = xai_workspace_new(m, B, &m->ws_cache);
        if (st == XAI_OK) {
            xai_workspace_touch(m->ws_cache, m->ws_cache->scratch_len);
            xai_prefault_explain();
        }
        return st;
    }
    int64_t sb = plan_sub_batch(m);
    xai_explain_plan *p = NULL;
    const xai_rule *rules = NULL;
    { /* OpenBLAS sets up its buffers on its first product */
        float a[4] = {0}, c[4];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 1.0f, a, 2, a, 2, 0.0f, c, 2);
    }
    xai_status st = plan_get(m, B < sb ? B : sb, &p);
    if (st == XAI_OK)
        st = explain_setup(m, cfg, 1, &rules);
    if (st == XAI_OK)
        st = plan_prepare(m, rules, cfg->bn == XAI_BN_FOLD, p->ws[0]);
    size_t need = st == XAI_OK ? plan_scratch(m, rules, p->sb) : 0;
    for (int i = 0; need > p->scratch_touched && i < p->nws; i++)
        xai_workspace_touch(p->ws[i], need);
    p->scratch_touched = need > p->scratch_touched ? need : p->scratch_touched;
    if (st == XAI_OK)
        xai_prefault_explain();
    return st;
}

xai_status xai_model_prepare(const xai_model *mc, int64_t max_batch, const xai_explain_config *cfg)
{
    if (!mc)
        XAI_FAIL(XAI_EINVAL, "no model to prepare");
    if (max_batch < 1)
        XAI_FAIL(XAI_EINVAL, "cannot prepare for %lld samples", (long long)max_batch);
    xai_explain_config c;
    if (cfg)
        c = *cfg;
    else
        xai_explain_config_init(&c);
    xai_model *m = (xai_model *)mc; /* the plan is a cache, as in xai_explain() */
    pthread_mutex_lock(&m->explain_mu);
    xai_status st = prepare_locked(m, max_batch, &c);
    pthread_mutex_unlock(&m->explain_mu);
    return st;
}

/* ---------------------------------------------------------------- explanation runs */

typedef struct {
    const xai_model *m;
    const xai_explain_config *cfg;
    const xai_rule *rules;      /* NULL: gradient sweep */
    xai_explain_plan *plan;
    int64_t n, sb, nin, nc;
    const float *x;
    float *rel;
    xai_explain_result *res;
    int sums;                   /* fill the per-layer sums */
    int value;                  /* value whose relevance is copied out, or -1 */
    int own_box;                /* a ZBox rule takes each sample's own bounds (NaN in the rule) */
    int timed;                  /* the caller receives the result and its times (else no clock is read) */
    float *value_out;
    pthread_mutex_t mu;         /* guards the failure below; statically initialised, so a call
                                   makes no library call for it (the first would bind the symbol) */
    xai_status st;
    int64_t st_at;              /* the first failing sub-batch */
    char msg[512];
} run_job;

/* The smallest and largest of @p n floats (a sample's own ZBox bounds). */
static void sample_range(const float *x, int64_t n, float *lo, float *hi)
{
    float a = FLT_MAX, b = -FLT_MAX;
    for (int64_t k = 0; k < n; k++) {
        a = x[k] < a ? x[k] : a;
        b = x[k] > b ? x[k] : b;
    }
    *lo = a;
    *hi = b;
}

void xai_lrp_zbox_frame(xai_workspace *ws, const xai_explain_config *cfg, int own, int64_t b0, int64_t nb,
                        int64_t nin, const float *xs, float *lo, float *hi)
{
    /* per-element bounds replace the samples' own wherever a rule could read those (the model's
       input); a NaN-bounded z-box elsewhere is refused by the rule, so the ranges are not needed */
    int el = cfg->box_low && cfg->box_high;
    for (int64_t s = 0; own && !el && s < nb; s++)
        sample_range(xs + s * nin, nin, &lo[s], &hi[s]);
    ws->zbox_low = own && !el ? lo : NULL;
    ws->zbox_high = own && !el ? hi : NULL;
    ws->zbox_low_el = el ? cfg->box_low + b0 * nin : NULL;
    ws->zbox_high_el = el ? cfg->box_high + b0 * nin : NULL;
}

void xai_lrp_zbox_clear(xai_workspace *ws)
{
    ws->zbox_low = ws->zbox_high = NULL;
    ws->zbox_low_el = ws->zbox_high_el = NULL;
}

/* The class each sample of a batch explains: its entry in cfg->targets, else cfg->target. */
static void batch_targets(const xai_explain_config *cfg, int64_t b0, int64_t nb, int *tg)
{
    for (int64_t s = 0; s < nb; s++)
        tg[s] = cfg->targets ? cfg->targets[b0 + s] : cfg->target;
}

static xai_status sweep_sub(run_job *j, xai_workspace *ws, int64_t b0, int64_t nb, double *fwd_ms);

/* One sub-batch (samples b0 .. b0+nb-1) through the network and back on ws. */
static xai_status run_sub(run_job *j, xai_workspace *ws, int64_t b0, int64_t nb, double *fwd_ms)
{
    batch_targets(j->cfg, b0, nb, j->res->target + b0);
    float box[2][64]; /* ZBox bounds with NaN in the rule: each sample's own min and max */
    xai_lrp_zbox_frame(ws, j->cfg, j->own_box, b0, nb, j->nin, j->x + b0 * j->nin, box[0], box[1]);
    xai_status st = sweep_sub(j, ws, b0, nb, fwd_ms);
    xai_lrp_zbox_clear(ws); /* they pointed into this frame and the caller's arrays */
    return st;
}

/* run_sub() after the targets and bounds are set. */
static xai_status sweep_sub(run_job *j, xai_workspace *ws, int64_t b0, int64_t nb, double *fwd_ms)
{
    const xai_model *m = j->m;
    const xai_explain_config *cfg = j->cfg;
    const float *xs = j->x + b0 * j->nin;
    xai_explain_result *res = j->res;
    int *tg = res->target + b0;
    double tf = j->timed ? now_ms() : 0;
    xai_status st = xai_graph_forward(m, ws, nb, xs);
    if (j->timed)
        *fwd_ms += now_ms() - tf;
    if (st)
        return st;
    memcpy(res->logits + b0 * j->nc, ws->val[m->output], sizeof(float) * (size_t)(nb * j->nc));
    xai_ws_clear_adj(ws);
    ws->init_state_rel = res->init_state_sum + b0;
    xai_explain_config cs;
    const xai_explain_config *sc = cfg;
    if (cfg->method != XAI_METHOD_LRP) {
        cs = *cfg;
        cs.init = XAI_INIT_ONEHOT; /* gradients are d logit_c / dx */
        sc = &cs;
    }
    if ((st = seed(m, ws, sc, tg, res->init_sum + b0)))
        return st;
    sweep_opts so = {j->rules, j->sums ? res->layer_in_sum + b0 * m->nnodes : NULL,
                     j->sums ? res->layer_out_sum + b0 * m->nnodes : NULL,
                     j->value >= 0 && j->value_out ? j->value_out + b0 * m->vals[j->value].numel : NULL, j->value};
    if ((st = sweep(m, ws, &so)))
        return st;
    float *R = j->rel + b0 * j->nin;
    memcpy(R, ws->adj[m->input], sizeof(float) * (size_t)(nb * j->nin));
    if (cfg->method == XAI_METHOD_GRADIENT_X_INPUT)
        for (int64_t k = 0; k < nb * j->nin; k++)
            R[k] *= xs[k];
    if (so.copy_to && m->vals[j->value].producer < 0) /* a model input lives to the end */
        memcpy(so.copy_to, ws->adj[j->value], sizeof(float) * (size_t)(nb * m->vals[j->value].numel));
    for (int64_t s = 0; s < nb; s++)
        res->rel_sum[b0 + s] = vsum(R + s * j->nin, j->nin);
    return XAI_OK;
}

static void run_part(void *ctx, int64_t k0, int64_t k1, int tid)
{
    run_job *j = ctx;
    for (int64_t k = k0; k < k1; k++) {
        int64_t b0 = k * j->sb, nb = j->n - b0 < j->sb ? j->n - b0 : j->sb;
        xai_status st = tid < j->plan->nws ? run_sub(j, j->plan->ws[tid], b0, nb, &j->plan->fwd_ms[tid])
                                           : xai_error_set(XAI_EINVAL, "thread pool grew during an explanation");
        if (st == XAI_OK)
            continue;
        pthread_mutex_lock(&j->mu);
        if (j->st == XAI_OK || k < j->st_at) {
            j->st = st;
            j->st_at = k;
            snprintf(j->msg, sizeof j->msg, "%s", xai_last_error());
        }
        pthread_mutex_unlock(&j->mu);
        return;
    }
}

/* LRP, gradient and gradient x input: the sub-batches over the pool. forward_ms is the time
   spent in forward passes, summed over the threads and divided by the number that ran. */
static xai_status run_sweeps(run_job *j, int64_t B)
{
    xai_explain_plan *p = NULL;
    xai_status st = plan_get((xai_model *)j->m, B, &p);
    if (st)
        return st;
    for (int i = 0; i < p->nws; i++) {
        p->ws[i]->training = 0;
        p->ws[i]->bn_fold = j->cfg->bn == XAI_BN_FOLD;
        p->fwd_ms[i] = 0;
    }
    if ((st = plan_prepare(j->m, j->rules, j->cfg->bn == XAI_BN_FOLD, p->ws[0])))
        return st;
    j->plan = p;
    j->sb = B;
    int64_t nsub = (j->n + B - 1) / B;
    xai_par_for(nsub, 1, run_part, j);
    int used = nsub < p->nws ? (int)nsub : p->nws;
    for (int i = 0; i < p->nws; i++)
        j->res->forward_ms += p->fwd_ms[i] / used;
    if (j->st)
        return xai_error_set(j->st, "%s", j->msg);
    return XAI_OK;
}

/* SmoothGrad / Integrated Gradients: gradients averaged over perturbed copies of a batch of nb
   samples on ws; xb and acc hold nb inputs. */
static xai_status run_averaged_batch(run_job *j, xai_workspace *ws, int64_t b0, int64_t nb, float *xb, float *acc)
{
    const xai_model *m = j->m;
    const xai_explain_config *cfg = j->cfg;
    const float *xs = j->x + b0 * j->nin;
    int64_t nin = j->nin, nc = j->nc;
    int *tg = j->res->target + b0;
    batch_targets(cfg, b0, nb, tg);
    int steps = cfg->method == XAI_METHOD_SMOOTHGRAD ? cfg->smooth_n : cfg->ig_steps;
    if (steps < 1)
        XAI_FAIL(XAI_EINVAL, "%s needs at least one step", xai_method_name(cfg->method));
    double tf = now_ms();
    xai_status st = xai_graph_forward(m, ws, nb, xs);
    j->res->forward_ms += now_ms() - tf;
    if (st)
        return st;
    memcpy(j->res->logits + b0 * nc, ws->val[m->output], sizeof(float) * (size_t)(nb * nc));
    float sigma[64];
    for (int64_t s = 0; s < nb; s++) {
        /* targets from the unperturbed forward */
        const float *lg = ws->val[m->output] + s * nc;
        if (tg[s] < 0) {
            int t = 0;
            for (int64_t c = 1; c < nc; c++)
                if (lg[c] > lg[t])
                    t = (int)c;
            tg[s] = t;
        }
        j->res->init_sum[b0 + s] = 1.0;
        float lo, hi;
        sample_range(xs + s * nin, nin, &lo, &hi);
        sigma[s] = cfg->smooth_sigma * (hi - lo);
    }
    uint64_t rng = cfg->seed ^ (0x1234567ull + (uint64_t)b0);
    memset(acc, 0, sizeof(float) * (size_t)(nb * nin));
    for (int it = 0; it < steps; it++) {
        if (cfg->method == XAI_METHOD_SMOOTHGRAD) {
            int noisy = it < steps - 1;
            for (int64_t s = 0; s < nb; s++)
                for (int64_t k = 0; k < nin; k++)
                    xb[s * nin + k] = xs[s * nin + k] + (noisy ? (float)(sigma[s] * gauss(&rng)) : 0.0f);
        } else {
            float alpha = (float)(it + 1) / (float)steps;
            for (int64_t k = 0; k < nb * nin; k++)
                xb[k] = alpha * xs[k];
        }
        tf = now_ms();
        st = xai_graph_forward(m, ws, nb, xb);
        j->res->forward_ms += now_ms() - tf;
        if (st)
            return st;
        xai_ws_clear_adj(ws);
        int tcopy[64];
        memcpy(tcopy, tg, sizeof(int) * (size_t)nb);
        xai_explain_config c1 = *cfg;
        c1.init = XAI_INIT_ONEHOT;
        sweep_opts so = {NULL, NULL, NULL, NULL, -1};
        if ((st = seed(m, ws, &c1, tcopy, NULL)) || (st = sweep(m, ws, &so)))
            return st;
        for (int64_t k = 0; k < nb * nin; k++)
            acc[k] += ws->adj[m->input][k];
    }
    float *R = j->rel + b0 * nin;
    for (int64_t k = 0; k < nb * nin; k++) {
        R[k] = acc[k] / (float)steps;
        if (cfg->method == XAI_METHOD_INTEGRATED_GRADIENTS)
            R[k] *= xs[k];
    }
    for (int64_t s = 0; s < nb; s++)
        j->res->rel_sum[b0 + s] = vsum(R + s * nin, nin);
    return XAI_OK;
}

/* The averaged methods in batches of B on the model's cached stack workspace. */
static xai_status run_averaged(run_job *j, int64_t B)
{
    xai_model *mm = (xai_model *)j->m;
    if (!mm->ws_cache || mm->ws_cache->cap < B) {
        xai_workspace_free(mm->ws_cache);
        mm->ws_cache = NULL;
        xai_status st = xai_workspace_new(j->m, B, &mm->ws_cache);
        if (st)
            return st;
    }
    xai_workspace *ws = mm->ws_cache;
    ws->training = 0;
    ws->bn_fold = j->cfg->bn == XAI_BN_FOLD;
    float *xb = malloc(sizeof(float) * (size_t)(B * j->nin)), *acc = malloc(sizeof(float) * (size_t)(B * j->nin));
    xai_status st = xb && acc ? XAI_OK : xai_error_set(XAI_ENOMEM, "out of memory");
    for (int64_t b0 = 0; st == XAI_OK && b0 < j->n; b0 += B)
        st = run_averaged_batch(j, ws, b0, j->n - b0 < B ? j->n - b0 : B, xb, acc);
    free(xb);
    free(acc);
    return st;
}

static xai_status explain_locked(const xai_model *m, const xai_explain_config *cfg_in, int64_t n, const float *x,
                                 float *rel, xai_explain_result *res_out, const char *value_name, float *value_out);

/* The result of a call. One that the caller does not receive is only the call's scratch (logits,
   targets, sums): the model's plan keeps it between calls, so a call in steady state allocates
   none of it. */
static xai_status result_get(const xai_model *m, int64_t n, int names, xai_explain_result *res)
{
    xai_explain_plan *p = m->plan;
    if (names || !p || p->spare.n < n)
        return alloc_result(m, n, names, res);
    *res = p->spare;
    memset(&p->spare, 0, sizeof p->spare);
    memset(res->init_sum, 0, sizeof(double) * (size_t)res->n); /* what the passes add to */
    memset(res->init_state_sum, 0, sizeof(double) * (size_t)res->n);
    res->forward_ms = res->explain_ms = 0;
    return XAI_OK;
}

/* back to the plan (or freed) after a call that returns no result */
static void result_put(const xai_model *m, xai_explain_result *res)
{
    xai_explain_plan *p = m->plan;
    if (p && res->n > p->spare.n) {
        xai_explain_result_free(&p->spare);
        p->spare = *res;
        return;
    }
    xai_explain_result_free(res);
}

/* Explanations of one model run one at a time: they share its plan and its lazily built
   modified weights. Different models explain in parallel. */
static xai_status explain_impl(const xai_model *m, const xai_explain_config *cfg_in, int64_t n, const float *x,
                               float *rel, xai_explain_result *res_out, const char *value_name, float *value_out)
{
    xai_model *mm = (xai_model *)m;
    pthread_mutex_lock(&mm->explain_mu);
    xai_status st = explain_locked(m, cfg_in, n, x, rel, res_out, value_name, value_out);
    pthread_mutex_unlock(&mm->explain_mu);
    return st;
}

/* Configuration checks, rules (and ZBox bounds), targets. */
/* The class to explain, per sample or for all: -1 (the argmax) or an output index. */
static xai_status check_targets(const xai_explain_config *cfg, int64_t n, int64_t nc)
{
    for (int64_t s = 0; s < (cfg->targets ? n : 1); s++) {
        int t = cfg->targets ? cfg->targets[s] : cfg->target;
        if (t < -1 || t >= nc)
            XAI_FAIL(XAI_EINVAL, "class %d%s is out of range: the model has %lld outputs (or -1 for the argmax)", t,
                     cfg->targets ? " (a per-sample target)" : "", (long long)nc);
    }
    return XAI_OK;
}

/* Configuration checks and targets. */
static xai_status explain_check(const xai_model *m, const xai_explain_config *cfg, int64_t n)
{
    if (n < 1)
        XAI_FAIL(XAI_EINVAL, "nothing to explain (n = %lld)", (long long)n);
    if ((unsigned)cfg->method >= XAI_METHOD_COUNT)
        XAI_FAIL(XAI_EINVAL, "unknown method %d", (int)cfg->method);
    if (!cfg->box_low != !cfg->box_high)
        XAI_FAIL(XAI_EINVAL, "per-element z-box bounds: give both box_low and box_high, or neither");
    return check_targets(cfg, n, m->vals[m->output].numel);
}

/* cfg's rules for every node in a new array (ZBox bounds given, or NaN: each sample's own). */
static xai_status rules_new(const xai_model *m, const xai_explain_config *cfg, xai_rule **out)
{
    float low = cfg->have_bounds ? cfg->low : NAN, high = cfg->have_bounds ? cfg->high : NAN;
    xai_rule *rules = calloc((size_t)m->nnodes + 1, sizeof *rules);
    if (!rules)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    xai_status st = resolve_rules(m, cfg, low, high, rules);
    if (st) {
        free(rules);
        return st;
    }
    *out = rules;
    return XAI_OK;
}

/* Everything of a configuration that resolve_rules() reads besides the two strings. */
typedef struct {
    float epsilon, lstm_epsilon, gamma, bias_factor, low, high;
    int have_bounds, bn;
} rule_key;

struct xai_rule_cache {
    rule_key key;
    char *composite, *rules; /* copies (rules: "" when none) */
    xai_rule *resolved;
};

void xai_rule_cache_free(struct xai_rule_cache *c)
{
    if (!c)
        return;
    free(c->composite);
    free(c->rules);
    free(c->resolved);
    free(c);
}

static rule_key make_rule_key(const xai_explain_config *cfg)
{
    rule_key k;
    memset(&k, 0, sizeof k); /* compared bytewise */
    k.epsilon = cfg->epsilon;
    k.lstm_epsilon = cfg->lstm_epsilon;
    k.gamma = cfg->gamma;
    k.bias_factor = cfg->bias_factor;
    k.have_bounds = cfg->have_bounds != 0;
    k.low = k.have_bounds ? cfg->low : 0.0f;
    k.high = k.have_bounds ? cfg->high : 0.0f;
    k.bn = (int)cfg->bn;
    return k;
}

/* cfg's rules, resolved when the settings differ from the last call's and else reused: an
   application explains sample after sample with one configuration, and resolving (parsing the
   overrides, walking the graph, allocating) cost a sixth of a small model's explanation.
   Borrowed from the model until the next call with other settings; under the model's lock. */
static xai_status rules_cached(xai_model *m, const xai_explain_config *cfg, const xai_rule **out)
{
    struct xai_rule_cache *c = m->rule_cache;
    rule_key k = make_rule_key(cfg);
    const char *comp = cfg->composite ? cfg->composite : "epsilon-plus-flat", *ov = cfg->rules ? cfg->rules : "";
    if (c && memcmp(&c->key, &k, sizeof k) == 0 && strcmp(c->composite, comp) == 0 && strcmp(c->rules, ov) == 0) {
        *out = c->resolved;
        return XAI_OK;
    }
    xai_rule *rules = NULL;
    xai_status st = rules_new(m, cfg, &rules);
    if (st)
        return st;
    struct xai_rule_cache *nc = calloc(1, sizeof *nc);
    if (!nc || !(nc->composite = strdup(comp)) || !(nc->rules = strdup(ov))) {
        xai_rule_cache_free(nc);
        free(rules);
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    }
    nc->key = k;
    nc->resolved = rules;
    xai_rule_cache_free(c);
    m->rule_cache = nc;
    *out = rules;
    return XAI_OK;
}

/* Configuration checks, targets and (LRP) the rules, borrowed as rules_cached() says. */
static xai_status explain_setup(const xai_model *m, xai_explain_config *cfg, int64_t n, const xai_rule **rules_out)
{
    *rules_out = NULL;
    xai_status st = explain_check(m, cfg, n);
    if (st || cfg->method != XAI_METHOD_LRP)
        return st;
    return rules_cached((xai_model *)m, cfg, rules_out); /* a cache, as the plan */
}

xai_status xai_explain_uses_zbox(const xai_model *m, const xai_explain_config *cfg, int *uses)
{
    if (!m || !cfg || !uses)
        XAI_FAIL(XAI_EINVAL, "z-box query: needs a model, a configuration and an answer");
    *uses = 0;
    if (cfg->method != XAI_METHOD_LRP)
        return XAI_OK;
    xai_rule *rules = NULL;
    xai_status st = rules_new(m, cfg, &rules);
    for (int i = 0; !st && i < m->nnodes; i++)
        *uses |= rules[i].kind == XAI_RULE_ZBOX;
    free(rules);
    return st;
}

xai_status xai_lrp_rules(const xai_model *m, const xai_explain_config *cfg, xai_workspace *ws, xai_rule **rules)
{
    xai_explain_config c = *cfg;
    c.method = XAI_METHOD_LRP;
    *rules = NULL;
    xai_status st = explain_check(m, &c, 1);
    if (st == XAI_OK)
        st = rules_new(m, &c, rules);
    if (st == XAI_OK && (st = plan_prepare(m, *rules, c.bn == XAI_BN_FOLD, ws))) {
        free(*rules);
        *rules = NULL;
    }
    return st;
}

static xai_status explain_locked(const xai_model *m, const xai_explain_config *cfg_in, int64_t n, const float *x,
                                 float *rel, xai_explain_result *res_out, const char *value_name, float *value_out)
{
    xai_explain_config cfg;
    if (cfg_in)
        cfg = *cfg_in;
    else
        xai_explain_config_init(&cfg);
    int value = -1;
    if (value_name) {
        value = xai_model_find_value(m, value_name);
        if (value < 0 || m->vals[value].is_const)
            XAI_FAIL(XAI_EINVAL, "no activation named '%s' in the model", value_name);
    }
    const xai_rule *rules = NULL;
    xai_status st = explain_setup(m, &cfg, n, &rules);
    if (st)
        return st;
    xai_explain_result res;
    if ((st = result_get(m, n, res_out != NULL, &res)))
        return st;
    for (int i = 0; rules && res_out && i < m->nnodes; i++) /* the kept result is never seen */
        res.layer_rule[i] = rule_label(&rules[i]);
    int64_t B = cfg.batch > 0 ? cfg.batch : 64;
    B = B > n ? n : B > 64 ? 64 : B;
    run_job j = {.m = m, .cfg = &cfg, .rules = rules, .n = n, .nin = m->vals[m->input].numel,
                 .nc = m->vals[m->output].numel, .x = x, .rel = rel, .res = &res,
                 .sums = res_out && cfg.layer_sums, .timed = res_out != NULL, .value = value,
                 .value_out = value_out, .mu = PTHREAD_MUTEX_INITIALIZER};
    for (int i = 0; rules && i < m->nnodes; i++)
        j.own_box |= rules[i].kind == XAI_RULE_ZBOX && (isnan(rules[i].low) || isnan(rules[i].high));
    double t0 = j.timed ? now_ms() : 0;
    if (cfg.method == XAI_METHOD_LRP || cfg.method == XAI_METHOD_GRADIENT || cfg.method == XAI_METHOD_GRADIENT_X_INPUT) {
        int64_t sb = m->plan ? m->plan->model_sb : plan_sub_batch(m);
        st = run_sweeps(&j, B < sb ? B : sb);
    } else {
        st = run_averaged(&j, B);
    }
    res.explain_ms = j.timed ? now_ms() - t0 : 0;
    if (st == XAI_OK && res_out)
        *res_out = res;
    else if (res_out)
        xai_explain_result_free(&res);
    else
        result_put(m, &res);
    return st;
}

xai_status xai_explain(const xai_model *m, const xai_explain_config *cfg, int64_t n, const float *x, float *rel,
                       xai_explain_result *res)
{
    return explain_impl(m, cfg, n, x, rel, res, NULL, NULL);
}

xai_status xai_explain_value(const xai_model *m, const xai_explain_config *cfg, int64_t n, const float *x,
                             const char *value_name, float *out, int64_t *numel_per_sample)
{
    int v = xai_model_find_value(m, value_name);
    if (v < 0 || m->vals[v].is_const)
        XAI_FAIL(XAI_EINVAL, "no activation named '%s' in the model", value_name);
    if (numel_per_sample)
        *numel_per_sample = m->vals[v].numel;
    if (!out)
        return XAI_OK;
    float *rel = malloc(sizeof(float) * (size_t)(n * m->vals[m->input].numel));
    if (!rel)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    xai_status st = explain_impl(m, cfg, n, x, rel, NULL, value_name, out);
    free(rel);
    return st;
}
