/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * spray-gsl.c - the GSL dense symmetric eigen-solver for spray.c, in its own translation
 * unit because <gsl/gsl_eigen.h> pulls in gsl_cblas.h, whose enums clash with OpenBLAS's
 * <cblas.h>. Ref: GSL manual, "Real Symmetric Matrices" (gsl_eigen_symmv).
 */
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>

#include "spray-int.h"

int spray_symm_eig_top(double *h, int m, int need, double *th, double *s)
{
    gsl_matrix_view hv = gsl_matrix_view_array(h, (size_t)m, (size_t)m);
    gsl_vector *ev = gsl_vector_alloc((size_t)m);
    gsl_matrix *V = gsl_matrix_alloc((size_t)m, (size_t)m);
    gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc((size_t)m);
    int rc = 0;
    if (!ev || !V || !ws)
        rc = -1;
    else if (gsl_eigen_symmv(&hv.matrix, ev, V, ws) != GSL_SUCCESS ||
             gsl_eigen_symmv_sort(ev, V, GSL_EIGEN_SORT_VAL_DESC) != GSL_SUCCESS)
        rc = -2;
    else
        for (int j = 0; j < need; j++) {
            th[j] = gsl_vector_get(ev, (size_t)j);
            for (int i = 0; i < m; i++)
                s[(size_t)i * need + j] = gsl_matrix_get(V, (size_t)i, (size_t)j);
        }
    if (ws)
        gsl_eigen_symmv_free(ws);
    if (V)
        gsl_matrix_free(V);
    if (ev)
        gsl_vector_free(ev);
    return rc;
}
