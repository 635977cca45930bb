/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * record.c - what xai-train records: the per-epoch log (JSON and the progress lines on
 * stderr) and the training record, spec, classes, layout and pre-processing in metadata_props.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xai.h"
#include "record.h"

void xai_train_log_epoch(const xai_train_progress *p, void *log)
{
    xai_train_log *ls = log;
    json_t *e = json_object();
    json_object_set_new(e, "epoch", json_integer(p->epoch));
    json_object_set_new(e, "train_loss", json_real(p->train_loss));
    json_object_set_new(e, "train_acc", json_real(p->train_acc));
    json_object_set_new(e, "val_loss", isnan(p->val_loss) ? json_null() : json_real(p->val_loss));
    json_object_set_new(e, "val_acc", isnan(p->val_acc) ? json_null() : json_real(p->val_acc));
    json_object_set_new(e, "lr", json_real(p->lr));
    json_object_set_new(e, "elapsed_s", json_real(p->elapsed_s));
    json_object_set_new(e, "train_penalty", json_real(p->train_penalty));
    json_array_append_new(ls->epochs, e);
    char pen[48] = "";
    if (p->train_penalty != 0)
        snprintf(pen, sizeof pen, "  penalty %.4g", p->train_penalty);
    if (!ls->quiet) {
        if (isnan(p->val_loss))
            fprintf(stderr, "epoch %3d/%d  loss %.4f  acc %.3f  lr %.2e  %.1fs%s\n", p->epoch, p->epochs, p->train_loss,
                    p->train_acc, p->lr, p->elapsed_s, pen);
        else
            fprintf(stderr, "epoch %3d/%d  loss %.4f  acc %.3f  val_loss %.4f  val_acc %.3f  lr %.2e  %.1fs%s%s\n",
                    p->epoch, p->epochs, p->train_loss, p->train_acc, p->val_loss, p->val_acc, p->lr, p->elapsed_s,
                    pen, p->improved ? "  *" : "");
    }
}

static const char *guide_name(xai_guide_kind k)
{
    return k == XAI_GUIDE_RRR ? "rrr" : k == XAI_GUIDE_LRP ? "lrp" : "rrclarc";
}

json_t *xai_train_provenance(const xai_train_origin *org, const xai_train_config *cfg, const xai_train_result *res)
{
    json_t *prov = json_object();
    json_object_set_new(prov, "tool", json_string(org->prog));
    json_object_set_new(prov, "arch", json_string(org->arch ? org->arch : ""));
    json_object_set_new(prov, "init", json_string(org->init ? org->init : ""));
    json_object_set_new(prov, "seed", json_integer((json_int_t)cfg->seed));
    json_object_set_new(prov, "epochs_run", json_integer(res->epochs_run));
    json_object_set_new(prov, "best_epoch", json_integer(res->best_epoch));
    json_object_set_new(prov, "final_train_loss", json_real(res->final_train_loss));
    json_object_set_new(prov, "final_train_acc", json_real(res->final_train_acc));
    /* the kept weights' training accuracy is the one to set beside best_val_acc */
    json_object_set_new(prov, "kept_train_loss", json_real(res->kept_train_loss));
    json_object_set_new(prov, "kept_train_acc", json_real(res->kept_train_acc));
    json_object_set_new(prov, "best_val_loss", isnan(res->best_val_loss) ? json_null() : json_real(res->best_val_loss));
    json_object_set_new(prov, "best_val_acc", isnan(res->best_val_acc) ? json_null() : json_real(res->best_val_acc));
    json_object_set_new(prov, "n_train", json_integer(res->n_train));
    json_object_set_new(prov, "n_val", json_integer(res->n_val));
    json_object_set_new(prov, "optimizer", json_string(cfg->optimizer == XAI_OPT_SGD     ? "sgd"
                                                       : cfg->optimizer == XAI_OPT_ADAMW ? "adamw"
                                                                                         : "adam"));
    json_object_set_new(prov, "lr", json_real(cfg->lr));
    json_object_set_new(prov, "batch", json_integer(cfg->batch));
    if (org->guide != XAI_GUIDE_NONE) {
        json_object_set_new(prov, "guide", json_string(guide_name(org->guide)));
        json_object_set_new(prov, "guide_lambda", json_real(org->guide_lambda));
        json_object_set_new(prov, "final_train_penalty", json_real(res->final_train_penalty));
    }
    return prov;
}

/* --classes as the card's JSON array of names; one per output. */
static int set_class_names(const xai_app *app, xai_model *m, const char *classes, int64_t nc)
{
    json_t *arr = json_array();
    char *dup = strdup(classes), *save = NULL;
    for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save))
        json_array_append_new(arr, json_string(t));
    free(dup);
    int rc = 0;
    if ((int64_t)json_array_size(arr) != nc) {
        rc = xai_app_usage_error(app, "--classes needs one name per class");
    } else {
        char *s = json_dumps(arr, JSON_COMPACT);
        xai_model_set_metadata(m, "class_names", s);
        free(s);
    }
    json_decref(arr);
    return rc;
}

int xai_train_set_metadata(const xai_app *app, xai_model *m, const json_t *prov, const char *arch,
                           const char *classes, const char *layout, const char *pretext)
{
    char *provs = json_dumps(prov, JSON_COMPACT | JSON_SORT_KEYS);
    xai_model_set_metadata(m, "xai_training", provs);
    free(provs);
    if (arch)
        xai_model_set_metadata(m, "xai_arch", arch);
    if (classes && set_class_names(app, m, classes, xai_model_output_numel(m)) != 0)
        return XAI_EXIT_USAGE;
    int nd;
    const int64_t *ms = xai_model_input_shape(m, &nd);
    char a[256], buf[512];
    xai_shape_str(nd, ms, a, sizeof a);
    snprintf(buf, sizeof buf, "%s%s%s", a, layout ? " " : "", layout ? layout : "");
    xai_model_set_metadata(m, "input_layout", buf);
    xai_model_set_metadata(m, "xai_preprocessing", pretext ? pretext : "{}");
    return 0;
}
