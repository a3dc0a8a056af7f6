/* main.c -- egressd: start-up, signals, shutdown */
#include "autoconf.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "resolver/config.h"
#include "resolver/daemon.h"
#include "resolver/log.h"
#include "resolver/recurse.h"

static void
usage(void)
{
	fprintf(stderr, "usage: egressd [-c FILE] [-t] [-f] [-v]\n"
	    "  -c FILE  configuration (default " CONFIG_DEFAULT_PATH ")\n"
	    "  -t       check the configuration and the files it names, then exit\n"
	    "  -f       stay in the foreground, log to stderr\n"
	    "  -v       more diagnostics (repeat for debug)\n");
	exit(2);
}

/* -t: let libunbound judge its options and the trust anchor too. */
static int
check_resolution(const struct config *cfg, char *err, size_t errlen)
{
	struct event_base *base;
	struct recurse *rec;
	int r;

	if ((base = event_base_new()) == NULL) {
		snprintf(err, errlen, "libevent: cannot create an event base");
		return -ENOMEM;
	}
	if ((r = recurse_new(&rec, base, cfg, err, errlen)) == 0)
		recurse_free(rec);
	event_base_free(base);
	return r;
}

/* Fork; the parent waits until the child says it is serving (or dies) so
 * that start-up errors reach the caller's terminal and exit status. */
static int
daemonize(void)
{
	int fds[2];
	pid_t pid;
	char c;

	if (pipe(fds) != 0)
		fatal("pipe");
	if ((pid = fork()) < 0)
		fatal("fork");
	if (pid > 0) {
		close(fds[1]);
		_exit(read(fds[0], &c, 1) == 1 ? 0 : 1);
	}
	close(fds[0]);
	if (setsid() < 0)
		fatal("setsid");
	return fds[1];
}

static void
detach(int ready_fd)
{
	int null;

	if ((null = open("/dev/null", O_RDWR)) >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	if (write(ready_fd, "1", 1) != 1)
		log_warn("cannot tell the parent we are ready");
	close(ready_fd);
}

int
main(int argc, char **argv)
{
	const char *path = CONFIG_DEFAULT_PATH;
	int ch, check = 0, fg = 0, verbose = LOG_LEVEL_INFO, ready_fd = -1;
	struct config *cfg;
	struct daemon *d;
	char err[1024], *abs = NULL;

	while ((ch = getopt(argc, argv, "c:tfvh")) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 't': check = 1; break;
		case 'f': fg = 1; break;
		case 'v': verbose++; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (verbose > LOG_LEVEL_DEBUG + 1)
		verbose = LOG_LEVEL_DEBUG + 1;
	log_init(verbose, 0);
	if (config_load(path, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "egressd: %s\n", err);
		return 1;
	}
	if (check) {
		int r = check_resolution(cfg, err, sizeof(err));

		if (r == 0)
			printf("%s: configuration OK\n", path);
		else
			fprintf(stderr, "egressd: %s\n", err);
		config_free(cfg);
		return r == 0 ? 0 : 1;
	}
	/* reloads read the same file, whatever the working directory */
	if ((abs = realpath(path, NULL)) != NULL)
		path = abs;
	signal(SIGPIPE, SIG_IGN);
	if (!fg)
		ready_fd = daemonize();
	/* as root: every socket and file is opened here, then root goes */
	if (daemon_new(&d, path, cfg, err, sizeof(err)) != 0 ||
	    daemon_drop_privileges(d, err, sizeof(err)) != 0) {
		fprintf(stderr, "egressd: %s\n", err);
		return 1;
	}
	if (!fg) {
		log_init(verbose, 1);
		detach(ready_fd);
	}
	if (daemon_start(d, err, sizeof(err)) != 0)
		fatalx("%s", err);
	daemon_notify("READY=1");
	daemon_run(d);
	daemon_free(d);
	free(abs);
	return 0;
}
