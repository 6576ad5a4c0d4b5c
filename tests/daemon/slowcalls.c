/*
 * slowcalls.c: an LD_PRELOAD library for tests/daemon/master-exec-signals.sh
 * that makes a few calls late, so that a window between two steps of a
 * worker child, a few microseconds wide, lasts long enough for a test to
 * hit.  Code that is correct does the same with the delays as without.
 *
 *	SLOW_PPOLL_MS	sleep before a ppoll on descriptors (exec_io's wait
 *			for the program, not the master's pause)
 *	SLOW_SETPGID_MS	sleep before setpgid(pid, pid) of a parent, between
 *			the fork of an exec: program and knowing its group
 *	SLOW_TERM_MS	sleep before kill(pid, SIGTERM) of a single process
 *			(the master's kill of a child past job-timeout)
 */
#include <sys/types.h>

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int	ppoll(struct pollfd *, nfds_t, const struct timespec *,
	    const sigset_t *);
int	setpgid(pid_t, pid_t);
int	kill(pid_t, int);

/* Sleep the milliseconds the variable name says, all of them. */
static void
delay(const char *name)
{
	struct timespec	 ts;
	const char	*v;
	long		 ms;
	int		 saved = errno;

	if ((v = getenv(name)) == NULL || (ms = atol(v)) <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = ms % 1000 * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	errno = saved;
}

/* ppoll, late when it waits for descriptors. */
int
ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *ts,
    const sigset_t *mask)
{
	static int	(*real)(struct pollfd *, nfds_t,
			    const struct timespec *, const sigset_t *);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "ppoll");
	if (nfds > 0)
		delay("SLOW_PPOLL_MS");
	return real(fds, nfds, ts, mask);
}

/* setpgid, late when a parent puts its child in a group of its own. */
int
setpgid(pid_t pid, pid_t pgid)
{
	static int	(*real)(pid_t, pid_t);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "setpgid");
	if (pid != 0 && pid == pgid && pid != getpid())
		delay("SLOW_SETPGID_MS");
	return real(pid, pgid);
}

/* kill, late when it sends one process a TERM. */
int
kill(pid_t pid, int sig)
{
	static int	(*real)(pid_t, int);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "kill");
	if (pid > 0 && sig == SIGTERM)
		delay("SLOW_TERM_MS");
	return real(pid, sig);
}
