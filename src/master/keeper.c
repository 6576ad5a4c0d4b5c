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
#define UNBLOCK_QUIET_MS 5000	/* no CLIENT UNBLOCK this long after a failure */

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
	long		 max_stalled;
	struct pending	*pend;
	size_t		 npend, cap;
	int64_t		 pend_next;
} K;

/* Note whether Redis answered, logging only the changes. */
static void
status(int ok, const char *what)
{
	if (ok && !K.ok)
		log_info("redis answers again");
	else if (!ok && K.ok)
		log_warnx("%s: %s", what, bullmq_errstr(K.q));
	K.ok = ok;
	if (!ok)
		K.failed_at = bullmq_now();
}

/* Open the master's connection; -1 when the settings are unusable. */
int
keeper_open(const struct settings *s)
{
	struct bullmq_conn_opts	co;

	memset(&K, 0, sizeof(K));
	K.ok = 1;
	K.max_stalled = s->max_stalled_count;
	memset(&co, 0, sizeof(co));
	co.url = s->redis;
	co.prefix = s->prefix;
	co.queue = s->queue;
	co.connect_timeout_ms = 2000;
	co.command_timeout_ms = (int)s->redis_timeout;
	co.tls = daemon_tls;
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
	if (K.q != NULL)
		bullmq_set_command_timeout(K.q, (int)s->redis_timeout);
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
	if (r == 1)
		log_info("job %s of %s given back", id, who);
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
	if (give_back(who, id, token) == -1)
		pending_add(id, token, NULL);
}

/* Fail a job with reason (retried if it has attempts left), now or later. */
void
keeper_fail(const char *id, const char *token, const char *reason)
{
	if (fail_job(id, token, reason) == -1)
		pending_add(id, token, reason);
}

/* Retry, at most every second, the jobs that waited for Redis. */
void
keeper_retry(int64_t now, int force)
{
	size_t	i = 0;
	int	r;

	if (K.npend == 0 || (!force && now < K.pend_next))
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
	if (!K.ok && bullmq_now() - K.failed_at < UNBLOCK_QUIET_MS)
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

/* Note a job whose lock was lost: another worker may run it again. */
static void
on_lost(const char *id, void *arg)
{
	log_warnx("job %s lost its lock", id);
}

/* Extend the locks of n jobs in one call. */
void
keeper_extend(size_t n, const char *const *ids, const char *const *tokens,
    int64_t duration)
{
	if (n == 0)
		return;
	if (bullmq_extend_locks(K.q, n, ids, tokens, duration, on_lost,
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
}

/* Run the stalled check for the whole queue. */
void
keeper_stalled(int64_t interval)
{
	long	n;

	n = bullmq_check_stalled(K.q, K.max_stalled, interval, on_stalled,
	    NULL);
	status(n != -1, "stalled check");
}
