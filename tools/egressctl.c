/* egressctl.c -- control a running egressd over its control socket (a thin client) */
#include "autoconf.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SOCKET	"/run/egressd/control.sock"
#define MAX_LINE	1024		/* the daemon's CONTROL_MAX_LINE */
#define MAX_ANSWER	(2 << 20)
#define TIMEOUT_S	150		/* explain may wait for recursion */

static void
usage(void)
{
	fprintf(stderr, "usage: egressctl [-s SOCKET] COMMAND\n"
	    "  status                 version, uptime, config, workers, threat DB\n"
	    "  stats                  the main counters\n"
	    "  reload                 load the config file again (as SIGHUP)\n"
	    "  flush [NAME]           empty the resolver caches\n"
	    "  explain NAME [--type TYPE] [--tenant TENANT]\n"
	    "                         each pipeline step's verdict for NAME\n"
	    "  tenants                tenants, networks, identities, policies\n"
	    "  nodes                  security-node pools and their health\n"
	    "  -s SOCKET  the control socket (default " DEFAULT_SOCKET ")\n");
	exit(2);
}

/* The command line to send, checked here so that usage errors exit 2. */
static void
build_line(int argc, char **argv, char *line, size_t len)
{
	const char *cmd = argv[0];
	size_t n = 0;

	if (strcmp(cmd, "flush") == 0) {
		if (argc > 2)
			usage();
	} else if (strcmp(cmd, "explain") == 0) {
		if (argc < 2 || argc % 2 != 0)
			usage();
		for (int i = 2; i < argc; i += 2)
			if (strcmp(argv[i], "--type") != 0 &&
			    strcmp(argv[i], "--tenant") != 0)
				usage();
	} else if (strcmp(cmd, "status") == 0 || strcmp(cmd, "stats") == 0 ||
	    strcmp(cmd, "reload") == 0 || strcmp(cmd, "tenants") == 0 ||
	    strcmp(cmd, "nodes") == 0) {
		if (argc != 1)
			usage();
	} else
		usage();
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]);

		if (l == 0 || strpbrk(argv[i], " \t\r\n") != NULL) {
			fprintf(stderr, "egressctl: \"%s\": words may not be empty "
			    "or contain blanks\n", argv[i]);
			exit(2);
		}
		if (n + l + 2 > len || n + l + 1 > MAX_LINE) {
			fprintf(stderr, "egressctl: command longer than %d bytes\n",
			    MAX_LINE);
			exit(2);
		}
		if (i)
			line[n++] = ' ';
		memcpy(line + n, argv[i], l);
		n += l;
	}
	line[n++] = '\n';
	line[n] = '\0';
}

static int
connect_to(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "egressctl: %s: path too long\n", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(stderr, "egressctl: %s: %s%s\n", path, strerror(errno),
		    errno == ENOENT || errno == ECONNREFUSED ?
		    " (is egressd running? -s names another socket)" : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Read the whole answer (the daemon closes after it), bounded in size
 * and time.  \return the length, or -1. */
static ssize_t
read_answer(int fd, char *buf, size_t cap)
{
	time_t deadline = time(NULL) + TIMEOUT_S;
	size_t n = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left = (long)(deadline - time(NULL));
		ssize_t r;

		if (left <= 0 || poll(&p, 1, (int)left * 1000) == 0) {
			fprintf(stderr, "egressctl: no answer within %d s\n",
			    TIMEOUT_S);
			return -1;
		}
		if ((r = read(fd, buf + n, cap - n)) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "egressctl: read: %s\n", strerror(errno));
			return -1;
		}
		if (r == 0)
			break;
		if ((n += (size_t)r) == cap) {
			fprintf(stderr, "egressctl: answer longer than %d bytes\n",
			    MAX_ANSWER);
			return -1;
		}
	}
	buf[n] = '\0';
	return (ssize_t)n;
}

int
main(int argc, char **argv)
{
	const char *path = DEFAULT_SOCKET;
	char line[MAX_LINE + 2], *buf;
	ssize_t n;
	size_t off = 0, len;
	int ch, fd;

	while ((ch = getopt(argc, argv, "+s:h")) != -1) {
		switch (ch) {
		case 's': path = optarg; break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	build_line(argc, argv, line, sizeof(line));
	if ((fd = connect_to(path)) < 0)
		return 1;
	len = strlen(line);
	while (off < len) {
		ssize_t w = write(fd, line + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "egressctl: %s: %s\n", path, strerror(errno));
			close(fd);
			return 1;
		}
		off += (size_t)w;
	}
	if ((buf = malloc(MAX_ANSWER + 1)) == NULL) {
		fprintf(stderr, "egressctl: out of memory\n");
		close(fd);
		return 1;
	}
	n = read_answer(fd, buf, MAX_ANSWER);
	close(fd);
	if (n < 0) {
		free(buf);
		return 1;
	}
	if (strncmp(buf, "ok\n", 3) == 0) {
		fputs(buf + 3, stdout);
		free(buf);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (strncmp(buf, "error: ", 7) == 0)
		fprintf(stderr, "egressctl: %s%s", buf + 7,
		    n && buf[n - 1] == '\n' ? "" : "\n");
	else
		fprintf(stderr, "egressctl: unexpected answer from %s%s%s\n", path,
		    n ? ": " : " (none)", n ? buf : "");
	free(buf);
	return 1;
}
