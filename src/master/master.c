/*
 * master.c: the supervisor loop and its state: signals, the wait, the
 * slots (rescale, restarts), stopping, the timers (locks, the stalled
 * check, job timeouts) and reload.  The children themselves are in
 * children.c, their messages in msg.c.
 *
 * Signal handlers only set flags; signals are blocked except inside the one
 * wait.  After the wait: reap, then TERM, INT, HUP, TTIN/TTOU, USR1, the
 * children's messages, timers and respawns, always in that order.
 *
 * The children's messages are read in batches: once the master has read
 * some, it waits for COALESCE_MS on signals and timers alone, so that the
 * messages written meanwhile wake no one; a busy child costs the master no
 * wake-up per job.  Whatever decides on a child's state (its death, a lock
 * extension, a timeout, a stop) reads its pipe first.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "master.h"

#define TICK_MS		100	/* job timeouts, deadlines, respawns */
#define COALESCE_MS	5	/* pause between two reads of the pipes */
#define COALESCE_MAX	(16 * 1024)	/* read from one child: no pause */
#define SECOND_MS	1000	/* counts, autoscale, sizes */
#define WORKERS_MAX	4096

struct master	M;

static volatile sig_atomic_t	sig_term, sig_int, sig_hup, sig_ttin,
				sig_ttou, sig_usr1, sig_chld;

static void	begin_stop(enum stop_mode, int64_t);

/* Record a signal for the loop. */
static void
on_signal(int sig)
{
	switch (sig) {
	case SIGTERM:
	case SIGQUIT:
		sig_term = 1;
		break;
	case SIGINT:
		sig_int = 1;
		break;
	case SIGHUP:
		sig_hup = 1;
		break;
	case SIGTTIN:
		sig_ttin++;
		break;
	case SIGTTOU:
		sig_ttou++;
		break;
	case SIGUSR1:
		sig_usr1 = 1;
		break;
	case SIGCHLD:
		sig_chld = 1;
		break;
	}
}

/* How many workers are wanted. */
size_t
wanted_count(void)
{
	size_t	i, n = 0;

	for (i = 0; i < M.nslots; i++)
		if (M.slots[i].wanted)
			n++;
	return n;
}

/* Show the master's state in its title. */
static void
master_title(void)
{
	size_t	n = wanted_count();

	if (M.stopping != STOP_NONE)
		setproctitle("master %s [stopping, %zu children]",
		    M.set.queue, M.nchildren);
	else
		setproctitle("master %s [%zu workers]", M.set.queue, n);
}

/* Make room for n slots. */
static int
slots_grow(size_t n)
{
	struct slot	*s;

	if (n <= M.nslots)
		return 0;
	if ((s = reallocarray(M.slots, n, sizeof(*s))) == NULL) {
		log_warnx("out of memory for %zu workers", n);
		return -1;
	}
	memset(s + M.nslots, 0, (n - M.nslots) * sizeof(*s));
	M.slots = s;
	M.nslots = n;
	return 0;
}

/* Schedule a respawn of slot i at time at. */
void
respawn_at(size_t i, int64_t at)
{
	M.slots[i].respawn_at = at;
	if (M.respawn_due == 0 || at < M.respawn_due)
		M.respawn_due = at;
}

/* Rescale to n workers: stop idle children first, never a running job. */
static void
rescale(long n, int64_t now)
{
	struct child	*c;
	size_t		 i, have = 0;
	int		 pass;

	for (i = 0; i < M.nslots; i++)
		if (M.slots[i].wanted)
			have++;
	if ((size_t)n > have) {
		if (slots_grow((size_t)n) == -1)
			return;
		for (i = 0; i < M.nslots && have < (size_t)n; i++) {
			if (M.slots[i].wanted)
				continue;
			M.slots[i].wanted = 1;
			M.slots[i].fatal = 0;
			M.slots[i].quick = 0;
			if (M.slots[i].child == NULL)
				respawn_at(i, now);
			have++;
		}
	}
	/* Empty slots first, then idle children, then busy ones. */
	for (pass = 0; pass < 3 && have > (size_t)n; pass++) {
		for (i = M.nslots; i-- > 0 && have > (size_t)n; ) {
			if (!M.slots[i].wanted)
				continue;
			c = M.slots[i].child;
			if (pass == 0 && c != NULL)
				continue;
			if (pass == 1 && (c == NULL || c->state == CS_BUSY))
				continue;
			M.slots[i].wanted = 0;
			if (c != NULL) {
				log_info("stopping child %d (pid %ld)%s",
				    c->slot, (long)c->pid, c->state ==
				    CS_BUSY ? " after its job" : "");
				stop_child(c);
			}
			have--;
		}
	}
	master_title();
}

/*
 * Set the wanted workers: n, or the wanted count plus n when relative,
 * within 0 and WORKERS_MAX, and within autoscale's bounds when it is on.
 * TTIN/TTOU, HUP, the control socket and the autoscaler all come here: the
 * last one wins.  why names who asks, for the log.  Returns the count.
 */
long
master_scale(long n, int relative, const char *why, int64_t now)
{
	long	have = (long)wanted_count();

	if (relative)
		n += have;
	if (M.set.autoscale_max > 0) {
		if (n < M.set.autoscale_min)
			n = M.set.autoscale_min;
		if (n > M.set.autoscale_max)
			n = M.set.autoscale_max;
	}
	if (n < 0)
		n = 0;
	if (n > WORKERS_MAX)
		n = WORKERS_MAX;
	if (why != NULL)
		log_info("%s: %ld workers", why, n);
	M.last_scale = now;
	rescale(n, now);
	return n;
}

/*
 * The autoscaler, once a second after the counts were read: how long jobs
 * have waited, which children idle, and the decision of autoscale_decide.
 */
static void
autoscale(int64_t now)
{
	struct autoscale_in	 in;
	struct bullmq_counts	 k;
	struct child		*c;
	const char		*why;
	int64_t			 at;
	long			 n;

	if (M.set.autoscale_max == 0 || M.stopping != STOP_NONE)
		return;
	memset(&in, 0, sizeof(in));
	if (keeper_counts(&k, &at) == 0 && !k.is_paused)
		in.backlog = k.wait + k.prioritized;
	if (in.backlog == 0)
		M.backlog_since = 0;
	else if (M.backlog_since == 0)
		M.backlog_since = now;
	in.backlog_ms = M.backlog_since != 0 ? now - M.backlog_since : 0;
	TAILQ_FOREACH(c, &M.children, entry) {
		if (c->retiring)
			continue;
		if (c->state == CS_STARTING || c->state == CS_IDLE)
			in.idle_now++;
		if (c->state == CS_IDLE && c->idle_since != 0 &&
		    now - c->idle_since >= M.set.autoscale_idle * 1000)
			in.idle_long++;
	}
	in.wanted = (long)wanted_count();
	in.min = M.set.autoscale_min;
	in.max = M.set.autoscale_max;
	in.since_grow_ms = now - M.last_grow;
	in.since_change_ms = now - M.last_scale;
	in.wait_ms = M.set.autoscale_wait;
	in.idle_ms = M.set.autoscale_idle * 1000;
	n = autoscale_decide(&in, &why);
	if (n == in.wanted || why == NULL)
		return;
	log_info("autoscale: %s (%ld waiting for %lld ms, %ld idle): %ld -> "
	    "%ld workers", why, in.backlog, (long long)in.backlog_ms,
	    in.idle_long, in.wanted, n);
	if (n > in.wanted) {
		M.stats.scale_up++;
		M.last_grow = now;
	} else
		M.stats.scale_down++;
	master_scale(n, 0, NULL, now);
}

/*
 * Read the pipes of the n events in evs, then of those epoll reports
 * ready now, and start a pause unless a child wrote a lot.
 */
static void
read_ready(struct epoll_event *evs, int n, int64_t now)
{
	struct child	*c;
	size_t		 most = 0, got;
	int		 i, rounds = 0;

	for (;;) {
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == &ctl_tag) {
				ctl_ready(now);
				continue;
			}
			if (evs[i].data.ptr == &httpd_tag) {
				httpd_run();
				continue;
			}
			c = evs[i].data.ptr;
			if (!c->dead && (got = read_msgs(c, now)) > most)
				most = got;
		}
		if (n < MAX_EVENTS || ++rounds == 16)
			break;
		if ((n = epoll_wait(M.ep, evs, MAX_EVENTS, 0)) <= 0)
			break;
	}
	M.quiet_until = most < COALESCE_MAX ? now + COALESCE_MS : 0;
}

/* Read every pipe that has messages, without waiting. */
void
drain_pipes(int64_t now)
{
	struct epoll_event	evs[MAX_EVENTS];
	int			n;

	if ((n = epoll_wait(M.ep, evs, MAX_EVENTS, 0)) > 0)
		read_ready(evs, n, now);
}

/* Whether every wanted slot is fatal and no child is left. */
static int
all_fatal(void)
{
	size_t	i, wanted = 0, fatal = 0;

	for (i = 0; i < M.nslots; i++) {
		if (!M.slots[i].wanted)
			continue;
		wanted++;
		if (M.slots[i].fatal)
			fatal++;
	}
	return wanted > 0 && wanted == fatal && M.nchildren == 0;
}

/* Decide about the slot of a child that died on its own. */
static void
child_died(struct child *c, struct slot *s, int st, int64_t now)
{
	enum restart_action	a;
	int64_t			delay;

	if (WIFEXITED(st) && WEXITSTATUS(st) == CHILD_EXIT_FATAL) {
		log_warnx("child %d: fatal configuration error, not "
		    "restarted (fix it and send HUP)", c->slot);
		s->fatal = 1;
		return;
	}
	if (c->timed_out || (WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		if (c->timed_out) {
			s->restarts++;
			M.stats.restarts++;
		}
		s->quick = 0;
		respawn_at((size_t)(s - M.slots), now);
		return;
	}
	s->restarts++;
	M.stats.restarts++;
	if (now - c->started < RESTART_QUICK_MS)
		s->quick++;
	else
		s->quick = 0;
	a = restart_decide(&M.hist, M.set.max_restarts,
	    (int64_t)M.set.max_seconds * 1000, s->quick, now, &delay);
	if (a == RESTART_GIVE_UP) {
		log_errx("more than %ld restarts within %ld s: giving up",
		    M.set.max_restarts, M.set.max_seconds);
		M.exit_code = EXIT_GAVE_UP;
		begin_stop(STOP_FAST, now);
		return;
	}
	restart_record(&M.hist, now);
	if (a == RESTART_LATER)
		log_info("worker %d: restarting in %lld ms", c->slot,
		    (long long)delay);
	respawn_at((size_t)(s - M.slots), now + delay);
}

/* Free the slot of a reaped child and decide on its restart. */
void
slot_ended(struct child *c, int st, int64_t now)
{
	struct slot	*s;

	s = c->slot > 0 && (size_t)c->slot <= M.nslots ?
	    &M.slots[c->slot - 1] : NULL;
	if (s == NULL || s->child != c)
		return;
	s->child = NULL;
	if (!s->wanted || M.stopping != STOP_NONE)
		return;
	child_died(c, s, st, now);
}

/* Reap every child that ended; stop when none is left to run. */
static void
reap(int64_t now)
{
	sig_chld = 0;
	children_reap(now);
	if (M.stopping != STOP_NONE)
		master_title();
	if (M.stopping == STOP_NONE && all_fatal()) {
		log_errx("every worker failed with a fatal configuration "
		    "error");
		M.exit_code = EXIT_SETTINGS;
		begin_stop(STOP_FAST, now);
	}
}

/* Begin a shutdown, graceful (TERM, QUIT) or fast (INT). */
static void
begin_stop(enum stop_mode mode, int64_t now)
{
	struct child	*c;
	size_t		 i, busy = 0;

	if (M.stopping == STOP_FAST ||
	    (M.stopping == STOP_GRACEFUL && mode == STOP_GRACEFUL))
		return;
	drain_pipes(now);
	notify_stopping();
	for (i = 0; i < M.nslots; i++)
		M.slots[i].wanted = 0;
	M.respawn_due = 0;
	TAILQ_FOREACH(c, &M.children, entry)
		if (c->job[0] != '\0')
			busy++;
	if (mode == STOP_GRACEFUL) {
		log_info("graceful shutdown: waiting up to %ld ms for %zu "
		    "running jobs", M.set.graceful_timeout, busy);
		M.stop_deadline = now + M.set.graceful_timeout;
		TAILQ_FOREACH(c, &M.children, entry)
			stop_child(c);
	} else {
		log_info("fast shutdown: killing %zu children, giving back "
		    "%zu jobs", M.nchildren, busy);
		TAILQ_FOREACH(c, &M.children, entry) {
			stop_child(c);
			kill_child(c, now);
		}
	}
	M.stopping = mode;
	master_title();
}

/* Copy the value of setting st from src into dst. */
static void
setting_copy(struct settings *dst, const struct settings *src,
    const struct setting *st)
{
	size_t	n;

	n = st->type == SET_STR ? st->size : st->type == SET_INT ?
	    sizeof(long) : sizeof(int);
	memcpy((char *)dst + st->off, (const char *)src + st->off, n);
}

/* HUP: read the settings again; keep the old ones when they are invalid. */
static void
reload(int64_t now)
{
	struct settings		 ns;
	struct restart_hist	 h;
	struct processor	*p = NULL;
	struct child		*c;
	const struct setting	*st;
	char			 err[SET_ERR_MAX], v[SET_PATH_MAX];
	size_t			 i, j;
	long			 n;
	int			 roll = 0, rolled = 0;

	notify_reloading();
	if (config_load(&ns, M.cl, err, sizeof(err)) == -1) {
		log_warnx("reload: %s; keeping the old settings", err);
		return;
	}
	if (strcmp(ns.processor, M.set.processor) != 0 &&
	    (p = processor_load(ns.processor, err, sizeof(err))) == NULL) {
		log_warnx("reload: %s; keeping the old settings", err);
		return;
	}
	/*
	 * Before the roll, so that a log-file not opened rolls nothing; daemon
	 * changes only on a restart, so without a file the log goes where the
	 * running daemon setting says.
	 */
	if (strcmp(ns.log_file, M.set.log_file) != 0) {
		if (log_init(ns.log_file[0] != '\0' ? LOG_TO_FILE :
		    M.set.daemon ? LOG_TO_SYSLOG : LOG_TO_STDERR, ns.log_file, err,
		    sizeof(err)) == -1) {
			log_warnx("reload: %s; keeping the old log", err);
			strlcpy(ns.log_file, M.set.log_file,
			    sizeof(ns.log_file));
		}
	}
	for (i = 0; i < settings_count; i++) {
		st = &settings_table[i];
		if (!config_differs(&ns, &M.set, st))
			continue;
		if (!(st->flags & SET_RELOAD)) {
			if (!(st->flags & SET_NOFILE)) {
				config_value(&M.set, st, v, sizeof(v));
				log_warnx("reload: %s changes only on "
				    "restart; keeping %s", st->name, v);
			}
			setting_copy(&ns, &M.set, st);
			continue;
		}
		if (st->flags & SET_ROLL)
			roll = 1;
	}
	if (ns.max_restarts != M.set.max_restarts &&
	    restart_hist_init(&h, ns.max_restarts) == 0) {
		for (j = 0; j < M.hist.n; j++)
			restart_record(&h, M.hist.times[(M.hist.head +
			    M.hist.cap - M.hist.n + j) % M.hist.cap]);
		restart_hist_free(&M.hist);
		M.hist = h;
	}
	if (ns.lock_duration != M.set.lock_duration)
		M.next_lock = now + ns.lock_duration / 2;
	if (ns.stalled_interval != M.set.stalled_interval)
		M.next_stalled = now + ns.stalled_interval;
	if (strcmp(ns.statsd, M.set.statsd) != 0)
		metrics_statsd(&ns);
	log_set_format(ns.log_fmt);
	log_set_level(ns.log_pri);
	M.set = ns;
	keeper_settings(&M.set);
	if (p != NULL) {
		processor_free(M.proc);
		M.proc = p;
	}
	if (roll) {
		M.gen++;
		for (i = 0; i < M.nslots; i++) {
			if ((c = M.slots[i].child) == NULL) {
				M.slots[i].fatal = 0;
				if (M.slots[i].wanted)
					respawn_at(i, now);
				continue;
			}
			stop_child(c);
			rolled++;
			if (M.slots[i].wanted)
				respawn_at(i, now);
		}
	} else
		for (i = 0; i < M.nslots; i++)
			if (M.slots[i].wanted && M.slots[i].fatal &&
			    M.slots[i].child == NULL) {
				M.slots[i].fatal = 0;
				respawn_at(i, now);
			}
	n = master_scale(M.set.workers, 0, NULL, now);
	log_info("reloaded settings: %ld workers%s", n,
	    rolled ? ", children replaced" : "");
}

/* The ids whose locks the last extension found gone (to check). */
static char	*lost_ids[64];
static size_t	 nlost, lost_more;

/* Note a job whose lock an extension found gone, to check after it. */
static void
lock_lost(const char *id, void *arg)
{
	if (nlost < sizeof(lost_ids) / sizeof(lost_ids[0]) &&
	    (lost_ids[nlost] = strdup(id)) != NULL)
		nlost++;
	else
		lost_more++;
}

/*
 * Say which jobs really lost their locks: a child may have finished its
 * job (which takes its lock away) while the extension was on its way, and
 * said so in a message not read yet.  Those are not lost.
 */
static void
report_lost(void)
{
	struct child	*c;
	int64_t		 now = bullmq_mono_ms();
	size_t		 i;
	int		 held;

	if (nlost == 0 && lost_more == 0)
		return;
	TAILQ_FOREACH(c, &M.children, entry)
		read_msgs(c, now);
	for (i = 0; i < nlost; i++) {
		held = 0;
		TAILQ_FOREACH(c, &M.children, entry)
			if (strcmp(c->job, lost_ids[i]) == 0)
				held = 1;
		if (held)
			log_warnx("job %s lost its lock", lost_ids[i]);
		free(lost_ids[i]);
	}
	if (lost_more > 0)
		log_warnx("%zu more jobs lost their locks", lost_more);
	nlost = lost_more = 0;
}

/* Keep every held job's lock: one call for all of them. */
static void
keep_locks(void)
{
	struct child	*c;
	size_t		 n = 0;
	const char	**p;

	if (M.capids < M.nchildren) {
		if ((p = reallocarray(M.ids, M.nchildren, sizeof(*p))) ==
		    NULL)
			return;
		M.ids = p;
		if ((p = reallocarray(M.tokens, M.nchildren, sizeof(*p))) ==
		    NULL)
			return;
		M.tokens = p;
		M.capids = M.nchildren;
	}
	TAILQ_FOREACH(c, &M.children, entry) {
		if (c->job[0] == '\0' || c->timed_out)
			continue;
		M.ids[n] = c->job;
		M.tokens[n] = c->token;
		n++;
	}
	keeper_extend(n, M.ids, M.tokens, M.set.lock_duration, lock_lost);
	report_lost();
}

/* Fail jobs past job-timeout and kill their children. */
static void
job_timeouts(int64_t now)
{
	struct child	*c;
	char		 reason[64];

	TAILQ_FOREACH(c, &M.children, entry) {
		if (c->kill_at != 0 && now >= c->kill_at) {
			log_warnx("child %d (pid %ld) did not stop: killing it",
			    c->slot, (long)c->pid);
			kill(c->pid, SIGKILL);
			c->kill_at = 0;
		}
		if (M.set.job_timeout == 0 || c->job[0] == '\0' ||
		    c->timed_out || now - c->job_since < M.set.job_timeout)
			continue;
		/* it may have told that it finished */
		read_msgs(c, now);
		if (c->job[0] == '\0' || c->timed_out ||
		    now - c->job_since < M.set.job_timeout)
			continue;
		log_warnx("child %d (pid %ld) job %s timed out after %ld ms",
		    c->slot, (long)c->pid, c->job, M.set.job_timeout);
		c->timed_out = 1;
		M.stats.timed_out++;
		kill(c->pid, SIGTERM);
		c->kill_at = now + M.set.kill_timeout;
		snprintf(reason, sizeof(reason), "job timed out after %ld ms",
		    M.set.job_timeout);
		keeper_fail(c->job, c->token, reason);
		metrics_outcome(MO_TIMED_OUT, 1);
		c->job[0] = '\0';
	}
}

/* Run the timers that are due. */
static void
timers(int64_t now)
{
	struct child	*c;
	int64_t		 quiet;

	/* Redis just failed to answer: the locks and the check wait for it */
	if ((quiet = keeper_quiet_left()) > 0) {
		if (now >= M.next_lock)
			M.next_lock = now + quiet;
		if (now >= M.next_stalled)
			M.next_stalled = now + quiet;
	}
	if (now >= M.next_lock) {
		M.next_lock = now + M.set.lock_duration / 2;
		drain_pipes(now);
		keep_locks();
	}
	if (now >= M.next_stalled && M.stopping == STOP_NONE &&
	    keeper_quiet_left() == 0) {
		M.next_stalled = now + M.set.stalled_interval;
		keeper_stalled(M.set.stalled_interval);
	}
	if (now >= M.next_second) {
		M.next_second = now + SECOND_MS;
		if (M.stopping == STOP_NONE)
			keeper_refresh(now);
		drain_pipes(now);
		children_sizes(now);
		autoscale(now);
	}
	if (now < M.next_tick)
		return;
	M.next_tick = now + TICK_MS;
	ctl_tick(now);
	job_timeouts(now);
	httpd_run();
	metrics_tick(now);
	notify_tick(now);
	keeper_retry(now, 0);
	if (M.stopping == STOP_GRACEFUL && now >= M.stop_deadline &&
	    M.nchildren > 0) {
		log_warnx("graceful-timeout: killing %zu children",
		    M.nchildren);
		TAILQ_FOREACH(c, &M.children, entry)
			kill_child(c, now);
		M.stop_deadline = now + 3600000;
	}
}

/* Fork the children that are due. */
static void
respawns(int64_t now)
{
	size_t	i;

	if (M.respawn_due == 0 || now < M.respawn_due ||
	    M.stopping != STOP_NONE)
		return;
	M.respawn_due = 0;
	for (i = 0; i < M.nslots; i++) {
		if (!M.slots[i].wanted || M.slots[i].child != NULL ||
		    M.slots[i].fatal)
			continue;
		if (M.slots[i].respawn_at <= now)
			spawn(i, now);
		else
			respawn_at(i, M.slots[i].respawn_at);
	}
}

/* Milliseconds to wait until the next timer. */
static int
wait_ms(int64_t now)
{
	int64_t	next = M.next_tick;

	if (M.next_lock < next)
		next = M.next_lock;
	if (M.next_stalled < next)
		next = M.next_stalled;
	if (M.next_second < next)
		next = M.next_second;
	if (M.respawn_due != 0 && M.respawn_due < next)
		next = M.respawn_due;
	return next <= now ? 0 : (int)(next - now);
}

/*
 * Wait up to ms for the pipes, signals and timers; within a pause, only
 * for signals and timers.  Returns the events in evs, 0 or -1.
 */
static int
wait_events(struct epoll_event *evs, const sigset_t *mask)
{
	struct timespec	ts;
	int64_t		now, ms;

	now = bullmq_mono_ms();
	ms = wait_ms(now);
	if (M.quiet_until <= now)
		return epoll_pwait(M.ep, evs, MAX_EVENTS, (int)ms, mask);
	if (ms > M.quiet_until - now)
		ms = M.quiet_until - now;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	return ppoll(NULL, 0, &ts, mask) == -1 ? -1 : 0;
}

/* Install the handlers; signals stay blocked outside the wait. */
static void
signals_setup(sigset_t *waitmask)
{
	static const int	 sigs[] = { SIGTERM, SIGQUIT, SIGINT, SIGHUP,
				    SIGTTIN, SIGTTOU, SIGUSR1, SIGCHLD };
	struct sigaction	 sa;
	sigset_t		 block;
	size_t			 i;

	sigemptyset(&block);
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaddset(&block, sigs[i]);
		sigaction(sigs[i], &sa, NULL);
	}
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigprocmask(SIG_BLOCK, &block, waitmask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigdelset(waitmask, sigs[i]);
}

/* Free everything the master holds. */
static void
master_free(void)
{
	struct child	*c;

	while ((c = TAILQ_FIRST(&M.dead)) != NULL) {
		TAILQ_REMOVE(&M.dead, c, entry);
		child_free(c);
	}
	while ((c = TAILQ_FIRST(&M.children)) != NULL) {
		TAILQ_REMOVE(&M.children, c, entry);
		close_msgfd(c);
		if (c->lifeline != -1)
			close(c->lifeline);
		child_free(c);
	}
	free(M.slots);
	free(M.ids);
	free(M.tokens);
	restart_hist_free(&M.hist);
	ctl_close();
	httpd_close();
	metrics_close();
	keeper_close();
	if (M.ep != -1)
		close(M.ep);
	processor_free(M.proc);
	M.proc = NULL;
}

/*
 * Run the master until it stops.  s and proc are the settings and the
 * processor loaded by main (the master owns and frees proc); cl is kept for
 * HUP.  Returns the exit status.
 */
int
master_run(struct settings *s, const struct cmdline *cl,
    struct processor *proc)
{
	struct epoll_event	 evs[MAX_EVENTS];
	struct child		*c;
	sigset_t		 waitmask;
	int64_t			 now;
	int			 n, ttin, ttou;

	memset(&M, 0, sizeof(M));
	TAILQ_INIT(&M.children);
	TAILQ_INIT(&M.dead);
	M.set = *s;
	M.cl = cl;
	M.proc = proc;
	M.ep = -1;
	M.ncpus = online_cpus();
	signals_setup(&waitmask);
	child_limits();
	if ((M.ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		log_warn("epoll");
		return EXIT_SETTINGS;
	}
	if (restart_hist_init(&M.hist, M.set.max_restarts) == -1) {
		log_warnx("out of memory");
		master_free();
		return EXIT_SETTINGS;
	}
	if (keeper_open(&M.set) == -1 ||
	    httpd_open(M.set.metrics_listen, M.ep) == -1) {
		master_free();
		return EXIT_SETTINGS;
	}
	metrics_statsd(&M.set);
	notify_init();
	now = bullmq_mono_ms();
	M.next_lock = now + M.set.lock_duration / 2;
	M.next_stalled = now;
	M.next_tick = now + TICK_MS;
	M.next_second = now;
	ctl_open();
	log_info("master of queue %s started: %ld workers, processor %s",
	    M.set.queue, M.set.workers, M.set.processor);
	master_scale(M.set.workers, 0, NULL, now);
	respawns(now);

	for (;;) {
		n = wait_events(evs, &waitmask);
		if (n == -1 && errno != EINTR) {
			log_warn("epoll_pwait");
			sleep(1);
		}
		now = bullmq_mono_ms();
		if (sig_chld)
			reap(now);
		if (sig_term) {
			sig_term = 0;
			begin_stop(STOP_GRACEFUL, now);
		}
		if (sig_int) {
			sig_int = 0;
			begin_stop(STOP_FAST, now);
		}
		if (sig_hup) {
			sig_hup = 0;
			if (M.stopping == STOP_NONE)
				reload(now);
		}
		ttin = sig_ttin;
		ttou = sig_ttou;
		sig_ttin = sig_ttou = 0;
		if ((ttin != 0 || ttou != 0) && M.stopping == STOP_NONE)
			master_scale(ttin - ttou, 1, ttin > ttou ? "TTIN" :
			    "TTOU", now);
		if (sig_usr1) {
			sig_usr1 = 0;
			log_reopen();
			TAILQ_FOREACH(c, &M.children, entry)
				kill(c->pid, SIGUSR1);
			log_info("log reopened");
		}
		if (n > 0)
			read_ready(evs, n, now);
		timers(now);
		if (M.stopping != STOP_NONE && M.nchildren == 0)
			break;
		respawns(now);
		while ((c = TAILQ_FIRST(&M.dead)) != NULL) {
			TAILQ_REMOVE(&M.dead, c, entry);
			child_free(c);
		}
	}
	keeper_retry(bullmq_mono_ms(), 1);
	if (keeper_pending() > 0)
		log_warnx("%zu jobs could not be given back: left to the "
		    "stalled checker", keeper_pending());
	log_info("master stopped");
	*s = M.set;
	n = M.exit_code;
	master_free();
	return n;
}
