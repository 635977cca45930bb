/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parallel.c - a small persistent thread pool for splitting per-sample work (convolution
 * im2col + sgemm, row blocks of dense layers, LSTM blocks and directions, planes of pools,
 * channels of BatchNorm) across cores. With n threads, OpenBLAS is set to one thread and
 * every BLAS call runs inside one of our workers, so small GEMMs are not split across cores
 * (which costs more than it gains) and a stack of samples runs in parallel; a big product of
 * a single sample is split by xai_sgemm(). Work is cut so that results do not depend on the
 * thread count. Default: one thread, i.e. everything runs on the caller and OpenBLAS keeps its
 * own threading. One job runs at a time: a caller that finds the pool busy (another thread of
 * the application, or a worker) runs its job alone, on its own thread.
 */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "graph-int.h"
#include "vecmath.h"

static struct {
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    pthread_t th[XAI_PAR_MAX_THREADS];
    int nthreads;                  /* workers + the caller */
    _Atomic unsigned long gen;     /* job generation */
    unsigned long start_gen;       /* generation new workers start from */
    _Atomic int pending;           /* parts of the current job not finished yet */
    _Atomic int quit;
    _Atomic int busy;              /* a job is being dispatched or run */
    /* part t of the current job has been taken, by its worker or by the caller; reset (release)
       after the job below is written, so whoever takes a part sees the job it belongs to */
    _Atomic int taken[XAI_PAR_MAX_THREADS];
    _Atomic int caller_cpu;        /* the core the current job was posted from (-1: unknown) */
    /* the job (written before taken[] is reset and gen advanced) */
    xai_par_fn fn;
    void *ctx;
    int64_t n;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 1, 0, 0, 0, 0, 0,
          {0}, -1, NULL, NULL, 0};

/* Handing a job to a sleeping thread costs a futex wake-up (tens of microseconds on a busy or
   virtualised machine), which is more than a whole small job (one LSTM direction at batch 1,
   one layer of a small network). So workers, and the caller waiting for them, first poll for
   SPIN_NS before they block; layers that follow one another find the workers still polling.
   Polling with sched_yield() alone was measured slower and noisier than with pause; but a
   poller that never yields keeps the core from a partner the scheduler woke on the same core,
   which then waits for the poller's whole SPIN_NS (a worker and the caller on one core took
   about 450 us a job against 30 us on two). So after YIELD_NS of polling the poller also
   yields at each check of the clock, which costs nothing when no one else wants the core. */
#define SPIN_NS 200000L
#define YIELD_NS 20000L

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* poll until cond(arg) holds or SPIN_NS have passed; returns whether it holds */
static int spin_until(int (*cond)(unsigned long), unsigned long arg)
{
    long t0 = 0;
    for (unsigned i = 0;; i++) {
        if (cond(arg))
            return 1;
        cpu_relax();
        if ((i & 63) == 63) {
            long t = now_ns();
            if (!t0)
                t0 = t;
            else if (t - t0 > SPIN_NS)
                return 0;
            else if (t - t0 > YIELD_NS)
                sched_yield();
        }
    }
}

static int job_posted(unsigned long seen)
{
    return atomic_load_explicit(&pool.gen, memory_order_acquire) != seen ||
           atomic_load_explicit(&pool.quit, memory_order_relaxed);
}

static int job_done(unsigned long unused)
{
    (void)unused;
    return atomic_load_explicit(&pool.pending, memory_order_acquire) == 0;
}

static void run_part(int tid, int nt)
{
    int64_t n = pool.n;
    int64_t b = n * tid / nt, e = n * (tid + 1) / nt;
    if (b < e)
        pool.fn(pool.ctx, b, e, tid);
}

/* Run part t unless someone has taken it; the last part to finish wakes the caller. */
static void take_part(int t)
{
    if (atomic_exchange_explicit(&pool.taken[t], 1, memory_order_acq_rel))
        return;
    run_part(t, pool.nthreads);
    if (atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_acq_rel) == 1) {
        pthread_mutex_lock(&pool.mu);
        pthread_cond_signal(&pool.done);
        pthread_mutex_unlock(&pool.mu);
    }
}

/* A worker that finds itself on the core of the caller that posted the job moves to another of
   the cores it may use, by leaving the caller's out of its affinity for a moment (its own
   affinity is then restored as it was). Linux often wakes a thread on the core of the thread
   that woke it; there the two take turns instead of running side by side, and the load balancer
   can take milliseconds to part them. Measured here after 3 ms idle: the worker woke on the
   caller's core in 11-16 of 20 wake-ups, and jobs of 40 us took 34 us on average, 19 us with
   the move. */
static void leave_caller_core(void)
{
    int cpu = atomic_load_explicit(&pool.caller_cpu, memory_order_relaxed);
    if (cpu < 0 || cpu >= CPU_SETSIZE || sched_getcpu() != cpu)
        return;
    cpu_set_t mine, others;
    if (sched_getaffinity(0, sizeof mine, &mine))
        return;
    others = mine;
    CPU_CLR(cpu, &others);
    if (CPU_COUNT(&others) > 0 && sched_setaffinity(0, sizeof others, &others) == 0)
        sched_setaffinity(0, sizeof mine, &mine);
}

static void *worker(void *arg)
{
    int tid = (int)(intptr_t)arg;
    pthread_mutex_lock(&pool.mu);
    unsigned long seen = pool.start_gen; /* never run a job that was dispatched before we existed */
    pthread_mutex_unlock(&pool.mu);
    for (;;) {
        if (!spin_until(job_posted, seen)) {
            /* the dispatcher advances gen, then broadcasts under the mutex: re-checking under
               the mutex before waiting cannot miss it */
            pthread_mutex_lock(&pool.mu);
            while (!job_posted(seen))
                pthread_cond_wait(&pool.go, &pool.mu);
            pthread_mutex_unlock(&pool.mu);
        }
        if (atomic_load(&pool.quit))
            break;
        seen = atomic_load_explicit(&pool.gen, memory_order_acquire);
        leave_caller_core();
        take_part(tid);
    }
    return NULL;
}

static void pool_stop(void)
{
    pthread_mutex_lock(&pool.mu);
    atomic_store(&pool.quit, 1);
    pthread_cond_broadcast(&pool.go);
    pthread_mutex_unlock(&pool.mu);
    for (int i = 1; i < pool.nthreads; i++)
        pthread_join(pool.th[i], NULL);
    atomic_store(&pool.quit, 0);
    pool.nthreads = 1;
}

int xai_par_threads(void)
{
    return pool.nthreads;
}

void xai_par_set_threads(int n)
{
    /* an explicit count (also 1) keeps OpenBLAS single-threaded: its idle threads otherwise
       busy-wait after every small product (most of a one-sample CLI run went to sched_yield) */
    if (n >= 1)
        openblas_set_num_threads(1);
    if (n < 1)
        n = 1;
    if (n > XAI_PAR_MAX_THREADS)
        n = XAI_PAR_MAX_THREADS;
    if (n == pool.nthreads)
        return;
    if (pool.nthreads > 1)
        pool_stop();
    pool.start_gen = atomic_load(&pool.gen);
    int started = 1;
    for (int i = 1; i < n; i++) {
        if (pthread_create(&pool.th[i], NULL, worker, (void *)(intptr_t)i) != 0)
            break;
        started++;
    }
    pool.nthreads = started;
    /* BLAS inside our workers runs single-threaded */
    openblas_set_num_threads(1);
}

/* OpenBLAS's own threads split a product into parts whose edges its kernels round differently,
   so with the pool unused (one thread and OpenBLAS's own threading, the library's default) a
   result can change with OPENBLAS_NUM_THREADS: two epochs of a small ConvNet ended with other
   weights under 1 and 2 OpenBLAS threads. Training, where such differences grow step by step,
   therefore runs OpenBLAS single-threaded for its duration; with a pool of several threads it
   already is. Returns the count to restore (0: nothing was changed). */
int xai_par_blas_serial_begin(void)
{
    if (pool.nthreads > 1)
        return 0;
    int k = openblas_get_num_threads();
    if (k <= 1)
        return 0;
    openblas_set_num_threads(1);
    return k;
}

void xai_par_blas_serial_end(int token)
{
    if (token > 1)
        openblas_set_num_threads(token);
}

/* A single sample's big product cannot be split by samples, so between xai_par_blas_begin() and
   _end() products of at least XAI_SLICE_MACS multiply-adds issued through xai_sgemm() are cut
   into slices that the pool runs in parallel (one after the other with one thread): slices of
   the columns of C when N >= M, else of its rows; at least 2, about SLICE_MACS multiply-adds
   each, a multiple of 16 wide. The slices depend on the shape only, and the region on the
   caller's stack (one sample), never on the thread count: OpenBLAS's result for an element can
   change with the size of the product it is part of (it picks kernels by size), so this keeps
   the results independent of the thread count. (Earlier, OpenBLAS's own threads got the cores
   for such products; its idle threads then busy-wait for a while and compete with the pool's
   workers.) The flag belongs to the calling thread. */
#define XAI_SLICE_MACS ((double)(1 << 20))
#define SLICE_MACS ((double)(1 << 22))

static _Thread_local int split_blas;

int xai_par_blas_begin(double macs)
{
    if (macs >= XAI_SLICE_MACS) {
        split_blas = 1;
        return 1;
    }
    return 0;
}

void xai_par_blas_end(int token)
{
    if (token)
        split_blas = 0;
}

int xai_par_region(void)
{
    return split_blas && pool.nthreads > 1;
}

typedef struct {
    CBLAS_TRANSPOSE ta, tb;
    int M, N, K, by_n, step;
    float alpha, beta;
    const float *A, *B;
    float *C;
    int lda, ldb, ldc;
} sgemm_job;

static void sgemm_part(void *ctx, int64_t k0, int64_t k1, int tid)
{
    const sgemm_job *j = ctx;
    (void)tid;
    for (int64_t k = k0; k < k1; k++) {
        int len = j->by_n ? j->N : j->M;
        int b = (int)k * j->step, e = b + j->step < len ? b + j->step : len;
        if (j->by_n) /* columns b..e-1 of C and of op(B) */
            cblas_sgemm(CblasRowMajor, j->ta, j->tb, j->M, e - b, j->K, j->alpha, j->A, j->lda,
                        j->tb == CblasNoTrans ? j->B + b : j->B + (size_t)b * (size_t)j->ldb, j->ldb, j->beta,
                        j->C + b, j->ldc);
        else /* rows b..e-1 of C and of op(A) */
            cblas_sgemm(CblasRowMajor, j->ta, j->tb, e - b, j->N, j->K, j->alpha,
                        j->ta == CblasNoTrans ? j->A + (size_t)b * (size_t)j->lda : j->A + b, j->lda, j->B, j->ldb,
                        j->beta, j->C + (size_t)b * (size_t)j->ldc, j->ldc);
    }
}

void xai_sgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, float alpha, const float *A, int lda,
               const float *B, int ldb, float beta, float *C, int ldc)
{
    double macs = (double)M * (double)N * (double)K;
    sgemm_job j = {ta, tb, M, N, K, N >= M, 0, alpha, beta, A, B, C, lda, ldb, ldc};
    int len = j.by_n ? N : M;
    double want = macs / SLICE_MACS < 2.0 ? 2.0 : macs / SLICE_MACS; /* slices */
    if (want > (double)(len / 16))
        want = (double)(len / 16);
    if (!split_blas || macs < XAI_SLICE_MACS || want < 2.0) {
        cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    j.step = ((int)ceil((double)len / want) + 15) / 16 * 16;
    xai_par_for((len + j.step - 1) / j.step, 1, sgemm_part, &j);
}

/* Post a job of n items: part t is items [n t / T, n (t + 1) / T) of T = pool.nthreads parts,
   part 0 the caller's. With steal, the caller then runs the parts no worker has started: a
   worker that is asleep, or waiting for the caller's core (the scheduler often wakes it on the
   waker's core), would otherwise cost the caller its spin and a wake-up, hundreds of
   microseconds, for a job of tens. The parts and their ids stay the same, so the results do
   not depend on who runs them. Without steal each part runs on its own thread. */
static void dispatch(int64_t n, xai_par_fn fn, void *ctx, int steal)
{
    pool.fn = fn;
    pool.ctx = ctx;
    pool.n = n;
    atomic_store_explicit(&pool.caller_cpu, sched_getcpu(), memory_order_relaxed);
    atomic_store_explicit(&pool.pending, pool.nthreads, memory_order_relaxed);
    for (int t = 0; t < pool.nthreads; t++)
        atomic_store_explicit(&pool.taken[t], 0, memory_order_release);
    atomic_fetch_add_explicit(&pool.gen, 1, memory_order_release);
    pthread_mutex_lock(&pool.mu);
    pthread_cond_broadcast(&pool.go);
    pthread_mutex_unlock(&pool.mu);
    take_part(0);
    for (int t = 1; steal && t < pool.nthreads; t++)
        take_part(t);
    if (!spin_until(job_done, 0)) {
        pthread_mutex_lock(&pool.mu);
        while (!job_done(0))
            pthread_cond_wait(&pool.done, &pool.mu);
        pthread_mutex_unlock(&pool.mu);
    }
    atomic_store_explicit(&pool.busy, 0, memory_order_release);
}

void xai_par_for(int64_t n, int64_t min_per_thread, xai_par_fn fn, void *ctx)
{
    int nt = pool.nthreads;
    if (min_per_thread < 1)
        min_per_thread = 1;
    if (nt > 1 && n / min_per_thread < nt)
        nt = (int)(n / min_per_thread);
    int expect = 0;
    if (nt <= 1 || !atomic_compare_exchange_strong(&pool.busy, &expect, 1)) {
        if (n > 0)
            fn(ctx, 0, n, 0);
        return;
    }
    dispatch(n, fn, ctx, 1);
}

void xai_par_on_every_thread(xai_par_fn fn, void *ctx)
{
    int expect = 0;
    if (pool.nthreads <= 1 || !atomic_compare_exchange_strong(&pool.busy, &expect, 1)) {
        fn(ctx, 0, 1, 0);
        return;
    }
    dispatch(pool.nthreads, fn, ctx, 0);
}

/* Per-thread scratch for the parallel kernels (im2col columns): grown on first use and
   kept, so the steady state does not allocate. Each thread, pool worker or caller, has
   its own; a thread's buffer is freed when the thread ends. */
typedef struct {
    float *buf;
    size_t len;
} tscratch;

/* slot 0: xai_thread_scratch(); slot 1: the padded row block of xai_sgemm_rows(), which may
   run on a caller's im2col columns held in slot 0 */
enum { SCRATCH_SLOTS = 2 };
static pthread_key_t scratch_key[SCRATCH_SLOTS];
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p)
{
    tscratch *t = p;
    if (t)
        free(t->buf);
    free(t);
}

static void scratch_init(void)
{
    for (int i = 0; i < SCRATCH_SLOTS; i++)
        pthread_key_create(&scratch_key[i], scratch_free);
}

static float *slot_scratch(int slot, size_t n)
{
    pthread_once(&scratch_once, scratch_init);
    tscratch *t = pthread_getspecific(scratch_key[slot]);
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t || pthread_setspecific(scratch_key[slot], t) != 0) {
            free(t);
            return NULL;
        }
    }
    if (n > t->len) {
        float *b = realloc(t->buf, sizeof(float) * n);
        if (!b)
            return NULL;
        t->buf = b;
        t->len = n;
    }
    return t->buf;
}

float *xai_thread_scratch(size_t n)
{
    return slot_scratch(0, n);
}

/* Row-invariant products. With OpenBLAS's generic kernels (and its own threads, which split
   the rows) the last rows of a product whose row count is not a multiple of the kernel's unroll
   take an edge path that rounds differently, and a column's result changes with the number of
   columns in the call; so a sample's rows in a stack could differ in the last bit from the same
   sample alone. Here every cblas call has exactly ROW_BLOCK rows (the last block is padded with
   zero rows through per-thread scratch) and columns in slices whose width depends on N and K
   only: a row of C then depends on its own row of A only, never on M or on where the row sits.
   That needs a block whose rows all take the same path through the kernel: OpenBLAS 0.3.21's
   Haswell and Zen kernels round rows 6-11 of a 16-row call differently from rows 0-5, while
   8-row calls gave bitwise-equal rows at every offset with its Zen, Haswell, Sandybridge,
   Nehalem, Core2, Penryn, Prescott and Atom kernels (test-products checks the running one). */
#define ROW_BLOCK 8
#define COL_SLICE_MACS ((double)(1 << 22)) /* per ROW_BLOCK-row job */

typedef struct {
    CBLAS_TRANSPOSE tb;
    int M, N, K, ncs, cstep;
    float alpha, beta;
    const float *A, *B;
    float *C;
    int lda, ldb, ldc;
} rows_job;

/* rows r0..r0+m-1 (m <= ROW_BLOCK), columns c0..c0+n-1 */
static void rows_block(const rows_job *j, int r0, int m, int c0, int n)
{
    const float *A = j->A + (size_t)r0 * (size_t)j->lda;
    const float *B = j->tb == CblasNoTrans ? j->B + c0 : j->B + (size_t)c0 * (size_t)j->ldb;
    float *C = j->C + (size_t)r0 * (size_t)j->ldc + c0;
    float *pad = m < ROW_BLOCK ? slot_scratch(1, (size_t)ROW_BLOCK * (size_t)(j->K + n)) : NULL;
    if (m == ROW_BLOCK || !pad) { /* no memory for the pad: same values, bitwise invariance lost */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, j->tb, m, n, j->K, j->alpha, A, j->lda, B, j->ldb, j->beta, C,
                    j->ldc);
        return;
    }
    float *pa = pad, *pc = pad + (size_t)ROW_BLOCK * (size_t)j->K;
    memset(pad, 0, sizeof(float) * (size_t)ROW_BLOCK * (size_t)(j->K + n));
    for (int i = 0; i < m; i++) {
        memcpy(pa + (size_t)i * (size_t)j->K, A + (size_t)i * (size_t)j->lda, sizeof(float) * (size_t)j->K);
        if (j->beta != 0.0f)
            memcpy(pc + (size_t)i * (size_t)n, C + (size_t)i * (size_t)j->ldc, sizeof(float) * (size_t)n);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, j->tb, ROW_BLOCK, n, j->K, j->alpha, pa, j->K, B, j->ldb, j->beta, pc,
                n);
    for (int i = 0; i < m; i++)
        memcpy(C + (size_t)i * (size_t)j->ldc, pc + (size_t)i * (size_t)n, sizeof(float) * (size_t)n);
}

static void rows_part(void *ctx, int64_t k0, int64_t k1, int tid)
{
    const rows_job *j = ctx;
    (void)tid;
    for (int64_t k = k0; k < k1; k++) {
        int r0 = (int)(k / j->ncs) * ROW_BLOCK, c0 = (int)(k % j->ncs) * j->cstep;
        int m = j->M - r0 < ROW_BLOCK ? j->M - r0 : ROW_BLOCK, n = j->N - c0 < j->cstep ? j->N - c0 : j->cstep;
        rows_block(j, r0, m, c0, n);
    }
}

/* Skinny products: a few dot products per row (B transposed, N <= SKINNY: a dense layer with
   few outputs) or a few scaled rows of B per row (B as it is, K <= SKINNY: its transposed
   product). Through sgemm each call paid for packing B and for ROW_BLOCK padded rows, 8 times
   the arithmetic of one sample. Here each element of C is summed in a fixed order that depends
   on K only (16 interleaved partial sums, then halving), so its rows do not depend on M either. */
#define SKINNY 16

XAI_VEC_CLONES
static float dot_fixed(const float *a, const float *b, int K)
{
    float acc[16] = {0};
    int k = 0;
    for (; k + 16 <= K; k += 16)
        for (int l = 0; l < 16; l++)
            acc[l] += a[k + l] * b[k + l];
    for (int l = 0; k + l < K; l++)
        acc[l] += a[k + l] * b[k + l];
    for (int w = 8; w > 0; w /= 2)
        for (int l = 0; l < w; l++)
            acc[l] += acc[l + w];
    return acc[0];
}

/* c[0..n) = alpha * sum over t in order of a[t] * B[t][c0 ..] + beta * c */
XAI_VEC_CLONES
static void axpy_rows(const float *a, const float *B, int ldb, int K, int n, float alpha, float beta, float *c)
{
    float acc[64];
    for (int t = 0; t < n; t++)
        acc[t] = 0.0f;
    for (int k = 0; k < K; k++) {
        const float ak = a[k], *bk = B + (size_t)k * (size_t)ldb;
        for (int t = 0; t < n; t++)
            acc[t] += ak * bk[t];
    }
    for (int t = 0; t < n; t++)
        c[t] = beta != 0.0f ? alpha * acc[t] + beta * c[t] : alpha * acc[t];
}

static void rows_skinny(const rows_job *j, int r0, int r1)
{
    for (int i = r0; i < r1; i++) {
        const float *a = j->A + (size_t)i * (size_t)j->lda;
        float *c = j->C + (size_t)i * (size_t)j->ldc;
        if (j->tb == CblasTrans) {
            for (int n = 0; n < j->N; n++) {
                float d = j->alpha * dot_fixed(a, j->B + (size_t)n * (size_t)j->ldb, j->K);
                c[n] = j->beta != 0.0f ? d + j->beta * c[n] : d;
            }
        } else {
            for (int n0 = 0; n0 < j->N; n0 += 64)
                axpy_rows(a, j->B + n0, j->ldb, j->K, j->N - n0 < 64 ? j->N - n0 : 64, j->alpha, j->beta, c + n0);
        }
    }
}

static void skinny_part(void *ctx, int64_t k0, int64_t k1, int tid)
{
    (void)tid;
    rows_skinny(ctx, (int)k0, (int)k1);
}

void xai_sgemm_rows(CBLAS_TRANSPOSE tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                    int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
    if (tb == CblasTrans ? N <= SKINNY : K <= SKINNY) {
        rows_job j = {tb, M, N, K, 0, 0, alpha, beta, A, B, C, lda, ldb, ldc};
        if ((double)M * (double)N * (double)K >= 65536.0 && M >= 2)
            xai_par_for(M, 1, skinny_part, &j);
        else
            rows_skinny(&j, 0, M);
        return;
    }
    double slices = (double)ROW_BLOCK * (double)N * (double)K / COL_SLICE_MACS;
    if (slices > (double)(N / 16))
        slices = (double)(N / 16);
    int cstep = slices < 2.0 ? N : ((int)ceil((double)N / slices) + 15) / 16 * 16;
    rows_job j = {tb, M, N, K, (N + cstep - 1) / cstep, cstep, alpha, beta, A, B, C, lda, ldb, ldc};
    int64_t jobs = (int64_t)((M + ROW_BLOCK - 1) / ROW_BLOCK) * j.ncs;
    /* the pool only changes which thread runs a job, not the job */
    if (jobs >= 2 && (double)M * (double)N * (double)K >= 65536.0)
        xai_par_for(jobs, 1, rows_part, &j);
    else
        rows_part(&j, 0, jobs, 0);
}
