/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-audio.c - libFuzzer target for the audio reader (xai_audio_load_mem, libsndfile
 * virtual I/O) followed by a small STFT/ISTFT of what was decoded.
 * Any input must give a status, never a crash, hang or huge allocation.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "xai/audio.h"
#include "xai/spectrogram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xai_audio a;
    if (xai_audio_load_mem(data, size, "fuzz.wav", &a) != XAI_OK)
        return 0;
    volatile float sink = 0;
    size_t n = (size_t)a.info.channels * (size_t)a.info.frames;
    for (size_t i = 0; i < n; i++)
        sink += a.data[i]; /* touch every sample: the count must match the allocation */
    (void)sink;
    int64_t T = a.info.frames < 4096 ? a.info.frames : 4096;
    xai_stft_config c = {64, 48, 16, XAI_WINDOW_HANN, 1, XAI_PAD_REFLECT, 0, XAI_STFT_SCALE_NONE};
    xai_stft *s;
    if (T > 0 && xai_stft_new(&c, &s) == XAI_OK) {
        int64_t F = xai_stft_frames(s, T);
        float *z = malloc(sizeof(float) * 2 * 33 * (size_t)F), *y = malloc(sizeof(float) * (size_t)T);
        if (z && y && xai_stft_forward(s, a.data, T, z, F) == XAI_OK)
            xai_stft_inverse(s, z, F, y, T);
        free(z);
        free(y);
        xai_stft_free(s);
    }
    xai_audio_free(&a);
    return 0;
}
