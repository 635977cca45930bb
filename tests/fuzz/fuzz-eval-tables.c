/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-eval-tables.c - libFuzzer target for the readers of the evaluation tables
 * (formats/eval-read.c), which xai-evaluate --merge runs on each method's folder. The input,
 * cut at form feeds into up to three parts, is written as metrics.tsv, metrics_samples.tsv
 * and mprt.tsv, and as aopc.tsv, curves.tsv and aopc_samples.tsv. Whatever is read is
 * written again, which indexes every array the reader filled (a figure may still refuse
 * values without a finite point: that is a status, not a crash).
 */
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xai/eval-write.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(p, 1, n, f);
        fclose(f);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[64], out[96];
    if (!dir[0]) {
        strcpy(dir, "/tmp/xai-fuzz-evaltab-XXXXXX");
        if (!mkdtemp(dir))
            return 0;
        snprintf(out, sizeof out, "%s/out", dir);
        mkdir(out, 0700);
    }
    static const char *const names[2][3] = {{"metrics.tsv", "metrics_samples.tsv", "mprt.tsv"},
                                            {"aopc.tsv", "curves.tsv", "aopc_samples.tsv"}};
    size_t start = 0;
    for (int part = 0; part < 3; part++) {
        size_t end = start;
        while (end < size && (part == 2 || data[end] != '\f'))
            end++;
        for (int k = 0; k < 2; k++)
            put(dir, names[k][part], data + start, end - start);
        start = end < size ? end + 1 : size;
    }
    xai_eval_scores sc;
    if (xai_evalout_read_metrics(dir, "m", &sc) == XAI_OK) {
        xai_evalout_method om = {"m", &sc};
        xai_evalout_write(out, &om, 1, NULL);
        xai_eval_scores_free(&sc);
    }
    xai_aopc_sweep sw;
    if (xai_evalout_read_aopc(dir, &sw) == XAI_OK) {
        xai_perturb_config pc;
        xai_perturb_config_init(&pc);
        xai_evalout_aopc(out, &sw, &pc, 3, NULL);
        xai_aopc_sweep_free(&sw);
    }
    cairo_debug_reset_static_data(); /* the font caches of the figures, for LeakSanitizer */
    FcFini();
    return 0;
}
