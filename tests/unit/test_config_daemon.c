/* test_config_daemon.c -- the process keys of the config (server.workers, server.user, control) and its refcount */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "resolver/config.h"

#define HEAD	/* lines 1-4 */ \
	"server:\n" \
	"  listen:\n" \
	"    - { transport: dns, address: \"127.0.0.1:5399\" }\n"
#define TAIL \
	"resolution:\n" \
	"  dnssec: no\n" \
	"tenants:\n" \
	"  - { name: lan, networks: [ 10.0.0.0/8 ] }\n"

struct fx {
	char dir[64];
	char path[128];
	char err[1024];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/egressd-test-cfgd.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/egressd.yaml", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static int
load(struct fx *f, const char *yaml, struct config **c)
{
	FILE *fp;

	assert_non_null(fp = fopen(f->path, "w"));
	assert_true(fputs(yaml, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	f->err[0] = '\0';
	return config_load(f->path, c, f->err, sizeof(f->err));
}

static void
defaults(void **state)
{
	struct fx *f = *state;
	struct config *c = NULL;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	assert_int_equal(load(f, HEAD TAIL, &c), 0);
	assert_int_equal(c->workers, cpus < 1 ? 1 : cpus > CONFIG_MAX_WORKERS ?
	    CONFIG_MAX_WORKERS : (unsigned)cpus);
	assert_null(c->user);
	assert_string_equal(c->control, CONFIG_DEFAULT_CONTROL);
	assert_int_equal(c->control_line, 0);
	config_free(c);
}

static void
given(void **state)
{
	struct fx *f = *state;
	struct config *c = NULL;

	assert_int_equal(load(f, HEAD "  workers: 3\n  user: root\n" TAIL
	    "control: run/ctl.sock\n", &c), 0);
	assert_int_equal(c->workers, 3);
	assert_string_equal(c->user, "root");
	/* relative to the config's directory */
	assert_non_null(strstr(c->control, "/run/ctl.sock"));
	assert_int_equal(c->control[0], '/');
	assert_int_equal(c->control_line, 10);
	config_free(c);
	assert_int_equal(load(f, HEAD "  workers: auto\n" TAIL, &c), 0);
	assert_true(c->workers >= 1);
	config_free(c);
}

static void
refused(void **state)
{
	static const struct { const char *line, *want; } cases[] = {
		{ "  workers: 0\n", ":4: server.workers: 0 is out of range (1..256)" },
		{ "  workers: 257\n", ":4: server.workers: 257 is out of range" },
		{ "  workers: many\n", ":4: server.workers: \"many\" is not auto or a number" },
		{ "  workers: 2k\n", ":4: server.workers: \"2k\" is not auto or a number" },
		{ "  workers: [ 1 ]\n", ":4: server.workers: expected auto or a number" },
		{ "  user: no-such-user-egressd\n", ":4: server.user: no such user \"no-such-user-egressd\"" },
		{ "  user: \"a b\"\n", ":4: server.user: expected a user name" },
		{ "  user: \"\"\n", ":4: server.user: expected a user name" },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct config *c = NULL;
		char yaml[512];

		snprintf(yaml, sizeof(yaml), HEAD "%s" TAIL, cases[i].line);
		assert_int_equal(load(f, yaml, &c), -EG_ECONFIG);
		assert_null(c);
		if (strstr(f->err, cases[i].want) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, f->err, cases[i].want);
	}
}

static void
refcount(void **state)
{
	struct fx *f = *state;
	struct config *c = NULL;

	assert_int_equal(load(f, HEAD TAIL, &c), 0);
	assert_ptr_equal(config_ref(c), c);
	assert_ptr_equal(config_ref(c), c);
	config_unref(c);
	config_unref(c);
	assert_int_equal(c->refs, 1);	/* still ours: valgrind sees the rest */
	config_unref(c);		/* the last one frees */
	config_unref(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(given, setup, teardown),
		cmocka_unit_test_setup_teardown(refused, setup, teardown),
		cmocka_unit_test_setup_teardown(refcount, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
