/* SPDX-License-Identifier: MIT */
/* The x86-64 stack switch (see ctxswitch.h). */
#include <stdint.h>
#include <string.h>

#include "core/ctxswitch.h"

#ifdef CALX_CTX_ASM

/* System V: rbx, rbp, r12-r15, the MXCSR and the x87 control word are the
 * callee's to keep; everything else a call may clobber anyway. */
__asm__(".text\n"
        ".globl calx__ctx_swap\n"
        ".hidden calx__ctx_swap\n"  /* internal: out of the shared library's exports */
        ".type calx__ctx_swap,@function\n"
        "calx__ctx_swap:\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    subq $8, %rsp\n"
        "    stmxcsr (%rsp)\n"
        "    fnstcw 4(%rsp)\n"
        "    movq %rsp, (%rdi)\n"
        "    movq %rsi, %rsp\n"
        "    ldmxcsr (%rsp)\n"
        "    fldcw 4(%rsp)\n"
        "    addq $8, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    ret\n"
        ".size calx__ctx_swap, .-calx__ctx_swap\n"
        ".section .note.GNU-stack,\"\",@progbits\n"
        ".text\n");

void calx__ctx_make(calx_ctx *c, char *stack, size_t size, void (*entry)(void))
{
    /* The first switch "returns" into entry with the stack as a call would
     * leave it: entry's address at a 16-byte boundary, a zero return
     * address above it, six zeroed registers and the default MXCSR and
     * x87 control word below. */
    uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)top;
    *--sp = 0;                        /* entry's return address: none */
    *--sp = (uint64_t)(uintptr_t)entry;
    for (int i = 0; i < 6; i++)
        *--sp = 0;                    /* rbp rbx r12 r13 r14 r15 */
    uint32_t csr[2] = { 0x1F80, 0x037F };
    --sp;
    memcpy(sp, csr, sizeof csr);
    c->sp = sp;
}

#endif
