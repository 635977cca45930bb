/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai-info - describe any file the libxai suite reads (EEG, NIfTI, audio, C3D, OpenSim,
 * NPY, ONNX), like mrinfo/fslhd: text by default, one JSON object with --json.
 * The work is in info.c (detection) and describe-*.c; this file parses the command line.
 * Messages and exit codes come from the shared app layer (app.h).
 * Exit codes: 0 ok, 1 unreadable or malformed file, 2 usage error.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "info.h"

#define PROG "xai-info"
#ifndef XAI_INFO_VERSION
#define XAI_INFO_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
    fprintf(f,
"SYNOPSIS\n"
"  " PROG " FILE [--json]\n"
"\n"
"Describes FILE: format, geometry, channels, rates, labels, events, data range. The format\n"
"is found from the magic bytes, else from the extension:\n"
"  EEG      EDF, EDF+, BDF, BDF+ (.edf .bdf, read by EDFlib), BrainVision (.vhdr, or its\n"
"           .vmrk/.eeg; own reader), GDF 1/2, BCI2000, Neuroscan CNT, EGI (.gdf .dat .cnt\n"
"           .egi; read by BioSig). The \"reader\" field names the library.\n"
"  MRI      NIfTI-1, NIfTI-2 (.nii .nii.gz .hdr/.img)\n"
"  audio    anything libsndfile reads (.wav .flac .aiff .ogg .au ...)\n"
"  motion   C3D (.c3d), OpenSim markers (.trc) and storage (.mot .sto)\n"
"  arrays   NumPy (.npy), ONNX models (.onnx)\n"
"\n"
"OPTIONS\n"
"  -j, --json       print one JSON object on stdout instead of text. Fields: \"format\"\n"
"                   (edf edf+ bdf bdf+ brainvision gdf bci2000 cnt egi nifti1 nifti2 audio\n"
"                   c3d trc mot npy onnx);\n"
"                   EEG \"channels\" [{label unit sample_rate samples min max mean}] in the\n"
"                   file's units and \"annotations\" [{onset_s duration_s text}] (as MNE);\n"
"                   NIfTI dim pixdim tr_s datatype qform_code sform_code affine (nibabel's\n"
"                   get_best_affine) min max mean; audio sample_rate channels frames\n"
"                   duration_s subformat (as soundfile); C3D point_rate analog_rate frames\n"
"                   points analog events [{label context time_s}]; ONNX inputs outputs\n"
"                   opset ops and the model card's preprocessing record; NPY shape dtype.\n"
"                   Non-finite numbers are null.\n"
"  -h, --help       this text\n"
"  -V, --version    version\n"
"\n"
"EXAMPLES\n"
"  " PROG " sub-01_task-rest_eeg.edf\n"
"  " PROG " bold.nii.gz --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"tr_s\"])'\n"
"  " PROG " model.onnx --json\n"
"\n"
"EXIT STATUS\n"
"  0 success, 1 unreadable, unknown or malformed file (one line on stderr naming it),\n"
"  2 usage error.\n");
}

static xai_app app;

/* One line on stderr that names the file; @return XAI_EXIT_DATA. */
static int report(const char *path)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", xai_last_error());
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    if (!msg[0])
        snprintf(msg, sizeof msg, "cannot describe this file");
    return xai_app_fail(&app, strstr(msg, path) ? NULL : path, "%s", msg);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'}, {0, 0, 0, 0}};
    int json = 0, c;
    xai_app_init(&app, PROG, XAI_INFO_VERSION, argc, argv);
    opterr = 0;
    while ((c = getopt_long(argc, argv, "jhV", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'h': usage(stdout); return 0;
        case 'V': xai_app_handle_option(&app, XAI_APP_OPT_VERSION, NULL); return XAI_EXIT_OK;
        default: {
            char msg[128];
            if (optopt)
                snprintf(msg, sizeof msg, "unknown option '-%c'", optopt);
            else
                snprintf(msg, sizeof msg, "unknown option '%s'", argv[optind - 1]);
            return xai_app_usage_error(&app, "%s", msg);
        }
        }
    }
    if (optind >= argc)
        return xai_app_usage_error(&app, "expected one FILE");
    if (argc - optind > 1)
        return xai_app_usage_error(&app, "expected one FILE, got several");
    const char *path = argv[optind];
    json_t *obj = NULL;
    if (info_describe(path, &obj) != XAI_OK || !obj)
        return report(path);
    int rc = 0;
    if (json) {
        if (json_dumpf(obj, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) != 0)
            rc = 1;
        fputc('\n', stdout);
    } else {
        info_print_text(stdout, obj);
    }
    json_decref(obj);
    if (fflush(stdout) != 0)
        rc = XAI_EXIT_DATA;
    xai_app_free(&app);
    return rc;
}
