/*
 * notify.c: telling systemd how the master is (Type=notify), through
 * sd_notify(3): READY=1 once every wanted child has connected to the
 * master (whether or not Redis answers: STATUS says), RELOADING=1 on HUP,
 * STOPPING=1, STATUS= a line of its state when it changes, and WATCHDOG=1
 * at half of WatchdogSec when it is set.  Without NOTIFY_SOCKET, or in a
 * build without libsystemd, it does nothing.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "master.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

static struct {
	int	 on;		/* NOTIFY_SOCKET is set */
	int	 ready;		/* READY=1 sent */
	int	 reloading;	/* RELOADING=1 sent, READY=1 due */
	int64_t	 watchdog_ms;	/* 0: off */
	int64_t	 next_watchdog;
	char	 status[256];	/* the last STATUS= sent */
} N;

/* Read systemd's environment; once, before the first child. */
void
notify_init(void)
{
	uint64_t	usec;

	memset(&N, 0, sizeof(N));
	N.on = getenv("NOTIFY_SOCKET") != NULL;
	if (sd_watchdog_enabled(0, &usec) > 0)
		N.watchdog_ms = (int64_t)(usec / 2000);
	if (N.watchdog_ms < 1 && sd_watchdog_enabled(0, &usec) > 0)
		N.watchdog_ms = 1;
}

/* Whether every wanted worker has a child that told the master its state. */
static int
all_connected(size_t *connected, size_t *busy, int *noredis)
{
	struct child	*c;
	size_t		 i;
	int		 all = 1;

	*connected = *busy = 0;
	*noredis = 0;
	TAILQ_FOREACH(c, &M.children, entry) {
		if (c->retiring)
			continue;
		if (c->state != CS_STARTING)
			(*connected)++;
		if (c->state == CS_BUSY)
			(*busy)++;
		if (c->state == CS_NOREDIS)
			*noredis = 1;
	}
	for (i = 0; i < M.nslots; i++)
		if (M.slots[i].wanted && (M.slots[i].child == NULL ||
		    M.slots[i].child->state == CS_STARTING))
			all = 0;
	return all;
}

/* READY once all connected, STATUS on a change, the watchdog. */
void
notify_tick(int64_t now)
{
	char	st[256];
	size_t	connected, busy;
	int	all, noredis, n;

	if (!N.on)
		return;
	if (N.watchdog_ms > 0 && now >= N.next_watchdog) {
		N.next_watchdog = now + N.watchdog_ms;
		sd_notify(0, "WATCHDOG=1");
	}
	if (M.stopping != STOP_NONE)
		return;
	all = all_connected(&connected, &busy, &noredis);
	n = snprintf(st, sizeof(st), "STATUS=queue %s: %zu of %zu workers "
	    "connected, %zu busy; redis %s", M.set.queue, connected,
	    wanted_count(), busy, !keeper_up() || noredis ?
	    "does not answer" : "answers");
	if (n > 0 && strcmp(st, N.status) != 0) {
		strlcpy(N.status, st, sizeof(N.status));
		sd_notify(0, st);
	}
	if (all && (!N.ready || N.reloading)) {
		N.ready = 1;
		N.reloading = 0;
		sd_notify(0, "READY=1");
	}
}

/* HUP: reloading, with the monotonic time systemd 253 asks for. */
void
notify_reloading(void)
{
	struct timespec	ts;

	if (!N.on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000 +
	    (unsigned long long)ts.tv_nsec / 1000);
	N.reloading = 1;
}

/* The master begins to stop. */
void
notify_stopping(void)
{
	if (N.on)
		sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

#endif /* HAVE_SYSTEMD */

/*
 * In a new child: systemd's variables are the master's, not for the
 * child nor the programs it runs (a pipe: handler that calls sd_notify).
 */
void
notify_forget(void)
{
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

#ifndef HAVE_SYSTEMD

void
notify_init(void)
{
}

void
notify_tick(int64_t now)
{
}

void
notify_reloading(void)
{
}

void
notify_stopping(void)
{
}

#endif /* !HAVE_SYSTEMD */
