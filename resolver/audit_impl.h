/* audit_impl.h -- what the audit writer (audit.c) and its syslog sink share
 *
 * Everything here runs on the writer thread only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "resolver/eg.h"

struct audit;
struct audit_cfg;
struct audit_syslog;

/** Counters of the audit (relaxed atomics inside). */
void audit_count_lost(struct audit *a, uint64_t n);
void audit_count_written(struct audit *a, uint64_t n);
/** A warning about the sink, at most one a minute. */
void audit_warn_sink(struct audit *a, const char *what, int err);

/**
 * A syslog collector (RFC 5424 messages, RFC 6587 octet counting) over TCP
 * or TLS.  Nothing is connected yet: audit_syslog_pump() connects, and
 * reconnects with exponential backoff, holding at most
 * cfg->syslog_buffer bytes of messages meanwhile.
 * \param a the audit counted into (borrowed); cfg borrowed likewise
 * \return 0 or -ENOMEM / -EIO (TLS set-up, err says why).
 */
int audit_syslog_new(struct audit_syslog **out, struct audit *a,
    const struct audit_cfg *cfg, char *err, size_t errlen) EG_MUSTCHECK;

/** Queue one JSON line (its newline dropped) as a syslog message; a
 * record is counted lost when the buffer is full.  is_loss: a records-lost
 * line (not a record, so neither counted written nor lost).
 * \return false when there was no room. */
bool audit_syslog_add(struct audit_syslog *s, const char *line, size_t len,
    const struct timespec *ts, bool is_loss);

/** Connect when due, send what is queued without blocking for long.
 * final: the writer is stopping: try a little harder to deliver (bounded
 * by a few seconds). */
void audit_syslog_pump(struct audit_syslog *s, bool final);

void audit_syslog_free(struct audit_syslog *s);
