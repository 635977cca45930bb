/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * report-app.h - the programs' side of the HTML study report (xai/report.h): one call at the
 * end of a subject or study describes a whole output folder, so each program needs a few
 * lines only. The page is regenerated on every run (it is a view of the folder), so it is
 * exempt from the no-overwrite rule.
 */
#ifndef XAI_REPORT_APP_H
#define XAI_REPORT_APP_H

#include "app.h"

/** What one report describes; only dir is required. */
typedef struct {
    const char *dir;      /**< the output folder: every file under it is linked */
    const char *report;   /**< the page; NULL: DIR/report.html */
    const char *title;    /**< NULL: "PROG report" */
    const char *subject;  /**< a participant label: only messages naming sub-LABEL; NULL: all */
    const char *model;    /**< the model whose card is shown; NULL: the .onnx files under dir */
    const char *const *inputs; /**< the run's inputs, listed in the header (may be NULL) */
    int ninputs;
    int max_figures;      /**< figures embedded (PNG/SVG under dir, in path order); 0: 24 */
    const char *const *stems; /**< when set: only files whose names start with one of these
                                   (then '_' or '.') and messages naming one of them */
    int nstems;
} xai_app_report_spec;

/**
 * Write the report of @p s: header from @p app, model cards, figures and tables found under
 * the folder (captions from their sidecars' Description), the run's warnings and errors
 * (xai_app_messages()) and links to every file. @return 0, or XAI_EXIT_DATA (printed).
 */
int xai_app_report(const xai_app *app, const xai_app_report_spec *s);

/**
 * The subject report OUT_DIR/sub-LABEL/report.html of that folder (@p label with or without
 * "sub-"); @p inputs (may be NULL) are the subject's inputs. @return as xai_app_report().
 */
int xai_app_report_subject(const xai_app *app, const char *out_dir, const char *label, const char *model,
                           const char *const *inputs, int ninputs);

/** One subject report per distinct sub-LABEL among the BIDS names of @p inputs. */
int xai_app_report_subjects_of(const xai_app *app, const char *out_dir, const char *const *inputs, int ninputs,
                               const char *model);

/**
 * For outputs named after their inputs in one flat folder (xai-speech): one report per
 * distinct @p groups[i] (e.g. the speaker), OUT_DIR/KIND-GROUP.html, showing the outputs of
 * that group's @p files (matched by file stem).
 */
int xai_app_report_groups(const xai_app *app, const char *out_dir, const char *const *files,
                          const char *const *groups, int n, const char *kind, const char *model);

/** The study report OUT_DIR/report.html: the whole folder (figures capped at 48). */
int xai_app_report_study(const xai_app *app, const char *out_dir, const char *model);

#endif /* XAI_REPORT_APP_H */
