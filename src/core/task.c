/* SPDX-License-Identifier: MIT */
/* Tasks: stackful coroutines on the loop (core/ctxswitch.h), each on an mmap'd
 * stack with a guard page, annotated for AddressSanitizer (fiber switches)
 * and valgrind (stack registration) so both follow the switches.
 *
 * A finished task's stack of the default size stays on its loop for the
 * next spawn (at most CALX__SPARE_STACKS): mapping a stack, protecting its
 * guard page and unmapping it each flush the TLB of every other thread of
 * the process (the SQLite workers), which a server spawning a task per
 * request spent a third of its time on (bench B7).
 *
 * A task only ever runs when the loop resumes it from its own stack (the
 * scheduler context): a future that completes inside another task defers
 * the wake-up instead of switching directly, so switches never nest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "calx/task.h"
#include "core/ctxswitch.h"
#include "core/loop_int.h"
#include "core/nomem.h"
#include "core/promise.h"
#include "core/sanitizers.h"
#include "core/tasks.h"

#define DEFAULT_STACK (256 * 1024)
#define MIN_STACK (32 * 1024)

struct calx_task {
    calx_loop *loop;
    calx_ctx ctx;
    char *map;                /* the mapping, guard page first */
    size_t map_size;
    char *stack;              /* usable stack above the guard */
    size_t stack_size;
    calx_task_fn fn;
    void *arg;
    calx_future *done;        /* the task's own future (we produce it) */
    calx_future *awaiting;    /* what it is suspended on, if anything */
    bool cancel_pending;      /* cancelled while not suspended on a future */
    bool finished;
    calx_work work;
#ifdef CALX_HAVE_VALGRIND
    unsigned vg_stack;
#endif
#ifdef CALX_ASAN
    void *fake_stack;
#endif
};

/* Per thread: the task running now and the scheduler context to return to. */
static _Thread_local calx_task *current;
static _Thread_local calx_ctx sched_ctx;
#ifdef CALX_ASAN
static _Thread_local const void *sched_bottom;
static _Thread_local size_t sched_size;
#endif

calx_task *calx__task_self(void)
{
    return current;
}

bool calx_in_task(void)
{
    return current != NULL;
}

size_t calx_task_count(calx_loop *loop)
{
    return loop ? loop->ntasks : 0;
}

/* Keeps a default-size stack on the loop for the next spawn, or unmaps it. */
static void release_stack(calx_loop *loop, char *map, size_t map_size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (map_size == DEFAULT_STACK + page && loop->nspare_stacks < CALX__SPARE_STACKS)
        loop->spare_stacks[loop->nspare_stacks++] = map;
    else
        munmap(map, map_size);
}

void calx__task_free_spares(calx_loop *loop)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    while (loop->nspare_stacks > 0)
        munmap(loop->spare_stacks[--loop->nspare_stacks], DEFAULT_STACK + page);
}

static void free_task(calx_task *t)
{
#ifdef CALX_HAVE_VALGRIND
    VALGRIND_STACK_DEREGISTER(t->vg_stack);
#endif
#ifdef CALX_ASAN
    /* ASan's poison of the task's frames would outlive the mapping and
     * hit whatever is mapped there next (swapcontext's interceptor did
     * this clearing before the switch became our own). */
    __asan_unpoison_memory_region(t->map, t->map_size);
#endif
    release_stack(t->loop, t->map, t->map_size);
    free(t);
}

/* Entry point on the task's own stack. */
static void trampoline(void)
{
    calx_task *t = current;
#ifdef CALX_ASAN
    __sanitizer_finish_switch_fiber(NULL, &sched_bottom, &sched_size);
#endif
    void *result = t->fn(t->arg);
    t->finished = true;
    calx__future_resolve(t->done, result);
#ifdef CALX_ASAN
    /* NULL: this fiber's fake stack dies with it. */
    __sanitizer_start_switch_fiber(NULL, sched_bottom, sched_size);
#endif
    /* Never resumed: the loop frees the stack this runs on. */
    calx_ctx dead;
    calx__ctx_switch(&dead, &sched_ctx);
}

/* Switches from the loop into t until it suspends or ends. */
static void resume(calx_work *w)
{
    calx_task *t = (calx_task *)((char *)w - offsetof(calx_task, work));
    calx_loop *loop = t->loop;
    calx_task *prev = current;
    current = t;
    loop->inside++;
#ifdef CALX_ASAN
    void *fake = NULL;
    __sanitizer_start_switch_fiber(&fake, t->stack, t->stack_size);
#endif
    calx__ctx_switch(&sched_ctx, &t->ctx);
#ifdef CALX_ASAN
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
    loop->inside--;
    current = prev;
    if (t->finished) {
        loop->ntasks--;
        free_task(t);
    }
}

void calx__task_suspend(calx_task *t, calx_future *f)
{
    t->awaiting = f;
#ifdef CALX_ASAN
    __sanitizer_start_switch_fiber(&t->fake_stack, sched_bottom, sched_size);
#endif
    calx__ctx_switch(&t->ctx, &sched_ctx);
#ifdef CALX_ASAN
    __sanitizer_finish_switch_fiber(t->fake_stack, &sched_bottom, &sched_size);
#endif
    t->awaiting = NULL;
}

bool calx__task_take_cancel(calx_task *t)
{
    bool pending = t->cancel_pending;
    t->cancel_pending = false;
    return pending;
}

void calx__task_wake(calx_task *t)
{
    t->work.fn = resume;
    calx__loop_defer(t->loop, &t->work);
}

static void cancel_task(void *ctx)
{
    calx_task *t = ctx;
    if (t->finished)
        return;
    /* The future it awaits may have completed already, the task not yet
     * resumed: then the cancel waits for its next await, as when it
     * awaits nothing (it was lost there, and a flush ran to its end). */
    if (!t->awaiting || !calx_future_cancel(t->awaiting))
        t->cancel_pending = true;
}

calx_future *calx_spawn(calx_loop *loop, calx_task_fn fn, void *arg,
                        const calx_task_opts *opts, calx_error *err)
{
    if (!loop || !fn)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "calx_spawn was given a NULL %s",
                              loop ? "task function" : "loop"), NULL;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t size = opts && opts->stack_size ? opts->stack_size : DEFAULT_STACK;
    if (size < MIN_STACK)
        size = MIN_STACK;
    size = (size + page - 1) / page * page;

    calx_task *t = calloc(1, sizeof *t);
    if (!t) {
        calx__nomem(err, "starting a task");
        return NULL;
    }
    t->map_size = size + page;
    if (size == DEFAULT_STACK && loop->nspare_stacks > 0) {
        /* A finished task's: its guard page is still protected. */
        t->map = loop->spare_stacks[--loop->nspare_stacks];
#ifdef CALX_HAVE_VALGRIND
        /* What the last task left there is garbage to this one. */
        VALGRIND_MAKE_MEM_UNDEFINED(t->map + page, size);
#endif
    } else {
        t->map = mmap(NULL, t->map_size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (t->map == MAP_FAILED) {
            free(t);
            calx_error_set(err, CALX_ERR_NOMEM, "cannot map a %zu-byte task stack", size);
            return NULL;
        }
        /* The guard page turns a stack overflow into a fault, not corruption. */
        mprotect(t->map, page, PROT_NONE);
    }
    t->stack = t->map + page;
    t->stack_size = size;
    t->done = calx__future_new(loop);
    if (!t->done) {
        release_stack(loop, t->map, t->map_size);
        free(t);
        calx__nomem(err, "starting a task");
        return NULL;
    }
#ifdef CALX_HAVE_VALGRIND
    t->vg_stack = VALGRIND_STACK_REGISTER(t->stack, t->stack + size);
#endif
    t->loop = loop;
    t->fn = fn;
    t->arg = arg;
    calx__future_set_dtor(t->done, opts ? opts->result_free : NULL);
    calx__future_set_cancel(t->done, cancel_task, t);
    calx__future_cancel_waits(t->done);

    calx__ctx_make(&t->ctx, t->stack, size, trampoline);

    loop->ntasks++;
    t->work.fn = resume;
    calx__loop_defer(loop, &t->work);
    return t->done;
}

/* ---- sleep ---- */

typedef struct sleeper {
    calx_future *f;
    calx_timer *timer;
} sleeper;

static void sleep_fired(void *arg)
{
    sleeper *s = arg;
    calx__timer_free(s->timer);
    calx__future_resolve(s->f, NULL);
    free(s);
}

static void sleep_cancel(void *arg)
{
    sleeper *s = arg;
    calx__timer_free(s->timer);
    calx__future_resolve(s->f, NULL);
    free(s);
}

calx_future *calx_sleep(calx_loop *loop, uint64_t ms, calx_error *err)
{
    if (!loop)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "calx_sleep was given a NULL loop"), NULL;
    sleeper *s = malloc(sizeof *s);
    if (!s || !(s->f = calx__future_new(loop))) {
        free(s);
        calx__nomem(err, "in calx_sleep");
        return NULL;
    }
    s->timer = calx__timer_new(loop, sleep_fired, s);
    if (!s->timer) {
        calx_future_release(s->f);
        calx__future_resolve(s->f, NULL);
        free(s);
        calx__nomem(err, "in calx_sleep");
        return NULL;
    }
    calx__future_set_cancel(s->f, sleep_cancel, s);
    calx__timer_start(s->timer, ms);
    return s->f;
}
