/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * table.c - the per-kind vtable table, indexed by xai_kind (one entry per kind).
 */
#include "graph-int.h"

extern const xai_op_vtable xai_conv_ops, xai_gemm_ops, xai_pool_ops, xai_act_ops, xai_bin_ops, xai_bn_ops,
    xai_move_ops, xai_lstm_ops;

const xai_op_vtable *const xai_ops_table[K_COUNT] = {
    [K_CONV] = &xai_conv_ops,      [K_GEMM] = &xai_gemm_ops,     [K_ADD] = &xai_bin_ops,
    [K_SUB] = &xai_bin_ops,        [K_MUL] = &xai_bin_ops,       [K_DIV] = &xai_bin_ops,
    [K_RELU] = &xai_act_ops,       [K_LEAKYRELU] = &xai_act_ops, [K_SIGMOID] = &xai_act_ops,
    [K_TANH] = &xai_act_ops,       [K_ELU] = &xai_act_ops,       [K_MAXPOOL] = &xai_pool_ops,
    [K_AVGPOOL] = &xai_pool_ops,   [K_GAP] = &xai_pool_ops,      [K_BN] = &xai_bn_ops,
    [K_RESHAPE] = &xai_move_ops,   [K_TRANSPOSE] = &xai_move_ops, [K_CONCAT] = &xai_move_ops,
    [K_SLICE] = &xai_move_ops,     [K_GATHER] = &xai_move_ops,   [K_PAD] = &xai_move_ops,
    [K_IDENTITY] = &xai_move_ops,  [K_LSTM] = &xai_lstm_ops,
};
_Static_assert(sizeof xai_ops_table / sizeof xai_ops_table[0] == K_COUNT, "one vtable per kind");
