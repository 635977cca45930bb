/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bids-walk.h - the one file walker of the domain layer: the recordings of a BIDS dataset
 * (sub-<label>[/ses-<label>]/<datatype>/<entities>_<suffix><extension>) or of a plain
 * folder tree, filtered by participant, session, task, run, datatype, suffix and
 * extension, in a stable sorted order, with the subject of each file and the events.tsv,
 * channels.tsv and JSON sidecars that apply to it by the BIDS inheritance principle.
 *
 * Symbolic links are followed (DataLad/git-annex datasets are trees of links); a link back
 * to a folder already being walked is not entered again, so link loops end. Hidden entries
 * (".git", ".datalad", ...) are skipped, and in a BIDS dataset so are the top-level
 * folders that hold no raw data (derivatives/, sourcedata/, code/, stimuli/).
 *
 * Nothing is printed: functions return an xai_status and set xai_last_error().
 *
 * Typical calls (sketch):
 *
 *   // xai-eeg participant level: sub-*[/ses-*]/eeg/ *_eeg.{edf,bdf,vhdr,set}
 *   static const char *const sfx[] = {"eeg"}, *const ext[] = {".edf", ".bdf", ".vhdr", ".set"};
 *   xai_bids_walk_opts w = {.layout = XAI_WALK_BIDS, .datatype = "eeg",
 *                           .suffixes = sfx, .nsuffixes = 1, .extensions = ext, .nextensions = 4,
 *                           .participants = labels, .nparticipants = nlabels,
 *                           .tasks = task ? &task : NULL, .ntasks = task != NULL};
 *   xai_bids_list l;
 *   if (xai_bids_walk(root, &w, &l) != XAI_OK) -> report xai_last_error()
 *   for (size_t i = 0; i < l.n; i++) l.files[i].path, .subject, .events, ...
 *   xai_bids_list_free(&l);
 *
 *   // xai-fmri: .datatype = "func", suffix "bold", extensions ".nii.gz" and ".nii";
 *   //           participants for sharding: xai_bids_participants(root, &labels, &n)
 *   // xai-speech / xai-eeg folder inputs: .layout = XAI_WALK_PLAIN, .extensions = {".wav", ...}
 *   // xai-gait: .layout = XAI_WALK_AUTO, extension ".c3d", .subject_fn = a reader of the
 *   //           C3D SUBJECTS:NAMES parameter (returning *subject = NULL when it has none)
 */
#ifndef XAI_BIDS_WALK_H
#define XAI_BIDS_WALK_H

#include <stddef.h>

#include "xai/api.h"
#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How the tree under the root is read. */
typedef enum {
    /** BIDS when the root holds dataset_description.json, else plain. */
    XAI_WALK_AUTO = 0,
    /** Only sub-<label>[/ses-<label>]/<datatype>/ files whose names parse as BIDS. */
    XAI_WALK_BIDS = 1,
    /** Every file of the tree (recursively) that passes the extension filter. */
    XAI_WALK_PLAIN = 2,
} xai_walk_layout;

/**
 * Optional subject reader (for example the C3D SUBJECTS:NAMES parameter). Set *subject to
 * a malloc'ed label, or leave it NULL to let the file name or folder decide. A status other
 * than XAI_OK stops the walk with that status (the message is prefixed with the path).
 */
typedef xai_status (*xai_bids_subject_fn)(void *ud, const char *path, char **subject);

/**
 * What to list. Every field is optional (zero = no filter); a list filter keeps a file
 * whose value equals any of its entries. A filtered entity that a file lacks drops it.
 */
typedef struct xai_bids_walk_opts {
    xai_walk_layout layout;
    const char *const *participants; /**< labels with or without "sub-" */
    int nparticipants;
    const char *const *sessions;     /**< labels with or without "ses-" */
    int nsessions;
    const char *const *tasks;        /**< labels with or without "task-" */
    int ntasks;
    const char *const *runs;         /**< "1", "01", "run-1": digits compare as numbers */
    int nruns;
    const char *datatype;            /**< BIDS datatype folder: "eeg", "func", "motion", ... */
    const char *const *suffixes;     /**< BIDS suffixes: "bold", "eeg", "motion", ... */
    int nsuffixes;
    const char *const *extensions;   /**< name endings, case-insensitive: ".nii.gz", ".edf" */
    int nextensions;
    int max_depth;                   /**< plain folders: deepest level entered (0 = 32) */
    xai_bids_subject_fn subject_fn;  /**< see xai_bids_subject_fn (may be NULL) */
    void *subject_ud;
} xai_bids_walk_opts;

/** One key-value entity of a BIDS file name ("sub" "01", "task" "rest"). */
typedef struct xai_bids_entity {
    char *key;
    char *value;
} xai_bids_entity;

/** One file found. Strings are owned by the list; absent ones are NULL. */
typedef struct xai_bids_file {
    char *path;                 /**< root "/" relpath (links are not resolved) */
    char *relpath;              /**< path below the root ("sub-01/eeg/sub-01_task-x_eeg.edf") */
    xai_bids_entity *entities;  /**< in file-name order; none when the name is not BIDS */
    int nentities;
    char *suffix;               /**< "eeg", "bold" (BIDS names only) */
    char *extension;            /**< from the first dot of the name: ".nii.gz" */
    char *datatype;             /**< the BIDS datatype folder ("eeg"); NULL in plain folders */
    /**
     * Subject label, without "sub-": from subject_fn, else the sub entity of the name,
     * else the nearest enclosing sub-<label> folder, else the first folder below the root
     * (plain layout; NULL for a file directly in the root).
     */
    char *subject;
    char *session;              /**< ses entity, else the nearest ses-<label> folder */
    char *task;                 /**< task entity */
    char *acq;                  /**< acq entity */
    char *run;                  /**< run entity, as written ("01") */
    /* Sidecars by the BIDS inheritance principle: the file of that suffix and extension
     * whose entities are a subset of this file's, nearest folder first (from the file's
     * folder up to the root), most entities first within a folder. NULL when none. */
    char *events;               /**< <entities>_events.tsv */
    char *channels;             /**< <entities>_channels.tsv */
    char *sidecar;              /**< <entities>_<suffix>.json (the most specific one) */
} xai_bids_file;

/** The files found, sorted by relpath (byte order). */
typedef struct xai_bids_list {
    size_t n;
    xai_bids_file *files;
    size_t nbroken; /**< dangling links skipped (for example git-annex content not fetched) */
} xai_bids_list;

/**
 * List the files under @p root (a folder; in the plain layout a single file is also
 * accepted and listed as is, without filtering). @p opts may be NULL (everything, AUTO).
 * @p out is always initialised; on failure it is empty. Finding nothing is XAI_OK, n = 0.
 * @return XAI_OK, XAI_EINVAL (NULL argument, a BIDS root that is not a folder),
 *         XAI_EIO (a folder cannot be read; the message names it), XAI_ENOMEM, or the
 *         status of subject_fn.
 */
XAI_API xai_status xai_bids_walk(const char *root, const xai_bids_walk_opts *opts,
                                 xai_bids_list *out);

/** Release a list and zero it (safe on a zeroed list). */
XAI_API void xai_bids_list_free(xai_bids_list *l);

/** The value of entity @p key of @p f, or NULL. */
XAI_API const char *xai_bids_file_entity(const xai_bids_file *f, const char *key);

/**
 * The participant labels (without "sub-") of the sub-* folders (or links to folders) of
 * @p root, sorted. @param[out] labels malloc'ed array of malloc'ed strings (free each and
 * the array with xai_free()); @param[out] n count. @return XAI_OK, XAI_EINVAL, XAI_EIO,
 * XAI_ENOMEM.
 */
XAI_API xai_status xai_bids_participants(const char *root, char ***labels, size_t *n);

#ifdef __cplusplus
}
#endif

#endif /* XAI_BIDS_WALK_H */
