/*
 * master.c: the supervisor loop.  Signal handlers only set flags; signals
 * are blocked except inside the one wait.  After the wait: reap, then TERM,
 * INT, HUP, TTIN/TTOU, USR1, the children's messages, timers and respawns,
 * always in that order.
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

#include "bullmq-int.h"
#include "daemon.h"

#define TICK_MS		100	/* job timeouts, deadlines, respawns */
#define PID_BUCKETS	1024
#define MAX_EVENTS	64
#define COALESCE_MS	5	/* pause between two reads of the pipes */
#define COALESCE_MAX	(16 * 1024)	/* read from one child: no pause */
#define JOB_ID_SIZE	64	/* room for an id at first; grows */

enum child_state {
	CS_STARTING,
	CS_IDLE,
	CS_BUSY,
	CS_NOREDIS
};

enum stop_mode {
	STOP_NONE,
	STOP_GRACEFUL,
	STOP_FAST
};

/* One child process, from fork to reap. */
struct child {
	pid_t			 pid;
	int			 slot;		/* worker number, from 1 */
	int			 fd;		/* message pipe; -1: closed */
	int			 lifeline;	/* -1 once told to stop */
	enum child_state	 state;
	int			 retiring;	/* its exit is expected */
	int			 timed_out;	/* killed for its job's time */
	int			 dead;		/* reaped, freed soon */
	unsigned		 gen;		/* settings generation */
	int64_t			 started;
	int64_t			 job_since;
	int64_t			 kill_at;	/* SIGKILL due; 0: none */
	int64_t			 client_id;
	pid_t			 group;		/* exec: program's; 0: none */
	char			*job;		/* its id, "" when none */
	size_t			 jobsize;	/* bytes at job */
	char			 token[MSG_TOKEN_MAX];
	size_t			 rlen;
	char			*rbuf;		/* a partial message, or NULL */
	struct child		*hnext;		/* pid hash chain */
	TAILQ_ENTRY(child)	 entry;
};
TAILQ_HEAD(childq, child);

/* One worker number: wanted or not, its child, its restart state. */
struct slot {
	struct child	*child;
	int		 wanted;
	int		 fatal;		/* its child exited 2 */
	int		 quick;		/* consecutive quick deaths */
	int64_t		 respawn_at;
};

static struct {
	struct settings		 set;
	const struct cmdline	*cl;
	struct processor	*proc;
	int			 ep;
	struct slot		*slots;
	size_t			 nslots;
	struct childq		 children;
	struct childq		 dead;
	size_t			 nchildren;
	struct child		*pids[PID_BUCKETS];
	struct restart_hist	 hist;
	unsigned		 gen;
	enum stop_mode		 stopping;
	int64_t			 stop_deadline;
	int			 exit_code;
	int64_t			 next_lock, next_stalled, next_tick;
	long			 ncpus;		/* online, for spin-wait */
	int64_t			 quiet_until;	/* pipes not watched before */
	int64_t			 respawn_due;	/* 0: none */
	int64_t			 fork_logged;	/* last fork failure logged */
	const char		**ids, **tokens;
	size_t			 capids;
} M;

static volatile sig_atomic_t	sig_term, sig_int, sig_hup, sig_ttin,
				sig_ttou, sig_usr1, sig_chld;

/* Make a child with no process yet; NULL when out of memory. */
static struct child *
child_new(void)
{
	struct child	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->job = malloc(JOB_ID_SIZE)) == NULL) {
		free(c);
		return NULL;
	}
	c->job[0] = '\0';
	c->jobsize = JOB_ID_SIZE;
	return c;
}

/* Free a child; its descriptors are closed by then. */
static void
child_free(struct child *c)
{
	if (c == NULL)
		return;
	free(c->job);
	free(c->rbuf);
	free(c);
}

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
static size_t
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

/* Find a child by pid. */
static struct child *
pid_find(pid_t pid)
{
	struct child	*c;

	for (c = M.pids[(unsigned)pid % PID_BUCKETS]; c != NULL; c = c->hnext)
		if (c->pid == pid)
			return c;
	return NULL;
}

/* Remove a child from the pid hash. */
static void
pid_remove(struct child *c)
{
	struct child	**pp;

	for (pp = &M.pids[(unsigned)c->pid % PID_BUCKETS]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == c) {
			*pp = c->hnext;
			return;
		}
}

static size_t	read_msgs(struct child *, int64_t);

/* Wake a child blocked on the marker, so that it sees its lifeline. */
static void
unblock(struct child *c)
{
	if (c->state != CS_BUSY)
		keeper_unblock(c->client_id);
}

/* Ask a child to stop after its current job: close its lifeline. */
static void
stop_child(struct child *c)
{
	read_msgs(c, mono_ms());	/* is it busy? */
	c->retiring = 1;
	if (c->lifeline != -1) {
		close(c->lifeline);
		c->lifeline = -1;
	}
	unblock(c);
	if (c->slot > 0 && (size_t)c->slot <= M.nslots &&
	    M.slots[c->slot - 1].child == c)
		M.slots[c->slot - 1].child = NULL;
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
static void
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
 * The jobs a new child runs before it is replaced: n plus a random part of
 * up to a quarter more, so that children started together are not all
 * replaced together.  The part stays within what a long holds.
 */
static long
recycle_after(long n)
{
	long	 most = n / 4;

	if (most > (long)UINT32_MAX - 1)
		most = (long)UINT32_MAX - 1;
	if (most > LONG_MAX - n)
		most = LONG_MAX - n;
	return n + (long)arc4random_uniform((uint32_t)most + 1);
}

/* Fork the child of slot i. */
static void
spawn(size_t i, int64_t now)
{
	struct child_spec	 cs;
	struct epoll_event	 ev;
	struct child		*c;
	pid_t			 pid;
	int			 fd, lifeline;

	if ((c = child_new()) == NULL) {
		log_warnx("worker %zu: out of memory", i + 1);
		respawn_at(i, now + 1000);
		return;
	}
	memset(&cs, 0, sizeof(cs));
	cs.slot = (int)i + 1;
	cs.set = &M.set;
	cs.proc = M.proc;
	cs.spin_wait = spin_wait_for(M.set.spin_wait, (long)wanted_count(),
	    M.ncpus);
	if (M.set.max_jobs_per_child > 0)
		cs.max_jobs = recycle_after(M.set.max_jobs_per_child);
	if ((pid = child_fork(&cs, &fd, &lifeline)) == -1) {
		/* Say it once in a while, not for every slot every second. */
		if (M.fork_logged == 0 || now - M.fork_logged >= 10000) {
			log_warnx("worker %zu: fork: %s; retrying every "
			    "second", i + 1, strerror(errno));
			M.fork_logged = now;
		}
		child_free(c);
		respawn_at(i, now + 1000);
		return;
	}
	c->pid = pid;
	c->slot = (int)i + 1;
	c->fd = fd;
	c->lifeline = lifeline;
	c->state = CS_STARTING;
	c->gen = M.gen;
	c->started = now;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(M.ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		log_warnx("child %d: epoll: %s", c->slot, strerror(errno));
	c->hnext = M.pids[(unsigned)pid % PID_BUCKETS];
	M.pids[(unsigned)pid % PID_BUCKETS] = c;
	TAILQ_INSERT_TAIL(&M.children, c, entry);
	M.nchildren++;
	M.slots[i].child = c;
	log_info("child %d (pid %ld) started", c->slot, (long)pid);
}

/*
 * Close a child's message pipe.  It leaves the epoll set explicitly: a
 * child forked meanwhile may still hold a copy of the descriptor, and the
 * set would keep reporting it.
 */
static void
close_msgfd(struct child *c)
{
	if (c->fd == -1)
		return;
	if (epoll_ctl(M.ep, EPOLL_CTL_DEL, c->fd, NULL) == -1)
		log_warnx("child %d: epoll del: %s", c->slot,
		    strerror(errno));
	close(c->fd);
	c->fd = -1;
}

/*
 * Note the job a child took: the id and token after the header m.  No id
 * means one too long, which the child fails at once: it is busy, with no
 * lock to keep.
 */
static void
job_taken(struct child *c, const struct msg *m, const char *p, int64_t now)
{
	size_t	 il, tl;
	char	*np;

	il = m->idlen;
	tl = m->toklen < MSG_TOKEN_MAX ? m->toklen : MSG_TOKEN_MAX - 1;
	if (il >= c->jobsize) {
		if ((np = realloc(c->job, il + 1)) == NULL) {
			log_warnx("child %d (pid %ld): job %.64s...: out of "
			    "memory; its lock is not kept", c->slot,
			    (long)c->pid, p);
			il = 0;
		} else {
			c->job = np;
			c->jobsize = il + 1;
		}
	}
	memcpy(c->job, p, il);
	c->job[il] = '\0';
	memcpy(c->token, p + m->idlen, tl);
	c->token[tl] = '\0';
	/* the child's clock: the message may have waited in the pipe */
	c->job_since = m->at > 0 && m->at <= now ? m->at : now;
	c->state = CS_BUSY;
}

/* Note that a child finished its job; give it back if that failed. */
static void
job_done(struct child *c, const struct msg *m)
{
	char	who[64];

	if (m->status == -1 && c->job[0] != '\0') {
		snprintf(who, sizeof(who), "child %d (pid %ld)", c->slot,
		    (long)c->pid);
		keeper_give_back(who, c->job, c->token);
	}
	c->job[0] = '\0';
	c->state = CS_IDLE;
}

/* Act on one message of a child: the header m, then p. */
static void
handle_msg(struct child *c, const struct msg *m, const char *p, int64_t now)
{
	switch (m->type) {
	case MSG_READY:
	case MSG_IDLE:
		c->client_id = m->client_id;
		if (c->state != CS_BUSY || m->type == MSG_READY)
			c->state = CS_IDLE;
		if (c->retiring && m->type == MSG_READY)
			unblock(c);
		break;
	/*
	 * A child past job-timeout has no job left to the master (it is
	 * failed); one it took after all, telling before it died, is given
	 * back when it is reaped.
	 */
	case MSG_START:
		job_taken(c, m, p, now);
		break;
	case MSG_DONE:
		c->group = 0;
		job_done(c, m);
		break;
	case MSG_NEXT:
		c->group = 0;
		job_done(c, m);
		job_taken(c, m, p, now);
		break;
	case MSG_REDIS_DOWN:
		c->state = CS_NOREDIS;
		break;
	case MSG_GROUP:
		/* a group of its own, never ours: not 0, 1 or negative */
		c->group = m->group > 1 && m->group <= INT32_MAX ?
		    (pid_t)m->group : 0;
		break;
	default:
		log_warnx("child %d (pid %ld): unknown message %d", c->slot,
		    (long)c->pid, (int)m->type);
		break;
	}
}

/*
 * Keep the n bytes at p, the start of a message cut off by the end of a
 * read, for the next read; 0, or -1 when out of memory.
 */
static int
keep_partial(struct child *c, const char *p, size_t n)
{
	if (n > 0 && c->rbuf == NULL && (c->rbuf = malloc(MSG_MAX)) == NULL)
		return -1;
	memcpy(c->rbuf, p, n);
	c->rlen = n;
	return 0;
}

/*
 * Decode the message at the front of buf[0..n): its header into *m and
 * where its id and token start into *p.  Returns its length, 0 when buf
 * holds only its start, or -1 when it claims more than MSG_MAX bytes.
 */
ssize_t
msg_decode(const char *buf, size_t n, struct msg *m, const char **p)
{
	size_t	need;

	if (n < sizeof(*m))
		return 0;
	memcpy(m, buf, sizeof(*m));
	need = sizeof(*m) + m->idlen + m->toklen;
	if (need > MSG_MAX)
		return -1;
	if (n < need)
		return 0;
	*p = buf + sizeof(*m);
	return (ssize_t)need;
}

/*
 * Read what a child wrote, up to what is in the pipe now; closes the pipe
 * at its end.  Returns how many bytes were read.  A message is one write
 * the pipe keeps whole, so that a read that empties the pipe ends on a
 * message's end, and the start of one cut off by a full buffer waits at the
 * front of it for the next read.
 */
static size_t
read_msgs(struct child *c, int64_t now)
{
	static char	 buf[16 * 1024 + MSG_MAX];
	struct msg	 m;
	const char	*p;
	size_t		 have, off, want, part, total = 0;
	ssize_t		 n, len = 0;

	part = c->rlen;
	if (part > 0)
		memcpy(buf, c->rbuf, part);
	c->rlen = 0;
	while (c->fd != -1) {
		want = sizeof(buf) - part;
		n = read(c->fd, buf + part, want);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n <= 0) {
			close_msgfd(c);
			part = 0;
			break;
		}
		total += (size_t)n;
		have = part + (size_t)n;
		for (off = 0; (len = msg_decode(buf + off, have - off, &m,
		    &p)) > 0; off += (size_t)len)
			handle_msg(c, &m, p, now);
		if (len == -1) {
			log_warnx("child %d (pid %ld): message of %zu bytes; "
			    "closing its pipe", c->slot, (long)c->pid,
			    sizeof(m) + m.idlen + m.toklen);
			close_msgfd(c);
			part = 0;
			break;
		}
		part = have - off;
		memmove(buf, buf + off, part);
		/* less than asked for: the pipe was empty */
		if ((size_t)n < want)
			break;
	}
	if (part > 0 && keep_partial(c, buf, part) == -1) {
		log_warnx("child %d (pid %ld): out of memory for its messages; "
		    "closing its pipe", c->slot, (long)c->pid);
		close_msgfd(c);
	}
	return total;
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
static void
drain_pipes(int64_t now)
{
	struct epoll_event	evs[MAX_EVENTS];
	int			n;

	if ((n = epoll_wait(M.ep, evs, MAX_EVENTS, 0)) > 0)
		read_ready(evs, n, now);
}

/* Describe how a child ended into buf. */
static void
exit_reason(int st, char *buf, size_t size)
{
	if (WIFEXITED(st))
		snprintf(buf, size, "exited %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, size, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(buf, size, "ended with status %d", st);
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

static void	begin_stop(enum stop_mode, int64_t);

/*
 * Kill the process group of the exec: program that dead child c was
 * running, which the program's death signal leaves behind; who names c.
 * Only a group still believed live: the child told of it and not of its
 * end, and no other child has told of the same id since (which would mean
 * the id was freed and reused), the other pipes read first.
 */
static void
kill_group(struct child *c, const char *who, int64_t now)
{
	struct child	*o;
	pid_t		 g = c->group;

	c->group = 0;
	if (g == getpgrp())
		return;
	drain_pipes(now);
	TAILQ_FOREACH(o, &M.children, entry)
		if (o != c && o->group == g) {
			log_warnx("%s: process group %ld of its exec: program "
			    "is now child %d's: not killed", who, (long)g,
			    o->slot);
			return;
		}
	if (kill(-g, SIGKILL) == 0)
		log_warnx("%s: killed the process group %ld of its exec: "
		    "program", who, (long)g);
	else if (errno != ESRCH)
		log_warnx("%s: kill process group %ld: %s", who, (long)g,
		    strerror(errno));
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
		s->quick = 0;
		respawn_at((size_t)(s - M.slots), now);
		return;
	}
	if (now - c->started < RESTART_QUICK_MS)
		s->quick++;
	else
		s->quick = 0;
	a = restart_decide(&M.hist, M.set.max_restarts,
	    (int64_t)M.set.max_seconds * 1000, s->quick, now, &delay);
	if (a == RESTART_GIVE_UP) {
		log_warnx("more than %ld restarts within %ld s: giving up",
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

/* Reap every child that ended: log why, give its job back, restart. */
static void
reap(int64_t now)
{
	struct child	*c;
	struct slot	*s;
	char		 why[64], who[64];
	pid_t		 pid;
	int		 st;

	sig_chld = 0;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if ((c = pid_find(pid)) == NULL)
			continue;
		read_msgs(c, now);
		exit_reason(st, why, sizeof(why));
		snprintf(who, sizeof(who), "child %d (pid %ld)", c->slot,
		    (long)pid);
		/* exit 0: recycled, or stopped by a TERM not from us */
		if (c->retiring || M.stopping != STOP_NONE ||
		    (WIFEXITED(st) && WEXITSTATUS(st) == 0))
			log_info("%s %s", who, why);
		else
			log_warnx("%s %s", who, why);
		/* before its job can run again elsewhere */
		if (c->group != 0)
			kill_group(c, who, now);
		if (c->job[0] != '\0')
			keeper_give_back(who, c->job, c->token);
		pid_remove(c);
		TAILQ_REMOVE(&M.children, c, entry);
		M.nchildren--;
		close_msgfd(c);
		if (c->lifeline != -1)
			close(c->lifeline);
		c->fd = c->lifeline = -1;
		c->dead = 1;
		TAILQ_INSERT_TAIL(&M.dead, c, entry);
		s = c->slot > 0 && (size_t)c->slot <= M.nslots ?
		    &M.slots[c->slot - 1] : NULL;
		if (s == NULL || s->child != c)
			continue;
		s->child = NULL;
		if (!s->wanted || M.stopping != STOP_NONE)
			continue;
		child_died(c, s, st, now);
	}
	if (M.stopping != STOP_NONE)
		master_title();
	if (M.stopping == STOP_NONE && all_fatal()) {
		log_warnx("every worker failed with a fatal configuration "
		    "error");
		M.exit_code = EXIT_SETTINGS;
		begin_stop(STOP_FAST, now);
	}
}

/* Begin a shutdown, graceful (TERM, QUIT) or fast (INT). */
/*
 * Kill a child now: a TERM from the master is a death at once for it, which
 * takes down its exec: program with all the program started (a KILL would
 * take the program alone); KILL follows after kill-timeout.
 */
static void
kill_child(struct child *c, int64_t now)
{
	kill(c->pid, SIGTERM);
	if (c->kill_at == 0)
		c->kill_at = now + M.set.kill_timeout;
}

static void
begin_stop(enum stop_mode mode, int64_t now)
{
	struct child	*c;
	size_t		 i, busy = 0;

	if (M.stopping == STOP_FAST ||
	    (M.stopping == STOP_GRACEFUL && mode == STOP_GRACEFUL))
		return;
	drain_pipes(now);
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
	int			 roll = 0, rolled = 0;

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
	rescale(M.set.workers, now);
	log_info("reloaded settings: %ld workers%s", M.set.workers,
	    rolled ? ", children replaced" : "");
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
	keeper_extend(n, M.ids, M.tokens, M.set.lock_duration);
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
		kill(c->pid, SIGTERM);
		c->kill_at = now + M.set.kill_timeout;
		snprintf(reason, sizeof(reason), "job timed out after %ld ms",
		    M.set.job_timeout);
		keeper_fail(c->job, c->token, reason);
		c->job[0] = '\0';
	}
}

/* Run the timers that are due. */
static void
timers(int64_t now)
{
	struct child	*c;

	if (now >= M.next_lock) {
		M.next_lock = now + M.set.lock_duration / 2;
		drain_pipes(now);
		keep_locks();
	}
	if (now >= M.next_stalled && M.stopping == STOP_NONE) {
		M.next_stalled = now + M.set.stalled_interval;
		keeper_stalled(M.set.stalled_interval);
	}
	if (now < M.next_tick)
		return;
	M.next_tick = now + TICK_MS;
	job_timeouts(now);
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

	now = mono_ms();
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
	int			 n, nw, ttin, ttou;

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
		log_warnx("epoll: %s", strerror(errno));
		return EXIT_SETTINGS;
	}
	if (restart_hist_init(&M.hist, M.set.max_restarts) == -1) {
		log_warnx("out of memory");
		master_free();
		return EXIT_SETTINGS;
	}
	if (keeper_open(&M.set) == -1) {
		master_free();
		return EXIT_SETTINGS;
	}
	now = mono_ms();
	M.next_lock = now + M.set.lock_duration / 2;
	M.next_stalled = now;
	M.next_tick = now + TICK_MS;
	log_info("master of queue %s started: %ld workers, processor %s",
	    M.set.queue, M.set.workers, M.set.processor);
	rescale(M.set.workers, now);
	respawns(now);

	for (;;) {
		n = wait_events(evs, &waitmask);
		if (n == -1 && errno != EINTR) {
			log_warnx("epoll_pwait: %s", strerror(errno));
			sleep(1);
		}
		now = mono_ms();
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
		if ((ttin != 0 || ttou != 0) && M.stopping == STOP_NONE) {
			nw = (int)wanted_count() + ttin - ttou;
			if (nw < 0)
				nw = 0;
			if (nw > 4096)
				nw = 4096;
			log_info("%s: %d workers", ttin > ttou ? "TTIN" :
			    "TTOU", nw);
			rescale(nw, now);
		}
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
	keeper_retry(mono_ms(), 1);
	if (keeper_pending() > 0)
		log_warnx("%zu jobs could not be given back: left to the "
		    "stalled checker", keeper_pending());
	log_info("master stopped");
	*s = M.set;
	n = M.exit_code;
	master_free();
	return n;
}
