/* mailbox.h -- work posted to an event loop from other threads (an eventfd and a list) */
#pragma once

#include "resolver/eg.h"

struct event_base;
struct mailbox;

/** What a mailbox runs: fn(arg) in the thread of its event base. */
typedef void mailbox_fn(void *arg);

/**
 * A mailbox on base: jobs posted from any thread run in base's thread,
 * between events, in the order posted.
 * \return 0 with *out set (free with mailbox_free()), -ENOMEM or -errno.
 */
int mailbox_new(struct mailbox **out, struct event_base *base) EG_MUSTCHECK;

/** Queue fn(arg) and wake the loop.  Any thread.  \return 0 or -ENOMEM
 * (then fn will not run). */
int mailbox_post(struct mailbox *mb, mailbox_fn *fn, void *arg) EG_MUSTCHECK;

/** Run what is queued now, in the calling thread (at exit). */
void mailbox_drain(struct mailbox *mb);

/** Free the mailbox; jobs still queued are dropped (not run).
 * mailbox_free(NULL) is a no-op.  Call from the loop's thread once no
 * other thread posts. */
void mailbox_free(struct mailbox *mb);
