/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-speech-record.c - the speech domain's two parsers of untrusted text: the spectrogram
 * pipeline record a model carries (xai_speech_pre_from_json; when accepted, the pipeline is
 * built and run on a short tone, as explain does), and a labels CSV (the same bytes written
 * to a temporary file and read by xai_speech_files_label with a speaker lookup after it).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xai/domain-speech.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run_pipeline(const xai_speech_pre *p)
{
    /* keep the work bounded: small windows only */
    if (p->spec.fixed_length > 48000 || (int64_t)p->rows * p->frames > 1 << 16)
        return;
    xai_speech_ctx c = {0};
    if (xai_speech_ctx_init(&c, p) != XAI_OK)
        return;
    int64_t n = p->spec.fixed_length;
    float *sig = calloc((size_t)n, sizeof(float)), *feat = malloc(sizeof(float) * (size_t)p->rows * (size_t)p->frames);
    if (sig && feat) {
        for (int64_t t = 0; t < n; t++)
            sig[t] = (float)(0.3 * sin(0.7 * (double)t));
        (void)xai_speech_features(&c, sig, feat);
    }
    free(sig);
    free(feat);
    xai_speech_ctx_free(&c);
}

static void labels_csv(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/fuzz-speech-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(path);
        return;
    }
    fwrite(data, 1, size, f);
    fclose(f);
    xai_speech_files files = {0};
    if (xai_speech_files_add(&files, path) == XAI_OK && xai_speech_files_label(&files, path, "label") >= 0)
        (void)xai_speech_files_group(&files);
    xai_speech_files_free(&files);
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    xai_speech_pre p;
    if (xai_speech_pre_from_json(text, &p) == XAI_OK)
        run_pipeline(&p);
    free(text);
    labels_csv(data, size);
    return 0;
}
