/* test_mailbox.c -- jobs posted from other threads run in the loop's thread, in order */
#include "autoconf.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <event2/event.h>

#include "resolver/mailbox.h"

#define POSTERS		4
#define PER_POSTER	2000

struct state {
	struct event_base *base;
	struct mailbox *mb;
	pthread_t loop_thread;
	unsigned ran;
	unsigned last[POSTERS];		/* per poster: the last sequence seen */
	bool in_order;
	bool wrong_thread;
};

struct job {
	struct state *s;
	unsigned poster, seq;
};

static void
run_job(void *arg)
{
	struct job *j = arg;
	struct state *s = j->s;

	if (!pthread_equal(pthread_self(), s->loop_thread))
		s->wrong_thread = true;
	if (j->seq != s->last[j->poster] + 1)
		s->in_order = false;
	s->last[j->poster] = j->seq;
	if (++s->ran == POSTERS * PER_POSTER)
		event_base_loopexit(s->base, NULL);
	free(j);
}

struct poster {
	struct state *s;
	unsigned id;
};

static void *
post_many(void *arg)
{
	struct poster *p = arg;

	for (unsigned i = 1; i <= PER_POSTER; i++) {
		struct job *j = malloc(sizeof(*j));

		if (j == NULL)
			abort();
		*j = (struct job){ p->s, p->id, i };
		if (mailbox_post(p->s->mb, run_job, j) != 0)
			abort();
	}
	return NULL;
}

static void
from_threads(void **unused)
{
	struct timeval limit = { 20, 0 };
	struct state s = { .in_order = true };
	struct poster p[POSTERS];
	pthread_t t[POSTERS];

	(void)unused;
	assert_non_null(s.base = event_base_new());
	assert_int_equal(mailbox_new(&s.mb, s.base), 0);
	s.loop_thread = pthread_self();
	for (unsigned i = 0; i < POSTERS; i++) {
		p[i] = (struct poster){ &s, i };
		assert_int_equal(pthread_create(&t[i], NULL, post_many, &p[i]), 0);
	}
	event_base_loopexit(s.base, &limit);	/* bounded if jobs get lost */
	event_base_dispatch(s.base);
	for (unsigned i = 0; i < POSTERS; i++)
		pthread_join(t[i], NULL);
	mailbox_drain(s.mb);	/* none left: ran counts them all */
	assert_int_equal(s.ran, POSTERS * PER_POSTER);
	assert_true(s.in_order);
	assert_false(s.wrong_thread);
	mailbox_free(s.mb);
	event_base_free(s.base);
}

static void
count_job(void *arg)
{
	(*(unsigned *)arg)++;
}

static void
free_drops(void **unused)
{
	struct event_base *base;
	struct mailbox *mb;
	unsigned n = 0;

	(void)unused;
	assert_non_null(base = event_base_new());
	assert_int_equal(mailbox_new(&mb, base), 0);
	assert_int_equal(mailbox_post(mb, count_job, &n), 0);
	assert_int_equal(mailbox_post(mb, count_job, &n), 0);
	mailbox_drain(mb);
	assert_int_equal(n, 2);
	assert_int_equal(mailbox_post(mb, count_job, &n), 0);
	mailbox_free(mb);	/* queued jobs are dropped, not run */
	assert_int_equal(n, 2);
	mailbox_free(NULL);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(from_threads),
		cmocka_unit_test(free_drops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
