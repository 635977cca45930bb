/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * card.h - the model card: what a model expects and how far it can be trusted, stored
 * with the model in ONNX metadata_props under one key, XAI_CARD_KEY, as one JSON object.
 *
 * Contract (card_version 1; every field but card_version is optional):
 *   card_version            integer, 1
 *   domain                  "eeg" | "fmri" | "gait" | "speech" | "generic"
 *   task                    string, what the model decides
 *   classes                 [string], one per model output, in output order, unique
 *   input.axes              [string], per-sample axis names, e.g. ["channel","time"]
 *   input.units             [string], unit of each axis (same length as input.axes)
 *   input.sampling_rate_hz  number > 0
 *   input.voxel_size_mm     [number > 0]
 *   input.channel_names     [string]
 *   input.description       string (free text)
 *   preprocessing           object, snake_case keys; content belongs to the domain
 *   training                object, trainer settings and results (opaque to libxai)
 *   extra                   object, anything else a program wants to keep (opaque)
 *   provenance.program, .version, .date, .command_line, .data_digest, .arch   strings
 *     (stored as given; the apps record .command_line with the program by its name)
 *   provenance.seed         integer >= 0
 *   validation.scheme       "grouped-holdout" | "group-kfold" | "leave-one-group-out" |
 *                           "holdout" | "kfold" | "none"
 *   validation.group_kind   "subject" | "session" | "run" | "trial" | "speaker" | "clip"
 *   validation.n_groups, .n_folds, .n_heldout                                 integers >= 0
 *   validation.accuracy, .balanced_accuracy, .chance_level                    numbers in [0,1]
 *   validation.ci95         [low, high], binomial 95 % interval of the accuracy, in [0,1]
 *   validation.baseline.name string; validation.baseline.accuracy number in [0,1]
 *   validation.above_chance, .loses_to_baseline                               booleans
 *   validation.classes_never_predicted  [string]
 * Unknown keys outside the three opaque objects are rejected, so a typo is an error and a
 * newer contract is recognised by its card_version.
 *
 * Models written before the card (keys class_names, xai_preprocessing, xai_training,
 * xai_arch, input_layout, xai_labels) are read into a card: class_names as a JSON array or
 * comma-separated, object keys in PascalCase turned into snake_case.
 */
#ifndef XAI_CARD_H
#define XAI_CARD_H

#include "xai/model.h"
#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XAI_CARD_KEY "libxai.card"
#define XAI_CARD_VERSION 1

typedef struct xai_card xai_card; /**< opaque; free with xai_card_free() */

/** A new card holding only card_version. @param[out] out free with xai_card_free() */
XAI_API xai_status xai_card_new(xai_card **out);
XAI_API void xai_card_free(xai_card *c);

/**
 * Parse and check a card from JSON text.
 * @return XAI_EFORMAT (not JSON: line and column in the message), XAI_EINVAL (a field of
 *         the wrong type or value, unknown key: the message names the dotted path),
 *         XAI_EUNSUPPORTED (card_version newer than this library).
 */
XAI_API xai_status xai_card_from_json(const char *text, xai_card **out);

/** The card as JSON text, keys sorted: compact with numbers exact, or (@p pretty) indented
 *  with 15 significant digits for reading. Free with xai_free(). */
XAI_API xai_status xai_card_to_json(const xai_card *c, int pretty, char **text);

/**
 * The card of a loaded model: XAI_CARD_KEY when present, else one built from the older
 * metadata keys, else an empty card. Fails only on a malformed card.
 */
XAI_API xai_status xai_card_from_model(const xai_model *m, xai_card **out);

/**
 * Check the card against the model (classes against the number of outputs, axes against
 * the input rank) and store it in the model's metadata for xai_model_save_onnx().
 * Older metadata keys are left as they are; readers prefer the card.
 */
XAI_API xai_status xai_card_apply(xai_model *m, const xai_card *c);

/**
 * Write the ONNX bytes @p m was loaded from to @p path with its card replaced by @p c
 * (checked as in xai_card_apply()); the graph, weights and other metadata are unchanged.
 * Atomic: a temporary file next to @p path is renamed into place.
 */
XAI_API xai_status xai_card_save_onnx(const xai_model *m, const xai_card *c, const char *path);

/**
 * Set one field from "PATH=VALUE" (the command-line form). PATH is dotted
 * ("validation.accuracy", "preprocessing.bandpass_hz"). VALUE is JSON where the field is
 * not a string (numbers, true/false, arrays, objects); string lists also take
 * "a,b,c"; strings are taken as written. An empty VALUE removes the field.
 * Inside the opaque objects a VALUE that is not JSON is stored as a string.
 * @return XAI_EINVAL with the path and the expected type when the value does not fit.
 */
XAI_API xai_status xai_card_set(xai_card *c, const char *assignment);

/** Set one field to JSON text @p json (NULL removes it), with the checks of xai_card_set(). */
XAI_API xai_status xai_card_set_json(xai_card *c, const char *path, const char *json);

/** Merge every field of card @p src into @p dst (src wins; opaque objects merge by key). */
XAI_API xai_status xai_card_merge(xai_card *dst, const xai_card *src);

/** A string field, or NULL when absent (borrowed, valid until the card changes). */
XAI_API const char *xai_card_get_string(const xai_card *c, const char *path);
/** A number field into @p out; @return 1 when present, 0 when absent. */
XAI_API int xai_card_get_number(const xai_card *c, const char *path, double *out);
/** Any field as JSON text, or NULL when absent. Free with xai_free(). */
XAI_API char *xai_card_get_json(const xai_card *c, const char *path);

/** Number of classes (0 when the card has none) and the name of class @p i (borrowed). */
XAI_API int xai_card_class_count(const xai_card *c);
XAI_API const char *xai_card_class_name(const xai_card *c, int i);

/**
 * Human-readable warnings about what the card says of the model's validity, one per line
 * ("held-out accuracy 0.52 [0.41, 0.63] is not above chance 0.50"), the same in every
 * program. Verdict flags that are stored win; missing ones are derived from the numbers.
 * @param[out] text   "" when there is nothing to warn about; free with xai_free()
 * @param[out] count  number of warnings (may be NULL)
 */
XAI_API xai_status xai_card_warnings(const xai_card *c, char **text, int *count);

#ifdef __cplusplus
}
#endif

#endif /* XAI_CARD_H */
