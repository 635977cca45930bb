/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * opensim.h - OpenSim marker (.trc) and storage (.mot/.sto) text files.
 * TRC: "PathFileType 4" header, DataRate/NumFrames/NumMarkers/Units line, marker names
 * (one per X/Y/Z triplet), then Frame#, Time, X Y Z ... rows; empty cells are NaN.
 * MOT: header lines (name, key=value such as nRows, nColumns, inDegrees) up to
 * "endheader", a column-label line, then a numeric table. Formats as documented in the
 * OpenSim user guide ("Marker (.trc) Files", "Storage (.sto) and Motion (.mot) Files").
 */
#ifndef XAI_OPENSIM_H
#define XAI_OPENSIM_H

#include <stddef.h>
#include <stdint.h>

#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A .trc marker file. Everything is owned; free with xai_trc_close(). */
typedef struct {
    char *name;            /**< file name from the PathFileType line ("" if absent) */
    double data_rate;      /**< DataRate (Hz, > 0) */
    double camera_rate;    /**< CameraRate (Hz; 0 if absent) */
    double orig_data_rate; /**< OrigDataRate (0 if absent) */
    int64_t orig_data_start_frame; /**< OrigDataStartFrame (0 if absent) */
    int64_t orig_num_frames;       /**< OrigNumFrames (0 if absent) */
    char *units;           /**< Units, e.g. "mm" */
    int nmarkers;          /**< NumMarkers */
    char **markers;        /**< [nmarkers] marker names */
    int64_t frames;        /**< NumFrames (rows read) */
    int64_t *frame_numbers; /**< [frames] Frame# column */
    double *time;          /**< [frames] Time column, seconds */
    float *points;         /**< [frames][nmarkers][3] in file units, NaN for empty cells */
} xai_trc;

/**
 * Read a .trc file.
 * @param[out] out new object, freed by the caller with xai_trc_close()
 * @return XAI_OK, XAI_EIO, XAI_EFORMAT (the detail names the file, line and fault), XAI_ENOMEM.
 */
XAI_API xai_status xai_trc_open(const char *path, xai_trc **out);

/** As xai_trc_open() from memory; @p buf is not kept, @p name is used in messages (may be NULL). */
XAI_API xai_status xai_trc_open_mem(const void *buf, size_t len, const char *name, xai_trc **out);

/** Free a TRC object; NULL is a no-op. */
XAI_API void xai_trc_close(xai_trc *t);

/** Index of marker @p name, or -1. */
XAI_API int xai_trc_marker_index(const xai_trc *t, const char *name);

/** A .mot/.sto storage file. Everything is owned; free with xai_mot_close(). */
typedef struct {
    char *name;       /**< first header line (e.g. "Coordinates" or a file name) */
    int version;      /**< version=N (0 if absent) */
    int in_degrees;   /**< inDegrees=yes -> 1, no -> 0; free text "in degrees" -> 1; -1 unknown */
    int nkeys;        /**< number of key=value header lines */
    char **keys;      /**< [nkeys] header keys (e.g. "nRows", "DataType") */
    char **values;    /**< [nkeys] header values, trailing blanks removed */
    int ncolumns;     /**< number of columns, including time */
    char **labels;    /**< [ncolumns] column labels */
    int time_column;  /**< index of the "time" column, or -1 */
    int64_t rows;     /**< number of rows (nRows) */
    double *time;     /**< [rows] time column in double precision (NULL without one) */
    float *data;      /**< [rows][ncolumns], row-major */
} xai_mot;

/**
 * Read a .mot or .sto file.
 * @param[out] out new object, freed by the caller with xai_mot_close()
 * @return XAI_OK, XAI_EIO, XAI_EFORMAT, XAI_ENOMEM.
 */
XAI_API xai_status xai_mot_open(const char *path, xai_mot **out);

/** As xai_mot_open() from memory; @p buf is not kept, @p name is used in messages (may be NULL). */
XAI_API xai_status xai_mot_open_mem(const void *buf, size_t len, const char *name, xai_mot **out);

/** Free a MOT object; NULL is a no-op. */
XAI_API void xai_mot_close(xai_mot *m);

/** Index of column @p label, or -1. */
XAI_API int xai_mot_column(const xai_mot *m, const char *label);

/** Value of header key @p key (borrowed), or NULL. */
XAI_API const char *xai_mot_header(const xai_mot *m, const char *key);

/**
 * Write a .mot file atomically (temporary file, then rename): @p name line, version=1,
 * nRows, nColumns, inDegrees, endheader, the labels and the table.
 * @param labels [ncolumns] column labels (the first is normally "time")
 * @param data [rows][ncolumns] row-major
 * @param in_degrees 1 yes, 0 no
 */
XAI_API xai_status xai_mot_write(const char *path, const char *name, int ncolumns, const char *const *labels,
                                 int64_t rows, const double *data, int in_degrees);

#ifdef __cplusplus
}
#endif

#endif /* XAI_OPENSIM_H */
