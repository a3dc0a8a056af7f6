/* log.h -- the daemon's own diagnostics: stderr or syslog, with levels */
#pragma once

#include <stdarg.h>

enum log_level { LOG_LEVEL_ERR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/** Set where diagnostics go and how much is said.  Safe to call again. */
void log_init(int verbosity, int use_syslog);

/** The current level; callers may skip building expensive messages. */
int log_verbosity(void);

/* The x-less forms append strerror(errno), as in unwind. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* fatal*: only at startup; logs and exits 1. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
