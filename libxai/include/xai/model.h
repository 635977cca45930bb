/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * model.h - loading ONNX models and running them forward.
 *
 * A model is a DAG of nodes, topologically sorted at load, with per-sample shapes fixed
 * at load (symbolic batch dimensions become 1). Inputs are "stacked": a run over N samples
 * sees N contiguous copies of the model input, and every activation is N copies of its
 * per-sample tensor, so stacks cost one sweep. Activations live in an xai_workspace that
 * is sized once and reused, so the hot path does not allocate.
 */
#ifndef XAI_MODEL_H
#define XAI_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "xai/status.h"
#include "xai/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xai_model xai_model;         /**< opaque; free with xai_model_free() */
typedef struct xai_workspace xai_workspace; /**< opaque; free with xai_workspace_free() */

/** Options for loading; zero-initialise and set what you need. */
typedef struct {
    int input_ndim;                     /**< >0: use this input shape for symbolic dims */
    int64_t input_shape[XAI_MAX_DIMS];  /**< per-sample input shape (with the model's batch) */
} xai_load_options;

/**
 * Load an ONNX file (opsets 11-18). Shape-only subgraphs are folded into constants and
 * a trailing Softmax/LogSoftmax is dropped, so the output is the logits.
 * @param path      the .onnx file
 * @param opts      may be NULL
 * @param[out] out  the model; free with xai_model_free()
 * @return XAI_OK; XAI_EIO, XAI_EFORMAT (truncated or inconsistent file),
 *         XAI_EUNSUPPORTED (operator or attribute value we do not support: the message
 *         names the op type, node name and attribute), XAI_ENOMEM.
 */
XAI_API xai_status xai_model_load_onnx(const char *path, const xai_load_options *opts, xai_model **out);

/**
 * Load the model that will explain an input array of shape @p shape (@p ndim axes, e.g. a
 * .npy's): a model whose input has symbolic dimensions besides the batch (a time axis of
 * any length) takes them from the array, first as one sample of that shape, then as a stack
 * of samples of shape[1:]. A model with a fixed input shape loads as with
 * xai_model_load_onnx(path, NULL, out), whatever the array's shape (check the fit with
 * xai_model_samples()).
 * @return as xai_model_load_onnx(); when no reading of the shape fits, the status and
 *         message of the plain load (which name the symbolic dimension). XAI_EINVAL for
 *         NULL arguments or ndim < 0.
 */
XAI_API xai_status xai_model_load_for_input(const char *path, int ndim, const int64_t *shape, xai_model **out);

/** As xai_model_load_onnx() from a buffer; @p name is used in messages (may be NULL). */
XAI_API xai_status xai_model_load_onnx_mem(const void *buf, size_t len, const char *name,
                                           const xai_load_options *opts, xai_model **out);

/** Free a model; NULL is fine. */
XAI_API void xai_model_free(xai_model *m);

/** Per-sample input shape (borrowed pointer into the model). */
XAI_API const int64_t *xai_model_input_shape(const xai_model *m, int *ndim);
/** Per-sample output (logits) shape. */
XAI_API const int64_t *xai_model_output_shape(const xai_model *m, int *ndim);
/** Number of input / output floats per sample. */
XAI_API int64_t xai_model_input_numel(const xai_model *m);
XAI_API int64_t xai_model_output_numel(const xai_model *m);
/**
 * How many samples an array of shape @p shape (@p ndim axes) holds for the model: 1 for one
 * sample's shape, N for N x that shape, and N also when the model's per-sample shape starts
 * with an axis of 1 that the array fills with N. -1 when it fits none of these.
 */
XAI_API int64_t xai_model_samples(const xai_model *m, int ndim, const int64_t *shape);
/** Opset of the default domain. */
XAI_API int xai_model_opset(const xai_model *m);

/** Number of runtime nodes (after folding) and their names / op types (borrowed). */
XAI_API int xai_model_node_count(const xai_model *m);
XAI_API const char *xai_model_node_name(const xai_model *m, int i);
XAI_API const char *xai_model_node_op(const xai_model *m, int i);

/** Value of a metadata_props key, or NULL (borrowed). */
XAI_API const char *xai_model_metadata(const xai_model *m, const char *key);

/**
 * Create a workspace for stacks of up to @p max_stack samples.
 * @param[out] out  free with xai_workspace_free()
 */
XAI_API xai_status xai_workspace_new(const xai_model *m, int64_t max_stack, xai_workspace **out);
XAI_API void xai_workspace_free(xai_workspace *ws);

/**
 * Forward pass over @p n stacked samples.
 * @param x       n * xai_model_input_numel() floats
 * @param logits  n * xai_model_output_numel() floats (written), may be NULL
 * @return XAI_EINVAL when n exceeds the workspace capacity.
 */
XAI_API xai_status xai_model_forward(const xai_model *m, xai_workspace *ws, int64_t n,
                                     const float *x, float *logits);

/** Set the number of threads libxai's pool uses (1: none). Any n >= 1 also makes OpenBLAS
 *  single-threaded (its calls then run inside libxai's threads); 0 leaves OpenBLAS's own
 *  threading as it is (before any call: OpenBLAS's default). Call it from one thread, between
 *  computations. Results of explanations and training are bit-identical for every thread count
 *  of the pool; training runs OpenBLAS single-threaded while it lasts (then restores it), so a
 *  trained model does not depend on OPENBLAS_NUM_THREADS either.
 *  OpenBLAS's thread count is one setting of the whole process, which this call and xai_train()
 *  change: a caller's own OpenBLAS work in other threads runs with it too (while a training
 *  call lasts: one thread, slower, rounded as on one). A count the caller sets during training
 *  is overwritten when the training ends, and a training that runs while another one ends sees
 *  the count change under it (its results may then differ): set threads between calls, and run
 *  trainings side by side with a pool of several threads (n >= 2: OpenBLAS stays on one). */
XAI_API void xai_set_num_threads(int n);

#ifdef __cplusplus
}
#endif

#endif /* XAI_MODEL_H */
