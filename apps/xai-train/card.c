/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * card.c - "xai-train card": read, change and show the model card of an ONNX model
 * (the contract is in libxai's xai/card.h; this file only parses options).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xai.h"
#include "app.h"
#include "card-cmd.h"

#define PROG "xai-train card"

static void card_usage(FILE *f)
{
    fprintf(f,
"SYNOPSIS\n"
"  xai-train card MODEL.onnx [--set PATH=VALUE]... [--from-json CARD.json] [-o OUT.onnx] [--show]\n"
"\n"
"Reads the model card of MODEL.onnx (classes, input layout, pre-processing, provenance and\n"
"held-out validation, stored in the ONNX metadata under \"" XAI_CARD_KEY "\"), changes it, and\n"
"writes the model again with only its card replaced: graph and weights are untouched. Models\n"
"from before the card are read from their older metadata keys. Without --set or --from-json\n"
"the card is printed.\n"
"\n"
"OPTIONS\n"
"  --set PATH=VALUE      set one field; PATH is dotted (validation.accuracy, input.axes);\n"
"                        VALUE is JSON except for plain strings; lists also take a,b,c;\n"
"                        an empty VALUE removes the field. Repeatable, applied in order.\n"
"  --from-json CARD.json merge the fields of a card file first (--set wins)\n"
"  -o, --output OUT.onnx write there [MODEL.onnx, in place]; written atomically\n"
"  --show                print the resulting card and its warnings on stdout\n"
"  -h, --help\n"
"\n"
"FIELDS (card_version %d)\n"
"  domain (eeg|fmri|gait|speech|generic)  task  classes\n"
"  input.axes input.units input.sampling_rate_hz input.voxel_size_mm input.channel_names\n"
"  input.description  preprocessing.*  training.*  extra.*\n"
"  provenance.program .version .date .command_line .data_digest .arch .seed\n"
"  validation.scheme (grouped-holdout|group-kfold|leave-one-group-out|holdout|kfold|none)\n"
"  validation.group_kind (subject|session|run|trial|speaker|clip) .n_groups .n_folds .n_heldout\n"
"  validation.accuracy .balanced_accuracy .chance_level .ci95 .baseline.name\n"
"  validation.baseline.accuracy .above_chance .loses_to_baseline .classes_never_predicted\n"
"\n"
"EXAMPLE\n"
"  xai-train card torch.onnx --set domain=eeg --set classes=left,right \\\n"
"      --set 'input.axes=[\"channel\",\"time\"]' --set input.sampling_rate_hz=160 \\\n"
"      --set 'preprocessing.bandpass_hz=[8,32]' --set validation.scheme=grouped-holdout \\\n"
"      --set validation.accuracy=0.81 --set validation.chance_level=0.5 --show\n"
"\n"
"EXIT CODES\n"
"  0 ok, 1 unreadable model or card file, 2 usage error (incl. a field that does not fit)\n",
            XAI_CARD_VERSION);
}

static int show(const xai_card *card)
{
    char *json = NULL, *warn = NULL;
    int nwarn = 0;
    if (xai_card_to_json(card, 1, &json) || xai_card_warnings(card, &warn, &nwarn)) {
        xai_free(json);
        return -1;
    }
    printf("%s\n", json);
    if (nwarn)
        printf("warnings:\n");
    for (char *line = warn, *e; line && *line; line = e + 1) {
        e = strchr(line, '\n');
        printf("  - %.*s\n", (int)(e - line), line);
    }
    xai_free(json);
    xai_free(warn);
    return 0;
}

/* Merge --from-json, then every --set, into @p card. @return an exit code, 0 when fine. */
static int edit(xai_app *app, xai_card *card, const char *from, char **sets, int nset)
{
    if (from) {
        char *text = xai_app_read_file(from, NULL);
        xai_card *other = NULL;
        if (!text)
            return xai_app_fail(app, from, "cannot read the card file");
        xai_status st = xai_card_from_json(text, &other);
        free(text);
        if (st == XAI_OK)
            st = xai_card_merge(card, other);
        xai_card_free(other);
        if (st)
            return xai_app_fail(app, from, "%s", xai_last_error());
    }
    for (int i = 0; i < nset; i++)
        if (xai_card_set(card, sets[i]) != XAI_OK)
            return xai_app_usage_error(app, "--set %s: %s", sets[i], xai_last_error());
    return 0;
}

int xai_train_card_main(xai_app *app, int argc, char **argv)
{
    static const struct option opts[] = {{"set", required_argument, 0, 's'}, {"from-json", required_argument, 0, 'j'},
                                         {"output", required_argument, 0, 'o'}, {"show", no_argument, 0, 'S'},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *from = NULL, *out = NULL;
    int doshow = 0, nset = 0, c;
    char **sets = calloc((size_t)argc + 1, sizeof *sets);
    if (!sets)
        return xai_app_fail(app, NULL, "out of memory");
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        switch (c) {
        case 's': sets[nset++] = optarg; break;
        case 'j': from = optarg; break;
        case 'o': out = optarg; break;
        case 'S': doshow = 1; break;
        case 'h': card_usage(stdout); free(sets); return 0;
        case ':': free(sets); return xai_app_usage_error(app, "%s needs a value", argv[optind - 1]);
        default: free(sets); return xai_app_usage_error(app, "unknown option %s (see " PROG " --help)", argv[optind - 1]);
        }
    }
    if (optind != argc - 1) {
        free(sets);
        return xai_app_usage_error(app, "give exactly one MODEL.onnx (see " PROG " --help)");
    }
    const char *in = argv[optind];
    int write = from || nset || out, rc = 0;
    xai_model *m = NULL;
    xai_card *card = NULL;
    if (xai_model_load_onnx(in, NULL, &m) != XAI_OK || xai_card_from_model(m, &card) != XAI_OK)
        rc = xai_app_fail(app, NULL, "%s", xai_last_error()); /* the message names the file */
    if (!rc)
        rc = edit(app, card, from, sets, nset);
    if (!rc && write && xai_card_save_onnx(m, card, out ? out : in) != XAI_OK)
        rc = xai_app_fail(app, NULL, "%s", xai_last_error());
    if (!rc && (doshow || !write) && show(card) != 0)
        rc = xai_app_fail(app, NULL, "%s", xai_last_error());
    xai_card_free(card);
    xai_model_free(m);
    free(sets);
    return rc;
}
