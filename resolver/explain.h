/* explain.h -- `egressctl explain`: the pipeline's decisions for a name, answering nobody */
#pragma once

#include <stdint.h>

#include "resolver/eg.h"

struct evbuffer;
struct worker;

/** Called once, in the worker's thread, when the explanation is complete
 * (or failed: err < 0, out then holds the reason). */
typedef void explain_done_fn(void *arg, int err);

/**
 * Walk the query pipeline for name/type as tenant would see it, with the
 * functions the pipeline uses: tenant, special names (canaries), internal
 * zones, query-name policy (with the threat-DB entries met and the one
 * that decides), recursion through w's libunbound context, the response
 * policy on the answer, and the action.  Each step appends a line to out.
 * Nothing is answered, logged or counted.  Worker thread only.
 * \param name presentation form
 * \param type a type mnemonic ("A", "AAAA", "TYPE65"), NULL: A
 * \param tenant a tenant's name, NULL: the first configured
 * \param out borrowed until done runs
 * \return 0 (done will run, maybe already has), or a negative code with
 * the reason in out (done will not run).
 */
int explain_start(struct worker *w, const char *name, const char *type,
    const char *tenant, struct evbuffer *out, explain_done_fn *done,
    void *arg) EG_MUSTCHECK;
