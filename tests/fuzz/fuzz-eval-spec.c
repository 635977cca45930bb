/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-eval-spec.c - libFuzzer target for the evaluation's text parsers: the input is a
 * metric list (xai_metric_parse_list), a patch spec (xai_perturb_patch_parse), an order and
 * a replacement name. A patch spec that parses is then used to cut a small shape into patches
 * and to run ROAD imputation on it with the fuzz bytes as the removal mask.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xai/eval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    uint32_t set;
    xai_perturb_order o;
    xai_replace_mode r;
    (void)xai_metric_parse_list(s, &set);
    (void)xai_perturb_order_parse(s, &o);
    (void)xai_replace_parse(s, &r);
    xai_perturb_config c;
    xai_perturb_config_init(&c);
    if (xai_perturb_patch_parse(s, &c) == XAI_OK && c.patch_ndim <= 3) {
        const int64_t shape[3] = {3, 5, 7};
        int64_t np = 0, of[105];
        if (xai_perturb_patches(3, shape, &c, of, &np) == XAI_OK) {
            float x[105], out[105];
            unsigned char rm[105];
            for (int i = 0; i < 105; i++) {
                x[i] = (float)(i % 11) - 5.0f;
                rm[i] = (unsigned char)(size ? data[i % size] & 1 : 0);
            }
            (void)xai_road_impute(3, shape, (unsigned)(size ? data[0] & 7 : 0), x, rm, 0.1, 1, 0, out);
        }
    }
    free(s);
    return 0;
}
