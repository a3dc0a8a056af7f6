/* mailbox.c -- jobs for an event loop from other threads: mutex-guarded list, eventfd wakeup */
#include "autoconf.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "resolver/mailbox.h"

struct job {
	mailbox_fn *fn;
	void *arg;
	struct job *next;
};

struct mailbox {
	int fd;
	struct event *ev;
	pthread_mutex_t mu;
	struct job *head, **tail;
};

static struct job *
take_all(struct mailbox *mb)
{
	struct job *j;

	pthread_mutex_lock(&mb->mu);
	j = mb->head;
	mb->head = NULL;
	mb->tail = &mb->head;
	pthread_mutex_unlock(&mb->mu);
	return j;
}

void
mailbox_drain(struct mailbox *mb)
{
	struct job *j, *next;

	for (j = take_all(mb); j; j = next) {
		next = j->next;
		j->fn(j->arg);
		free(j);
	}
}

static void
on_mail(evutil_socket_t fd, short what, void *arg)
{
	uint64_t n;

	(void)what;
	if (read(fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: another wakeup read it; the list is what counts */
	}
	mailbox_drain(arg);
}

int
mailbox_new(struct mailbox **out, struct event_base *base)
{
	struct mailbox *mb;

	if ((mb = calloc(1, sizeof(*mb))) == NULL)
		return -ENOMEM;
	mb->tail = &mb->head;
	pthread_mutex_init(&mb->mu, NULL);
	if ((mb->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		int r = -errno;

		pthread_mutex_destroy(&mb->mu);
		free(mb);
		return r;
	}
	if ((mb->ev = event_new(base, mb->fd, EV_READ | EV_PERSIST, on_mail,
	    mb)) == NULL || event_add(mb->ev, NULL) != 0) {
		mailbox_free(mb);
		return -ENOMEM;
	}
	*out = mb;
	return 0;
}

int
mailbox_post(struct mailbox *mb, mailbox_fn *fn, void *arg)
{
	uint64_t one = 1;
	struct job *j;

	if ((j = malloc(sizeof(*j))) == NULL)
		return -ENOMEM;
	j->fn = fn;
	j->arg = arg;
	j->next = NULL;
	pthread_mutex_lock(&mb->mu);
	*mb->tail = j;
	mb->tail = &j->next;
	pthread_mutex_unlock(&mb->mu);
	/* the counter cannot overflow in practice; a failed write only
	 * means a wakeup is already pending */
	if (write(mb->fd, &one, sizeof(one)) < 0) {
	}
	return 0;
}

void
mailbox_free(struct mailbox *mb)
{
	struct job *j, *next;

	if (mb == NULL)
		return;
	for (j = take_all(mb); j; j = next) {
		next = j->next;
		free(j);
	}
	if (mb->ev)
		event_free(mb->ev);
	close(mb->fd);
	pthread_mutex_destroy(&mb->mu);
	free(mb);
}
