/*
 * work.c: the loop of a worker child.  Fetch a job, tell the master, run
 * the processor, finish the job while fetching the next, tell the master
 * both in one message, repeat; stop between jobs when the lifeline closes.
 * The kernel signals SIGIO when it does, so that a job costs no poll.
 *
 * A TERM from the master (a job past job-timeout) kills the child at once.
 * A TERM from anyone else is a stop like a closed lifeline: a TERM to the
 * whole process group (systemd, timeout(1), a shell's kill %1) reaches the
 * master too, which then closes the lifelines and wakes idle children; an
 * idle child that alone got one leaves when its block on the marker ends,
 * within drain-delay.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bullmq-int.h"
#include "daemon.h"

#define REDIS_BACKOFF_MIN	100
#define REDIS_BACKOFF_MAX	5000

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

static int	stop_asked(void);

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
	int	rc;

	rc = processor_run(cur_proc, job);
	if (stop_asked())
		bullmq_worker_no_next(cur_w, 1);
	return rc;
}

/* Note a USR1: the log is reopened between jobs. */
static void
on_usr1(int sig)
{
	got_usr1 = 1;
}

/* Note a SIGIO: the lifeline may have closed. */
static void
on_io(int sig)
{
	got_io = 1;
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
			age = mono_ms() - title_since;
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
	title_since = mono_ms();
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
 */
static void
tell(int type, int status, int64_t client_id, const bullmq_job *job)
{
	struct msg	 m;
	char		 buf[MSG_MAX];
	const char	*id, *tok;
	size_t		 il = 0, tl = 0;
	ssize_t		 n;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.status = status;
	m.client_id = client_id;
	if (job != NULL && id_fits(job)) {
		id = bullmq_job_id(job);
		il = strlen(id);
		memcpy(buf + sizeof(m), id, il);
		if ((tok = bullmq_job_token(job)) != NULL) {
			tl = strnlen(tok, MSG_TOKEN_MAX - 1);
			memcpy(buf + sizeof(m) + il, tok, tl);
		}
	}
	if (job != NULL)
		m.at = mono_ms();
	m.idlen = (uint16_t)il;
	m.toklen = (uint8_t)tl;
	memcpy(buf, &m, sizeof(m));
	do
		n = write(cur->msgfd, buf, sizeof(m) + il + tl);
	while (n == -1 && errno == EINTR);
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
	ssize_t		n;
	int		saved = errno;

	memset(&m, 0, sizeof(m));
	m.type = MSG_GROUP;
	m.group = g;
	do
		n = write(cur->msgfd, &m, sizeof(m));
	while (n == -1 && errno == EINTR);
	errno = saved;
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
		log_warnx("worker %d: lifeline: %s", cur->slot,
		    strerror(errno));
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
	redisReply	*r;
	int64_t		 id = 0;

	if (q->rc == NULL)
		return 0;
	r = redisCommand(q->rc, "CLIENT ID");
	if (r == NULL) {
		bmq_drop(q);
		return 0;
	}
	if (r->type == REDIS_REPLY_INTEGER)
		id = r->integer;
	freeReplyObject(r);
	return id;
}

/* Leave: exit status 0 when asked to stop, as said otherwise. */
static void __attribute__((__noreturn__))
leave(int status)
{
	if (title_thread_on) {
		pthread_cancel(title_tid);
		pthread_join(title_tid, NULL);
	}
	bullmq_worker_free(cur_w);
	bullmq_queue_free(cur_q);
	_exit(status);
}

/* The loop of a worker child; never returns. */
void
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
	redisContext			*seen = NULL;
	char				 id[MSG_ID_LEN + 1];
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
	if ((q = bullmq_queue_new(&co)) == NULL)
		leave(CHILD_EXIT_ERROR);
	cur_q = q;
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
			seen = q->rc;
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
				if (q->rc == NULL || bullmq_errcode(q) ==
				    BULLMQ_ERR_IO)
					connected = 0;
				else if (lifeline_closed(REDIS_BACKOFF_MAX))
					leave(0);
				continue;
			}
			if (r == 0) {
				if (q->rc != seen && q->rc != NULL) {
					seen = q->rc;
					cid = client_id(q);
				}
				tell(MSG_IDLE, 0, cid, NULL);
				continue;
			}
			tell(MSG_START, 0, cid, job);
		}

		strlcpy(id, bullmq_job_id(job), sizeof(id));
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
		if (next != NULL)
			tell(MSG_NEXT, status, cid, next);
		else
			tell(MSG_DONE, status, cid, NULL);
		job = next;
		if (r == -1) {
			log_warnx("worker %d: job %s: %s", cs->slot, id,
			    bullmq_errstr(q));
			if (q->rc == NULL || bullmq_errcode(q) == BULLMQ_ERR_IO)
				connected = 0;
		} else if (outcome == BULLMQ_LOST_LOCK)
			/* the finish was refused: the job's hash or lock gone */
			log_warnx("worker %d: %s; %s", cs->slot,
			    bullmq_errstr(q), q->script_code == -1 ||
			    q->script_code == BULLMQ_JOB_NOT_A_HASH ?
			    "dropped from active" : "left to the stalled "
			    "checker");
		if (job == NULL && cs->max_jobs != 0 && done >= cs->max_jobs) {
			log_info("worker %d: recycled after %ld jobs",
			    cs->slot, done);
			leave(0);
		}
	}
}
