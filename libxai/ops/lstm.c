/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * lstm.c - ONNX LSTM. Forward and Arras et al.'s LRP-all are the subject of the LSTM
 * work item; until they land, loading a model with an LSTM node fails cleanly.
 */
#include "graph-int.h"

static xai_status lstm_forward(const xai_model *m, const xai_node *n, xai_workspace *ws)
{
    (void)m;
    (void)ws;
    XAI_FAIL(XAI_EUNSUPPORTED, "node '%s' (LSTM): not supported yet", n->name);
}

const xai_op_vtable xai_lstm_ops = {"LSTM", lstm_forward, NULL, NULL, NULL};

xai_status xai_lstm_init(xai_model *m, xai_node *n, const Onnx__NodeProto *np)
{
    (void)np;
    return xai_node_unsupported(m, n, "(op)", "LSTM nodes are not supported by this version of libxai");
}
