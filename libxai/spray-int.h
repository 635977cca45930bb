/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * spray-int.h - private helpers shared by spray.c and spray-gsl.c (not installed).
 */
#ifndef XAI_SPRAY_INT_H
#define XAI_SPRAY_INT_H

/*
 * Largest @p need eigenpairs of the symmetric m x m row-major matrix @p h (overwritten):
 * values descending into th[need], eigenvectors as the columns of s (m x need, row-major).
 * Returns 0, -1 (out of memory) or -2 (GSL failed).
 */
int spray_symm_eig_top(double *h, int m, int need, double *th, double *s);

#endif
