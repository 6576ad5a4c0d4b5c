/*
 * child.c: a worker child, from its fork to its exit.
 *
 * Fork hygiene, in one function: the master blocks every signal, forks,
 * and the child resets its handlers, keeps only its own pipes and the log,
 * sets its title, drops privileges and enters the worker loop.
 *
 * The loop: fetch a job, tell the master, run the processor, finish the job
 * while fetching the next, tell the master both in one message, repeat;
 * stop between jobs when the lifeline closes.  The kernel signals SIGIO
 * when it does, so that a job costs no poll.
 *
 * A TERM from the master (a job past job-timeout) kills the child at once.
 * A TERM from anyone else is a stop like a closed lifeline: a TERM to the
 * whole process group (systemd, timeout(1), a shell's kill %1) reaches the
 * master too, which then closes the lifelines; an idle child that alone got
 * one leaves when its block on the marker ends, within drain-delay.  A
 * closed lifeline ends that block at once (bullmq_worker_wake from the
 * SIGIO handler), and so does the master's CLIENT UNBLOCK where allowed.
 */
#include <sys/types.h>
#include <sys/resource.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

/* The child's descriptors after the fork. */
#define CHILD_FD_LIFELINE	3
#define CHILD_FD_MSG		4
#define CHILD_FD_LOG		5
#define REDIS_BACKOFF_MIN	100
#define REDIS_BACKOFF_MAX	5000

static struct rlimit	nofile;		/* as the master found it */
static int		nofile_raised;

static struct processor		*cur_proc;	/* for the trampoline */
static bullmq_worker		*cur_w;
static bullmq_queue		*cur_q;
static const struct child_spec	*cur;
static volatile sig_atomic_t	 got_usr1;
static volatile sig_atomic_t	 got_io;	/* SIGIO: look at the lifeline */
static volatile sig_atomic_t	 got_term;	/* TERM, not from the master */
static volatile sig_atomic_t	 term_pid;	/* who sent the first one */
static pid_t			 master_pid;	/* whose TERM kills at once */
static int			 term_logged;
static int			 lifeline_async; /* it signals its EOF */
static int			 lifeline_gone;

/* The process title, shared with the thread that shows a job's age. */
static pthread_mutex_t	 title_mtx = PTHREAD_MUTEX_INITIALIZER;
static int64_t		 title_since;	/* mono ms a job started; 0: none */
static char		 title_job[256];	/* the id, cut for display */
static int		 title_thread_on;
static pthread_t	 title_tid;

/* What the processor of the current job did, for the master and the log. */
static struct {
	int64_t	 took_us;	/* how long it ran; 0: it did not */
	char	 reason[512];	/* why it failed, when it did */
} ran;

static int	stop_asked(void);
static void	work_main(const struct child_spec *)
		    __attribute__((__noreturn__));

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
		log_warn("raise the open files limit");
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
			log_warn("worker %d: nice %ld", cs->slot, s->nice);
			_exit(CHILD_EXIT_FATAL);
		}
	}

	if (s->drop_group) {
		if (setgroups(1, &s->gid) == -1 || setgid(s->gid) == -1) {
			log_warn("worker %d: group %s", cs->slot,
			    s->group[0] ? s->group : s->user);
			_exit(CHILD_EXIT_FATAL);
		}
	}
	if (s->drop_user && setuid(s->uid) == -1) {
		log_warn("worker %d: user %s", cs->slot, s->user);
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
		notify_forget();
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
		log_warn("child %d: nonblocking pipe", cs->slot);
	*msgfd = mp[0];
	*lifeline = lp[1];
	return pid;
}

/* Whether the master can keep the lock of job: its id is not too long. */
static int
id_fits(const bullmq_job *job)
{
	return strnlen(bullmq_job_id(job), MSG_ID_LEN + 1) <= MSG_ID_LEN;
}

/*
 * Run the current processor: the bullmq_process_fn of bullmq_worker_run.
 * When the lifeline closed meanwhile, no next job is fetched.
 */
static int
trampoline(bullmq_job *job)
{
	struct timespec	 t0, t1;
	const char	*why;
	int		 rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = processor_run(cur_proc, job);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ran.took_us = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000;
	if (ran.took_us < 1)
		ran.took_us = 1;
	if (rc != 0 && (why = bullmq_job_reason(job, NULL)) != NULL)
		strlcpy(ran.reason, why, sizeof(ran.reason));
	if (stop_asked() || processor_want_exit(cur_proc))
		bullmq_worker_no_next(cur_w, 1);
	return rc;
}

/* Note a USR1: the log is reopened between jobs. */
static void
on_usr1(int sig)
{
	got_usr1 = 1;
}

static int	lifeline_closed(int);

/*
 * Note a SIGIO: the lifeline may have closed.  If it did, end a wait on the
 * marker now, without counting on the master's CLIENT UNBLOCK, which an ACL
 * may refuse.
 */
static void
on_io(int sig)
{
	int	saved = errno;

	got_io = 1;
	if (cur_w != NULL && lifeline_closed(0))
		bullmq_worker_wake(cur_w);
	errno = saved;
}

/*
 * In a handler: die of sig by its default action, so that the master sees
 * the death by signal, killing the exec: program's group first.
 */
static void
die_of(int sig)
{
	struct sigaction	sa;

	processor_kill_running();
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	sigaction(sig, &sa, NULL);
	raise(sig);	/* delivered when the handler returns */
}

/*
 * A TERM from the master kills at once; any other asks for a stop after
 * the current job.
 */
static void
on_term(int sig, siginfo_t *si, void *ctx)
{
	if (si->si_code == SI_USER && si->si_pid == master_pid) {
		die_of(SIGTERM);
		return;
	}
	if (!got_term)
		term_pid = si->si_code == SI_USER ? si->si_pid : 0;
	got_term = 1;
}

/*
 * An INT, as a terminal sends the whole group on ^C, kills at once like the
 * master's TERM, the exec: program's group with it (that group does not
 * get the terminal's signal).
 */
static void
on_int(int sig)
{
	die_of(SIGINT);
}

/* Set the title from a format; the title thread may also be setting it. */
static void
title(const char *fmt, ...)
{
	char	buf[256];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&title_mtx);
	title_since = 0;
	setproctitle("worker %d %s %s", cur->slot, cur->set->queue, buf);
	pthread_mutex_unlock(&title_mtx);
}

/*
 * Every second, show how long the current job has been running.  On its
 * small stack, and not logging: log.c's buffers are the main thread's.
 */
static void *
title_thread(void *arg)
{
	struct timespec	ts = { 1, 0 };
	int64_t		age;

	for (;;) {
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&title_mtx);
		if (title_since != 0) {
			age = bullmq_mono_ms() - title_since;
			setproctitle("worker %d %s job %s (%lld.%lld s)",
			    cur->slot, cur->set->queue, title_job,
			    (long long)(age / 1000),
			    (long long)(age % 1000 / 100));
		}
		pthread_mutex_unlock(&title_mtx);
	}
	return NULL;
}

/*
 * Show the job in the title, starting the age thread on the first job.  The
 * thread blocks every signal: a signal for the process then goes to the
 * main thread, where the handlers and the waits expect it (a SIGCHLD the
 * thread took would be lost to exec_io's ppoll).
 */
static void
title_job_start(const char *id)
{
	pthread_attr_t	attr;
	sigset_t	all, old;

	pthread_mutex_lock(&title_mtx);
	strlcpy(title_job, id, sizeof(title_job));
	title_since = bullmq_mono_ms();
	setproctitle("worker %d %s job %s", cur->slot, cur->set->queue, id);
	pthread_mutex_unlock(&title_mtx);
	if (title_thread_on)
		return;
	title_thread_on = 1;
	if (pthread_attr_init(&attr) != 0)
		return;
	pthread_attr_setstacksize(&attr, 128 * 1024);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&title_tid, &attr, title_thread, NULL) != 0) {
		log_warnx("worker %d: title thread: cannot start", cur->slot);
		title_thread_on = 0;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
}

/*
 * Send one message to the master, with the id and token of job if not
 * NULL, in one write; a gone master is noticed elsewhere.  A job whose id
 * is too long goes without one: it is failed at once, no lock to keep.
 * val is the client id, or for MSG_DONE and MSG_NEXT the microseconds the
 * finished job's processor ran.
 */
static void
tell(int type, int status, int64_t val, const bullmq_job *job)
{
	struct msg	 m;
	char		 buf[MSG_MAX];
	const char	*id = NULL, *tok = NULL;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.status = status;
	if (type == MSG_DONE || type == MSG_NEXT)
		m.took_us = val;
	else
		m.client_id = val;
	if (job != NULL && id_fits(job)) {
		id = bullmq_job_id(job);
		m.idlen = (uint16_t)strlen(id);
		if ((tok = bullmq_job_token(job)) != NULL)
			m.toklen = (uint8_t)strnlen(tok, MSG_TOKEN_MAX - 1);
	}
	if (job != NULL)
		m.at = bullmq_mono_ms();
	msg_send(cur->msgfd, buf, msg_encode(buf, &m, id, tok));
}

/*
 * Tell the master the process group of the exec: program now running, 0
 * when none, so that it kills the group if this child dies of something
 * it cannot handle (KILL, SEGV).  Safe in a signal handler.
 */
static void
tell_group(pid_t g)
{
	struct msg	m;

	memset(&m, 0, sizeof(m));
	m.type = MSG_GROUP;
	m.group = g;
	msg_send(cur->msgfd, (const char *)&m, sizeof(m));
}

/*
 * The processor for a job whose id is too long for the master to keep its
 * lock: fail it, not to be retried, since every attempt would be the same.
 */
static int
fail_long_id(bullmq_job *job)
{
	char	reason[128];

	snprintf(reason, sizeof(reason), "job id longer than %d bytes, the "
	    "longest bullmq-master keeps a lock for", MSG_ID_LEN);
	bullmq_job_error(job, reason, 1);
	if (stop_asked())
		bullmq_worker_no_next(cur_w, 1);
	return -1;
}

/* Wait up to ms for the lifeline; 1 when it closed (the master said stop). */
static int
lifeline_closed(int ms)
{
	struct pollfd	pfd;
	int		n;

	pfd.fd = cur->lifeline;
	pfd.events = POLLIN;
	pfd.revents = 0;
	n = poll(&pfd, 1, ms);
	return n > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

/*
 * Have the kernel send SIGIO when the master closes the lifeline (its last
 * writer), so that stop_asked needs no system call; it polls when that
 * cannot be set up.
 */
static void
lifeline_watch(void)
{
	int	fl;

	if (fcntl(cur->lifeline, F_SETOWN, getpid()) == -1 ||
	    (fl = fcntl(cur->lifeline, F_GETFL)) == -1 ||
	    fcntl(cur->lifeline, F_SETFL, fl | O_ASYNC) == -1) {
		log_warn("worker %d: lifeline", cur->slot);
		return;
	}
	lifeline_async = 1;
	got_io = 1;	/* it may have closed before */
}

/*
 * Whether this child was asked to stop: its lifeline closed, or a TERM
 * came from someone other than the master.
 */
static int
stop_asked(void)
{
	if (got_term) {
		if (!term_logged) {
			term_logged = 1;
			if (term_pid > 0)
				log_info("worker %d: TERM from pid %ld: "
				    "stopping between jobs", cur->slot,
				    (long)term_pid);
			else
				log_info("worker %d: TERM: stopping between "
				    "jobs", cur->slot);
		}
		return 1;
	}
	if (lifeline_gone)
		return 1;
	if (got_io || !lifeline_async) {
		got_io = 0;
		if (lifeline_closed(0))
			lifeline_gone = 1;
	}
	return lifeline_gone;
}

/* The Redis client id of the connection, for CLIENT UNBLOCK; 0: unknown. */
static int64_t
client_id(bullmq_queue *q)
{
	int64_t	id;

	id = bullmq_client_id(q);
	return id > 0 ? id : 0;
}

/* Leave: exit status 0 when asked to stop, as said otherwise. */
static void __attribute__((__noreturn__))
leave(int status)
{
	processor_stop(cur_proc);
	if (title_thread_on) {
		pthread_cancel(title_tid);
		pthread_join(title_tid, NULL);
	}
	bullmq_worker_free(cur_w);
	bullmq_queue_free(cur_q);
	_exit(status);
}

/* The word of an outcome in the access log. */
static const char *
outcome_word(enum bullmq_outcome o)
{
	switch (o) {
	case BULLMQ_COMPLETED:
		return "completed";
	case BULLMQ_FAILED:
		return "failed";
	case BULLMQ_RETRIED:
	case BULLMQ_DELAYED:
		return "retried";
	case BULLMQ_LOST_LOCK:
		return "lost its lock";
	case BULLMQ_MOVED:
		return "moved";
	}
	return "finished";
}

/*
 * Log a job that ended in outcome o: a warning when it failed (with its
 * queue, name, attempt and reason), and with access-log a line for each.
 */
static void
job_log(const char *id, const char *name, long attempt, long attempts,
    enum bullmq_outcome o)
{
	if (o == BULLMQ_FAILED || o == BULLMQ_RETRIED || o == BULLMQ_DELAYED)
		log_warnx("worker %d: queue %s job %s (%s) attempt %ld of %ld "
		    "failed: %s%s", cur->slot, cur->set->queue, id, name,
		    attempt, attempts, ran.reason[0] != '\0' ? ran.reason :
		    "before its processor ran", o == BULLMQ_FAILED ? "" :
		    "; it will be retried");
	if (cur->set->access_log)
		log_info("worker %d: job %s (%s) %s in %lld.%03lld ms",
		    cur->slot, id, name, outcome_word(o),
		    (long long)(ran.took_us / 1000),
		    (long long)(ran.took_us % 1000));
}

/* The loop of a worker child; never returns. */
static void
work_main(const struct child_spec *cs)
{
	struct bullmq_conn_opts		 co;
	struct bullmq_worker_opts	 wo;
	struct sigaction		 sa;
	sigset_t			 none;
	enum bullmq_outcome		 outcome;
	bullmq_queue			*q;
	bullmq_worker			*w;
	bullmq_job			*job = NULL, *next;
	char				 id[MSG_ID_LEN + 1], name[256];
	const char			*sched;
	long				 attempt, attempts;
	int64_t				 cid = 0, backoff = 0;
	long				 done = 0;
	int				 r, connected = 0, want_next, down = 0;
	int				 status, fits;

	cur = cs;
	cur_proc = cs->proc;
	master_pid = cs->master;
	processor_on_group(tell_group);
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigaction(SIGTTIN, &sa, NULL);
	sigaction(SIGTTOU, &sa, NULL);
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_io;
	sigaction(SIGIO, &sa, NULL);
	sa.sa_handler = on_int;
	sigaction(SIGINT, &sa, NULL);
	sa.sa_sigaction = on_term;
	sa.sa_flags = SA_RESTART | SA_SIGINFO;
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	lifeline_watch();

	memset(&co, 0, sizeof(co));
	co.url = cs->set->redis;
	co.prefix = cs->set->prefix;
	co.queue = cs->set->queue;
	co.connect_timeout_ms = 5000;
	co.command_timeout_ms = (int)cs->set->redis_timeout;
	co.spin_wait_us = (int)cs->spin_wait;
	co.tls = daemon_tls;
	if ((q = bullmq_queue_new(&co)) == NULL)
		leave(CHILD_EXIT_ERROR);
	cur_q = q;
	processor_in_child(cs->proc, cs->slot, q, &co, cs->set);
	if (bullmq_errcode(q) == BULLMQ_ERR_ARG) {
		log_warnx("worker %d: %s", cs->slot, bullmq_errstr(q));
		leave(CHILD_EXIT_FATAL);
	}
	memset(&wo, 0, sizeof(wo));
	wo.name = cs->set->worker_name[0] != '\0' ? cs->set->worker_name :
	    NULL;
	wo.lock_duration = cs->set->lock_duration;
	wo.drain_delay = cs->set->drain_delay;
	wo.remove_on_complete = cs->set->keep_complete;
	wo.remove_on_fail = cs->set->keep_fail;
	wo.metrics_max_points = cs->set->metrics;
	wo.limiter_max = cs->set->limiter_max;
	wo.limiter_duration = cs->set->limiter_ms;
	wo.max_started_attempts = cs->set->max_started_attempts;
	if ((w = bullmq_worker_new(q, &wo)) == NULL) {
		log_warnx("worker %d: %s", cs->slot, bullmq_errstr(q));
		leave(CHILD_EXIT_FATAL);
	}
	cur_w = w;
	processor_worker(cs->proc, w);
	processor_prestart(cs->proc);
	if (processor_want_exit(cs->proc) == 2) {
		log_warnx("worker %d: the program cannot be used: the worker "
		    "exits", cs->slot);
		leave(CHILD_EXIT_FATAL);
	}

	for (;;) {
		if (got_usr1) {
			got_usr1 = 0;
			log_reopen();
		}
		if (job == NULL && stop_asked())
			leave(0);
		if (!connected) {
			if (bullmq_queue_connect(q) == -1) {
				if (bullmq_errcode(q) == BULLMQ_ERR_ARG) {
					log_warnx("worker %d: %s", cs->slot,
					    bullmq_errstr(q));
					leave(CHILD_EXIT_FATAL);
				}
				backoff = backoff == 0 ? REDIS_BACKOFF_MIN :
				    backoff * 2;
				if (backoff > REDIS_BACKOFF_MAX)
					backoff = REDIS_BACKOFF_MAX;
				if (!down || backoff == REDIS_BACKOFF_MAX)
					log_warnx("worker %d: %s: retrying in "
					    "%lld ms", cs->slot,
					    bullmq_errstr(q),
					    (long long)backoff);
				if (!down)
					tell(MSG_REDIS_DOWN, 0, 0, NULL);
				down = 1;
				title("waiting for redis");
				if (lifeline_closed((int)backoff))
					leave(0);
				continue;
			}
			if (down)
				log_info("worker %d: connected to redis again",
				    cs->slot);
			down = 0;
			backoff = 0;
			connected = 1;
			cid = client_id(q);
			tell(MSG_READY, 0, cid, NULL);
		}
		if (job == NULL) {
			title("idle");
			/* a job a call that got no answer left active */
			if ((r = bullmq_worker_reclaim(w)) > 0)
				log_info("worker %d: %d job%s fetched by a "
				    "call that got no answer: given back to "
				    "wait", cs->slot, r, r == 1 ? "" : "s");
			if (r != -1)
				r = bullmq_worker_fetch(w, &job);
			if (r == -1) {
				job = NULL;
				log_warnx("worker %d: fetch: %s", cs->slot,
				    bullmq_errstr(q));
				if (!bullmq_queue_connected(q) ||
				    bullmq_errcode(q) == BULLMQ_ERR_IO)
					connected = 0;
				else if (lifeline_closed(REDIS_BACKOFF_MAX))
					leave(0);
				continue;
			}
			if (r == 0) {
				/* asked once a connection: a new one after a
				 * reconnect has a new id */
				cid = client_id(q);
				tell(MSG_IDLE, 0, cid, NULL);
				continue;
			}
			tell(MSG_START, 0, cid, job);
		}

		strlcpy(id, bullmq_job_id(job), sizeof(id));
		strlcpy(name, bullmq_job_name(job) != NULL ?
		    bullmq_job_name(job) : "", sizeof(name));
		attempt = bullmq_job_attempts_made(job) + 1;
		attempts = bullmq_job_attempts(job);
		ran.took_us = 0;
		ran.reason[0] = '\0';
		title_job_start(id);
		done++;
		want_next = !stop_asked() &&
		    (cs->max_jobs == 0 || done < cs->max_jobs);
		next = NULL;
		fits = id_fits(job);
		if (!fits)
			log_warnx("worker %d: job %.64s... (id of %zu bytes): "
			    "failing it, ids longer than %d bytes are not run",
			    cs->slot, id, strlen(bullmq_job_id(job)),
			    MSG_ID_LEN);
		r = bullmq_worker_run(w, job, fits ? trampoline : fail_long_id,
		    &outcome, want_next ? &next : NULL);
		status = r == -1 ? -1 : (int)outcome;
		if ((sched = bullmq_worker_sched_error(w, NULL)) != NULL)
			log_warnx("worker %d: job %s: %s", cs->slot, id, sched);
		if (next != NULL)
			tell(MSG_NEXT, status, ran.took_us, next);
		else
			tell(MSG_DONE, status, ran.took_us, NULL);
		job = next;
		if (r != -1)
			job_log(id, name, attempt, attempts, outcome);
		if (r == -1) {
			log_warnx("worker %d: job %s: %s", cs->slot, id,
			    bullmq_errstr(q));
			if (!bullmq_queue_connected(q) ||
			    bullmq_errcode(q) == BULLMQ_ERR_IO)
				connected = 0;
		} else if (outcome == BULLMQ_LOST_LOCK)
			/* the finish was refused: the job's hash or lock gone */
			log_warnx("worker %d: %s; %s", cs->slot,
			    bullmq_errstr(q), bullmq_script_code(q) ==
			    BULLMQ_JOB_NOT_EXIST || bullmq_script_code(q) ==
			    BULLMQ_JOB_NOT_A_HASH ?
			    "dropped from active" : "left to the stalled "
			    "checker");
		if ((r = processor_want_exit(cs->proc)) != 0) {
			log_warnx("worker %d: %s: the worker exits", cs->slot,
			    r == 2 ? "the program cannot be used" :
			    "the program keeps dying");
			leave(r == 2 ? CHILD_EXIT_FATAL : CHILD_EXIT_ERROR);
		}
		if (job == NULL && cs->max_jobs != 0 && done >= cs->max_jobs) {
			log_info("worker %d: recycled after %ld jobs",
			    cs->slot, done);
			leave(0);
		}
	}
}
