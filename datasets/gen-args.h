/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gen-args.h - the checked option values of the dataset generators (gen_eeg, gen_fmri, gen_gait,
 * gen_speech). A value is read whole: an empty string, leading blanks, trailing characters, a
 * number that overflows, a hexadecimal one, inf, nan or a value out of its range is refused with
 * "gen_NAME: --option: invalid value 'V' (expected ...)" on stderr, and a missing value (the
 * option last on the line) with "gen_NAME: --option: missing value"; the generator then exits
 * with 2. The program defines GEN_NAME (its name, a string literal) before including it; one
 * program includes it once. The functions are inline only so that a program need not use all.
 * The numbers are read by the apps' parsers (xai_app_parse_long, _double, _u64 and their lists);
 * this header adds the generators' messages and their open intervals.
 */
#ifndef GEN_ARGS_H
#define GEN_ARGS_H

#ifndef GEN_NAME
#error "define GEN_NAME before including gen-args.h"
#endif

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "app.h"

/* gen_arg_real: the ends of the interval that are excluded */
#define GEN_OPEN_LO 1
#define GEN_OPEN_HI 2

/* Reports a refused value of option @p opt; @p v NULL is a missing one. Returns -1. */
static inline int gen_arg_invalid(const char *opt, const char *v, const char *expected)
{
    if (!v)
        fprintf(stderr, GEN_NAME ": %s: missing value\n", opt);
    else
        fprintf(stderr, GEN_NAME ": %s: invalid value '%s' (expected %s)\n", opt, v, expected);
    return -1;
}

/* the numbers are read by the apps' parsers (apps/common/util.c), whose strtol and strtod skip
   leading blanks: a value with a blank anywhere is refused first */
static inline int gen_arg_blank_free(const char *v)
{
    for (const char *c = v; c && *c; c++)
        if (isspace((unsigned char)*c))
            return 0;
    return v != NULL;
}

/* 0 when the whole of @p v is a decimal integer in [lo, hi] (into *out), else -1; prints nothing */
static inline int gen_parse_int(const char *v, long lo, long hi, long *out)
{
    return gen_arg_blank_free(v) ? xai_app_parse_long(v, lo, hi, out) : -1;
}

/* 0 when the whole of @p v is a finite decimal number in the interval from @p lo to @p hi, its
   ends excluded as @p open says (GEN_OPEN_LO, GEN_OPEN_HI), into *out; else -1; prints nothing */
static inline int gen_parse_real(const char *v, double lo, double hi, int open, double *out)
{
    double d;
    if (!gen_arg_blank_free(v) || xai_app_parse_double(v, lo, hi, &d) || ((open & GEN_OPEN_LO) && d == lo) ||
        ((open & GEN_OPEN_HI) && d == hi))
        return -1;
    *out = d;
    return 0;
}

/* Option @p opt's value @p v as an int in [lo, hi]: 0, or -1 with the message printed */
static inline int gen_arg_int(const char *opt, const char *v, int lo, int hi, int *out)
{
    long n;
    if (gen_parse_int(v, lo, hi, &n) == 0) {
        *out = (int)n;
        return 0;
    }
    char what[80];
    snprintf(what, sizeof what, "an integer from %d to %d", lo, hi);
    return gen_arg_invalid(opt, v, what);
}

/* Option @p opt's value @p v as a seed, any unsigned 64-bit integer: 0, or -1 with the message
   printed (strtoull would wrap a minus sign round) */
static inline int gen_arg_seed(const char *opt, const char *v, uint64_t *out)
{
    if (v && xai_app_parse_u64(v, out) == 0)
        return 0;
    return gen_arg_invalid(opt, v, "an integer from 0 to 18446744073709551615");
}

/* Option @p opt's value @p v as a finite number between @p lo and @p hi (see gen_parse_real):
   0, or -1 with the message printed */
static inline int gen_arg_real(const char *opt, const char *v, double lo, double hi, int open, double *out)
{
    if (gen_parse_real(v, lo, hi, open, out) == 0)
        return 0;
    char what[96];
    snprintf(what, sizeof what, "a number in %c%g, %g%c", open & GEN_OPEN_LO ? '(' : '[', lo, hi,
             open & GEN_OPEN_HI ? ')' : ']');
    return gen_arg_invalid(opt, v, what);
}

/* 0 when the whole of @p v is exactly @p n <= 16 numbers in [lo, hi] separated by @p sep ("16,8",
   "24x28x20"), integers when @p integers is set, into out[0..n-1]; else -1; prints nothing */
static inline int gen_parse_tuple(const char *v, char sep, int n, double lo, double hi, int integers, double *out)
{
    long i[16];
    if (n > 16 || !gen_arg_blank_free(v))
        return -1;
    if (!integers)
        return xai_app_parse_double_list(v, sep, lo, hi, out, n) == n ? 0 : -1;
    if (xai_app_parse_long_list(v, sep, (long)lo, (long)hi, i, n) != n)
        return -1;
    for (int k = 0; k < n; k++)
        out[k] = (double)i[k];
    return 0;
}

/* Option @p opt's value @p v as a tuple (see gen_parse_tuple): 0, or -1 with the message printed */
static inline int gen_arg_tuple(const char *opt, const char *v, char sep, int n, double lo, double hi,
                                int integers, double *out)
{
    if (gen_parse_tuple(v, sep, n, lo, hi, integers, out) == 0)
        return 0;
    char what[128];
    snprintf(what, sizeof what, "%d %s from %g to %g separated by '%c'", n, integers ? "integers" : "numbers", lo,
             hi, sep);
    return gen_arg_invalid(opt, v, what);
}

#endif
