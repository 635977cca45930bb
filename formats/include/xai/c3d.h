/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * c3d.h - C3D motion capture files (points, analog channels, events, gait cycles).
 * Our own reader and writer for the three processor types (Intel, DEC/VAX, MIPS/SGI) and
 * both storage types (scaled int16 and float). Spec: c3d.org "The C3D File Format User
 * Guide" (header, parameter section, data section); gait cycles follow pyCGM2.
 * Layouts (row-major, outermost first): points [frames][points][3], residuals [frames][points],
 * analog [channels][samples]; everything float32, invalid points are NaN.
 */
#ifndef XAI_C3D_H
#define XAI_C3D_H

#include <stddef.h>
#include <stdint.h>

#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Processor type byte of the parameter header (83 + type). */
typedef enum {
    XAI_C3D_INTEL = 84, /**< little-endian int16, IEEE float */
    XAI_C3D_DEC = 85,   /**< little-endian int16, VAX F-float */
    XAI_C3D_MIPS = 86   /**< big-endian int16 and IEEE float (SGI/MIPS) */
} xai_c3d_processor;

/** Number of samples of a time-normalised gait cycle (0..100 %). */
#define XAI_C3D_CYCLE_POINTS 101

/** One parameter of the parameter section, converted to host order. */
typedef struct {
    char *group;       /**< group name, e.g. "POINT" (owned) */
    char *name;        /**< parameter name, e.g. "LABELS" (owned) */
    char *description; /**< description text (owned, may be "") */
    int type;          /**< -1 char, 1 byte, 2 int16, 4 float */
    int ndim;          /**< 0 (scalar) .. 7 */
    int dims[7];       /**< dimensions, first varies fastest (Fortran order) */
    int locked;        /**< 1 when the name length was stored negative */
    size_t count;      /**< number of elements, prod(dims) (1 for scalars) */
    void *data;        /**< owned: char/uint8_t bytes, int16_t or float in host order */
} xai_c3d_param;

/** Where an event came from. */
enum { XAI_C3D_EVENT_HEADER = 0, XAI_C3D_EVENT_GROUP = 1 };

/** One event; times are seconds as stored (EVENT:TIMES minutes*60 + seconds). */
typedef struct {
    char *label;       /**< e.g. "Foot Strike" (owned; header events: 4 chars) */
    char *context;     /**< e.g. "Left", "Right", "General" (owned, "" for header events) */
    char *description; /**< owned, may be "" */
    double time_s;     /**< time in seconds */
    int source;        /**< XAI_C3D_EVENT_HEADER or XAI_C3D_EVENT_GROUP */
} xai_c3d_event;

/**
 * A C3D trial. Plain descriptor: every pointer is owned by the struct and freed by
 * xai_c3d_close(). Callers may edit the arrays before xai_c3d_write().
 */
typedef struct {
    int processor;         /**< xai_c3d_processor of the file (XAI_C3D_INTEL for new ones) */
    int float_storage;     /**< 1 when POINT:SCALE < 0 (float data), 0 for scaled int16 */
    float point_scale;     /**< POINT:SCALE as stored (negative for float storage) */
    double point_rate;     /**< frames per second (> 0) */
    double analog_rate;    /**< analog samples per second per channel (0 without analog) */
    int64_t first_frame;   /**< first frame number (1-based, header word 4) */
    int64_t frames;        /**< number of frames (long trials: TRIAL / POINT:LONG_FRAMES) */
    int npoints;           /**< number of 3-D points */
    int nanalog;           /**< number of analog channels */
    int analog_per_frame;  /**< analog samples per channel per frame */
    char **point_labels;   /**< [npoints], subject prefix ("Name:") stripped (owned) */
    char **point_descriptions; /**< [npoints] (owned) */
    char *point_units;     /**< POINT:UNITS, e.g. "mm" (owned) */
    char **analog_labels;  /**< [nanalog] (owned) */
    char **analog_units;   /**< [nanalog] (owned) */
    char *subject;         /**< SUBJECTS:NAMES[0] or "" (owned) */
    float *points;         /**< [frames][npoints][3], NaN where invalid (owned) */
    float *residuals;      /**< [frames][npoints], -1 where invalid (owned) */
    float *analog;         /**< [nanalog][frames * analog_per_frame], scaled (owned) */
    int nevents;           /**< number of events */
    xai_c3d_event *events; /**< [nevents], header events first, then EVENT group (owned) */
    int nparams;           /**< number of parameters read from the file */
    xai_c3d_param *params; /**< [nparams] (owned; empty for xai_c3d_new()) */
} xai_c3d;

/**
 * Read a C3D file.
 * @param path file to read
 * @param[out] out new trial, freed by the caller with xai_c3d_close()
 * @return XAI_OK, XAI_EIO (cannot read), XAI_EFORMAT (malformed; the detail names the file
 *         and the fault), XAI_ENOMEM.
 */
XAI_API xai_status xai_c3d_open(const char *path, xai_c3d **out);

/**
 * As xai_c3d_open() from memory. @p buf is not kept. @p name is used in messages
 * (may be NULL).
 */
XAI_API xai_status xai_c3d_open_mem(const void *buf, size_t len, const char *name, xai_c3d **out);

/**
 * A new, zero-filled trial for writing: points are NaN-free zeros with residual 0, labels
 * "P1".., "A1"...
 * @param[out] out freed with xai_c3d_close()
 * @return XAI_OK, XAI_EINVAL (negative counts or rate <= 0), XAI_ENOMEM.
 */
XAI_API xai_status xai_c3d_new(int npoints, int nanalog, int64_t frames, int analog_per_frame,
                               double point_rate, xai_c3d **out);

/** Free a trial and everything it owns; NULL is a no-op. */
XAI_API void xai_c3d_close(xai_c3d *c);

/**
 * Append an event (EVENT group when @p source is XAI_C3D_EVENT_GROUP, header event block
 * otherwise). Strings are copied.
 */
XAI_API xai_status xai_c3d_add_event(xai_c3d *c, const char *label, const char *context,
                                     double time_s, int source);

/**
 * Find a parameter by group and name (case-insensitive).
 * @return a borrowed pointer valid until xai_c3d_close(), or NULL.
 */
XAI_API const xai_c3d_param *xai_c3d_param_find(const xai_c3d *c, const char *group,
                                                const char *name);

/** Element @p i of a numeric parameter as double (NaN for char data or out of range). */
XAI_API double xai_c3d_param_value(const xai_c3d_param *p, size_t i);

/** Index of the point labelled @p label (after prefix stripping), or -1. */
XAI_API int xai_c3d_point_index(const xai_c3d *c, const char *label);

/** Index of the analog channel labelled @p label, or -1. */
XAI_API int xai_c3d_analog_index(const xai_c3d *c, const char *label);

/** Options for xai_c3d_write(). Zero-initialised means Intel, float storage. */
typedef struct {
    int processor;       /**< xai_c3d_processor; 0 means XAI_C3D_INTEL */
    int integer_storage; /**< 1: scaled int16 points and analog; 0: float */
    float point_scale;   /**< int16 storage: |POINT:SCALE|; 0 picks max|xyz| / 32000 */
} xai_c3d_write_options;

/**
 * Write @p c as a C3D file, atomically (temporary file in the same directory, then rename).
 * Writes the POINT, ANALOG, EVENT, SUBJECTS and TRIAL groups (LABELS2.. beyond 255
 * entries, TRIAL:ACTUAL_*_FIELD and POINT:LONG_FRAMES beyond 65535 frames) and up to 18
 * header events. NaN points are written as invalid (residual -1).
 * @param opt NULL for defaults
 * @return XAI_OK, XAI_EINVAL (inconsistent trial, value out of int16 range),
 *         XAI_EUNSUPPORTED (more than 255 EVENT-group events), XAI_EIO, XAI_ENOMEM.
 */
XAI_API xai_status xai_c3d_write(const char *path, const xai_c3d *c, const xai_c3d_write_options *opt);

/** One gait cycle, from a Foot Strike to the next same-side Foot Strike. */
typedef struct {
    char context[32];     /**< side as in EVENT:CONTEXTS, e.g. "Left" */
    double start_s;       /**< time of the opening Foot Strike */
    double end_s;         /**< time of the closing Foot Strike */
    int64_t start_frame;  /**< 0-based index into points: round(t*rate) + 1 - first_frame */
    int64_t end_frame;    /**< 0-based index of the closing Foot Strike */
    double foot_off_pct;  /**< same-side Foot Off as % of the cycle time, NaN when absent */
} xai_c3d_cycle;

/**
 * Segment a trial into gait cycles (pyCGM2 convention). Cycles whose frames fall outside
 * the recorded data are skipped.
 * @param context side to use ("Left", "Right", case-insensitive) or NULL for both
 * @param[out] cycles malloc'ed array sorted by start time (caller frees with free()),
 *             NULL when there are none
 * @param[out] n number of cycles
 */
XAI_API xai_status xai_c3d_gait_cycles(const xai_c3d *c, const char *context,
                                       xai_c3d_cycle **cycles, int *n);

/**
 * Time-normalise point trajectories over a cycle by linear interpolation.
 * @param idx point indices, @p n of them
 * @param[out] out caller-owned [n][3][XAI_C3D_CYCLE_POINTS]
 * @return XAI_OK or XAI_EINVAL (bad index or cycle)
 */
XAI_API xai_status xai_c3d_cycle_points(const xai_c3d *c, const xai_c3d_cycle *cy,
                                        const int *idx, int n, float *out);

/**
 * Time-normalise analog channels over a cycle (at the analog rate).
 * @param[out] out caller-owned [n][XAI_C3D_CYCLE_POINTS]
 */
XAI_API xai_status xai_c3d_cycle_analog(const xai_c3d *c, const xai_c3d_cycle *cy,
                                        const int *idx, int n, float *out);

#ifdef __cplusplus
}
#endif

#endif /* XAI_C3D_H */
