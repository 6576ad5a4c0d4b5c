/*
 * worker.c: the worker side of a queue: fetch (moveToActive), finish
 * (moveToFinished with fetch-next), failure handling with attempts and
 * backoff, defa, scheduler successors, progress and logs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bullmq-int.h"

#define NUMLEN		24
#define MAX_ARGS	40

struct bullmq_worker {
	bullmq_queue		*q;
	char			 name[BMQ_MAX_NAME];
	int64_t			 drain_delay;
	long			 metrics_max;
	struct bullmq_keep	 keep_complete;
	struct bullmq_keep	 keep_fail;
	char			 lock_s[NUMLEN];	/* lock duration */
	char			 limmax_s[NUMLEN];	/* "" no limiter */
	char			 limdur_s[NUMLEN];
	char			 metrics_s[NUMLEN];	/* "" metrics off */
	char			 tokbase[40];
	unsigned long long	 tokseq;
	int			 drained;
	int64_t			 block_until;	/* next delayed job, ms */
	int64_t			 limit_until;	/* rate limited until, ms */
	int			 no_next;	/* run: fetch no next job */
};

/* Settings of a failure when no worker is involved (the supervisor). */
static const struct bullmq_worker no_worker = {
	.lock_s = "30000",
};

/* The keys every fetching script starts with, in their order. */
static const enum bmq_key fetch_keys[] = {
	BMQ_K_WAIT, BMQ_K_ACTIVE, BMQ_K_PRIORITIZED, BMQ_K_DELAYED,
	BMQ_K_META, BMQ_K_EVENTS, BMQ_K_MARKER, BMQ_K_LIMITER, BMQ_K_PC
};
#define NFETCH_KEYS	(int)(sizeof(fetch_keys) / sizeof(fetch_keys[0]))

/* Put queue keys ks[0..n) at av[at..]; returns the next index. */
static int
put_keys(const bullmq_queue *q, const char **av, size_t *al, int at,
    const enum bmq_key *ks, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		av[at + i] = q->keys[ks[i]];
		al[at + i] = q->keylens[ks[i]];
	}
	return at + n;
}

/* Put one argument; returns the next index. */
static int
put(const char **av, size_t *al, int at, const char *s, size_t len)
{
	av[at] = s;
	al[at] = len;
	return at + 1;
}

/* Put a NUL-terminated argument; returns the next index. */
static int
puts0(const char **av, size_t *al, int at, const char *s)
{
	return put(av, al, at, s, strlen(s));
}

/*
 * Put the seven arguments shared by every fetching script: prefix, now,
 * token, lock duration, limiter max and duration, worker name.
 */
static int
put_fetch_args(const bullmq_worker *w, const char *now, const char *token,
    const char **av, size_t *al, int at)
{
	at = put(av, al, at, w->q != NULL ? w->q->keys[BMQ_K_BASE] : "",
	    w->q != NULL ? w->q->keylens[BMQ_K_BASE] : 0);
	at = puts0(av, al, at, now);
	at = puts0(av, al, at, token);
	at = puts0(av, al, at, w->lock_s);
	at = puts0(av, al, at, w->limmax_s);
	at = puts0(av, al, at, w->limdur_s);
	return puts0(av, al, at, w->name);
}

/* A millisecond time as text. */
static void
fmt_ms(char *buf, size_t size, int64_t v)
{
	snprintf(buf, size, "%" PRId64, v);
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
	fmt_ms(w->lock_s, sizeof(w->lock_s), o->lock_duration > 0 ?
	    o->lock_duration : BMQ_DEFAULT_LOCK);
	w->drain_delay = o->drain_delay > 0 ? o->drain_delay :
	    BMQ_DEFAULT_DRAIN;
	if (o->limiter_max > 0) {
		snprintf(w->limmax_s, sizeof(w->limmax_s), "%ld",
		    o->limiter_max);
		if (o->limiter_duration > 0)
			fmt_ms(w->limdur_s, sizeof(w->limdur_s),
			    o->limiter_duration);
	}
	w->metrics_max = o->metrics_max_points;
	if (w->metrics_max > 0)
		snprintf(w->metrics_s, sizeof(w->metrics_s), "%ld",
		    w->metrics_max);
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
	free(w);
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
 * Take the reply of a fetching script ({hash, id, limit, next} or an
 * integer): 1 with *jobp set, 0 when no job came, -1 on a bad reply.
 */
static int
take_fetch(bullmq_worker *w, redisReply *r, const char *token, int64_t now,
    bullmq_job **jobp)
{
	bullmq_job	*j;
	int64_t		 v;

	*jobp = NULL;
	if (r->type == REDIS_REPLY_INTEGER) {
		w->drained = 1;
		w->block_until = 0;
		return 0;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 4) {
		bmq_seterr(w->q, BULLMQ_ERR_PROTOCOL, "fetch: reply of type "
		    "%d", r->type);
		return -1;
	}
	if (r->element[0]->type == REDIS_REPLY_ARRAY) {
		if (r->element[1]->type != REDIS_REPLY_STRING) {
			bmq_seterr(w->q, BULLMQ_ERR_PROTOCOL, "fetch: job "
			    "id of type %d", r->element[1]->type);
			return -1;
		}
		j = bmq_job_from_hash(w->q, r->element[1]->str,
		    r->element[1]->len, r->element[0]);
		if (j == NULL) {
			bmq_seterr(w->q, BULLMQ_ERR_NOMEM, "out of memory "
			    "reading job %.*s", (int)r->element[1]->len,
			    r->element[1]->str);
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
	const char	*av[MAX_ARGS];
	size_t		 al[MAX_ARGS];
	char		 now_s[NUMLEN], token[BMQ_MAX_TOKEN];
	redisReply	*r;
	int64_t		 now;
	int		 n, rv;

	*jobp = NULL;
	now = bullmq_now();
	fmt_ms(now_s, sizeof(now_s), now);
	new_token(w, token, sizeof(token));
	n = put_keys(w->q, av, al, 0, fetch_keys, NFETCH_KEYS);
	n = put_fetch_args(w, now_s, token, av, al, n);
	if ((r = bmq_script(w->q, BMQ_LUA_FETCH, n, av, al)) == NULL)
		return -1;
	rv = take_fetch(w, r, token, now, jobp);
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
 * Block on the marker for ms milliseconds.  Returns 1 when woken by a
 * member that is due (or the timeout: time to fetch), 0 when the member
 * names a future time (kept in block_until), -1 on error.
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
		/* the command timeout must outlast the block */
		tv.tv_sec = (ms + 2000) / 1000;
		tv.tv_usec = ((ms + 2000) % 1000) * 1000;
		redisSetTimeout(q->rc, tv);
	}
	r = bmq_command(q, "BZPOPMIN %b %s", q->keys[BMQ_K_MARKER],
	    q->keylens[BMQ_K_MARKER], tmo);
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
	start = bullmq_now();
	for (;;) {
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
		waited = 1;
		if (rv == 1)
			fetch_now = 1;
	}
}

/* Fill a keep mode's three script arguments. */
static void
keep_args(const struct bullmq_keep *k, char *count, char *age, char *limit)
{
	snprintf(count, NUMLEN, "-1");
	age[0] = '\0';
	snprintf(limit, NUMLEN, "%ld", k->limit > 0 ? k->limit : 1000);
	switch (k->mode) {
	case BULLMQ_KEEP_NONE:
		snprintf(count, NUMLEN, "0");
		break;
	case BULLMQ_KEEP_COUNT:
		snprintf(count, NUMLEN, "%ld", k->count > 0 ? k->count : 0);
		break;
	case BULLMQ_KEEP_AGE:
		if (k->count > 0)
			snprintf(count, NUMLEN, "%ld", k->count);
		snprintf(age, NUMLEN, "%ld", k->age);
		break;
	default:
		break;
	}
}

/* The retention for a target: the job's option, else the worker's. */
static void
keep_for(const bullmq_worker *w, const bullmq_job *j, int failed,
    struct bullmq_keep *k)
{
	const char	*o;
	size_t		 len;

	o = bullmq_job_opts(j, &len);
	bmq_keep_from_opts(o, len, failed ? "removeOnFail" :
	    "removeOnComplete", k);
	if (k->mode == BULLMQ_KEEP_UNSET)
		*k = failed ? w->keep_fail : w->keep_complete;
}

/*
 * Append the top-level elements of a JSON array from index skip to b, each
 * after a comma when b already holds one.  Returns the number of elements.
 */
static size_t
array_elems(const char *s, size_t n, size_t skip, struct bmq_buf *b)
{
	size_t	i, start = 0, end, count = 0;
	int	depth = 0, instr = 0, esc = 0, have = 0, close;
	char	c;

	for (i = 0; i < n; i++) {
		c = s[i];
		if (instr) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				instr = 0;
			continue;
		}
		close = 0;
		switch (c) {
		case ' ': case '\t': case '\n': case '\r':
			continue;
		case ']': case '}':
			if (--depth == 0)
				close = 1;
			break;
		case ',':
			if (depth == 1)
				close = 1;
			break;
		default:
			if (depth == 1 && !have) {
				have = 1;
				start = i;
			}
			if (c == '"')
				instr = 1;
			else if (c == '[' || c == '{')
				depth++;
			break;
		}
		if (close && have) {
			end = i;
			while (end > start && (s[end - 1] == ' ' ||
			    s[end - 1] == '\t' || s[end - 1] == '\n' ||
			    s[end - 1] == '\r'))
				end--;
			if (b != NULL && count >= skip) {
				if (b->len > 1)
					bmq_buf_add(b, ",", 1);
				bmq_buf_add(b, s + start, end - start);
			}
			count++;
			have = 0;
		}
	}
	return count;
}

/*
 * The job's stacktrace array with one entry more for this failure, cut to
 * opts.stackTraceLimit (0 keeps none), as JSON in b.
 */
static void
stacktrace_json(const bullmq_job *j, const char *reason, struct bmq_buf *b)
{
	struct bmq_jval	 v;
	const char	*old, *o;
	size_t		 oldlen, olen, n, skip = 0;
	int64_t		 limit = -1;
	struct bmq_buf	 entry;

	o = bullmq_job_opts(j, &olen);
	if (o != NULL && bmq_json_get(o, olen, "stackTraceLimit", &v) == 1 &&
	    bmq_jval_int(&v, &limit) == -1)
		limit = -1;
	bmq_buf_adds(b, "[");
	if (limit == 0) {
		bmq_buf_adds(b, "]");
		return;
	}
	old = bullmq_job_field(j, "stacktrace", &oldlen);
	if (old == NULL || oldlen == 0 || old[0] != '[' ||
	    !bmq_json_valid(old, oldlen))
		old = NULL;
	n = old != NULL ? array_elems(old, oldlen, 0, NULL) : 0;
	if (limit > 0 && (int64_t)n + 1 > limit)
		skip = n + 1 - (size_t)limit;
	if (old != NULL)
		array_elems(old, oldlen, skip, b);
	bmq_buf_init(&entry);
	bmq_buf_addf(&entry, "%s: %s", j->unrecoverable ?
	    "UnrecoverableError" : "Error", reason);
	if (b->len > 1)
		bmq_buf_add(b, ",", 1);
	bmq_buf_add_jstr(b, entry.b != NULL ? entry.b : "", entry.len);
	bmq_buf_free(&entry);
	bmq_buf_adds(b, "]");
}

/*
 * The retry delay from opts.backoff for retry number n, or 0.  A custom
 * backoff type (a Node-side strategy) retries at once.
 */
static int64_t
backoff_for(const bullmq_job *j, long n)
{
	struct bmq_jval		 v;
	const char		*o;
	size_t			 len;
	enum bullmq_backoff_type type = BULLMQ_BACKOFF_NONE;
	int64_t			 delay = 0;
	double			 jitter = 0, r;

	if ((o = bullmq_job_opts(j, &len)) == NULL ||
	    bmq_json_get(o, len, "backoff", &v) != 1)
		return 0;
	if (v.type == BMQ_J_NUMBER) {
		type = BULLMQ_BACKOFF_FIXED;
		if (bmq_jval_int(&v, &delay) == -1)
			return 0;
	} else if (v.type == BMQ_J_OBJECT) {
		if (bmq_json_get(o, len, "backoff.type", &v) == 1 &&
		    v.type == BMQ_J_STRING) {
			if (v.len == 5 && memcmp(v.p, "fixed", 5) == 0)
				type = BULLMQ_BACKOFF_FIXED;
			else if (v.len == 11 &&
			    memcmp(v.p, "exponential", 11) == 0)
				type = BULLMQ_BACKOFF_EXPONENTIAL;
		}
		if (bmq_json_get(o, len, "backoff.delay", &v) != 1 ||
		    bmq_jval_int(&v, &delay) == -1)
			delay = 0;
		if (bmq_json_get(o, len, "backoff.jitter", &v) != 1 ||
		    bmq_jval_double(&v, &jitter) == -1)
			jitter = 0;
	}
	if (type == BULLMQ_BACKOFF_NONE || delay <= 0)
		return 0;
	r = (double)arc4random() / 4294967296.0;
	return bmq_backoff_delay(type, delay, jitter, n, r);
}

/* Record a script's refusal code in the handle. */
static void
refused(bullmq_queue *q, long long code, const char *id, const char *what)
{
	q->script_code = (int)code;
	bmq_seterr(q, BULLMQ_ERR_JOB, "%s job %s: %s", what, id,
	    code == -1 ? "job does not exist" : code == -2 ?
	    "lock does not exist" : code == -3 ? "job is not active" :
	    code == -6 ? "lock is held by another worker" : "refused");
}

/*
 * Read the reply of finish or delay: the next job (when asked), or an
 * integer.  Returns 0 with *code set (0 or a negative refusal), or -1.
 */
static int
take_finish(bullmq_worker *w, redisReply *r, const char *token, int64_t now,
    bullmq_job **next, long long *code)
{
	bullmq_job	*j = NULL;
	int		 rv = 0;

	*code = 0;
	if (r->type == REDIS_REPLY_INTEGER) {
		*code = r->integer;
		if (*code == 0 && w->q != NULL) {
			w->drained = 1;
			w->block_until = 0;
		}
	} else if (r->type == REDIS_REPLY_ARRAY && w->q != NULL) {
		rv = take_fetch(w, r, token, now, &j);
		if (rv == 1) {
			if (next != NULL)
				*next = j;
			else
				bullmq_job_free(j);	/* not reached */
			rv = 0;
		}
	} else {
		bmq_seterr(w->q, BULLMQ_ERR_PROTOCOL, "finish: reply of "
		    "type %d", r->type);
		rv = -1;
	}
	freeReplyObject(r);
	return rv;
}

/*
 * Move the job to completed or failed (finish-12.lua).  Returns 0 with
 * *code set, or -1.
 */
static int
finish_call(bullmq_queue *q, bullmq_worker *w, bullmq_job *j, int failed,
    const char *value, size_t vlen, const char *stack, size_t stacklen,
    bullmq_job **next, long long *code)
{
	const bullmq_worker	*ws = w != NULL ? w : &no_worker;
	struct bullmq_worker	 tmp;
	const char		*av[MAX_ARGS];
	size_t			 al[MAX_ARGS];
	char			 now_s[NUMLEN], att[NUMLEN], kc[NUMLEN];
	char			 ka[NUMLEN], kl[NUMLEN], token[BMQ_MAX_TOKEN];
	struct bullmq_keep	 keep;
	redisReply		*r;
	int64_t			 now;
	int			 n;

	if (w == NULL) {
		tmp = no_worker;
		tmp.q = q;
		ws = &tmp;
	}
	strlcpy(token, j->token[0] != '\0' ? j->token : "0", sizeof(token));
	now = bullmq_now();
	fmt_ms(now_s, sizeof(now_s), now);
	/* attempts only matter for retries-exhausted */
	snprintf(att, sizeof(att), "%ld", failed ? bullmq_job_attempts(j) :
	    0);
	keep_for(ws, j, failed, &keep);
	keep_args(&keep, kc, ka, kl);
	n = put_keys(q, av, al, 0, fetch_keys, NFETCH_KEYS);
	n = put(av, al, n, q->keys[BMQ_K_STALLED], q->keylens[BMQ_K_STALLED]);
	if (failed) {
		n = put(av, al, n, q->keys[BMQ_K_FAILED],
		    q->keylens[BMQ_K_FAILED]);
		n = put(av, al, n, q->keys[BMQ_K_METRICS_FAILED],
		    q->keylens[BMQ_K_METRICS_FAILED]);
	} else {
		n = put(av, al, n, q->keys[BMQ_K_COMPLETED],
		    q->keylens[BMQ_K_COMPLETED]);
		n = put(av, al, n, q->keys[BMQ_K_METRICS_COMPLETED],
		    q->keylens[BMQ_K_METRICS_COMPLETED]);
	}
	n = put_fetch_args(ws, now_s, token, av, al, n);
	n = puts0(av, al, n, j->id);
	n = puts0(av, al, n, failed ? "failed" : "completed");
	n = put(av, al, n, value, vlen);
	n = puts0(av, al, n, att);
	n = puts0(av, al, n, kc);
	n = puts0(av, al, n, ka);
	n = puts0(av, al, n, kl);
	n = puts0(av, al, n, ws->metrics_s);
	n = puts0(av, al, n, w != NULL && next != NULL ? "1" : "0");
	n = put(av, al, n, stack != NULL ? stack : "", stacklen);
	if ((r = bmq_script(q, BMQ_LUA_FINISH, n, av, al)) == NULL)
		return -1;
	return take_finish(w != NULL ? w : &tmp, r, token, now, next, code);
}

/* Retry with a delay (delay-10.lua); 0 with *code set, or -1. */
static int
delay_call(bullmq_queue *q, bullmq_worker *w, bullmq_job *j, int64_t delay,
    const char *reason, const char *stack, size_t stacklen,
    bullmq_job **next, long long *code)
{
	struct bullmq_worker	 tmp;
	const bullmq_worker	*ws = w;
	const char		*av[MAX_ARGS];
	size_t			 al[MAX_ARGS];
	char			 now_s[NUMLEN], d[NUMLEN];
	char			 token[BMQ_MAX_TOKEN];
	redisReply		*r;
	int64_t			 now;
	int			 n;

	if (w == NULL) {
		tmp = no_worker;
		tmp.q = q;
		ws = &tmp;
	}
	strlcpy(token, j->token[0] != '\0' ? j->token : "0", sizeof(token));
	now = bullmq_now();
	fmt_ms(now_s, sizeof(now_s), now);
	fmt_ms(d, sizeof(d), delay);
	n = put_keys(q, av, al, 0, fetch_keys, NFETCH_KEYS);
	n = put(av, al, n, q->keys[BMQ_K_STALLED], q->keylens[BMQ_K_STALLED]);
	n = put_fetch_args(ws, now_s, token, av, al, n);
	n = puts0(av, al, n, j->id);
	n = puts0(av, al, n, d);
	n = puts0(av, al, n, reason);
	n = put(av, al, n, stack, stacklen);
	n = puts0(av, al, n, w != NULL && next != NULL ? "1" : "0");
	if ((r = bmq_script(q, BMQ_LUA_DELAY, n, av, al)) == NULL)
		return -1;
	return take_finish(w != NULL ? w : &tmp, r, token, now, next, code);
}

/* Retry at once (retry-9.lua); 0 with *code set, or -1. */
static int
retry_call(bullmq_queue *q, bullmq_job *j, const char *reason,
    const char *stack, size_t stacklen, long long *code)
{
	static const enum bmq_key keys[] = {
		BMQ_K_WAIT, BMQ_K_ACTIVE, BMQ_K_PRIORITIZED, BMQ_K_DELAYED,
		BMQ_K_META, BMQ_K_EVENTS, BMQ_K_MARKER, BMQ_K_PC,
		BMQ_K_STALLED
	};
	struct bmq_jval	 v;
	const char	*av[MAX_ARGS], *o;
	size_t		 al[MAX_ARGS], olen;
	char		 now_s[NUMLEN];
	int		 n, lifo = 0;

	o = bullmq_job_opts(j, &olen);
	if (o != NULL && bmq_json_get(o, olen, "lifo", &v) == 1 &&
	    v.type == BMQ_J_TRUE)
		lifo = 1;
	fmt_ms(now_s, sizeof(now_s), bullmq_now());
	n = put_keys(q, av, al, 0, keys, (int)(sizeof(keys) / sizeof(keys[0])));
	n = put(av, al, n, q->keys[BMQ_K_BASE], q->keylens[BMQ_K_BASE]);
	n = puts0(av, al, n, now_s);
	n = puts0(av, al, n, j->id);
	n = puts0(av, al, n, j->token[0] != '\0' ? j->token : "0");
	n = puts0(av, al, n, lifo ? "RPUSH" : "LPUSH");
	n = puts0(av, al, n, reason);
	n = put(av, al, n, stack, stacklen);
	q->script_code = 0;
	if (bmq_script_int(q, bmq_script(q, BMQ_LUA_RETRY, n, av, al),
	    code) == -1)
		return q->script_code != 0 ? 0 : -1;
	return 0;
}

/*
 * Fail a job as Node's moveToFailed does: retry it (at once or after its
 * backoff) when attempts remain and it is not unrecoverable, else move it
 * to failed.  w may be NULL (the supervisor).
 */
static int
fail_job(bullmq_queue *q, bullmq_worker *w, bullmq_job *j, bullmq_job **next,
    enum bullmq_outcome *oc)
{
	struct bmq_buf	 st;
	const char	*reason;
	long		 atm;
	int64_t		 delay = 0;
	long long	 code = 0;
	int		 retry, rv;

	reason = j->reason != NULL ? j->reason : "failed";
	atm = bullmq_job_attempts_made(j);
	retry = !j->unrecoverable && atm + 1 < bullmq_job_attempts(j);
	bmq_buf_init(&st);
	stacktrace_json(j, reason, &st);
	if (st.oom) {
		bmq_buf_free(&st);
		bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
		return -1;
	}
	if (retry)
		delay = backoff_for(j, atm + 1);
	if (retry && delay > 0) {
		*oc = BULLMQ_DELAYED;
		rv = delay_call(q, w, j, delay, reason, st.b, st.len, next,
		    &code);
	} else if (retry) {
		*oc = BULLMQ_RETRIED;
		rv = retry_call(q, j, reason, st.b, st.len, &code);
		if (rv == 0 && code == 0 && w != NULL && next != NULL &&
		    bullmq_worker_try_fetch(w, next) == -1)
			rv = -1;
	} else {
		*oc = BULLMQ_FAILED;
		rv = finish_call(q, w, j, 1, reason, strlen(reason), st.b,
		    st.len, next, &code);
	}
	bmq_buf_free(&st);
	if (rv == 0 && code < 0) {
		refused(q, code, j->id, "fail");
		*oc = BULLMQ_LOST_LOCK;
	}
	return rv;
}

/* Complete a job; a refusal for pending or failed children fails it. */
static int
complete_job(bullmq_worker *w, bullmq_job *j, bullmq_job **next,
    enum bullmq_outcome *oc)
{
	bullmq_queue	*q = w->q;
	long long	 code;
	char		 msg[BMQ_MAX_ID + 128];

	*oc = BULLMQ_COMPLETED;
	if (finish_call(q, w, j, 0, j->result != NULL ? j->result : "null",
	    j->result != NULL ? j->resultlen : 4, NULL, 0, next, &code) == -1)
		return -1;
	if (code == -4 || code == -9) {
		if (code == -4)
			snprintf(msg, sizeof(msg), "Job %s has pending "
			    "dependencies. moveToFinished", j->id);
		else
			snprintf(msg, sizeof(msg), "Cannot complete job %s "
			    "because it has at least one failed child. "
			    "moveToFinished", j->id);
		if (bullmq_job_error(j, msg, code == -9) == -1) {
			bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
			return -1;
		}
		return fail_job(q, w, j, next, oc);
	}
	if (code < 0) {
		refused(q, code, j->id, "complete");
		*oc = BULLMQ_LOST_LOCK;
	}
	return 0;
}

/* Finish a processed job, optionally fetching the next one; frees it. */
int
bullmq_worker_finish(bullmq_worker *w, bullmq_job *j, int failed,
    enum bullmq_outcome *outcome, bullmq_job **next)
{
	enum bullmq_outcome	oc = BULLMQ_LOST_LOCK;
	int			rv;

	if (next != NULL)
		*next = NULL;
	if (failed)
		rv = fail_job(w->q, w, j, next, &oc);
	else
		rv = complete_job(w, j, next, &oc);
	if (outcome != NULL)
		*outcome = oc;
	bullmq_job_free(j);
	return rv;
}

/*
 * Create the next iteration of the job's "every" scheduler if the job is
 * its current iteration.  Errors are left in the handle and ignored, as a
 * Node worker only reports them.
 */
static void
schedule_next(bullmq_worker *w, bullmq_job *j, const char *rjk, size_t len)
{
	static const enum bmq_key keys[] = {
		BMQ_K_REPEAT, BMQ_K_DELAYED, BMQ_K_WAIT, BMQ_K_META,
		BMQ_K_PRIORITIZED, BMQ_K_MARKER, BMQ_K_ID, BMQ_K_EVENTS,
		BMQ_K_PC, BMQ_K_ACTIVE
	};
	const char	*av[MAX_ARGS];
	size_t		 al[MAX_ARGS];
	char		 now_s[NUMLEN];
	redisReply	*r;
	int		 n;

	fmt_ms(now_s, sizeof(now_s), bullmq_now());
	n = put_keys(w->q, av, al, 0, keys,
	    (int)(sizeof(keys) / sizeof(keys[0])));
	n = put(av, al, n, w->q->keys[BMQ_K_BASE], w->q->keylens[BMQ_K_BASE]);
	n = put(av, al, n, rjk, len);
	n = puts0(av, al, n, j->id);
	n = puts0(av, al, n, now_s);
	if ((r = bmq_script(w->q, BMQ_LUA_SCHEDULE, n, av, al)) == NULL)
		return;
	if (r->type == REDIS_REPLY_INTEGER && r->integer == -1)
		bmq_seterr(w->q, BULLMQ_ERR_ARG, "job %s: scheduler %.*s "
		    "uses a cron pattern, which is not supported: no next "
		    "iteration", j->id, (int)len, rjk);
	freeReplyObject(r);
}

/*
 * Run fn on a fetched job and finish it: a job carrying "defa" is failed
 * unrecoverably without running, a scheduler iteration first creates its
 * successor, data that is not valid JSON fails the job, and an id whose hash
 * is gone is dropped from active.
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
	if ((s = bullmq_job_field(j, "defa", NULL)) != NULL) {
		if (bullmq_job_error(j, s, 1) == -1)
			goto oom;
		return bullmq_worker_finish(w, j, 1, outcome, next);
	}
	if ((s = bullmq_job_field(j, "rjk", &len)) != NULL && len > 0)
		schedule_next(w, j, s, len);
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
	return bullmq_worker_finish(w, j, rc != 0, outcome, next);
oom:
	bmq_seterr(w->q, BULLMQ_ERR_NOMEM, "out of memory");
	if (next != NULL)
		*next = NULL;
	bullmq_job_free(j);
	return -1;
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
	const char	*av[5];
	size_t		 al[5];
	char		 key[BMQ_MAX_BASE + BMQ_MAX_ID + 8];
	long long	 v;
	int		 kl;

	if (json == NULL || !bmq_json_valid(json, strlen(json))) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "job %s: progress is not valid "
		    "JSON", j->id);
		return -1;
	}
	if ((kl = bmq_job_key(q, j->id, key, sizeof(key))) == -1) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "job %s: id too long", j->id);
		return -1;
	}
	put(av, al, 0, key, (size_t)kl);
	put(av, al, 1, q->keys[BMQ_K_EVENTS], q->keylens[BMQ_K_EVENTS]);
	put(av, al, 2, q->keys[BMQ_K_META], q->keylens[BMQ_K_META]);
	puts0(av, al, 3, j->id);
	puts0(av, al, 4, json);
	return bmq_script_int(q, bmq_script(q, BMQ_LUA_PROGRESS, 5, av, al),
	    &v);
}

/* Add a line to a job's log, keeping opts.kl lines if set. */
int
bullmq_job_log(bullmq_job *j, const char *line)
{
	bullmq_queue	*q = j->q;
	struct bmq_jval	 jv;
	const char	*av[4], *o;
	size_t		 al[4], olen;
	char		 key[BMQ_MAX_BASE + BMQ_MAX_ID + 8];
	char		 logs[BMQ_MAX_BASE + BMQ_MAX_ID + 16];
	char		 keep[NUMLEN];
	int64_t		 kl = 0;
	long long	 v;
	int		 n;

	if (line == NULL)
		line = "";
	if (bmq_job_key(q, j->id, key, sizeof(key)) == -1 ||
	    (n = snprintf(logs, sizeof(logs), "%s:logs", key)) < 0 ||
	    (size_t)n >= sizeof(logs)) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "job %s: id too long", j->id);
		return -1;
	}
	keep[0] = '\0';
	o = bullmq_job_opts(j, &olen);
	if (o != NULL && bmq_json_get(o, olen, "kl", &jv) == 1 &&
	    bmq_jval_int(&jv, &kl) == 0 && kl > 0)
		fmt_ms(keep, sizeof(keep), kl);
	puts0(av, al, 0, key);
	put(av, al, 1, logs, (size_t)n);
	puts0(av, al, 2, line);
	puts0(av, al, 3, keep);
	return bmq_script_int(q, bmq_script(q, BMQ_LUA_LOG, 4, av, al), &v);
}

/*
 * Fail job id held under token with reason, retrying it if its options
 * allow (the supervisor's job timeout).  Returns an outcome or -1.
 */
int
bullmq_fail_job(bullmq_queue *q, const char *id, const char *token,
    const char *reason)
{
	enum bullmq_outcome	 oc = BULLMQ_LOST_LOCK;
	char			 key[BMQ_MAX_BASE + BMQ_MAX_ID + 8];
	redisReply		*r;
	bullmq_job		*j;
	int			 rv;

	if (bmq_job_key(q, id, key, sizeof(key)) == -1) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "job %s: id too long", id);
		return -1;
	}
	if ((r = bmq_command(q, "HGETALL %s", key)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
		freeReplyObject(r);
		q->script_code = BULLMQ_JOB_NOT_EXIST;
		bmq_seterr(q, BULLMQ_ERR_JOB, "job %s does not exist", id);
		return -1;
	}
	j = bmq_job_from_hash(q, id, strlen(id), r);
	freeReplyObject(r);
	if (j == NULL) {
		bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
		return -1;
	}
	strlcpy(j->token, token != NULL ? token : "0", sizeof(j->token));
	if (bullmq_job_error(j, reason, 0) == -1) {
		bullmq_job_free(j);
		bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
		return -1;
	}
	rv = fail_job(q, NULL, j, NULL, &oc);
	bullmq_job_free(j);
	return rv == -1 ? -1 : (int)oc;
}
