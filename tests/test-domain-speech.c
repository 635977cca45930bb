/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-domain-speech.c - the speech domain (xai/domain-speech.h): the pipeline record and its
 * round trip, malformed records, clip loading and embedding, level-invariant features, band
 * normalisation (CMN, CMVN), PCEN and the mel band count, the
 * file's time axis, labels and speakers from names, folders and labels.csv, error statuses.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test-common.h"
#include "xai/audio.h"
#include "xai/domain-speech.h"

static char *tmp;

static void setup(void)
{
    tmp = xai_test_tmpdir();
}

static void teardown(void)
{
    xai_test_rmtree(tmp);
    free(tmp);
}

/* A @p seconds sine of @p hz at amplitude @p amp and @p rate, written to DIR/name. */
static char *write_tone(const char *name, double hz, double amp, double seconds, int rate)
{
    char *path = malloc(strlen(tmp) + strlen(name) + 2);
    sprintf(path, "%s/%s", tmp, name);
    int64_t n = (int64_t)(seconds * rate);
    float *x = malloc(sizeof(float) * (size_t)n);
    for (int64_t t = 0; t < n; t++)
        x[t] = (float)(amp * sin(2 * M_PI * hz * (double)t / rate));
    ck_assert_int_eq(xai_audio_save(path, x, 1, n, rate, XAI_AUDIO_WAV_FLOAT), XAI_OK);
    free(x);
    return path;
}

START_TEST(preset_and_record_round_trip)
{
    xai_speech_pre p, q;
    ck_assert_int_eq(xai_speech_pre_preset("compact", 1.0, &p), XAI_OK);
    ck_assert_int_eq(p.rows, 40);
    ck_assert_int_eq(p.frames, 63);
    ck_assert_int_eq(p.spec.sample_rate, 8000);
    ck_assert_int_eq(p.spec.fixed_length, 8000);
    char *a = xai_speech_pre_to_json(&p);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(xai_speech_pre_from_json(a, &q), XAI_OK);
    char *b = xai_speech_pre_to_json(&q);
    ck_assert_str_eq(a, b); /* the record is a fixed point */
    ck_assert_int_eq(q.rows, p.rows);
    ck_assert_int_eq(q.frames, p.frames);
    ck_assert_str_eq(q.preset, "compact");
    free(a);
    free(b);
    ck_assert_int_eq(xai_speech_pre_preset("audiomnist", 3.0, &p), XAI_OK);
    ck_assert_int_eq(p.rows, 227);
    ck_assert_int_eq(p.frames, 227);
    ck_assert_int_eq(xai_speech_pre_preset("nosuch", 1.0, &p), XAI_EINVAL);
    ck_assert_int_eq(xai_speech_pre_preset("compact", 0.0, &p), XAI_EINVAL);
}
END_TEST

START_TEST(malformed_records)
{
    xai_speech_pre p;
    ck_assert_int_eq(xai_speech_pre_from_json("not json", &p), XAI_EFORMAT);
    ck_assert_int_eq(xai_speech_pre_from_json("{}", &p), XAI_EFORMAT);
    ck_assert_int_eq(xai_speech_pre_from_json(NULL, &p), XAI_EFORMAT);
    xai_speech_pre ok;
    ck_assert_int_eq(xai_speech_pre_preset("compact", 1.0, &ok), XAI_OK);
    char *a = xai_speech_pre_to_json(&ok);
    /* a record whose mel count disagrees with its stated input shape is refused */
    char *m = strstr(a, "\"n_mels\":40");
    ck_assert_ptr_nonnull(m);
    m[10] = '1';
    ck_assert_int_eq(xai_speech_pre_from_json(a, &p), XAI_EFORMAT);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "xai_preprocessing"));
    free(a);
}
END_TEST

START_TEST(load_embeds_and_resamples)
{
    xai_speech_pre p;
    ck_assert_int_eq(xai_speech_pre_preset("compact", 1.0, &p), XAI_OK);
    xai_speech_ctx c = {0};
    ck_assert_int_eq(xai_speech_ctx_init(&c, &p), XAI_OK);
    float *sig = malloc(sizeof(float) * 8000);
    int64_t start, len, frames;
    int rate;
    char *half = write_tone("half.wav", 1000, 0.5, 0.5, 8000);
    ck_assert_int_eq(xai_speech_load(&c, half, sig, &start, &len, &rate, &frames), XAI_OK);
    ck_assert_int_eq(start, 2000); /* centred: (8000 - 4000) / 2 */
    ck_assert_int_eq(len, 4000);
    ck_assert_int_eq(rate, 8000);
    ck_assert_int_eq(frames, 4000);
    ck_assert(sig[0] == 0.0f && sig[1999] == 0.0f && sig[6000] == 0.0f);
    ck_assert_double_eq_tol(sig[2002], 0.5 * sin(2 * M_PI * 1000 * 2 / 8000.0), 1e-6);
    /* a longer clip at 16 kHz: resampled to 8 kHz, its first second kept */
    char *lng = write_tone("long.wav", 500, 0.5, 2.0, 16000);
    ck_assert_int_eq(xai_speech_load(&c, lng, sig, &start, &len, &rate, &frames), XAI_OK);
    ck_assert_int_eq(start, 0);
    ck_assert_int_eq(len, 8000);
    ck_assert_int_eq(rate, 16000);
    ck_assert_int_eq(frames, 32000);
    /* not audio, and a missing file: statuses with the path in the message */
    char bad[4096];
    snprintf(bad, sizeof bad, "%s/bad.wav", tmp);
    FILE *f = fopen(bad, "w");
    fputs("this is not audio", f);
    fclose(f);
    ck_assert_int_ne(xai_speech_load(&c, bad, sig, NULL, NULL, NULL, NULL), XAI_OK);
    ck_assert_int_ne(xai_speech_load(&c, "/nonexistent/x.wav", sig, NULL, NULL, NULL, NULL), XAI_OK);
    free(half);
    free(lng);
    free(sig);
    xai_speech_ctx_free(&c);
}
END_TEST

/* Per-clip level normalisation: features relative to the clip's maximum do not depend on the
 * recording level; a louder tone in one band is found in that band. */
START_TEST(features_are_level_invariant)
{
    xai_speech_pre p;
    ck_assert_int_eq(xai_speech_pre_preset("compact", 1.0, &p), XAI_OK);
    xai_speech_ctx c = {0};
    ck_assert_int_eq(xai_speech_ctx_init(&c, &p), XAI_OK);
    const size_t nf = (size_t)p.rows * (size_t)p.frames;
    float *sig = malloc(sizeof(float) * 8000), *a = malloc(sizeof(float) * nf), *b = malloc(sizeof(float) * nf);
    char *loud = write_tone("loud.wav", 2000, 0.5, 0.5, 8000), *soft = write_tone("soft.wav", 2000, 0.005, 0.5, 8000);
    ck_assert_int_eq(xai_speech_load(&c, loud, sig, NULL, NULL, NULL, NULL), XAI_OK);
    ck_assert_int_eq(xai_speech_features(&c, sig, a), XAI_OK);
    ck_assert_int_eq(xai_speech_load(&c, soft, sig, NULL, NULL, NULL, NULL), XAI_OK);
    ck_assert_int_eq(xai_speech_features(&c, sig, b), XAI_OK);
    double maxdiff = 0, mx = 0;
    int best = 0;
    for (size_t i = 0; i < nf; i++) {
        ck_assert(a[i] >= 0 && a[i] <= 1);
        maxdiff = fmax(maxdiff, fabs(a[i] - b[i]));
    }
    ck_assert_msg(maxdiff < 1e-4, "features differ by %g between levels 0.5 and 0.005", maxdiff);
    for (int r = 0; r < p.rows; r++) /* the row with the most energy in the clip's middle frame */
        if (a[(size_t)r * (size_t)p.frames + 31] > mx) {
            mx = a[(size_t)r * (size_t)p.frames + 31];
            best = r;
        }
    ck_assert_double_eq_tol(mx, 1.0, 1e-5);
    ck_assert(fabs(xai_speech_row_hz(&p, best) - 2000) < 150);
    free(loud);
    free(soft);
    free(sig);
    free(a);
    free(b);
    xai_speech_ctx_free(&c);
}
END_TEST

/* Band normalisation (CMN, CMVN in the log-mel domain): each row's mean over the clip is 0,
 * CMVN's deviation 1 (or its floor); every value lies in xai_speech_feature_range(); the level
 * still cancels; a tone half a clip long stands out in its band; the record keeps the choice. */
START_TEST(band_normalised_features)
{
    ck_assert_int_eq(xai_speech_norm_from_name("clip"), XAI_SPEECH_NORM_CLIP);
    ck_assert_int_eq(xai_speech_norm_from_name("cmn"), XAI_SPEECH_NORM_CMN);
    ck_assert_int_eq(xai_speech_norm_from_name("cmvn"), XAI_SPEECH_NORM_CMVN);
    ck_assert_int_eq(xai_speech_norm_from_name("band"), -1);
    ck_assert_int_eq(xai_speech_norm_from_name(NULL), -1);
    char *loud = write_tone("loud.wav", 2000, 0.5, 0.5, 8000), *soft = write_tone("soft.wav", 2000, 0.005, 0.5, 8000);
    for (int norm = XAI_SPEECH_NORM_CMN; norm <= XAI_SPEECH_NORM_CMVN; norm++) {
        xai_speech_pre p, q;
        ck_assert_int_eq(xai_speech_pre_preset("compact", 1.0, &p), XAI_OK);
        p.norm = norm;
        char *a = xai_speech_pre_to_json(&p);
        ck_assert_int_eq(xai_speech_pre_from_json(a, &q), XAI_OK);
        ck_assert_int_eq(q.norm, norm);
        free(a);
        float lo, hi;
        xai_speech_feature_range(&p, &lo, &hi);
        ck_assert_float_eq_tol(hi, norm == XAI_SPEECH_NORM_CMN ? 1.0f : sqrtf(62.0f), 1e-6f);
        ck_assert_float_eq(lo, -hi);
        xai_speech_ctx c = {0};
        ck_assert_int_eq(xai_speech_ctx_init(&c, &p), XAI_OK);
        const int64_t T = p.frames;
        const size_t nf = (size_t)p.rows * (size_t)T;
        float *sig = malloc(sizeof(float) * 8000), *f = malloc(sizeof(float) * nf), *g = malloc(sizeof(float) * nf);
        ck_assert_int_eq(xai_speech_load(&c, loud, sig, NULL, NULL, NULL, NULL), XAI_OK);
        ck_assert_int_eq(xai_speech_features(&c, sig, f), XAI_OK);
        ck_assert_int_eq(xai_speech_load(&c, soft, sig, NULL, NULL, NULL, NULL), XAI_OK);
        ck_assert_int_eq(xai_speech_features(&c, sig, g), XAI_OK);
        int best = 0;
        for (int r = 0; r < p.rows; r++) {
            const float *v = f + (size_t)r * (size_t)T;
            double m = 0, ss = 0;
            for (int64_t t = 0; t < T; t++) {
                ck_assert(v[t] >= lo && v[t] <= hi);
                ck_assert_float_eq_tol(v[t], g[(size_t)r * (size_t)T + (size_t)t], 1e-3f);
                m += v[t];
            }
            m /= (double)T;
            for (int64_t t = 0; t < T; t++)
                ss += (v[t] - m) * (v[t] - m);
            ck_assert_double_eq_tol(m, 0.0, 1e-5);
            if (norm == XAI_SPEECH_NORM_CMVN) /* 1, or below 1 where the 1 dB floor applied */
                ck_assert(sqrt(ss / (double)T) < 1.0 + 1e-4);
            if (f[(size_t)r * (size_t)T + 31] > f[(size_t)best * (size_t)T + 31])
                best = r;
        }
        ck_assert(fabs(xai_speech_row_hz(&p, best) - 2000) < 150);
        if (norm == XAI_SPEECH_NORM_CMVN) { /* the tone's band: on for 0.5 of the 1 s, so its z is +-1 */
            ck_assert_float_eq_tol(f[(size_t)best * (size_t)T + 31], 1.0f, 0.1f);
            ck_assert_float_eq_tol(f[(size_t)best * (size_t)T + 2], -1.0f, 0.1f);
        }
        free(sig);
        free(f);
        free(g);
        xai_speech_ctx_free(&c);
    }
    free(loud);
    free(soft);
}
END_TEST

/* PCEN: within its stated range, level-invariant (the power is taken re the clip's maximum),
 * and an onset detector: in the tone's band the largest value comes at the tone's start, the
 * steady tone stays above the silence around it, and the record keeps the choice. */
START_TEST(pcen_features)
{
    xai_speech_pre p, q;
    ck_assert_int_eq(xai_speech_norm_from_name("pcen"), XAI_SPEECH_NORM_PCEN);
    ck_assert_int_eq(xai_speech_pre_preset("compact", 1.0, &p), XAI_OK);
    p.norm = XAI_SPEECH_NORM_PCEN;
    char *a = xai_speech_pre_to_json(&p);
    ck_assert_int_eq(xai_speech_pre_from_json(a, &q), XAI_OK);
    ck_assert_int_eq(q.norm, XAI_SPEECH_NORM_PCEN);
    free(a);
    float lo, hi;
    xai_speech_feature_range(&p, &lo, &hi);
    ck_assert_float_eq(lo, 0.0f);
    ck_assert(hi > 1.0f && hi < 10.0f);
    xai_speech_ctx c = {0};
    ck_assert_int_eq(xai_speech_ctx_init(&c, &p), XAI_OK);
    const int64_t T = p.frames;
    const size_t nf = (size_t)p.rows * (size_t)T;
    float *sig = malloc(sizeof(float) * 8000), *f = malloc(sizeof(float) * nf), *g = malloc(sizeof(float) * nf);
    char *loud = write_tone("loud.wav", 2000, 0.5, 0.5, 8000), *soft = write_tone("soft.wav", 2000, 0.005, 0.5, 8000);
    ck_assert_int_eq(xai_speech_load(&c, loud, sig, NULL, NULL, NULL, NULL), XAI_OK);
    ck_assert_int_eq(xai_speech_features(&c, sig, f), XAI_OK);
    ck_assert_int_eq(xai_speech_load(&c, soft, sig, NULL, NULL, NULL, NULL), XAI_OK);
    ck_assert_int_eq(xai_speech_features(&c, sig, g), XAI_OK);
    int best = 0;
    for (size_t i = 0; i < nf; i++) {
        ck_assert(f[i] >= lo && f[i] <= hi);
        ck_assert_float_eq_tol(f[i], g[i], 1e-4f);
        if (f[i] > f[(size_t)best * (size_t)T + 31] && (int64_t)(i % (size_t)T) == 31)
            best = (int)(i / (size_t)T);
    }
    ck_assert(fabs(xai_speech_row_hz(&p, best) - 2000) < 150);
    const float *v = f + (size_t)best * (size_t)T; /* the tone fills 0.25-0.75 s: frames ~16-47 */
    int64_t argmax = 0;
    for (int64_t t = 0; t < T; t++)
        argmax = v[t] > v[argmax] ? t : argmax;
    ck_assert_msg(argmax >= 15 && argmax <= 18, "PCEN peak at frame %lld, not at the onset", (long long)argmax);
    ck_assert(v[31] < v[argmax] && v[31] > 2 * v[5] && v[31] > 2 * v[58]);
    free(loud);
    free(soft);
    free(sig);
    free(f);
    free(g);
    xai_speech_ctx_free(&c);
}
END_TEST

/* --mels: a mel preset takes another band count; a linear one has none to change. */
START_TEST(mel_band_count)
{
    xai_speech_pre p;
    ck_assert_int_eq(xai_speech_pre_preset("compact", 1.0, &p), XAI_OK);
    ck_assert_int_eq(xai_speech_pre_set_mels(&p, 64), XAI_OK);
    ck_assert_int_eq(p.rows, 64);
    ck_assert_int_eq(p.frames, 63);
    ck_assert_int_eq(xai_speech_pre_set_mels(&p, 0), XAI_EINVAL);
    ck_assert_int_eq(xai_speech_pre_preset("audiomnist", 1.0, &p), XAI_OK);
    ck_assert_int_eq(xai_speech_pre_set_mels(&p, 40), XAI_EINVAL);
}
END_TEST

START_TEST(axes_in_seconds_and_hz)
{
    xai_speech_pre p;
    ck_assert_int_eq(xai_speech_pre_preset("compact", 1.0, &p), XAI_OK);
    /* centred frames, hop 128 at 8 kHz: frame j at 128 j samples of the window */
    ck_assert_double_eq_tol(xai_speech_col_s(&p, 10, 0), 0.16, 1e-12);
    /* the file's axis: 2000 samples of padding before the clip put frame 0 at -0.25 s */
    ck_assert_double_eq_tol(xai_speech_col_s(&p, 0, 2000), -0.25, 1e-12);
    ck_assert_double_eq_tol(xai_speech_col_s(&p, 25, 2000), 0.15, 1e-12);
    double prev = 0;
    for (int r = 0; r < p.rows; r++) {
        double hz = xai_speech_row_hz(&p, r);
        ck_assert(hz > prev && hz < 4000);
        prev = hz;
    }
}
END_TEST

static int notes;
static void count_note(void *ud, const char *file, const char *msg)
{
    (void)ud;
    (void)file;
    ck_assert_ptr_nonnull(msg);
    notes++;
}

START_TEST(labels_and_speakers)
{
    char dir[4096], sub[4096];
    snprintf(dir, sizeof dir, "%s/clips", tmp);
    snprintf(sub, sizeof sub, "%s/clips/anna", tmp);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    free(write_tone("clips/3_theo_0.wav", 440, 0.3, 0.2, 8000));
    free(write_tone("clips/7_jackson_12.wav", 440, 0.3, 0.2, 8000));
    free(write_tone("clips/anna/5.wav", 440, 0.3, 0.2, 8000));
    free(write_tone("clips/unnamed.wav", 440, 0.3, 0.2, 8000));
    xai_speech_files f = {0};
    f.note = count_note;
    notes = 0;
    ck_assert_int_eq(xai_speech_files_add(&f, dir), XAI_OK);
    ck_assert_int_eq(f.n, 4);
    ck_assert_int_eq(xai_speech_files_label(&f, "digit", NULL), 1); /* unnamed.wav has no digit */
    ck_assert_int_eq(notes, 1);
    ck_assert_int_eq(f.n, 3);
    ck_assert_int_eq(xai_speech_files_group(&f), XAI_OK);
    int seen = 0;
    for (int i = 0; i < f.n; i++) {
        if (strstr(f.path[i], "3_theo_0")) {
            ck_assert_str_eq(f.label[i], "3");
            ck_assert_str_eq(f.group[i], "theo");
            seen |= 1;
        } else if (strstr(f.path[i], "7_jackson")) {
            ck_assert_str_eq(f.group[i], "jackson");
            seen |= 2;
        } else {
            ck_assert_str_eq(f.label[i], "5");
            ck_assert_str_eq(f.group[i], "anna"); /* the folder when the name has no speaker */
            seen |= 4;
        }
    }
    ck_assert_int_eq(seen, 7);
    xai_speech_files_free(&f);
    /* a labels.csv speaker column wins over the name */
    char csv[4096 + 16];
    snprintf(csv, sizeof csv, "%s/labels.csv", dir);
    FILE *c = fopen(csv, "w");
    fputs("file,digit,speaker\n3_theo_0.wav,3,spk1\n7_jackson_12.wav,7,spk2\n", c);
    fclose(c);
    xai_speech_files g = {0};
    ck_assert_int_eq(xai_speech_files_add(&g, dir), XAI_OK);
    ck_assert_int_eq(xai_speech_files_label(&g, csv, "digit"), 2);
    ck_assert_int_eq(g.n, 2);
    ck_assert_int_eq(xai_speech_files_group(&g), XAI_OK);
    ck_assert_str_eq(g.group[0], "spk1");
    ck_assert_str_eq(g.group[1], "spk2");
    xai_speech_files_free(&g);
    /* a CSV without the column, and a missing input, fail with a status */
    xai_speech_files h = {0};
    ck_assert_int_eq(xai_speech_files_add(&h, dir), XAI_OK);
    ck_assert_int_eq(xai_speech_files_label(&h, csv, "gender"), -1);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "gender"));
    xai_speech_files_free(&h);
    ck_assert_int_eq(xai_speech_files_add(&h, "/nonexistent/dir"), XAI_EIO);
    xai_speech_files_free(&h);
}
END_TEST

/* The study loader: features equal the single-clip path, classes sorted, speakers as groups,
 * an unreadable file noted and skipped, a model's classes imposed (an unknown label -> -1),
 * the clip kind, and a window of the file list. */
START_TEST(study_loader)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/study", tmp);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    free(write_tone("study/3_theo_0.wav", 440, 0.3, 0.5, 8000));
    free(write_tone("study/7_theo_1.wav", 900, 0.3, 0.5, 8000));
    free(write_tone("study/3_anna_0.wav", 600, 0.2, 0.3, 16000));
    char badpath[4200];
    snprintf(badpath, sizeof badpath, "%s/5_anna_1.wav", dir);
    FILE *bad = fopen(badpath, "w");
    fputs("not audio", bad);
    fclose(bad);
    xai_speech_files f = {0};
    f.note = count_note;
    notes = 0;
    ck_assert_int_eq(xai_speech_files_add(&f, dir), XAI_OK);
    ck_assert_int_eq(f.n, 4);
    ck_assert_int_eq(xai_speech_files_label(&f, "digit", NULL), 0);
    xai_speech_pre p;
    ck_assert_int_eq(xai_speech_pre_preset("compact", 1.0, &p), XAI_OK);
    xai_speech_ctx c = {0};
    ck_assert_int_eq(xai_speech_ctx_init(&c, &p), XAI_OK);
    xai_speech_study s;
    ck_assert_int_eq(xai_speech_study_load(&c, &f, NULL, &s), XAI_OK);
    ck_assert_int_eq(s.nfailed, 1);
    ck_assert_int_eq(notes, 1);
    ck_assert_int_eq(s.d.n, 3);
    ck_assert_int_eq(s.d.ndim, 3);
    ck_assert_int_eq(s.d.shape[1], p.rows);
    ck_assert_int_eq(s.d.nclasses, 3); /* 3, 5, 7: the unreadable file's label still names a class */
    ck_assert_str_eq(s.d.class_names[0], "3");
    ck_assert_str_eq(s.d.class_names[2], "7");
    ck_assert_str_eq(s.d.group_kind, "speaker");
    ck_assert_int_eq(s.d.ngroups, 2);
    ck_assert_str_eq(s.d.group_names[0], "anna");
    const int64_t per = (int64_t)p.rows * p.frames;
    float *sig = malloc(sizeof(float) * (size_t)p.spec.fixed_length), *feat = malloc(sizeof(float) * (size_t)per);
    for (int64_t k = 0; k < s.d.n; k++) {
        const int i = s.file[k];
        int64_t start, len;
        ck_assert_int_eq(xai_speech_load(&c, f.path[i], sig, &start, &len, NULL, NULL), XAI_OK);
        ck_assert_int_eq(xai_speech_features(&c, sig, feat), XAI_OK);
        ck_assert_mem_eq(feat, s.d.x + (size_t)k * (size_t)per, sizeof(float) * (size_t)per);
        ck_assert_int_eq(start, s.start[k]);
        ck_assert_int_eq(len, s.len[k]);
        ck_assert_str_eq(s.d.class_names[s.d.y[k]], f.label[i]);
        ck_assert_str_eq(s.d.group_names[s.d.group[k]], f.group[i]);
    }
    xai_speech_study_free(&s);
    /* a model's classes: "7" is not among them; clips as groups; files 2 and 3 of the sorted
     * list (5_anna_1, unreadable, and 7_theo_1) */
    const char *const cls[] = {"3", "9"};
    xai_speech_study_options o = {.classes = cls, .nclasses = 2, .group_kind = "clip", .first = 2, .count = 2};
    notes = 0;
    ck_assert_int_eq(xai_speech_study_load(&c, &f, &o, &s), XAI_OK);
    ck_assert_int_eq(s.d.nclasses, 2);
    ck_assert_str_eq(s.d.group_kind, "clip");
    ck_assert_int_eq(s.d.ngroups, 2);
    int64_t unknown = 0;
    for (int64_t k = 0; k < s.d.n; k++) {
        ck_assert_int_eq(s.file[k], 3);
        unknown += s.d.y[k] < 0;
        ck_assert_int_eq(s.d.group[k], 1);
    }
    ck_assert_int_eq(s.d.n, 1);
    ck_assert_int_eq(s.nfailed, 1);
    ck_assert_int_eq(unknown, 1);
    ck_assert_int_eq(s.nunknown, 1);
    xai_speech_study_free(&s);
    free(sig);
    free(feat);
    xai_speech_ctx_free(&c);
    xai_speech_files_free(&f);
}
END_TEST

/* The truth box of evaluate: known rows and frames of the compact preset (mel rows whose
 * band reaches 2000 +- 62.5 Hz; frames whose 32 ms window meets 0.1-0.3 s), shifted with the
 * clip's start, and the refused boxes. */
START_TEST(box_mask_rows_and_frames)
{
    xai_speech_pre p;
    ck_assert_int_eq(xai_speech_pre_preset("compact", 1.0, &p), XAI_OK);
    const int F = (int)p.frames;
    float *m = malloc(sizeof(float) * (size_t)p.rows * (size_t)F);
    for (int pass = 0; pass < 2; pass++) {
        const int64_t start = pass ? 800 : 0; /* 0.1 s of padding before the file */
        const int j0 = pass ? 12 : 6, j1 = pass ? 25 : 19;
        ck_assert_int_eq(xai_speech_box_mask(&p, start, 0.1, 0.3, 1937.5, 2062.5, m), XAI_OK);
        int n = 0;
        for (int r = 0; r < p.rows; r++)
            for (int j = 0; j < F; j++) {
                int want = r >= 27 && r <= 29 && j >= j0 && j <= j1;
                ck_assert_msg(m[r * F + j] == (want ? 1.0f : 0.0f), "row %d frame %d (start %lld)", r, j,
                              (long long)start);
                n += want;
            }
        ck_assert_int_eq(n, 42);
        /* the rows are the bands whose triangle (neighbour centre to neighbour centre) meets it */
        ck_assert(xai_speech_row_hz(&p, 26) < 2062.5 && xai_speech_row_hz(&p, 30) > 1937.5);
        ck_assert(xai_speech_row_hz(&p, 25) < 1937.5 && xai_speech_row_hz(&p, 31) > 2062.5);
    }
    ck_assert_int_eq(xai_speech_box_mask(&p, 0, 0.3, 0.1, 100, 200, m), XAI_EINVAL);
    ck_assert_int_eq(xai_speech_box_mask(&p, 0, 0.1, 0.3, 200, 100, m), XAI_EINVAL);
    ck_assert_int_eq(xai_speech_box_mask(&p, 0, 0.1, 0.3, 5000, 6000, m), XAI_EINVAL); /* above 4 kHz */
    ck_assert_int_eq(xai_speech_box_mask(&p, 0, 2.0, 3.0, 100, 200, m), XAI_EINVAL);   /* after the clip */
    free(m);
}
END_TEST

/* The band-floor bounds: low = min(x, the row's q quantile over the frames), high = x. Each row
 * holds the frames' values k / (T - 1) * (1 + r) + s (k = 0 .. T-1, in a shuffled order), so its
 * q quantile (GSL's interpolation at q (T - 1)) is q (1 + r) + s. */
START_TEST(floor_bounds_per_band)
{
    xai_speech_pre p;
    ck_assert_int_eq(xai_speech_pre_preset("compact", 1.0, &p), XAI_OK);
    const int T = (int)p.frames, R = p.rows, N = 2, per = R * T;
    ck_assert_int_eq(T, 63); /* 17 is prime to it: t -> 17 t mod T shuffles the frames */
    float *x = malloc(sizeof(float) * (size_t)(N * per)), *lo = malloc(sizeof(float) * (size_t)(N * per));
    float *hi = malloc(sizeof(float) * (size_t)(N * per));
    for (int s = 0; s < N; s++)
        for (int r = 0; r < R; r++)
            for (int t = 0; t < T; t++)
                x[s * per + r * T + t] = (float)(17 * t % T) / (float)(T - 1) * (float)(1 + r) + (float)s;
    static const double qs[] = {0.2, 0.5, 0.0, 1.0};
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(xai_speech_floor_bounds(&p, qs[i], N, x, lo, hi), XAI_OK);
        for (int s = 0; s < N; s++)
            for (int r = 0; r < R; r++) {
                const double f = qs[i] * (1 + r) + s;
                int above = 0;
                for (int t = 0; t < T; t++) {
                    const int k = s * per + r * T + t;
                    ck_assert(hi[k] == x[k]);
                    ck_assert_msg(fabs(lo[k] - fmin(x[k], f)) < 1e-5 * (1 + f), "q %g clip %d row %d frame %d: %g, "
                                  "want %g", qs[i], s, r, t, lo[k], fmin(x[k], f));
                    above += lo[k] < x[k];
                }
                /* the values above the floor: k > q (T - 1) */
                ck_assert_int_eq(above, T - 1 - (int)floor(qs[i] * (T - 1)));
            }
    }
    ck_assert_int_eq(xai_speech_floor_bounds(&p, -0.1, N, x, lo, hi), XAI_EINVAL);
    ck_assert_int_eq(xai_speech_floor_bounds(&p, 1.5, N, x, lo, hi), XAI_EINVAL);
    ck_assert_int_eq(xai_speech_floor_bounds(&p, NAN, N, x, lo, hi), XAI_EINVAL);
    ck_assert_int_eq(xai_speech_floor_bounds(&p, 0.2, -1, x, lo, hi), XAI_EINVAL);
    free(x), free(lo), free(hi);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("domain-speech");
    TCase *t = tcase_create("speech");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 120);
    tcase_add_test(t, preset_and_record_round_trip);
    tcase_add_test(t, malformed_records);
    tcase_add_test(t, load_embeds_and_resamples);
    tcase_add_test(t, features_are_level_invariant);
    tcase_add_test(t, band_normalised_features);
    tcase_add_test(t, pcen_features);
    tcase_add_test(t, mel_band_count);
    tcase_add_test(t, axes_in_seconds_and_hz);
    tcase_add_test(t, labels_and_speakers);
    tcase_add_test(t, study_loader);
    tcase_add_test(t, box_mask_rows_and_frames);
    tcase_add_test(t, floor_bounds_per_band);
    suite_add_tcase(s, t);
    return s;
}
