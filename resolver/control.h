/* control.h -- the control socket: one command line in, a text answer out (egressctl)
 *
 * A Unix stream socket (config key `control`, mode 0600, owned by
 * server.user) served by the main thread's loop.  The client sends one
 * line, at most CONTROL_MAX_LINE bytes:
 *
 *   status | stats | reload | flush [NAME] | tenants | nodes |
 *   explain NAME [--type TYPE] [--tenant TENANT]
 *
 * and gets back "ok\n" followed by the answer's lines, or one line
 * "error: REASON\n"; then the server closes the connection.  Only root
 * and the daemon's own user may talk to it (SO_PEERCRED).
 */
#pragma once

#include <stddef.h>

#include "resolver/eg.h"

struct config;
struct control;
struct daemon;

#define CONTROL_MAX_LINE	1024	/* bytes of a command line */
#define CONTROL_MAX_CONNS	16	/* clients at once */
#define CONTROL_READ_MS		5000	/* to send the command line */
#define CONTROL_WRITE_MS	10000	/* to take the answer */
#define CONTROL_MAX_ANSWER	(1 << 20)	/* bytes of one answer */

/**
 * Create the socket cfg->control in the main loop of d (parent directory
 * made 0750 when missing; a stale socket file replaced).  When the
 * default path (control not given) cannot be had (another running
 * egressd holds it, /run is not writable), says so in the log and runs
 * without a control socket (*out = NULL).
 * Call as root, before privileges are dropped: socket and directory are
 * handed to d's user.
 * \return 0, or a negative code with err naming the path.
 */
int control_new(struct control **out, struct daemon *d,
    const struct config *cfg, char *err, size_t errlen) EG_MUSTCHECK;

/** Close the socket, remove its file, drop the clients.
 * control_free(NULL) is a no-op. */
void control_free(struct control *c);
