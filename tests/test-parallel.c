/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-parallel.c - the thread pool's contract: in one xai_par_for() every item runs exactly
 * once, part t is items [n t / T, n (t + 1) / T) and runs once under its own id, whoever runs
 * it (a worker, or the caller when the worker has not started it); xai_par_on_every_thread()
 * runs item t on T distinct threads. Checked with the pool on two cores and with all its
 * threads confined to one core, where workers often wait for the caller's core and the caller
 * runs their parts.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "graph-int.h"
#include "test-common.h"

enum { MAXN = 97, JOBS = 400 };

typedef struct {
    int64_t n;
    _Atomic int hits[MAXN];           /* times item i ran */
    _Atomic int calls[XAI_PAR_MAX_THREADS]; /* times part t ran */
    int64_t b[XAI_PAR_MAX_THREADS], e[XAI_PAR_MAX_THREADS];
    pthread_t who[XAI_PAR_MAX_THREADS];
    _Atomic int on_caller;            /* parts other than 0 run by the calling thread */
    pthread_t caller;
} record;

static void note_part(void *ctx, int64_t b, int64_t e, int tid)
{
    record *r = ctx;
    atomic_fetch_add(&r->calls[tid], 1);
    r->b[tid] = b;
    r->e[tid] = e;
    r->who[tid] = pthread_self();
    if (tid > 0 && pthread_equal(r->who[tid], r->caller))
        atomic_fetch_add(&r->on_caller, 1);
    for (int64_t i = b; i < e; i++)
        atomic_fetch_add(&r->hits[i], 1);
}

/* one job of n items on a pool of T threads; returns how many workers' parts the caller ran */
static int check_job(record *r, int64_t n, int T)
{
    memset(r, 0, sizeof *r);
    r->n = n;
    r->caller = pthread_self();
    xai_par_for(n, 1, note_part, r);
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(atomic_load(&r->hits[i]) == 1, "n=%ld T=%d: item %ld ran %d times", (long)n, T, (long)i,
                      atomic_load(&r->hits[i]));
    for (int t = 0; t < T && n >= T; t++) {
        ck_assert_int_le(atomic_load(&r->calls[t]), 1);
        if (n * (t + 1) / T > n * t / T) {
            ck_assert_int_eq(atomic_load(&r->calls[t]), 1);
            ck_assert_int_eq(r->b[t], n * t / T);
            ck_assert_int_eq(r->e[t], n * (t + 1) / T);
        }
    }
    return atomic_load(&r->on_caller);
}

/* JOBS jobs of varying sizes; every other one after a pause long enough for the workers to
   stop polling and sleep, so that they must be woken */
static int run_jobs(int T)
{
    static record r;
    int stolen = 0;
    xai_par_set_threads(T);
    ck_assert_int_eq(xai_par_threads(), T);
    for (int k = 0; k < JOBS; k++) {
        stolen += check_job(&r, T + k % (MAXN - T), T);
        if (k % 2)
            usleep(300);
    }
    xai_par_set_threads(1);
    return stolen;
}

static int one_core(cpu_set_t *saved)
{
    cpu_set_t one;
    if (sched_getaffinity(0, sizeof *saved, saved))
        return 0;
    int cpu = 0;
    while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, saved))
        cpu++;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return sched_setaffinity(0, sizeof one, &one) == 0;
}

START_TEST(test_parts_exactly_once)
{
    static const int threads[] = {2, 3, 4};
    int T = threads[_i];
    int stolen = run_jobs(T);
    printf("parallel: %d threads on the machine's cores: the caller ran %d workers' parts in %d jobs\n", T, stolen,
           JOBS);
}
END_TEST

START_TEST(test_parts_one_core)
{
    static const int threads[] = {2, 4};
    int T = threads[_i];
    cpu_set_t saved;
    ck_assert_msg(one_core(&saved), "cannot confine the test to one core");
    /* the pool's threads are made now, so they inherit the one core */
    int stolen = run_jobs(T);
    sched_setaffinity(0, sizeof saved, &saved);
    printf("parallel: %d threads on one core: the caller ran %d workers' parts in %d jobs\n", T, stolen, JOBS);
}
END_TEST

START_TEST(test_every_thread)
{
    static record r;
    for (int T = 1; T <= 4; T++) {
        xai_par_set_threads(T);
        for (int k = 0; k < 50; k++) {
            memset(&r, 0, sizeof r);
            r.caller = pthread_self();
            xai_par_on_every_thread(note_part, &r);
            for (int t = 0; t < T; t++) {
                ck_assert_int_eq(atomic_load(&r.calls[t]), 1);
                ck_assert_int_eq(r.b[t], t);
                ck_assert_int_eq(r.e[t], t + 1);
                for (int u = 0; u < t; u++)
                    ck_assert_msg(!pthread_equal(r.who[t], r.who[u]), "T=%d: parts %d and %d on one thread", T, u, t);
            }
            ck_assert(pthread_equal(r.who[0], r.caller));
            if (k % 10 == 0)
                usleep(300);
        }
    }
    xai_par_set_threads(1);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("parallel");
    TCase *tc = tcase_create("pool");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_parts_exactly_once, 0, 3);
    tcase_add_loop_test(tc, test_parts_one_core, 0, 2);
    tcase_add_test(tc, test_every_thread);
    suite_add_tcase(s, tc);
    return s;
}
