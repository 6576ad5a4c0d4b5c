/*
 * child.c: fork hygiene, in one function.  The master blocks every signal,
 * forks, and the child resets its handlers, keeps only its own pipes and
 * the log, sets its title, drops privileges and enters the worker loop.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

/* The child's descriptors after the fork. */
#define CHILD_FD_LIFELINE	3
#define CHILD_FD_MSG		4
#define CHILD_FD_LOG		5

/* Monotonic milliseconds, for intervals and deadlines. */
int64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child: put fd on want (fd was moved above 9 first). */
static void
child_move(int fd, int want)
{
	if (fd != -1 && dup2(fd, want) == -1)
		_exit(CHILD_EXIT_ERROR);
}

/* In the child: drop to the configured user and group; exits 2 on failure. */
static void
child_drop(const struct child_spec *cs)
{
	const struct settings	*s = cs->set;

	if (s->drop_group) {
		if (setgroups(1, &s->gid) == -1 || setgid(s->gid) == -1) {
			log_warnx("worker %d: group %s: %s", cs->slot,
			    s->group[0] ? s->group : s->user,
			    strerror(errno));
			_exit(CHILD_EXIT_FATAL);
		}
	}
	if (s->drop_user && setuid(s->uid) == -1) {
		log_warnx("worker %d: user %s: %s", cs->slot, s->user,
		    strerror(errno));
		_exit(CHILD_EXIT_FATAL);
	}
}

/*
 * Fork a worker child for cs.  In the master, returns the pid and the read
 * end of the child's message pipe in *msgfd and the write end of its
 * lifeline in *lifeline (both close-on-exec), or -1.  The child never
 * returns.
 */
pid_t
child_fork(struct child_spec *cs, int *msgfd, int *lifeline)
{
	sigset_t	 all, old;
	pid_t		 pid;
	int		 lp[2], mp[2], hi[3], sig, saved;

	if (pipe2(lp, O_CLOEXEC) == -1)
		return -1;
	if (pipe2(mp, O_CLOEXEC) == -1) {
		saved = errno;
		close(lp[0]);
		close(lp[1]);
		errno = saved;
		return -1;
	}
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if ((pid = fork()) == -1) {
		saved = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(lp[0]);
		close(lp[1]);
		close(mp[0]);
		close(mp[1]);
		errno = saved;
		return -1;
	}
	if (pid == 0) {
		/* Signals stay blocked until work_main has its handlers. */
		for (sig = 1; sig < NSIG; sig++)
			if (sig != SIGKILL && sig != SIGSTOP)
				signal(sig, SIG_DFL);
		hi[0] = fcntl(lp[0], F_DUPFD, 10);
		hi[1] = fcntl(mp[1], F_DUPFD, 10);
		hi[2] = log_fd() != -1 ? fcntl(log_fd(), F_DUPFD, 10) : -1;
		if (hi[0] == -1 || hi[1] == -1)
			_exit(CHILD_EXIT_ERROR);
		child_move(hi[0], CHILD_FD_LIFELINE);
		child_move(hi[1], CHILD_FD_MSG);
		child_move(hi[2], CHILD_FD_LOG);
		closefrom(hi[2] != -1 ? CHILD_FD_LOG + 1 : CHILD_FD_MSG + 1);
		log_child(hi[2] != -1 ? CHILD_FD_LOG : -1);
		cs->lifeline = CHILD_FD_LIFELINE;
		cs->msgfd = CHILD_FD_MSG;
		setproctitle("worker %d %s starting", cs->slot, cs->set->queue);
		child_drop(cs);
		work_main(cs);
		/* NOTREACHED */
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(lp[0]);
	close(mp[1]);
	if (fcntl(mp[0], F_SETFL, O_NONBLOCK) == -1)
		log_warnx("child %d: nonblocking pipe: %s", cs->slot,
		    strerror(errno));
	*msgfd = mp[0];
	*lifeline = lp[1];
	return pid;
}
