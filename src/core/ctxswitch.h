/* SPDX-License-Identifier: MIT */
/* Switching stacks between tasks and the loop. On x86-64 a hand-written
 * switch saves only the callee-saved registers: unlike swapcontext it makes
 * no sigprocmask system call, so an await costs nanoseconds, not a trip into
 * the kernel. Elsewhere ucontext does the work. */
#ifndef CALX_CORE_CTXSWITCH_H
#define CALX_CORE_CTXSWITCH_H

#include <stddef.h>

#if defined(__x86_64__) && !defined(CALX_USE_UCONTEXT)
#define CALX_CTX_ASM 1

/* A suspended context is its saved stack pointer. */
typedef struct calx_ctx {
    void *sp;
} calx_ctx;

/* Saves the running context in *from and continues *to. */
void calx__ctx_swap(void **from, void *to);

static inline void calx__ctx_switch(calx_ctx *from, calx_ctx *to)
{
    calx__ctx_swap(&from->sp, to->sp);
}

/* Makes *c start entry on the stack [stack, stack + size); entry must
 * never return (it switches away for good). */
void calx__ctx_make(calx_ctx *c, char *stack, size_t size, void (*entry)(void));

#else
#include <ucontext.h>

typedef struct calx_ctx {
    ucontext_t uc;
} calx_ctx;

static inline void calx__ctx_switch(calx_ctx *from, calx_ctx *to)
{
    swapcontext(&from->uc, &to->uc);
}

static inline void calx__ctx_make(calx_ctx *c, char *stack, size_t size, void (*entry)(void))
{
    getcontext(&c->uc);
    c->uc.uc_stack.ss_sp = stack;
    c->uc.uc_stack.ss_size = size;
    c->uc.uc_link = NULL;
    makecontext(&c->uc, entry, 0);
}
#endif

#endif
