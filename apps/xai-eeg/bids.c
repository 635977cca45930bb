/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bids.c - xai-eeg as a BIDS App: the participant level's recordings (through the BIDS
 * walker) and the group level (formats/domain/eeg-group.c).
 */
#include <stdlib.h>
#include <string.h>

#include "eeg-app.h"
#include "xai/bids-walk.h"

/* one input of the walk: the recording and OUT_DIR/<its folder below the root> */
static int add_input(opts *o, const xai_bids_file *f)
{
    const char *slash = strrchr(f->relpath, '/');
    int dirlen = slash ? (int)(slash - f->relpath) : 0;
    char **ni = realloc(o->inputs, (size_t)(o->ninputs + 1) * sizeof *ni);
    if (ni)
        o->inputs = ni;
    char **no = ni ? realloc(o->outdirs, (size_t)(o->ninputs + 1) * sizeof *no) : NULL;
    if (no)
        o->outdirs = no;
    if (!ni || !no)
        return -1;
    o->inputs[o->ninputs] = xai_app_strdup_printf("%s", f->path);
    o->outdirs[o->ninputs] = xai_app_strdup_printf("%s/%.*s", o->output, dirlen, f->relpath);
    o->ninputs++;
    return o->inputs[o->ninputs - 1] && o->outdirs[o->ninputs - 1] ? 0 : -1;
}

/* a --participant-label that names no sub-* folder is worth a warning, not an error */
static void warn_missing_labels(xai_app *app, const opts *o)
{
    char **subs = NULL;
    size_t nsub = 0;
    if (!o->nlabels || xai_bids_participants(o->bids_dir, &subs, &nsub) != XAI_OK)
        return;
    for (int i = 0; i < o->nlabels; i++) {
        int found = 0;
        for (size_t k = 0; k < nsub; k++)
            found |= strcmp(subs[k], o->labels[i]) == 0;
        if (!found)
            xai_app_log(app, 1, "warning: no participant sub-%s in %s", o->labels[i], o->bids_dir);
    }
    for (size_t k = 0; k < nsub; k++)
        xai_free(subs[k]);
    xai_free(subs);
}

/* sub-<label>/[ses-<label>/]eeg/<name>: the layout of a raw EEG recording. The walk is plain
 * and this decides, because many EEG datasets leave the ses- entity out of names inside a
 * session folder, which a strict BIDS walk skips. */
static int eeg_relpath(const char *rel)
{
    const char *slash = strrchr(rel, '/');
    int depth = 0;
    for (const char *c = rel; *c; c++)
        depth += *c == '/';
    if (strncmp(rel, "sub-", 4) != 0 || !slash || slash - rel < 4 || strncmp(slash - 4, "/eeg", 4) != 0)
        return 0;
    if (depth == 2)
        return 1;
    const char *ses = strchr(rel, '/') + 1;
    return depth == 3 && strncmp(ses, "ses-", 4) == 0;
}

/* every such recording (*_eeg.edf|bdf|vhdr) of the selected participants, in name order */
int eeg_bids_collect(xai_app *app, opts *o)
{
    static const char *const sfx[] = {"eeg"}, *const ext[] = {".edf", ".bdf", ".vhdr"};
    xai_bids_walk_opts w = {.layout = XAI_WALK_PLAIN, .suffixes = sfx, .nsuffixes = 1, .max_depth = 4,
                            .extensions = ext, .nextensions = 3, .participants = (const char *const *)o->labels,
                            .nparticipants = o->nlabels, .tasks = o->task ? &o->task : NULL, .ntasks = o->task != NULL};
    xai_bids_list l;
    if (xai_bids_walk(o->bids_dir, &w, &l) != XAI_OK)
        return xai_app_fail(app, NULL, "%s", xai_last_error());
    warn_missing_labels(app, o);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < l.n; i++)
        if (eeg_relpath(l.files[i].relpath))
            rc = add_input(o, &l.files[i]);
    xai_bids_list_free(&l);
    if (rc != 0)
        return xai_app_fail(app, NULL, "out of memory");
    if (o->ninputs == 0)
        return xai_app_fail(app, o->bids_dir, "no EEG recordings (sub-*/[ses-*/]eeg/*_eeg.edf|bdf|vhdr)%s%s",
                            o->task ? " for task " : "", o->task ? o->task : "");
    xai_app_log(app, 2, "%d recordings", o->ninputs);
    return XAI_EXIT_OK;
}

/* every participant table into the group sums; in-sample maps are left out, with a warning */
static int group_collect(xai_app *app, const opts *o, xai_eeg_group *g, int *n)
{
    char **files = NULL;
    size_t nf = 0;
    int rc = XAI_EXIT_OK;
    if (xai_eeg_group_find(o->output, "lrp", &files, &nf) != XAI_OK)
        return xai_app_fail(app, NULL, "%s", xai_last_error());
    if (nf == 0)
        rc = xai_app_fail(app, o->output, "no participant outputs (*_desc-lrp_channels.tsv); run the participant "
                          "level first");
    for (size_t f = 0; rc == XAI_EXIT_OK && f < nf; f++) {
        int left_out = 0;
        if (xai_eeg_group_add(g, files[f], &left_out) != XAI_OK)
            rc = xai_app_fail(app, NULL, "%s", xai_last_error());
        else if (left_out)
            xai_app_log(app, 0, "warning: %s: maps of a model trained on this recording's group: left out of the "
                        "group mean", files[f]);
    }
    for (size_t f = 0; f < nf; f++)
        free(files[f]);
    free(files);
    *n = (int)nf;
    if (rc == XAI_EXIT_OK && (xai_eeg_group_nchannels(g) == 0 || xai_eeg_group_nclasses(g) == 0))
        rc = xai_app_fail(app, o->output, "the channel tables hold no out-of-sample relevance_<class> columns");
    return rc;
}

/* group level: OUT_DIR/group_desc-lrp_channels.tsv and _topomap.png, each with a sidecar */
int eeg_run_group(xai_app *app, opts *o)
{
    xai_eeg_group *g = NULL;
    char *tsv = xai_app_strdup_printf("%s/group_desc-lrp_channels.tsv", o->output), *js = NULL;
    char *png = xai_app_strdup_printf("%s/group_desc-lrp_topomap.png", o->output);
    int n = 0, rc = !tsv || !png || xai_eeg_group_new(&g) != XAI_OK ? xai_app_fail(app, NULL, "out of memory")
                                                                    : group_collect(app, o, g, &n);
    if (rc == XAI_EXIT_OK && (xai_app_check_output(app, tsv) != 0 || (o->figures && xai_app_check_output(app, png))))
        rc = XAI_EXIT_USAGE;
    if (rc == XAI_EXIT_OK && (xai_eeg_group_write(g, tsv, o->figures ? png : NULL) != XAI_OK ||
                              xai_eeg_group_sidecar(g, &js) != XAI_OK))
        rc = xai_app_fail(app, NULL, "%s", xai_last_error());
    if (rc == XAI_EXIT_OK && (xai_app_write_sidecar(app, tsv, js) != 0 ||
                              (o->figures && xai_app_write_sidecar(app, png, js) != 0)))
        rc = XAI_EXIT_DATA;
    if (rc == XAI_EXIT_OK)
        xai_app_log(app, 1, "group: %d recordings, %d channels, %d classes -> %s", n, xai_eeg_group_nchannels(g),
                    xai_eeg_group_nclasses(g), tsv);
    free(js);
    xai_eeg_group_free(g);
    free(tsv);
    free(png);
    return rc;
}
