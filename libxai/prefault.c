/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * prefault.c - the pages an explanation runs on that are neither workspaces nor weights, faulted
 * in while a model is prepared (xai_model_prepare), so that the first explanation in a fresh
 * process touches no new page:
 *   - the library's own machine code: a file mapping whose pages are in the page cache but not
 *     yet in this process's page tables; the first call of each kernel otherwise takes a minor
 *     fault (Linux maps about 16 pages around it);
 *   - the stacks of the threads that explain: the direct convolution kernels keep their tables
 *     and partial sums on the stack (an EEG explanation reaches about 75 KiB below its caller),
 *     so a new thread, or the main thread below its deepest earlier call, grows its stack there.
 * Each minor fault costs a few microseconds (more in a virtual machine), several per first call.
 */
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "graph-int.h"
#include "lrp-int.h"

/* Stack below the caller of xai_model_prepare() that is faulted in: the deepest explanation
   measured (about 75 KiB below main() in xai-explain) with room for callers that explain a few
   frames deeper. Each page is a fault while planning, so not more. */
#define PREFAULT_STACK ((size_t)128 << 10)
/* Never come closer than this to the end of a thread's stack. */
#define STACK_MARGIN ((size_t)64 << 10)

static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

/* The executable segments of the object that holds this function (libxai.so, or the program
   when the library is linked in statically): one read per page maps them all. */
static int text_object(struct dl_phdr_info *info, size_t size, void *self)
{
    (void)size;
    uintptr_t at = (uintptr_t)self;
    int mine = 0;
    for (int k = 0; k < info->dlpi_phnum; k++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[k];
        uintptr_t b = (uintptr_t)info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && at >= b && at - b < ph->p_memsz)
            mine = 1;
    }
    if (!mine)
        return 0;
    size_t pg = page_size();
    for (int k = 0; k < info->dlpi_phnum; k++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[k];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        const volatile unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        for (size_t o = 0; o < ph->p_memsz; o += pg)
            (void)p[o];
    }
    return 1;
}

static void map_text(void)
{
    dl_iterate_phdr(text_object, (void *)(uintptr_t)map_text);
}

/* How much of this thread's stack lies below @p here, less the margin (0 when unknown). The
   stack's end is looked up once per thread: for the main thread glibc reads /proc/self/maps. */
static size_t stack_room(const char *here)
{
    static _Thread_local uintptr_t lo, len;
    static _Thread_local int known;
    if (!known) {
        pthread_attr_t a;
        void *addr = NULL;
        size_t size = 0;
        if (pthread_getattr_np(pthread_self(), &a) != 0)
            return 0;
        if (pthread_attr_getstack(&a, &addr, &size) == 0) {
            lo = (uintptr_t)addr;
            len = size;
        }
        pthread_attr_destroy(&a);
        known = 1;
    }
    uintptr_t h = (uintptr_t)here;
    if (len == 0 || h < lo + STACK_MARGIN || h - lo > len)
        return 0;
    return h - lo - STACK_MARGIN;
}

/* Writes one byte per page of n bytes of stack below this frame. */
static void __attribute__((noinline)) touch_below(size_t n)
{
    char block[n];
    volatile char *b = block; /* the stores must happen although nothing reads them */
    size_t pg = page_size();
    for (size_t o = 0; o < n; o += pg)
        b[n - 1 - o] = 0;
}

static void touch_stack(void)
{
    char here = 0; /* only its address is used; set so no compiler warns */
    size_t room = stack_room(&here);
    size_t n = room < PREFAULT_STACK ? room : PREFAULT_STACK;
    if (n > 0)
        touch_below(n);
}

static void touch_stack_part(void *ctx, int64_t b, int64_t e, int tid)
{
    (void)ctx;
    (void)b;
    (void)e;
    (void)tid;
    touch_stack();
}

void xai_prefault_explain(void)
{
    static pthread_once_t text_once = PTHREAD_ONCE_INIT;
    pthread_once(&text_once, map_text);
    xai_par_on_every_thread(touch_stack_part, NULL);
}
