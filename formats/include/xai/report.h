/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * report.h - one self-contained HTML page per subject or study, after the per-subject
 * reports of fMRIPrep (Esteban et al., Nature Methods 16:111-116, 2019): a header (program,
 * version, date, command, inputs), the model cards, figures with captions, sortable tables
 * read from the run's TSV files, the run's warnings and errors, and relative links to every
 * output. The page needs no network: CSS and the table-sorting script are inline, figures
 * are PNG or SVG data URIs. Everything taken from files or callers is HTML-escaped.
 *
 * Build a report with the add functions (they copy what they are given), then write it
 * once with xai_report_write(), which replaces the file atomically. Nothing here prints.
 *
 * After load, the page's own script checks every figure (decoded, naturalWidth > 0) and
 * sets on the element with id "xai-report-check" the attributes data-rendered="1",
 * data-figures (count) and data-decoded (count decoded), so a headless browser can verify
 * the page rendered.
 */
#ifndef XAI_REPORT_H
#define XAI_REPORT_H

#include <stddef.h>

#include "xai/api.h"
#include "xai/card.h"
#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A report being built; opaque. */
typedef struct xai_report xai_report;

/** Severity of a run message shown in the report. */
typedef enum { XAI_REPORT_WARNING = 0, XAI_REPORT_ERROR = 1 } xai_report_level;

/** Largest figure file embedded (bytes); larger ones are linked only. */
#define XAI_REPORT_MAX_FIGURE ((size_t)8 << 20)

/**
 * Make an empty report.
 * @param title   page title and heading (copied; NULL gives "libxai report")
 * @param[out] out new report (xai_report_free())
 */
XAI_API xai_status xai_report_new(const char *title, xai_report **out);

/** Release @p r (NULL is fine). */
XAI_API void xai_report_free(xai_report *r);

/** Header fields (copied; any may be NULL): program, version, ISO date, command line. */
XAI_API xai_status xai_report_set_header(xai_report *r, const char *program, const char *version,
                                         const char *date, const char *command_line);

/** One input of the run (a path or a description), listed in the header. */
XAI_API xai_status xai_report_add_input(xai_report *r, const char *input);

/**
 * A model card section: classes, pre-processing, held-out accuracy against chance with its
 * 95 % interval, the baseline and the verdict, and xai_card_warnings() as warnings.
 * @param label names the model (e.g. its file); copied
 */
XAI_API xai_status xai_report_add_card(xai_report *r, const char *label, const xai_card *card);

/**
 * Embed the PNG or SVG file @p path (told apart by its content) as a figure with @p caption.
 * @return XAI_OK, XAI_EIO (cannot read), XAI_EFORMAT (neither PNG nor SVG, or larger than
 *         XAI_REPORT_MAX_FIGURE). The detail names the file.
 */
XAI_API xai_status xai_report_add_figure(xai_report *r, const char *path, const char *caption);

/**
 * Show the TSV file @p path as a sortable table (clicking a header sorts by that column,
 * numerically when every cell is a number), at most @p max_rows rows (0: all); the caption
 * says when rows were left out.
 * @return XAI_OK or the error of xai_tsv_load().
 */
XAI_API xai_status xai_report_add_table(xai_report *r, const char *path, const char *caption,
                                        size_t max_rows);

/** A warning or error of the run (one message; copied; a repeat of one already added is dropped). */
XAI_API xai_status xai_report_add_message(xai_report *r, xai_report_level level, const char *text);

/**
 * A link to the output @p path. The link is written relative to the directory of the
 * report when both resolve (realpath); otherwise @p path is used as given.
 */
XAI_API xai_status xai_report_add_output(xai_report *r, const char *path);

/** Number of figures, tables, messages and outputs added so far (for callers and tests). */
XAI_API void xai_report_counts(const xai_report *r, size_t *figures, size_t *tables, size_t *messages,
                               size_t *outputs);

/**
 * Write the page to @p path atomically (temporary file, then rename).
 * @return XAI_OK, XAI_EINVAL, XAI_ENOMEM, XAI_EIO (names @p path)
 */
XAI_API xai_status xai_report_write(const xai_report *r, const char *path);

/**
 * The page as xai_report_write() would write it to @p path (links are resolved against the
 * directory of @p path). @param[out] html malloc'ed text (free()); @param[out] len its length.
 */
XAI_API xai_status xai_report_to_string(const xai_report *r, const char *path, char **html, size_t *len);

/**
 * The HTML-escaped form of @p s (& < > " ' become entities; other bytes are
 * kept, NUL ends). @return a malloc'ed string (free()) or NULL when out of memory.
 */
XAI_API char *xai_report_escape(const char *s);

#ifdef __cplusplus
}
#endif

#endif /* XAI_REPORT_H */
