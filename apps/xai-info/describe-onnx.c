/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * describe-onnx.c - xai-info for ONNX models. The file is decoded raw with the protoc-c
 * decoder of libxai's onnx.proto subset (onnx/onnx onnx.proto3 field numbers), so the op
 * list is the graph as stored: every node's op_type in file order, including the shape
 * subgraphs and the trailing Softmax that xai_model_load_onnx() folds or drops. Inputs are
 * graph inputs that are not initializers (as onnxruntime lists them), with their element
 * type and shape (a dimension is an integer, the dim_param string, or null when unknown).
 * `opset` is the version of the default domain ("" or "ai.onnx"). The `libxai` object then
 * says whether libxai loads the model, with its per-sample runtime shapes and node count, and
 * `preprocessing` is the model card's record of how its inputs were made (xai/card.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "info.h"
#include "onnx.pb-c.h"
#include "xai/card.h"
#include "xai/model.h"

#define MAX_MODEL_BYTES ((int64_t)1 << 31) /* protobuf's own limit */

static const char *elem_name(int t)
{
    static const char *const names[] = {
        "undefined", "float", "uint8", "int8", "uint16", "int16", "int32", "int64", "string",
        "bool", "float16", "double", "uint32", "uint64", "complex64", "complex128", "bfloat16"};
    return (t >= 0 && t < (int)(sizeof names / sizeof names[0])) ? names[t] : "other";
}

static json_t *value_info_json(const Onnx__ValueInfoProto *v)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", info_str(v->name));
    const Onnx__TypeProto *t = v->type;
    if (t && t->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && t->tensor_type) {
        const Onnx__TypeProto__Tensor *tt = t->tensor_type;
        json_object_set_new(o, "elem_type", json_string(elem_name(tt->has_elem_type ? tt->elem_type : 0)));
        if (tt->shape) {
            json_t *shape = json_array();
            for (size_t i = 0; i < tt->shape->n_dim; i++) {
                const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
                if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
                    json_array_append_new(shape, json_integer(d->dim_value));
                else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM)
                    json_array_append_new(shape, info_str(d->dim_param));
                else
                    json_array_append_new(shape, json_null());
            }
            json_object_set_new(o, "shape", shape);
        } else {
            json_object_set_new(o, "shape", json_null());
        }
    } else {
        json_object_set_new(o, "elem_type", json_null());
        json_object_set_new(o, "shape", json_null());
    }
    return o;
}

static json_t *shape_json(const int64_t *s, int n)
{
    json_t *a = json_array();
    for (int i = 0; s && i < n; i++)
        json_array_append_new(a, json_integer(s[i]));
    return a;
}

/* The card's pre-processing record as "preprocessing" (what a user needs to make the model's
 * inputs again); nothing for a model without a card or record. */
static void card_preprocessing(const xai_model *m, json_t *o)
{
    xai_card *card = NULL;
    char *text = xai_card_from_model(m, &card) == XAI_OK ? xai_card_get_json(card, "preprocessing") : NULL;
    json_t *pre = text ? json_loads(text, 0, NULL) : NULL;
    if (json_is_object(pre))
        json_object_set(o, "preprocessing", pre);
    json_decref(pre);
    xai_free(text);
    xai_card_free(card);
}

static void libxai_json(const char *path, const void *buf, size_t len, json_t *o)
{
    json_t *l = json_object();
    xai_model *m = NULL;
    xai_status st = xai_model_load_onnx_mem(buf, len, path, NULL, &m);
    json_object_set_new(l, "loadable", json_boolean(st == XAI_OK));
    if (st == XAI_OK) {
        int nd = 0;
        const int64_t *s = xai_model_input_shape(m, &nd);
        json_object_set_new(l, "input_shape", shape_json(s, nd));
        s = xai_model_output_shape(m, &nd);
        json_object_set_new(l, "output_shape", shape_json(s, nd));
        json_object_set_new(l, "nodes", json_integer(xai_model_node_count(m)));
        card_preprocessing(m, o);
        xai_model_free(m);
    } else {
        json_object_set_new(l, "error", info_str(xai_last_error()));
    }
    json_object_set_new(o, "libxai", l);
}

/* The whole file, which must be non-empty and under the protobuf limit of 2 GiB. */
static xai_status read_model_bytes(const char *path, unsigned char **out, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return xai_error_set(XAI_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || sb.st_size <= 0 || sb.st_size >= MAX_MODEL_BYTES) {
        fclose(f);
        return xai_error_set(XAI_EFORMAT, "%s: not an ONNX model (empty or over 2 GiB)", path);
    }
    size_t len = (size_t)sb.st_size;
    unsigned char *buf = malloc(len);
    if (!buf) {
        fclose(f);
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    }
    size_t got = fread(buf, 1, len, f);
    fclose(f);
    if (got != len) {
        free(buf);
        return xai_error_set(XAI_EIO, "%s: short read", path);
    }
    *out = buf;
    *out_len = len;
    return XAI_OK;
}

/* "opset" (the default domain's) and every import by domain. */
static void opset_json(const Onnx__ModelProto *mp, json_t *o)
{
    long long opset = -1;
    json_t *imports = json_object();
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *op = mp->opset_import[i];
        const char *dom = op->domain ? op->domain : "";
        long long v = op->has_version ? (long long)op->version : 0;
        if (dom[0] == '\0' || strcmp(dom, "ai.onnx") == 0)
            opset = v;
        json_object_set_new(imports, dom[0] ? dom : "ai.onnx", json_integer(v));
    }
    json_object_set_new(o, "opset", opset >= 0 ? json_integer(opset) : json_null());
    json_object_set_new(o, "opset_imports", imports);
}

/* The graph inputs that are not initializers (older exporters list both), the outputs, the count
   of initializers. */
static void io_json(const Onnx__GraphProto *g, json_t *o)
{
    json_t *inputs = json_array();
    for (size_t i = 0; i < g->n_input; i++) {
        const char *name = g->input[i]->name ? g->input[i]->name : "";
        int is_init = 0;
        for (size_t k = 0; k < g->n_initializer && !is_init; k++)
            is_init = g->initializer[k]->name && strcmp(g->initializer[k]->name, name) == 0;
        if (!is_init)
            json_array_append_new(inputs, value_info_json(g->input[i]));
    }
    json_object_set_new(o, "inputs", inputs);
    json_t *outputs = json_array();
    for (size_t i = 0; i < g->n_output; i++)
        json_array_append_new(outputs, value_info_json(g->output[i]));
    json_object_set_new(o, "outputs", outputs);
    json_object_set_new(o, "initializers", json_integer((json_int_t)g->n_initializer));
}

/* The node count, the op of every node in order, and how often each op occurs. */
static void ops_json(const Onnx__GraphProto *g, json_t *o)
{
    json_t *ops = json_array(), *counts = json_object();
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *n = g->node[i];
        const char *op = n->op_type ? n->op_type : "";
        json_array_append_new(ops, info_str(op));
        json_t *c = json_object_get(counts, op);
        json_object_set_new(counts, op, json_integer(c ? json_integer_value(c) + 1 : 1));
    }
    json_object_set_new(o, "nodes", json_integer((json_int_t)g->n_node));
    json_object_set_new(o, "ops", ops);
    json_object_set_new(o, "op_counts", counts);
}

xai_status info_describe_onnx(const char *path, json_t **out)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    xai_status st = read_model_bytes(path, &buf, &len);
    if (st)
        return st;
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, buf);
    if (!mp || !mp->graph) {
        if (mp)
            onnx__model_proto__free_unpacked(mp, NULL);
        free(buf);
        return xai_error_set(XAI_EFORMAT, "%s: not an ONNX model (protobuf does not decode "
                             "as a ModelProto with a graph)", path);
    }
    const Onnx__GraphProto *g = mp->graph;
    json_t *o = json_object();
    json_object_set_new(o, "format", json_string("onnx"));
    json_object_set_new(o, "file", info_str(path));
    json_object_set_new(o, "ir_version", mp->has_ir_version ? json_integer(mp->ir_version) : json_null());
    json_object_set_new(o, "producer", info_str(mp->producer_name));
    json_object_set_new(o, "producer_version", info_str(mp->producer_version));
    json_object_set_new(o, "graph_name", info_str(g->name));
    opset_json(mp, o);
    io_json(g, o);
    ops_json(g, o);
    onnx__model_proto__free_unpacked(mp, NULL);
    libxai_json(path, buf, len, o);
    free(buf);
    xai_error_clear();
    *out = o;
    return XAI_OK;
}
