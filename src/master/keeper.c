/*
 * keeper.c: the master's Redis side, on its own connection: the batched
 * lock extension, the stalled check, giving back the job of a dead child,
 * failing timed out jobs, waking blocked children, and a list of the
 * give-backs and failures that wait for Redis to answer again.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "daemon.h"

#define MAX_PENDING	10000
#define PENDING_RETRY	1000	/* ms between two tries */
#define QUIET_MS	5000	/* after a failure: no call so long, */
#define QUIET_MIN_MS	250	/* or a quarter of lock-duration, not less */
#define REFUSED_QUIET_MS 60000	/* one refused stalled check logged in this */

/* A job to give back or fail once Redis answers again. */
struct pending {
	char	*id;			/* its own copy: ids are up to 3 KB */
	char	token[MSG_TOKEN_MAX];
	char	reason[64];		/* "": give back */
};

static struct {
	bullmq_queue	*q;
	int		 ok;		/* Redis answered last time */
	int		 no_unblock;	/* CLIENT UNBLOCK refused (ACL) */
	int64_t		 failed_at;	/* when it last did not */
	int64_t		 refused_at;	/* last refused stalled check logged */
	long		 max_stalled;
	struct pending	*pend;
	size_t		 npend, cap;
	int64_t		 pend_next;
	int64_t		 quiet_ms;	/* no call so long after a failure */
	struct bullmq_counts counts;	/* the queue's, read each second */
	int64_t		 counts_at;	/* monotonic ms; 0: never read */
} K;

/* Note whether Redis answered, logging only the changes. */
static void
status(int ok, const char *what)
{
	if (ok && !K.ok)
		log_info("redis answers again");
	else if (!ok && K.ok)
		log_warnx("%s: %s", what, bullmq_errstr(K.q));
	if (ok != K.ok || !ok)
		metrics_redis(ok);
	K.ok = ok;
	if (!ok)
		K.failed_at = bullmq_now();
}

/*
 * Whether Redis failed to answer less than quiet_ms ago: no call is made
 * then, so that a hung Redis, each call waiting out master-redis-timeout,
 * holds the loop for one call at a time, one every quiet_ms at most.  A
 * quarter of lock-duration when that is shorter: a short time without an
 * answer costs no lock.
 */
static int
quiet(void)
{
	return !K.ok && bullmq_now() - K.failed_at < K.quiet_ms;
}

/* How many ms are left of the quiet time after a failure; 0: none. */
int64_t
keeper_quiet_left(void)
{
	return quiet() ? K.failed_at + K.quiet_ms - bullmq_now() : 0;
}

/* The quiet time after a failure for settings s. */
static int64_t
quiet_for(const struct settings *s)
{
	int64_t	q = s->lock_duration / 4;

	return q > QUIET_MS ? QUIET_MS : q < QUIET_MIN_MS ? QUIET_MIN_MS : q;
}

/*
 * Open the master's connection; -1 when the settings are unusable.  Its
 * calls wait master-redis-timeout at most (not redis-timeout, the
 * children's): the loop that answers the control socket, reaps and obeys
 * signals waits on them.
 */
int
keeper_open(const struct settings *s)
{
	struct bullmq_conn_opts	co;

	memset(&K, 0, sizeof(K));
	K.ok = 1;
	K.max_stalled = s->max_stalled_count;
	K.quiet_ms = quiet_for(s);
	memset(&co, 0, sizeof(co));
	co.url = s->redis;
	co.prefix = s->prefix;
	co.queue = s->queue;
	co.connect_timeout_ms = (int)s->master_redis_timeout;
	co.command_timeout_ms = (int)s->master_redis_timeout;
	if ((K.q = bullmq_queue_new(&co)) == NULL ||
	    bullmq_errcode(K.q) == BULLMQ_ERR_ARG) {
		log_warnx("queue %s: %s", s->queue, K.q != NULL ?
		    bullmq_errstr(K.q) : "out of memory");
		keeper_close();
		return -1;
	}
	/*
	 * Load every script once here, so that no child has to: a child that
	 * finds its script missing uploads it (NOSCRIPT), and a thousand
	 * children doing that at start send Redis the same text a thousand
	 * times.  Nor do the children then touch the scripts' text: those
	 * pages of the binary would be theirs alone, about 30 KB of PSS each.
	 */
	if (bullmq_queue_connect(K.q) == -1)
		status(0, "connect");
	else if (bullmq_scripts_load(K.q) == -1)
		log_warnx("queue %s: loading the scripts: %s", s->queue,
		    bullmq_errstr(K.q));
	return 0;
}

/* Close the connection and forget the pending jobs. */
void
keeper_close(void)
{
	bullmq_queue_free(K.q);
	K.q = NULL;
	while (K.npend > 0)
		free(K.pend[--K.npend].id);
	free(K.pend);
	K.pend = NULL;
	K.npend = K.cap = 0;
}

/* Follow a new max-stalled-count. */
void
keeper_settings(const struct settings *s)
{
	K.max_stalled = s->max_stalled_count;
	K.quiet_ms = quiet_for(s);
	if (K.q != NULL)
		bullmq_set_command_timeout(K.q,
		    (int)s->master_redis_timeout);
}

/* Remember a job to give back (reason NULL) or fail later. */
static void
pending_add(const char *id, const char *token, const char *reason)
{
	struct pending	*p;
	size_t		 ncap;

	if (K.npend >= MAX_PENDING) {
		log_warnx("job %s: too many jobs waiting for redis; left to "
		    "the stalled checker", id);
		return;
	}
	if (K.npend == K.cap) {
		ncap = K.cap == 0 ? 16 : K.cap * 2;
		if ((p = reallocarray(K.pend, ncap, sizeof(*p))) == NULL) {
			log_warnx("job %s: out of memory; left to the stalled "
			    "checker", id);
			return;
		}
		K.pend = p;
		K.cap = ncap;
	}
	p = &K.pend[K.npend];
	if ((p->id = strdup(id)) == NULL) {
		log_warnx("job %s: out of memory; left to the stalled "
		    "checker", id);
		return;
	}
	K.npend++;
	strlcpy(p->token, token, sizeof(p->token));
	strlcpy(p->reason, reason != NULL ? reason : "", sizeof(p->reason));
}

/* Give back a job now; 0, or -1 when Redis did not answer. */
static int
give_back(const char *who, const char *id, const char *token)
{
	int	r;

	r = bullmq_give_back(K.q, id, token, K.max_stalled);
	if (r == -1) {
		status(0, "give back");
		return -1;
	}
	status(1, NULL);
	if (r == 1) {
		log_info("job %s of %s given back", id, who);
		metrics_outcome(MO_GIVEN_BACK, 1);
	}
	else
		log_info("job %s of %s was no longer active", id, who);
	return 0;
}

/* Fail a job now; 0, or -1 when Redis did not answer. */
static int
fail_job(const char *id, const char *token, const char *reason)
{
	int	r;

	r = bullmq_fail_job(K.q, id, token, reason);
	if (r == -1) {
		if (bullmq_errcode(K.q) == BULLMQ_ERR_IO) {
			status(0, "fail job");
			return -1;
		}
		log_warnx("job %s: fail: %s", id, bullmq_errstr(K.q));
		return 0;
	}
	status(1, NULL);
	log_info("job %s %s: %s", id, r == BULLMQ_FAILED ? "failed" :
	    r == BULLMQ_LOST_LOCK ? "was no longer held" : "will be retried",
	    reason);
	return 0;
}

/*
 * Give back the job a child (who) held, as a stall, at once: the child died
 * or its finish failed.  When Redis does not answer it is tried again later.
 */
void
keeper_give_back(const char *who, const char *id, const char *token)
{
	if (quiet()) {
		log_info("job %s of %s: given back once redis answers", id,
		    who);
		pending_add(id, token, NULL);
	} else if (give_back(who, id, token) == -1)
		pending_add(id, token, NULL);
}

/* Fail a job with reason (retried if it has attempts left), now or later. */
void
keeper_fail(const char *id, const char *token, const char *reason)
{
	if (quiet()) {
		log_info("job %s: failed once redis answers", id);
		pending_add(id, token, reason);
	} else if (fail_job(id, token, reason) == -1)
		pending_add(id, token, reason);
}

/* Retry, at most every second, the jobs that waited for Redis. */
void
keeper_retry(int64_t now, int force)
{
	size_t	i = 0;
	int	r;

	if (K.npend == 0 || (!force && (now < K.pend_next || quiet())))
		return;
	K.pend_next = now + PENDING_RETRY;
	while (i < K.npend) {
		if (K.pend[i].reason[0] != '\0')
			r = fail_job(K.pend[i].id, K.pend[i].token,
			    K.pend[i].reason);
		else
			r = give_back("a child", K.pend[i].id,
			    K.pend[i].token);
		if (r == -1)
			return;
		free(K.pend[i].id);
		K.pend[i] = K.pend[--K.npend];
	}
}

/* How many jobs still wait for Redis. */
size_t
keeper_pending(void)
{
	return K.npend;
}

/* Wake a child's connection blocked on the marker (CLIENT UNBLOCK). */
void
keeper_unblock(int64_t client_id)
{
	int	rv;

	if (client_id <= 0 || K.no_unblock)
		return;
	/*
	 * Only a shortcut: the child sees its stop at the end of its block
	 * anyway.  Right after Redis failed to answer, each try could wait
	 * out the command timeout, once for every child stopped together.
	 */
	if (quiet())
		return;
	rv = bullmq_client_unblock(K.q, client_id);
	if (rv == -1 && bullmq_errcode(K.q) == BULLMQ_ERR_REDIS) {
		/* a child ends its wait itself when its lifeline closes */
		log_info("client unblock refused, not asked again: %s",
		    bullmq_errstr(K.q));
		K.no_unblock = 1;
		return;
	}
	if (rv == -1) {
		status(0, "client unblock");
		return;
	}
	status(1, NULL);
}

/*
 * Extend the locks of n jobs in one call; lost(id) is told of each job
 * whose lock was not there to extend.
 */
void
keeper_extend(size_t n, const char *const *ids, const char *const *tokens,
    int64_t duration, void (*lost)(const char *, void *))
{
	if (n == 0)
		return;
	if (bullmq_extend_locks(K.q, n, ids, tokens, duration, lost,
	    NULL) == -1)
		status(0, "extend locks");
	else
		status(1, NULL);
}

/* Note a job the stalled checker moved. */
static void
on_stalled(const char *id, void *arg)
{
	log_info("job %s stalled: recovered", id);
	metrics_outcome(MO_STALLED, 1);
}

/* Run the stalled check for the whole queue. */
void
keeper_stalled(int64_t interval)
{
	long	n;

	n = bullmq_check_stalled(K.q, K.max_stalled, interval, on_stalled,
	    NULL);
	/*
	 * Refused (OOM, READONLY), while the lock extensions, which take no
	 * memory, go through, and checks that find the last one recent need
	 * no write: Redis answers.  Said once a minute, not once a
	 * stalled-interval.
	 */
	if (n == -1 && bullmq_errcode(K.q) == BULLMQ_ERR_REDIS) {
		if (K.refused_at == 0 ||
		    bullmq_now() - K.refused_at >= REFUSED_QUIET_MS) {
			log_warnx("stalled check: %s", bullmq_errstr(K.q));
			K.refused_at = bullmq_now();
		}
		return;
	}
	status(n != -1, "stalled check");
}

/*
 * Read the queue's counts, for the status, the autoscaler and the metrics
 * (never a call per question or scrape), at most once a second; not while
 * Redis is quiet after a failure.
 */
void
keeper_refresh(int64_t now)
{
	struct bullmq_counts	k;

	if (quiet() || (K.counts_at != 0 && now - K.counts_at < 1000))
		return;
	if (bullmq_get_counts(K.q, &k) == -1) {
		/* an error reply (OOM, ACL) is an answer all the same */
		if (bullmq_errcode(K.q) != BULLMQ_ERR_REDIS)
			status(0, "queue counts");
		return;
	}
	status(1, NULL);
	K.counts = k;
	K.counts_at = now;
}

/* The counts last read and when (monotonic ms); -1 when never. */
int
keeper_counts(struct bullmq_counts *k, int64_t *at)
{
	if (K.counts_at == 0)
		return -1;
	*k = K.counts;
	*at = K.counts_at;
	return 0;
}

/* Whether Redis answered the master's last call. */
int
keeper_up(void)
{
	return K.ok;
}
