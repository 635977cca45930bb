/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * train-guide.c - explanation-guided training: Right for the Right Reasons (Ross, Hughes &
 * Doshi-Velez, IJCAI 2017). The penalty P = lambda/n * sum_s ||A_s (.) g_s||^2 with
 * g_s = d(sum_k log p_k)/dx_s needs the gradient of an input gradient (double backprop).
 *
 * For a network that is piecewise linear in its input (ReLU, max-pooling, affine layers), the
 * Jacobian J = dz/dx is constant between kinks, so its derivative through the activation masks
 * vanishes almost everywhere. With r = dP/dg fixed, dP/dtheta = d/dtheta [u(z)^T J r] where
 * u = 1 - K softmax(z) is dh/dz of h = sum_k log p_k. Two exact pieces make it up:
 *   - through J: the tangent t = J r is a forward pass of the linear part (no biases, the
 *     primal's masks and argmaxes); its weight gradient is adj_l (x) t_{l-1}, adj_l the adjoints
 *     J_l^T u that the backward pass giving g already left at every layer output;
 *   - through u: d(u^T t)/dz = H t with H = -K (diag p - p p^T), backpropagated from the logits
 *     through the ordinary network together with the cross-entropy gradient.
 * Cost per step: one more backward and one tangent forward on top of forward + backward.
 *
 * LRP-guided training (Sun, Lapuschkin, Samek & Binder, ICPR 2020): the activations at a layer
 * are weighted by 1 + R/max|R| with R their LRP relevance for the true class, the rest of the
 * network runs again on the weighted activations, and their cross-entropy joins the loss.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lrp-int.h"
#include "train-int.h"

/* Why node n keeps the input gradient from being piecewise linear, or NULL when it does not. */
static const char *not_piecewise_linear(const xai_model *m, const xai_node *n)
{
    switch (n->kind) {
    case K_CONV: case K_GEMM: case K_RELU: case K_LEAKYRELU: case K_MAXPOOL: case K_AVGPOOL: case K_GAP:
    case K_RESHAPE: case K_TRANSPOSE: case K_SLICE: case K_GATHER: case K_IDENTITY: case K_ADD: case K_SUB:
        return NULL;
    case K_CONCAT:
        for (int i = 0; i < n->nin; i++)
            if (vconst(m, n->in[i]))
                return "a Concat with a constant input is affine, not linear (not handled)";
        return NULL;
    case K_MUL:
        return vconst(m, n->in[0]) || vconst(m, n->in[1]) ? NULL : "a product of two activations is curved";
    case K_DIV:
        return vconst(m, n->in[1]) ? NULL : "a division by an activation is curved";
    case K_BN:
        return "BatchNormalization in training mode normalises by batch statistics, which makes the input "
               "gradient curved in the input; build the model without bn";
    case K_PAD:
        return "Pad is not handled by the tangent pass";
    default:
        return "this activation is curved, so the second-order terms do not vanish";
    }
}

xai_status xai_guide_check(const xai_model *m, xai_guide_kind g)
{
    if (g == XAI_GUIDE_NONE || g == XAI_GUIDE_LRP || g == XAI_GUIDE_RRCLARC)
        return XAI_OK; /* RR-ClArC checks the network after its layer when it starts */
    if (g != XAI_GUIDE_RRR)
        XAI_FAIL(XAI_EINVAL, "unknown guidance kind %d", (int)g);
    for (int i = 0; i < m->nnodes; i++) {
        const char *why = not_piecewise_linear(m, &m->nodes[i]);
        if (why)
            XAI_FAIL(XAI_EUNSUPPORTED,
                     "%s: node '%s' (%s): RRR guidance needs a piecewise-linear network (Conv, Dense, ReLU, "
                     "LeakyReLU, MaxPool, AveragePool, data movement); %s",
                     m->name, m->nodes[i].name, m->nodes[i].op_type, why);
    }
    return XAI_OK;
}

/* Tangent of one node: wt->val[out] = J_node wt->val[in] at the point ws ran forward. */
static xai_status tangent_node(const xai_model *m, const xai_node *n, xai_workspace *ws, xai_workspace *wt)
{
    int64_t no = vnumel(m, n->out[0]) * ws->ns;
    float *yd = wt->val[n->out[0]];
    const float *xd = wt->val[n->in[0]], *x = ws->val[n->in[0]], *y = ws->val[n->out[0]];
    switch (n->kind) {
    case K_CONV:
    case K_GEMM: {
        const xai_linear *L = xai_node_linear(n);
        L->fwd(n, L->w, NULL, xd, yd, ws->ns, ws->scratch + n->scratch * (size_t)ws->ns);
        return XAI_OK;
    }
    case K_RELU:
        for (int64_t k = 0; k < no; k++)
            yd[k] = x[k] > 0.0f ? xd[k] : 0.0f;
        return XAI_OK;
    case K_LEAKYRELU: /* the slope below zero is y/x, read from the primal */
        for (int64_t k = 0; k < no; k++)
            yd[k] = x[k] >= 0.0f ? xd[k] : xd[k] * (y[k] / x[k]);
        return XAI_OK;
    case K_MAXPOOL:
        xai_maxpool_tangent(n, ws, xd, yd);
        return XAI_OK;
    case K_ADD:
    case K_SUB:
        if (vconst(m, n->in[0]) || vconst(m, n->in[1])) { /* the constant drops out */
            int keep = vconst(m, n->in[0]);
            float sg = (n->kind == K_SUB && keep) ? -1.0f : 1.0f;
            const float *v = wt->val[n->in[keep]];
            for (int64_t k = 0; k < no; k++)
                yd[k] = sg * v[k];
            return XAI_OK;
        }
        return n->ops->forward(m, n, wt);
    default: /* linear without offset in its activations: the op itself maps the tangent */
        return n->ops->forward(m, n, wt);
    }
}

static xai_status tangent_wgrad(const xai_model *m, xai_workspace *ws, xai_workspace *wt, int prod);

/* Backward pass of the seed in ws->adj[output] down to node lo (0: the model input), without
   parameter gradients. */
static xai_status input_backward(const xai_model *m, xai_workspace *ws, int lo)
{
    xai_status st = XAI_OK;
    ws->input_grad = 1;
    for (int i = m->nnodes - 1; i >= lo && !st; i--) {
        xai_node *nd = (xai_node *)&m->nodes[i];
        float *pg[4];
        memcpy(pg, nd->pgrad, sizeof pg);
        memset(nd->pgrad, 0, sizeof pg);
        st = nd->ops->backward(m, nd, ws);
        memcpy(nd->pgrad, pg, sizeof pg);
    }
    ws->input_grad = 0;
    return st;
}

/* p = softmax(z) of one sample, in double */
static void softmax(const float *z, int64_t nc, double *p)
{
    double mx = z[0], se = 0;
    for (int64_t c = 1; c < nc; c++)
        mx = fmax(mx, z[c]);
    for (int64_t c = 0; c < nc; c++)
        se += p[c] = exp(z[c] - mx);
    for (int64_t c = 0; c < nc; c++)
        p[c] /= se;
}

/* Seed u = d(sum_k log p_k)/dz = 1 - K p at the logits, then g = J^T u into ws->adj[input]. */
static xai_status input_gradient(const xai_model *m, xai_workspace *ws, double *p)
{
    int64_t nc = vnumel(m, m->output);
    xai_ws_clear_adj(ws);
    for (int64_t s = 0; s < ws->ns; s++) {
        softmax(ws->val[m->output] + s * nc, nc, p);
        for (int64_t c = 0; c < nc; c++)
            ws->adj[m->output][s * nc + c] = (float)(1.0 - (double)nc * p[c]);
    }
    return input_backward(m, ws, 0);
}

xai_status xai_rrr_batch(const xai_model *m, xai_workspace *ws, xai_workspace *wt, const float *mask,
                         int64_t mask_stride, float lambda, float *seed, double *penalty)
{
    int64_t nb = ws->ns, nin = vnumel(m, m->input), nc = vnumel(m, m->output);
    double *p = malloc(sizeof(double) * (size_t)nc);
    if (!p)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    xai_status st = input_gradient(m, ws, p);
    if (st)
        goto out;
    /* r = dP/dg becomes the tangent pass's input */
    const float *g = ws->adj[m->input];
    float *r = wt->val[m->input];
    double pen = 0, sc = 2.0 * lambda / (double)nb;
    for (int64_t s = 0; s < nb; s++)
        for (int64_t i = 0; i < nin; i++) {
            double a = mask[s * mask_stride + i], ag = a * g[s * nin + i];
            pen += ag * ag;
            r[s * nin + i] = (float)(sc * a * ag);
        }
    *penalty = lambda * pen / (double)nb;
    /* through J: weight gradients from the adjoints J_l^T u and the tangent inputs */
    st = tangent_wgrad(m, ws, wt, -1);
    /* through u: H t at the logits, H = -K (diag p - p p^T) */
    for (int64_t s = 0; s < nb && !st; s++) {
        const float *t = wt->val[m->output] + s * nc;
        softmax(ws->val[m->output] + s * nc, nc, p);
        double pt = 0;
        for (int64_t c = 0; c < nc; c++)
            pt += p[c] * t[c];
        for (int64_t c = 0; c < nc; c++)
            seed[s * nc + c] = (float)(-(double)nc * p[c] * (t[c] - pt));
    }
out:
    free(p);
    return st;
}

/* Tangent pass of nodes after `prod` from wt->val[v], then the weight gradients adjoint x tangent. */
static xai_status tangent_wgrad(const xai_model *m, xai_workspace *ws, xai_workspace *wt, int prod)
{
    xai_status st = XAI_OK;
    int64_t nb = ws->ns;
    wt->ns = nb;
    wt->training = ws->training;
    wt->drop_seed = ws->drop_seed;
    for (int i = prod + 1; i < m->nnodes && !st; i++)
        st = tangent_node(m, &m->nodes[i], ws, wt);
    for (int i = prod + 1; i < m->nnodes && !st; i++) {
        const xai_node *n = &m->nodes[i];
        const xai_linear *L = xai_node_linear(n);
        if (L && n->pgrad[0] && L->wgrad)
            st = L->wgrad(n, wt->val[n->in[0]], ws->adj[n->out[0]], n->pgrad[0], NULL, nb,
                          ws->scratch + n->scratch * (size_t)nb);
    }
    return st;
}

xai_status xai_rrclarc_batch(const xai_model *m, xai_workspace *ws, xai_guide_state *gs, const xai_train_config *cfg,
                             const int *yb, double *penalty)
{
    int64_t nb = ws->ns, nc = vnumel(m, m->output), d = vnumel(m, gs->v);
    xai_ws_clear_adj(ws);
    for (int64_t s = 0; s < nb; s++)
        ws->adj[m->output][s * nc + yb[s]] = 1.0f;
    xai_status st = input_backward(m, ws, gs->prod + 1);
    if (st)
        return st;
    const float *g = ws->adj[gs->v], *v = cfg->guide_cav;
    float *r = gs->wt->val[gs->v];
    double pen = 0, sc = 2.0 * cfg->guide_lambda / (double)nb;
    for (int64_t s = 0; s < nb; s++) {
        double c = 0;
        for (int64_t k = 0; k < d; k++)
            c += (double)v[k] * g[s * d + k];
        pen += c * c;
        for (int64_t k = 0; k < d; k++)
            r[s * d + k] = (float)(sc * c * v[k]);
    }
    *penalty = cfg->guide_lambda * pen / (double)nb;
    return tangent_wgrad(m, ws, gs->wt, gs->prod);
}

xai_status xai_input_gradient_share(const xai_model *m, int64_t n, const float *x, const float *mask,
                                    int64_t mask_n, double *share)
{
    if (n < 1 || !(mask_n == 1 || mask_n == n))
        XAI_FAIL(XAI_EINVAL, "input-gradient share: %lld samples with %lld masks (give 1 or one per sample)",
                 (long long)n, (long long)mask_n);
    int64_t nin = vnumel(m, m->input), cap = n < 32 ? n : 32, stride = mask_n == 1 ? 0 : nin;
    xai_workspace *ws;
    xai_status st = xai_workspace_new(m, cap, &ws);
    if (st)
        return st;
    double *p = malloc(sizeof(double) * (size_t)vnumel(m, m->output)), in = 0, all = 0;
    for (int64_t b0 = 0; b0 < n && !st; b0 += cap) {
        int64_t nb = n - b0 < cap ? n - b0 : cap;
        if (!p) {
            st = xai_error_set(XAI_ENOMEM, "out of memory");
            break;
        }
        if ((st = xai_graph_forward(m, ws, nb, x + b0 * nin)) || (st = input_gradient(m, ws, p)))
            break;
        for (int64_t k = 0; k < nb * nin; k++) {
            double a = fabs(ws->adj[m->input][k]);
            all += a;
            in += a * fabs(mask[(b0 + k / nin) * stride + k % nin]);
        }
    }
    free(p);
    xai_workspace_free(ws);
    if (!st)
        *share = all > 0 ? in / all : 0.0;
    return st;
}

/* the LRP guide's layer: the named one, else the input of the last Conv/Dense node */
static xai_status lrp_layer(const xai_model *m, const char *name, int *v)
{
    *v = -1;
    if (name)
        *v = xai_layer_value(m, name);
    for (int i = m->nnodes - 1; !name && i >= 0 && *v < 0; i--)
        if (m->nodes[i].kind == K_CONV || m->nodes[i].kind == K_GEMM)
            *v = m->nodes[i].in[0];
    if (*v < 0 || m->vals[*v].is_const || *v == m->output)
        XAI_FAIL(XAI_EINVAL, "%s: LRP guidance needs an inner layer ('%s' is none)", m->name, name ? name : "(auto)");
    return XAI_OK;
}

static xai_status lrp_state(const xai_model *m, const xai_train_config *cfg, int64_t cap, xai_guide_state *gs)
{
    xai_status st = lrp_layer(m, cfg->guide_layer, &gs->v);
    if (st)
        return st;
    gs->prod = m->vals[gs->v].producer;
    int64_t d = vnumel(m, gs->v);
    gs->wv = malloc(sizeof(float) * (size_t)(cap * d));
    gs->keep = malloc(sizeof(float) * (size_t)(cap * d));
    gs->lo = malloc(sizeof(float) * (size_t)cap);
    gs->hi = malloc(sizeof(float) * (size_t)cap);
    gs->isr = calloc((size_t)cap, sizeof(double));
    gs->tg = malloc(sizeof(int) * (size_t)cap);
    xai_explain_config_init(&gs->ecfg);
    if (!gs->wv || !gs->keep || !gs->lo || !gs->hi || !gs->isr || !gs->tg)
        XAI_FAIL(XAI_ENOMEM, "out of memory for guided training");
    return XAI_OK;
}

/* RR-ClArC: the CAV's layer, and a network piecewise linear after it */
static xai_status rrclarc_state(const xai_model *m, const xai_train_config *cfg, xai_guide_state *gs)
{
    if (!cfg->guide_layer || !cfg->guide_cav)
        XAI_FAIL(XAI_EINVAL, "RR-ClArC needs the CAV and its layer");
    xai_status st = lrp_layer(m, cfg->guide_layer, &gs->v);
    if (st)
        return st;
    if (vnumel(m, gs->v) != cfg->guide_cav_n)
        XAI_FAIL(XAI_EINVAL, "%s: layer '%s' has %lld values per sample, the CAV %lld", m->name, cfg->guide_layer,
                 (long long)vnumel(m, gs->v), (long long)cfg->guide_cav_n);
    gs->prod = m->vals[gs->v].producer;
    for (int i = gs->prod + 1; i < m->nnodes; i++) {
        const char *why = not_piecewise_linear(m, &m->nodes[i]);
        if (why)
            XAI_FAIL(XAI_EUNSUPPORTED, "%s: node '%s' (%s) after the CAV's layer: RR-ClArC needs the network after "
                     "it to be piecewise linear; %s", m->name, m->nodes[i].name, m->nodes[i].op_type, why);
    }
    return XAI_OK;
}

static xai_status rrr_state(const xai_model *m, const xai_train_config *cfg, int64_t n, int64_t cap,
                            xai_guide_state *gs)
{
    xai_status st = xai_guide_check(m, cfg->guide);
    if (st)
        return st;
    if (!cfg->guide_mask || !(cfg->guide_mask_n == 1 || cfg->guide_mask_n == n))
        XAI_FAIL(XAI_EINVAL, "RRR needs a mask per sample (%lld) or one for all; got %lld", (long long)n,
                 (long long)(cfg->guide_mask ? cfg->guide_mask_n : 0));
    int64_t nin = vnumel(m, m->input), nc = vnumel(m, m->output);
    for (int64_t k = 0; k < cfg->guide_mask_n * nin; k++)
        if (!isfinite(cfg->guide_mask[k]))
            XAI_FAIL(XAI_ENUMERIC, "RRR mask of sample %lld holds a non-finite value at element %lld",
                     (long long)(k / nin), (long long)(k % nin));
    gs->seed = malloc(sizeof(float) * (size_t)(cap * nc));
    gs->mb = malloc(sizeof(float) * (size_t)(cap * nin));
    if (!gs->seed || !gs->mb)
        XAI_FAIL(XAI_ENOMEM, "out of memory for guided training");
    return XAI_OK;
}

xai_status xai_guide_state_new(const xai_model *m, const xai_train_config *cfg, int64_t n, int64_t cap,
                               xai_guide_state *gs)
{
    memset(gs, 0, sizeof *gs);
    if (cfg->guide == XAI_GUIDE_NONE)
        return XAI_OK;
    if (cfg->guide != XAI_GUIDE_RRR && cfg->guide != XAI_GUIDE_LRP && cfg->guide != XAI_GUIDE_RRCLARC)
        XAI_FAIL(XAI_EINVAL, "unknown guidance kind %d", (int)cfg->guide);
    if (!(cfg->guide_lambda >= 0.0f) || !isfinite(cfg->guide_lambda))
        XAI_FAIL(XAI_EINVAL, "guidance weight lambda must be finite and >= 0 (got %g)", cfg->guide_lambda);
    xai_status st = cfg->guide == XAI_GUIDE_RRR ? rrr_state(m, cfg, n, cap, gs)
                    : cfg->guide == XAI_GUIDE_LRP ? lrp_state(m, cfg, cap, gs) : rrclarc_state(m, cfg, gs);
    if (!st)
        st = xai_workspace_new(m, cap, &gs->wt);
    if (st)
        xai_guide_state_free(gs);
    return st;
}

void xai_guide_state_free(xai_guide_state *gs)
{
    xai_workspace_free(gs->wt);
    free(gs->seed);
    free(gs->mb);
    free(gs->wv), free(gs->keep), free(gs->lo), free(gs->hi), free(gs->isr), free(gs->tg);
    memset(gs, 0, sizeof *gs);
}

xai_status xai_lrp_guide_weights(const xai_model *m, xai_guide_state *gs, int64_t nb, const float *xb, const int *yb)
{
    xai_workspace *wt = gs->wt;
    int64_t nin = vnumel(m, m->input), d = vnumel(m, gs->v);
    for (int64_t s = 0; s < nb; s++)
        gs->tg[s] = yb[s];
    wt->training = 0;
    wt->bn_fold = gs->ecfg.bn == XAI_BN_FOLD;
    xai_lrp_zbox_frame(wt, &gs->ecfg, 1, 0, nb, nin, xb, gs->lo, gs->hi);
    wt->init_state_rel = gs->isr;
    xai_rule *rules = NULL;
    xai_status st = xai_lrp_rules(m, &gs->ecfg, wt, &rules);
    if (!st && !(st = xai_graph_forward(m, wt, nb, xb))) {
        xai_ws_clear_adj(wt);
        if (!(st = xai_lrp_seed(m, wt, &gs->ecfg, gs->tg, NULL)))
            st = xai_lrp_sweep_nodes(m, wt, rules, m->nnodes - 1, gs->prod + 1);
    }
    free(rules);
    xai_lrp_zbox_clear(wt);
    wt->init_state_rel = NULL;
    wt->bn_fold = 0;
    for (int64_t s = 0; s < nb && !st; s++) {
        const float *r = wt->adj[gs->v] + s * d;
        float mx = 0;
        for (int64_t k = 0; k < d; k++)
            mx = fmaxf(mx, fabsf(r[k]));
        for (int64_t k = 0; k < d; k++)
            gs->wv[s * d + k] = mx > 0 ? 1.0f + r[k] / mx : 1.0f;
    }
    return st;
}

xai_status xai_lrp_guide_pass(const xai_model *m, const xai_workspace *ws, xai_guide_state *gs,
                              const xai_train_config *cfg, int64_t nb, const float *xb, const int *yb, double *ce)
{
    xai_workspace *wt = gs->wt;
    int64_t d = vnumel(m, gs->v), nc = vnumel(m, m->output), hits = 0;
    wt->training = ws->training;
    wt->drop_seed = ws->drop_seed;
    wt->bn_momentum = 0.0f; /* BN running statistics follow the plain pass only */
    xai_status st = xai_graph_forward(m, wt, nb, xb);
    float *a = wt->val[gs->v];
    if (!st) {
        memcpy(gs->keep, a, sizeof(float) * (size_t)(nb * d));
        for (int64_t k = 0; k < nb * d; k++)
            a[k] *= gs->wv[k];
    }
    for (int i = gs->prod + 1; i < m->nnodes && !st; i++)
        st = m->nodes[i].ops->forward(m, &m->nodes[i], wt);
    if (st)
        return st;
    double l = 0;
    xai_ws_clear_adj(wt);
    xai_xent(wt->val[m->output], yb, nb, nc, cfg->class_weights, wt->adj[m->output], &l, &hits);
    *ce = l / (double)nb;
    for (int64_t k = 0; k < nb * nc; k++)
        wt->adj[m->output][k] *= cfg->guide_lambda;
    for (int i = m->nnodes - 1; i > gs->prod && !st; i--)
        st = m->nodes[i].ops->backward(m, &m->nodes[i], wt);
    /* the earlier layers see the unweighted activation and the chain rule through a * w */
    memcpy(a, gs->keep, sizeof(float) * (size_t)(nb * d));
    for (int64_t k = 0; k < nb * d && !st; k++)
        wt->adj[gs->v][k] *= gs->wv[k];
    for (int i = gs->prod; i >= 0 && !st; i--)
        st = m->nodes[i].ops->backward(m, &m->nodes[i], wt);
    return st;
}
