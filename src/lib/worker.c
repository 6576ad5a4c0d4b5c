/*
 * worker.c: the worker side of a queue: fetch (moveToActive) and the
 * blocking loop on the marker, running a job (defa, maxStartedAttempts,
 * scheduler successors, every and cron), progress and logs.  Finishing a
 * job is in finish.c.
 */
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bullmq-int.h"
#include "worker-int.h"

/* Settings of a failure when no worker is involved (the supervisor). */
const struct bullmq_worker bmq_no_worker = {
	.lock_s = "30000",
};

/* The keys every fetching script starts with, in their order. */
const enum bmq_key bmq_fetch_keys[] = {
	BMQ_K_WAIT, BMQ_K_ACTIVE, BMQ_K_PRIORITIZED, BMQ_K_DELAYED,
	BMQ_K_META, BMQ_K_EVENTS, BMQ_K_MARKER, BMQ_K_LIMITER, BMQ_K_PC
};

/*
 * Add the seven arguments shared by every fetching script: prefix, now,
 * token, lock duration, limiter max and duration, worker name.
 */
void
bmq_args_fetch(struct bmq_args *a, const bullmq_worker *w, const char *now,
    const char *token)
{
	bmq_args_add(a, w->q != NULL ? w->q->keys[BMQ_K_BASE] : "",
	    w->q != NULL ? w->q->keylens[BMQ_K_BASE] : 0);
	bmq_args_adds(a, now);
	bmq_args_adds(a, token);
	bmq_args_adds(a, w->lock_s);
	bmq_args_adds(a, w->limmax_s);
	bmq_args_adds(a, w->limdur_s);
	bmq_args_adds(a, w->name);
}

/* A millisecond time as text. */
void
bmq_fmt_ms(char *buf, size_t size, int64_t v)
{
	char		 tmp[24], *p = tmp + sizeof(tmp);
	uint64_t	 u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	/* once or twice a job: snprintf's cost shows in a child's profile */
	*--p = '\0';
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	strlcpy(buf, p, size);
}

/* Make a fresh lock token: the worker's random base and a counter. */
static void
new_token(bullmq_worker *w, char *buf, size_t size)
{
	snprintf(buf, size, "%s:%llu", w->tokbase, ++w->tokseq);
}

/* Create a worker on the queue's connection, named for getWorkers(). */
bullmq_worker *
bullmq_worker_new(bullmq_queue *q, const struct bullmq_worker_opts *o)
{
	static const struct bullmq_worker_opts	 defaults;
	bullmq_worker				*w;
	unsigned char				 r[16];
	char					 cname[sizeof(q->client_name)];

	if (o == NULL)
		o = &defaults;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
		return NULL;
	}
	w->q = q;
	if (o->name != NULL && strlcpy(w->name, o->name, sizeof(w->name)) >=
	    sizeof(w->name)) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "worker name too long");
		goto fail;
	}
	bmq_fmt_ms(w->lock_s, sizeof(w->lock_s), o->lock_duration > 0 ?
	    o->lock_duration : BMQ_DEFAULT_LOCK);
	w->drain_delay = o->drain_delay > 0 ? o->drain_delay :
	    BMQ_DEFAULT_DRAIN;
	if (o->limiter_max > 0) {
		snprintf(w->limmax_s, sizeof(w->limmax_s), "%ld",
		    o->limiter_max);
		if (o->limiter_duration > 0)
			bmq_fmt_ms(w->limdur_s, sizeof(w->limdur_s),
			    o->limiter_duration);
	}
	w->metrics_max = o->metrics_max_points;
	if (w->metrics_max > 0)
		snprintf(w->metrics_s, sizeof(w->metrics_s), "%ld",
		    w->metrics_max);
	if (o->max_started_attempts < 0) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "max started attempts must not "
		    "be negative");
		goto fail;
	}
	w->max_started = o->max_started_attempts;
	w->keep_complete = o->remove_on_complete;
	w->keep_fail = o->remove_on_fail;
	arc4random_buf(r, sizeof(r));
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	snprintf(w->tokbase, sizeof(w->tokbase), "%02x%02x%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2],
	    r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
	    r[13], r[14], r[15]);
	if (bullmq_worker_client_name(q, w->name, cname, sizeof(cname)) ==
	    -1) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "worker name too long");
		goto fail;
	}
	if (bullmq_set_client_name(q, cname) == -1)
		goto fail;
	return w;
fail:
	free(w);
	return NULL;
}

/* Free a worker (not its queue); NULL is accepted. */
void
bullmq_worker_free(bullmq_worker *w)
{
	if (w == NULL)
		return;
	free(w->lost_skip);
	free(w);
}

/*
 * After a fetching call under token failed: when its reply was lost (the
 * connection broke or no answer came in time), the call may have run and
 * left a job active under token that nobody runs; bullmq_worker_reclaim
 * gives it back.  skip names the job the call was finishing, if any: it
 * is its runner's to give back.  Only the last lost call is kept.
 */
void
bmq_lost_reply(bullmq_worker *w, const char *token, const char *skip)
{
	if (bullmq_errcode(w->q) != BULLMQ_ERR_IO)
		return;
	strlcpy(w->lost, token, sizeof(w->lost));
	free(w->lost_skip);
	w->lost_skip = skip != NULL ? strdup(skip) : NULL;
	if (skip != NULL && w->lost_skip == NULL)
		w->lost[0] = '\0';	/* cannot tell the job apart: leave it */
}

/* Give back what a fetching call that lost its reply left active. */
int
bullmq_worker_reclaim(bullmq_worker *w)
{
	int	n;

	if (w->lost[0] == '\0')
		return 0;
	if ((n = bmq_give_back(w->q, "", w->lost, 0, w->lost_skip)) == -1)
		return -1;
	w->lost[0] = '\0';
	free(w->lost_skip);
	w->lost_skip = NULL;
	return n;
}

/* The value of an integer (or integer text) reply element, else 0. */
static int64_t
reply_int(const redisReply *r)
{
	if (r->type == REDIS_REPLY_INTEGER)
		return r->integer;
	if (r->type == REDIS_REPLY_STRING)
		return strtoll(r->str, NULL, 10);
	return 0;
}

/*
 * Read the hash of a job just fetched whose packed reply did not split
 * into its fields (a field holds a NUL): 0 with *jobp set, or -1.
 */
static int
refetch(bullmq_worker *w, const char *id, size_t len, bullmq_job **jobp)
{
	char	buf[BMQ_MAX_ID];

	*jobp = NULL;
	if (len >= sizeof(buf)) {
		bmq_seterr(w->q, BULLMQ_ERR_PROTOCOL, "fetch: job id %.32s...: "
		    "longer than %d bytes", id, BULLMQ_MAX_ID);
		return -1;
	}
	memcpy(buf, id, len);
	buf[len] = '\0';
	switch (bullmq_get_job(w->q, buf, jobp)) {
	case 1:
		return 0;
	case 0:
		bmq_seterr(w->q, BULLMQ_ERR_PROTOCOL, "fetch: job %s is gone",
		    buf);
		break;
	}
	return -1;
}

/*
 * Make the job a fetching script sent: its id (idlen bytes), its HGETALL
 * of n strings joined with NULs (len bytes in s).  1 with *jobp set, or -1.
 */
static int
take_job(bullmq_worker *w, const char *id, size_t idlen, const char *s,
    size_t len, long long n, const char *token, int64_t now,
    bullmq_job **jobp)
{
	bullmq_job	*j;
	int		 bad;

	j = bmq_job_from_packed(w->q, id, idlen, s, len, n, &bad);
	if (j == NULL && bad && refetch(w, id, idlen, &j) == -1)
		return -1;
	if (j == NULL) {
		bmq_seterr(w->q, BULLMQ_ERR_NOMEM, "out of memory reading job "
		    "%.*s", (int)idlen, id);
		return -1;
	}
	strlcpy(j->token, token, sizeof(j->token));
	j->w = w;
	j->fetched_at = now;
	w->drained = 0;
	w->block_until = 0;
	*jobp = j;
	return 1;
}

/*
 * Take the reply of a fetching script (a job as one string, {hash, id, n,
 * 0}, {0, 0, limit, next} or an integer; see lua/fetch-9.lua): 1 with
 * *jobp set, 0 when no job came, -1 on a bad reply.
 */
int
bmq_take_fetch(bullmq_worker *w, redisReply *r, const char *token, int64_t now,
    bullmq_job **jobp)
{
	int64_t		 v;
	size_t		 idlen, n, tail;

	*jobp = NULL;
	if (r->type == REDIS_REPLY_INTEGER) {
		w->drained = 1;
		w->block_until = 0;
		return 0;
	}
	if (r->type == REDIS_REPLY_STRING) {
		/* "hash\0id\0" and two bytes: n, the id's length */
		n = idlen = tail = 0;
		if (r->len >= 3) {
			n = (unsigned char)r->str[r->len - 2];
			idlen = (unsigned char)r->str[r->len - 1];
			tail = idlen + 3 + (n > 0);
		}
		if (tail == 0 || r->len < tail || r->str[r->len - 3] != '\0' ||
		    (n > 0 && r->str[r->len - tail] != '\0')) {
			bmq_seterr(w->q, BULLMQ_ERR_PROTOCOL, "fetch: job "
			    "reply of %zu bytes does not end in its id",
			    r->len);
			return -1;
		}
		return take_job(w, r->str + r->len - 3 - idlen, idlen, r->str,
		    r->len - tail, n, token, now, jobp);
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 4) {
		bmq_seterr(w->q, BULLMQ_ERR_PROTOCOL, "fetch: reply of type "
		    "%d", r->type);
		return -1;
	}
	if (r->element[0]->type == REDIS_REPLY_STRING) {
		if (r->element[1]->type != REDIS_REPLY_STRING ||
		    r->element[2]->type != REDIS_REPLY_INTEGER) {
			bmq_seterr(w->q, BULLMQ_ERR_PROTOCOL, "fetch: job "
			    "id of type %d", r->element[1]->type);
			return -1;
		}
		return take_job(w, r->element[1]->str, r->element[1]->len,
		    r->element[0]->str, r->element[0]->len,
		    r->element[2]->integer, token, now, jobp);
	}
	if ((v = reply_int(r->element[2])) > 0)
		w->limit_until = now + v;
	w->block_until = reply_int(r->element[3]);
	w->drained = 1;
	return 0;
}

/* Fetch a job without blocking: 1, 0 or -1. */
int
bullmq_worker_try_fetch(bullmq_worker *w, bullmq_job **jobp)
{
	struct bmq_args	 a;
	char		 now_s[NUMLEN], token[BMQ_MAX_TOKEN];
	redisReply	*r;
	int64_t		 now;
	int		 rv;

	*jobp = NULL;
	if (w->lost[0] != '\0' && bullmq_worker_reclaim(w) == -1)
		return -1;
	now = bullmq_now();
	bmq_fmt_ms(now_s, sizeof(now_s), now);
	new_token(w, token, sizeof(token));
	bmq_args_init(&a);
	bmq_args_keys(&a, w->q, bmq_fetch_keys, BMQ_NFETCH_KEYS);
	bmq_args_fetch(&a, w, now_s, token);
	if ((r = bmq_script(w->q, BMQ_LUA_FETCH, &a)) == NULL) {
		bmq_lost_reply(w, token, NULL);
		return -1;
	}
	rv = bmq_take_fetch(w, r, token, now, jobp);
	freeReplyObject(r);
	return rv;
}

/* Sleep ms milliseconds (a signal cuts it short). */
static void
nap(int64_t ms)
{
	struct timespec	ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

/*
 * End a blocking wait on the marker at once, or the next one: the fetch
 * returns 0.  Safe in a signal handler: it shuts the reading side of the
 * blocked connection, which the fetch then drops (no CLIENT UNBLOCK, which
 * an ACL may refuse).
 */
void
bullmq_worker_wake(bullmq_worker *w)
{
	int	fd, saved = errno;

	w->woken = 1;
	if ((fd = w->blocked_fd) > 0)
		(void)shutdown(fd - 1, SHUT_RD);
	errno = saved;
}

#define BLOCK_WOKEN	2	/* block_marker: bullmq_worker_wake */

/*
 * Block on the marker for ms milliseconds.  Returns 1 when woken by a
 * member that is due (or the timeout: time to fetch), 0 when the member
 * names a future time (kept in block_until), BLOCK_WOKEN when
 * bullmq_worker_wake ended it, -1 on error.
 */
static int
block_marker(bullmq_worker *w, int64_t ms)
{
	bullmq_queue	*q = w->q;
	redisReply	*r;
	struct timeval	 tv;
	char		 tmo[NUMLEN];
	double		 score;
	int		 rv;

	if (ms < BMQ_MIN_BLOCK_MS)
		ms = BMQ_MIN_BLOCK_MS;
	if (ms > BMQ_MAX_BLOCK_MS)
		ms = BMQ_MAX_BLOCK_MS;
	snprintf(tmo, sizeof(tmo), "%" PRId64 ".%03" PRId64, ms / 1000,
	    ms % 1000);
	if (q->rc == NULL && bullmq_queue_connect(q) == -1)
		return -1;
	if (q->command_timeout_ms > 0) {
		/* the reply is due when the block ends: the timeout on top */
		tv.tv_sec = (ms + q->command_timeout_ms) / 1000;
		tv.tv_usec = ((ms + q->command_timeout_ms) % 1000) * 1000;
		redisSetTimeout(q->rc, tv);
	}
	w->blocked_fd = q->rc->fd + 1;
	if (w->woken) {
		w->blocked_fd = 0;
		return BLOCK_WOKEN;
	}
	r = bmq_command(q, "BZPOPMIN %b %s", q->keys[BMQ_K_MARKER],
	    q->keylens[BMQ_K_MARKER], tmo);
	w->blocked_fd = 0;
	if (w->woken) {
		/*
		 * The connection may be shut for reading, and the server may
		 * still block it: close it (a marker it popped is lost, as
		 * with any worker that goes away; the others look again).
		 */
		if (r != NULL)
			freeReplyObject(r);
		bmq_drop(q);
		q->err = BULLMQ_OK;
		q->errstr[0] = '\0';
		return BLOCK_WOKEN;
	}
	if (q->command_timeout_ms > 0 && q->rc != NULL) {
		tv.tv_sec = q->command_timeout_ms / 1000;
		tv.tv_usec = (q->command_timeout_ms % 1000) * 1000;
		redisSetTimeout(q->rc, tv);
	}
	if (r == NULL)
		return -1;
	rv = 1;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
	    r->element[2]->type == REDIS_REPLY_STRING) {
		score = strtod(r->element[2]->str, NULL);
		if (score - (double)bullmq_now() >= 1.0) {
			w->block_until = (int64_t)score;
			rv = 0;
		}
	}
	freeReplyObject(r);
	return rv;
}

/*
 * Fetch a job, blocking on the marker as a Node worker does (drain delay,
 * next delayed time, rate limit) for about the drain delay at most.
 */
int
bullmq_worker_fetch(bullmq_worker *w, bullmq_job **jobp)
{
	int64_t	start, now, ms;
	int	fetch_now = 0, waited = 0, rv;

	*jobp = NULL;
	if (w->lost[0] != '\0') {
		if ((rv = bullmq_worker_reclaim(w)) == -1)
			return -1;
		if (rv > 0)
			w->drained = 0;	/* fetch it back at once */
	}
	start = bullmq_now();
	for (;;) {
		if (w->woken) {
			w->woken = 0;
			return 0;
		}
		if (fetch_now) {
			if ((rv = bullmq_worker_try_fetch(w, jobp)) != 0)
				return rv;
			if (waited)
				return 0;
			fetch_now = 0;
			continue;
		}
		now = bullmq_now();
		if (w->limit_until > now) {
			ms = w->limit_until - now;
			nap(ms < w->drain_delay ? ms : w->drain_delay);
			waited = fetch_now = 1;
			continue;
		}
		if (!w->drained) {
			fetch_now = 1;
			continue;
		}
		if (waited && now - start >= w->drain_delay)
			return 0;
		if (w->block_until > 0 && w->block_until <= now) {
			waited = fetch_now = 1;
			continue;
		}
		ms = w->block_until > 0 ? w->block_until - now :
		    w->drain_delay;
		if ((rv = block_marker(w, ms)) == -1)
			return -1;
		if (rv == BLOCK_WOKEN)
			continue;
		waited = 1;
		if (rv == 1)
			fetch_now = 1;
	}
}

/*
 * The next time of a cron "pattern" scheduler as a Node worker computes it
 * from the fetched job's opts: after max(now, prevMillis), not before
 * repeat.startDate, in repeat.tz.  Returns 1 with *next, 0 when there is
 * no next iteration (limit or end date), -1 on error.
 */
static int
pattern_next(bullmq_queue *q, const bullmq_job *j, int64_t now,
    int64_t *next)
{
	const struct bmq_job_opts	*o = &j->o;
	char				 pat[1025], tz[128], seed[256], err[256];
	int64_t				 end, from;

	if (bmq_jval_string(&o->repeat_pattern, pat, sizeof(pat)) <= 0)
		return 0;
	tz[0] = '\0';
	if (o->repeat_tz.type == BMQ_J_STRING &&
	    bmq_jval_string(&o->repeat_tz, tz, sizeof(tz)) == -1) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "job %s: repeat.tz too long",
		    j->id);
		return -1;
	}
	seed[0] = '\0';
	if (o->repeat_seed.type == BMQ_J_STRING &&
	    bmq_jval_string(&o->repeat_seed, seed, sizeof(seed)) == -1) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "job %s: repeat.hashSeed too "
		    "long", j->id);
		return -1;
	}
	end = o->repeat_end;
	if ((o->repeat_limit >= 0 && o->repeat_count + 1 > o->repeat_limit) ||
	    (end > 0 && now > end))
		return 0;
	from = o->prev_millis > now ? o->prev_millis : now;
	if (bullmq_cron_next(pat, tz, seed, o->repeat_start > from ?
	    o->repeat_start : from, next, err, sizeof(err)) == -1) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "job %s: %s", j->id, err);
		return -1;
	}
	if (end > 0 && *next > end)
		return 0;
	if (*next < from)
		*next = from;
	return 1;
}

/*
 * Create the next iteration of the job's scheduler ("every", or a cron
 * pattern whose next time is computed here) if the job is its current
 * iteration.  Errors do not stop the job, as in a Node worker: they are
 * counted and kept for bullmq_worker_sched_error().
 */
static void	sched_error(bullmq_worker *, const char *, size_t);

static void
schedule_next(bullmq_worker *w, bullmq_job *j, const char *rjk, size_t len)
{
	static const enum bmq_key keys[] = {
		BMQ_K_REPEAT, BMQ_K_DELAYED, BMQ_K_WAIT, BMQ_K_META,
		BMQ_K_PRIORITIZED, BMQ_K_MARKER, BMQ_K_ID, BMQ_K_EVENTS,
		BMQ_K_PC, BMQ_K_ACTIVE
	};
	struct bmq_args	 a;
	char		 now_s[NUMLEN], next_s[NUMLEN];
	redisReply	*r;
	int64_t		 now, next;
	int		 pn;

	now = bullmq_now();
	bmq_fmt_ms(now_s, sizeof(now_s), now);
	next_s[0] = '\0';
	if ((pn = pattern_next(w->q, j, now, &next)) == -1) {
		sched_error(w, rjk, len);
		return;
	}
	if (pn == 1)
		bmq_fmt_ms(next_s, sizeof(next_s), next);
	bmq_args_init(&a);
	bmq_args_keys(&a, w->q, keys, (int)(sizeof(keys) / sizeof(keys[0])));
	bmq_args_key(&a, w->q, BMQ_K_BASE);
	bmq_args_add(&a, rjk, len);
	bmq_args_adds(&a, j->id);
	bmq_args_adds(&a, now_s);
	bmq_args_adds(&a, next_s);
	if ((r = bmq_script(w->q, BMQ_LUA_SCHEDULE, &a)) == NULL)
		return;
	if (r->type == REDIS_REPLY_INTEGER && r->integer == -1 && pn == 0)
		bmq_seterr(w->q, BULLMQ_ERR_ARG, "job %s: scheduler %.*s "
		    "has a cron pattern the job's opts do not carry, or its "
		    "limit or end date is reached: no next iteration", j->id,
		    (int)len, rjk);
	freeReplyObject(r);
}

/* Count a successor not made, keeping the handle's message for the caller. */
static void
sched_error(bullmq_worker *w, const char *rjk, size_t len)
{
	w->sched_errors++;
	snprintf(w->sched_err, sizeof(w->sched_err), "scheduler %.*s: no "
	    "next iteration: %s", (int)(len > 512 ? 512 : len), rjk,
	    bullmq_errstr(w->q));
}

/*
 * The message of a scheduler whose next iteration could not be made since
 * the last call (NULL: none), and the count of such errors in *count.
 */
const char *
bullmq_worker_sched_error(bullmq_worker *w, unsigned long *count)
{
	static char	msg[BMQ_MAX_ERR];

	if (count != NULL)
		*count = w->sched_errors;
	if (w->sched_err[0] == '\0')
		return NULL;
	strlcpy(msg, w->sched_err, sizeof(msg));
	w->sched_err[0] = '\0';
	return msg;
}

/*
 * The processor moved job j itself (bullmq_job_move_to_*): leave it where
 * it went and, unless the queue is rate limited, fetch the next job, as a
 * Node worker does after DelayedError, WaitingError, WaitingChildrenError
 * or RateLimitError.  A failed fetch leaves *next NULL: the next fetch
 * reports it.
 */
static int
moved_on(bullmq_worker *w, bullmq_job *j, enum bullmq_outcome *outcome,
    bullmq_job **next)
{
	if (outcome != NULL)
		*outcome = BULLMQ_MOVED;
	bullmq_job_free(j);
	if (next == NULL)
		return 0;
	*next = NULL;
	if (w->limit_until > bullmq_now())
		return 0;
	if (bullmq_worker_try_fetch(w, next) == -1)
		*next = NULL;
	return 0;
}

/*
 * Run fn on a fetched job and finish it: a scheduler iteration first
 * creates its successor, a job carrying "defa" or started more than
 * max_started_attempts times is failed unrecoverably without running,
 * data that is not valid JSON fails the job, and an id whose hash is gone
 * is dropped from active.
 */
int
bullmq_worker_run(bullmq_worker *w, bullmq_job *j, bullmq_process_fn fn,
    enum bullmq_outcome *outcome, bullmq_job **next)
{
	const char	*s;
	char		 msg[160];
	size_t		 len, i;
	int		 rc;

	/* an id whose hash was gone (only the fetch's stub): drop it */
	if (bullmq_job_field(j, "name", NULL) == NULL &&
	    bullmq_job_field(j, "data", NULL) == NULL &&
	    bullmq_job_field(j, "opts", NULL) == NULL &&
	    bullmq_job_field(j, "timestamp", NULL) == NULL)
		return bullmq_worker_finish(w, j, 0, outcome, next);
	/* as a Node worker: the successor first, then the unrecoverable */
	if ((s = bullmq_job_field(j, "rjk", &len)) != NULL && len > 0)
		schedule_next(w, j, s, len);
	s = bullmq_job_field(j, "defa", NULL);
	if (s == NULL && w->max_started > 0 &&
	    w->max_started < bmq_job_long(j, "ats", 0))
		s = "job started more than allowable limit";
	if (s != NULL) {
		if (bullmq_job_error(j, s, 1) == -1)
			goto oom;
		return bullmq_worker_finish(w, j, 1, outcome, next);
	}
	if ((s = bullmq_job_data(j, &len)) != NULL && !bmq_json_valid(s, len)) {
		rc = snprintf(msg, sizeof(msg), "job data is not valid JSON: ");
		for (i = 0; i < len && i < 40 && (size_t)rc + 5 < sizeof(msg);
		    i++)
			msg[rc++] = (unsigned char)s[i] >= 0x20 &&
			    (unsigned char)s[i] < 0x7f ? s[i] : '?';
		if (i < len) {
			msg[rc++] = '.';
			msg[rc++] = '.';
			msg[rc++] = '.';
		}
		msg[rc] = '\0';
		if (bullmq_job_error(j, msg, 1) == -1)
			goto oom;
		return bullmq_worker_finish(w, j, 1, outcome, next);
	}
	rc = fn(j);
	if (w->no_next && next != NULL) {
		*next = NULL;
		next = NULL;
	}
	if (j->moved)
		return moved_on(w, j, outcome, next);
	return bullmq_worker_finish(w, j, rc != 0, outcome, next);
oom:
	bmq_seterr(w->q, BULLMQ_ERR_NOMEM, "out of memory");
	if (next != NULL)
		*next = NULL;
	bullmq_job_free(j);
	return -1;
}

/* Set the worker's custom backoff strategy (NULL: retry such jobs at once). */
void
bullmq_worker_set_backoff(bullmq_worker *w, bullmq_backoff_fn fn, void *arg)
{
	w->backoff_fn = fn;
	w->backoff_arg = arg;
}

/* While on is set, bullmq_worker_run fetches no next job (shutting down). */
void
bullmq_worker_no_next(bullmq_worker *w, int on)
{
	w->no_next = on;
}

/* Report a job's progress (JSON) while it runs. */
int
bullmq_job_progress(bullmq_job *j, const char *json)
{
	bullmq_queue	*q = j->q;
	struct bmq_args	 a;
	char		 key[BMQ_MAX_BASE + BMQ_MAX_ID + 8];
	long long	 v;
	int		 kl;

	if (json == NULL || !bmq_json_valid(json, strlen(json))) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "job %s: progress is not valid "
		    "JSON", j->id);
		return -1;
	}
	if ((kl = bmq_job_key(q, j->id, key, sizeof(key))) == -1) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "job %.32s...: id longer than %d "
		    "bytes", j->id, BULLMQ_MAX_ID);
		return -1;
	}
	bmq_args_init(&a);
	bmq_args_add(&a, key, (size_t)kl);
	bmq_args_key(&a, q, BMQ_K_EVENTS);
	bmq_args_key(&a, q, BMQ_K_META);
	bmq_args_adds(&a, j->id);
	bmq_args_adds(&a, json);
	return bmq_script_int(q, bmq_script(q, BMQ_LUA_PROGRESS, &a), &v);
}

/* Add a line to a job's log, keeping opts.kl lines if set. */
int
bullmq_job_log(bullmq_job *j, const char *line)
{
	bullmq_queue	*q = j->q;
	struct bmq_args	 a;
	char		 key[BMQ_MAX_BASE + BMQ_MAX_ID + 8];
	char		 logs[BMQ_MAX_BASE + BMQ_MAX_ID + 16];
	char		 keep[NUMLEN];
	long long	 v;
	int		 n;

	if (line == NULL)
		line = "";
	if (bmq_job_key(q, j->id, key, sizeof(key)) == -1 ||
	    (n = snprintf(logs, sizeof(logs), "%s:logs", key)) < 0 ||
	    (size_t)n >= sizeof(logs)) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "job %.32s...: id longer than %d "
		    "bytes", j->id, BULLMQ_MAX_ID);
		return -1;
	}
	keep[0] = '\0';
	/* as Node gives it: negative and fractional counts too */
	if (j->o.keep_logs != 0)
		bmq_fmt_jsnum(keep, sizeof(keep), j->o.keep_logs);
	bmq_args_init(&a);
	bmq_args_adds(&a, key);
	bmq_args_add(&a, logs, (size_t)n);
	bmq_args_adds(&a, line);
	bmq_args_adds(&a, keep);
	if (bmq_script_int(q, bmq_script(q, BMQ_LUA_LOG, &a), &v) == -1)
		return -1;
	/* a negative answer: the job is gone, or kl is negative (as Node) */
	if (v < 0) {
		bmq_seterr(q, BULLMQ_ERR_JOB, "job %s: log refused: the job "
		    "does not exist or its keepLogs is negative", j->id);
		return -1;
	}
	return 0;
}

