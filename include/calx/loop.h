/* calx — the event loop.
 *
 * calx runs on libuv. A calx_loop wraps a uv_loop_t: either one it makes
 * and owns, or the program's own (so calx can share a loop with the rest of
 * a libuv program). All calx objects made on a loop are used from the
 * thread that runs it.
 */
#ifndef CALX_LOOP_H
#define CALX_LOOP_H

#include <stdint.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct calx_loop calx_loop;
struct uv_loop_s;

/* Makes a calx loop over `uv` (not owned: it must outlive the calx loop), or
 * over a new libuv loop of its own when uv is NULL. Returns NULL and fills
 * err on failure. The caller owns the result: free it with calx_loop_free. */
calx_loop *calx_loop_new(struct uv_loop_s *uv, calx_error *err);

/* The loop for this thread, made on first use over a libuv loop of its own.
 * Owned by calx; freed at exit by calx_loop_free_default(). Never NULL unless
 * memory runs out. */
calx_loop *calx_loop_default(void);

/* Frees this thread's default loop, if one was made. Idempotent. */
void calx_loop_free_default(void);

/* Runs the loop until nothing is left to do (uv_run with UV_RUN_DEFAULT).
 * Returns 0, or CALX_ERR_STATE when called from inside the loop. */
int calx_loop_run(calx_loop *loop);

/* Closes the loop's own handles and, when it owns its libuv loop, that loop
 * too. Everything made on the loop must be closed first. NULL is a no-op. */
void calx_loop_free(calx_loop *loop);

/* The libuv loop underneath; owned by whoever gave it (or by the calx loop). */
struct uv_loop_s *calx_loop_uv(calx_loop *loop);

/* Milliseconds of the loop's clock (uv_now), cached per iteration. */
uint64_t calx_loop_now(calx_loop *loop);

#ifdef __cplusplus
}
#endif
#endif
