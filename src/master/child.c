/*
 * child.c: fork hygiene, in one function.  The master blocks every signal,
 * forks, and the child resets its handlers, keeps only its own pipes and
 * the log, sets its title, drops privileges and enters the worker loop.
 */
#include <sys/types.h>
#include <sys/resource.h>

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

static struct rlimit	nofile;		/* as the master found it */
static int		nofile_raised;

/*
 * The master needs two descriptors per child: raise its soft limit on open
 * files to the hard one (at most 65536).  Children get the old one back.
 */
void
child_limits(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &nofile) == -1)
		return;
	rl = nofile;
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 65536)
		rl.rlim_cur = 65536;
	else
		rl.rlim_cur = rl.rlim_max;
	if (rl.rlim_cur <= nofile.rlim_cur)
		return;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		nofile_raised = 1;
	else
		log_warnx("raise the open files limit: %s", strerror(errno));
}

/* Monotonic milliseconds, for intervals and deadlines. */
int64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * In the child: close every descriptor from 3 up but the three kept (-1 for
 * none), so that they can be moved even when the master used up its limit.
 */
static void
child_close_except(int a, int b, int c)
{
	int	keep[3], i, j, t, fd, from = 3;

	keep[0] = a;
	keep[1] = b;
	keep[2] = c;
	for (i = 0; i < 3; i++)
		for (j = i + 1; j < 3; j++)
			if (keep[j] < keep[i]) {
				t = keep[i];
				keep[i] = keep[j];
				keep[j] = t;
			}
	for (i = 0; i < 3; i++) {
		if (keep[i] < from)
			continue;
		for (fd = from; fd < keep[i]; fd++)
			close(fd);
		from = keep[i] + 1;
	}
	closefrom(from);
}

/* In the child: put fd on want (fd was moved above 9 first). */
static void
child_move(int fd, int want)
{
	if (fd != -1 && dup2(fd, want) == -1)
		_exit(CHILD_EXIT_ERROR);
}

/*
 * In the child: take the configured nice value (first: raising it may need
 * root), then drop to the configured user and group; exits 2 on failure.
 */
static void
child_drop(const struct child_spec *cs)
{
	const struct settings	*s = cs->set;
	long			 base;

	if (s->nice != 0) {
		errno = 0;
		base = getpriority(PRIO_PROCESS, 0);
		if ((base == -1 && errno != 0) || setpriority(PRIO_PROCESS, 0,
		    (int)nice_for(base, s->nice)) == -1) {
			log_warnx("worker %d: nice %ld: %s", cs->slot,
			    s->nice, strerror(errno));
			_exit(CHILD_EXIT_FATAL);
		}
	}

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
	cs->master = getpid();
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
		/* The master's connection is not ours: free it, send nothing. */
		keeper_close();
		/* Signals stay blocked until work_main has its handlers. */
		for (sig = 1; sig < NSIG; sig++)
			if (sig != SIGKILL && sig != SIGSTOP)
				signal(sig, SIG_DFL);
		child_close_except(lp[0], mp[1], log_fd());
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
		if (nofile_raised)
			setrlimit(RLIMIT_NOFILE, &nofile);
		setproctitle("worker %d %s starting", cs->slot, cs->set->queue);
		config_scrub_env();	/* no password for exec: programs */
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
