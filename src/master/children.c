/*
 * children.c: the master's table of children: a list and a hash by pid,
 * forking one for a slot, asking one to stop, killing one, and reaping
 * those that ended.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "master.h"

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
void
child_free(struct child *c)
{
	if (c == NULL)
		return;
	free(c->job);
	free(c->rbuf);
	free(c);
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

/* Wake a child blocked on the marker, so that it sees its lifeline. */
void
unblock(struct child *c)
{
	if (c->state != CS_BUSY)
		keeper_unblock(c->client_id);
}

/* Ask a child to stop after its current job: close its lifeline. */
void
stop_child(struct child *c)
{
	read_msgs(c, bullmq_mono_ms());	/* is it busy? */
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
void
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
		log_warn("child %d: epoll", c->slot);
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
void
close_msgfd(struct child *c)
{
	if (c->fd == -1)
		return;
	if (epoll_ctl(M.ep, EPOLL_CTL_DEL, c->fd, NULL) == -1)
		log_warn("child %d: epoll del", c->slot);
	close(c->fd);
	c->fd = -1;
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

/*
 * Kill the process group of the exec: or pipe: program that dead child c was
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
			log_warnx("%s: process group %ld of its program "
			    "is now child %d's: not killed", who, (long)g,
			    o->slot);
			return;
		}
	if (kill(-g, SIGKILL) == 0)
		log_warnx("%s: killed the process group %ld of its "
		    "program", who, (long)g);
	else if (errno != ESRCH)
		log_warn("%s: kill process group %ld", who, (long)g);
}

/*
 * Reap every child that ended: log why, kill its program's group, give its
 * job back, and leave its slot to the master (slot_ended).
 */
void
children_reap(int64_t now)
{
	struct child	*c;
	char		 why[48], who[64];
	pid_t		 pid;
	int		 st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if ((c = pid_find(pid)) == NULL)
			continue;
		read_msgs(c, now);
		exit_reason(st, why, sizeof(why));
		snprintf(who, sizeof(who), "child %d (pid %ld)", c->slot,
		    (long)pid);
		if (c->slot > 0 && (size_t)c->slot <= M.nslots)
			snprintf(M.slots[c->slot - 1].last_exit,
			    sizeof(M.slots[c->slot - 1].last_exit), "%s%s",
			    why, c->over_rss ? " (max-child-rss)" :
			    c->timed_out ? " (job-timeout)" : "");
		/* exit 0: recycled, or stopped by a TERM not from us */
		if (c->retiring || M.stopping != STOP_NONE ||
		    (WIFEXITED(st) && WEXITSTATUS(st) == 0))
			log_info("%s %s", who, why);
		else
			log_warnx("%s %s", who, why);
		if (!c->retiring && M.stopping == STOP_NONE &&
		    !(WIFEXITED(st) && WEXITSTATUS(st) == CHILD_EXIT_FATAL))
			metrics_exit(c->timed_out ? ME_TIMEOUT :
			    WIFSIGNALED(st) ? ME_SIGNAL :
			    WEXITSTATUS(st) == 0 ? ME_RECYCLED : ME_EXIT);
		/* before its job can run again elsewhere */
		if (c->group != 0)
			kill_group(c, who, now);
		if (c->job[0] != '\0') {
			M.stats.given_back++;
			keeper_give_back(who, c->job, c->token);
		}
		pid_remove(c);
		TAILQ_REMOVE(&M.children, c, entry);
		M.nchildren--;
		close_msgfd(c);
		if (c->lifeline != -1)
			close(c->lifeline);
		c->fd = c->lifeline = -1;
		c->dead = 1;
		TAILQ_INSERT_TAIL(&M.dead, c, entry);
		slot_ended(c, st, now);
	}
}

/*
 * Kill a child now: a TERM from the master is a death at once for it, which
 * takes down its exec: program with all the program started (a KILL would
 * take the program alone); KILL follows after kill-timeout.
 */
void
kill_child(struct child *c, int64_t now)
{
	kill(c->pid, SIGTERM);
	if (c->kill_at == 0)
		c->kill_at = now + M.set.kill_timeout;
}

/*
 * Replace a child that keeps its slot: it finishes its job and leaves, a
 * new one starts now.  A planned replacement: no restart is counted.
 */
void
replace_child(struct child *c, int64_t now)
{
	size_t	i = (size_t)c->slot - 1;

	stop_child(c);
	if (i < M.nslots && M.slots[i].wanted)
		respawn_at(i, now);
}

/* The name of a child's state for the status. */
static const char *
state_name(const struct child *c)
{
	if (c->retiring)
		return "stopping";
	switch (c->state) {
	case CS_STARTING:
		return "starting";
	case CS_IDLE:
		return "idle";
	case CS_BUSY:
		return "busy";
	case CS_NOREDIS:
		return "noredis";
	}
	return "?";
}

/* Fill row r from child c (NULL: none) of slot s. */
static void
info_fill(struct child_info *r, const struct child *c, const struct slot *s,
    int slot, int64_t now)
{
	memset(r, 0, sizeof(*r));
	r->slot = slot;
	r->job = "";
	r->rss_kb = -1;
	r->restarts = s != NULL ? s->restarts : 0;
	r->last_exit = s != NULL ? s->last_exit : "";
	if (c == NULL) {
		r->state = s != NULL && s->fatal ? "fatal" : "down";
		return;
	}
	r->pid = c->pid;
	r->state = state_name(c);
	r->job = c->job;
	if (c->job[0] != '\0')
		r->job_ms = now - c->job_since;
	r->completed = c->completed;
	r->failed = c->failed;
	r->rss_kb = c->rss_kb > 0 ? c->rss_kb : -1;
}

/*
 * The rows of the status into rows (max of them): each wanted slot, with
 * its child or none, then the children stopping.  Returns how many rows
 * there are, which may be more than max.
 */
size_t
children_info(struct child_info *rows, size_t max, int64_t now)
{
	struct child	*c;
	size_t		 i, n = 0;

	for (i = 0; i < M.nslots; i++) {
		if (!M.slots[i].wanted && M.slots[i].child == NULL)
			continue;
		if (n < max)
			info_fill(&rows[n], M.slots[i].child, &M.slots[i],
			    (int)i + 1, now);
		n++;
	}
	TAILQ_FOREACH(c, &M.children, entry) {
		if (!c->retiring)
			continue;
		if (n < max)
			info_fill(&rows[n], c, c->slot > 0 &&
			    (size_t)c->slot <= M.nslots ?
			    &M.slots[c->slot - 1] : NULL, c->slot, now);
		n++;
	}
	return n;
}

/* How many children run that are not stopping. */
size_t
children_running(void)
{
	struct child	*c;
	size_t		 n = 0;

	TAILQ_FOREACH(c, &M.children, entry)
		if (!c->retiring)
			n++;
	return n;
}

/* How many of those are connected to Redis: idle or busy. */
size_t
children_connected(void)
{
	struct child	*c;
	size_t		 n = 0;

	TAILQ_FOREACH(c, &M.children, entry)
		if (!c->retiring && (c->state == CS_IDLE ||
		    c->state == CS_BUSY))
			n++;
	return n;
}

/*
 * The resident size in KB in the text of /proc/PID/statm (its second
 * number, in pages of pagesize bytes); -1 when it has none.
 */
long
statm_rss_kb(const char *text, long pagesize)
{
	const char	*p = text;
	char		*end;
	long long	 pages;

	while (*p == ' ')
		p++;
	while (*p >= '0' && *p <= '9')
		p++;
	if (p == text || *p != ' ')
		return -1;
	errno = 0;
	pages = strtoll(p + 1, &end, 10);
	if (errno != 0 || end == p + 1 || pages < 0 ||
	    (*end != ' ' && *end != '\n' && *end != '\0') ||
	    pages > LONG_MAX / (pagesize > 0 ? pagesize : 1))
		return -1;
	return (long)(pages * pagesize / 1024);
}

/* The resident size of process pid in KB; -1 when unknown. */
static long
proc_rss_kb(pid_t pid)
{
	char	path[64], text[256];
	ssize_t	n;
	int	fd;

	snprintf(path, sizeof(path), "/proc/%ld/statm", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	return statm_rss_kb(text, sysconf(_SC_PAGESIZE));
}

/* Read each child's resident size, with its program's. */
void
children_measure(void)
{
	struct child	*c;
	long		 kb, pk;

	TAILQ_FOREACH(c, &M.children, entry) {
		kb = proc_rss_kb(c->pid);
		if (kb >= 0 && c->program != 0 &&
		    (pk = proc_rss_kb(c->program)) > 0)
			kb += pk;
		c->rss_kb = kb;
	}
}

/*
 * With max-child-rss set: measure the children and replace those over it
 * after their job.
 */
void
children_sizes(int64_t now)
{
	struct child	*c;

	if (M.set.max_rss_kb == 0 || M.stopping != STOP_NONE)
		return;
	children_measure();
	/* replace_child leaves c in the list */
	TAILQ_FOREACH(c, &M.children, entry) {
		if (c->rss_kb <= M.set.max_rss_kb || c->retiring)
			continue;
		log_warnx("child %d (pid %ld) uses %ld KB, over max-child-rss "
		    "(%ld KB): replacing it%s", c->slot, (long)c->pid,
		    c->rss_kb, M.set.max_rss_kb, c->job[0] != '\0' ?
		    " after its job" : "");
		c->over_rss = 1;
		M.stats.rss_replaced++;
		replace_child(c, now);
	}
}
