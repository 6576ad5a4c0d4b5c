/*
 * finish.c: finishing a job: moveToFinished with fetch-next, the failure
 * decision (attempts, backoff, unrecoverable, maxStartedAttempts), retries
 * at once or delayed, stack traces, retention, and failing a job for the
 * supervisor (bullmq_fail_job).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"
#include "worker-int.h"

/*
 * Fill a keep mode's two script arguments: the count, and the age with the
 * most to remove per call, "AGE LIMIT" ("" when no age).
 */
static void
keep_args(const struct bullmq_keep *k, char *count, char *age)
{
	snprintf(count, NUMLEN, "-1");
	age[0] = '\0';
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
		snprintf(age, 2 * NUMLEN, "%ld %ld", k->age,
		    k->limit > 0 ? k->limit : 1000);
		break;
	default:
		break;
	}
}

/*
 * What finish-1.lua may take from the fetched hash instead of reading it
 * (its ARGV[15]): attemptsMade + 1 into buf when the job is locked by us
 * and its hash had the base fields and no parent or deduplication field;
 * else "".
 */
static const char *
finish_hint(const bullmq_job *j, char *buf, size_t size)
{
	const char	*f, *errstr;
	long long	 atm = 0;
	size_t		 i;
	int		 base = 0;

	if (j->token[0] == '\0')
		return "";
	for (i = 0; i < j->nf; i++) {
		f = j->fk[i];
		if (strcmp(f, "parentKey") == 0 || strcmp(f, "parent") == 0 ||
		    strcmp(f, "deid") == 0)
			return "";
		if (strcmp(f, "name") == 0 || strcmp(f, "data") == 0 ||
		    strcmp(f, "opts") == 0 || strcmp(f, "timestamp") == 0)
			base = 1;
		else if (strcmp(f, "atm") == 0) {
			atm = strtonum(j->fv[i], 0, LLONG_MAX - 1, &errstr);
			if (errstr != NULL)
				return "";
		}
	}
	if (!base)
		return "";
	snprintf(buf, size, "%lld", atm + 1);
	return buf;
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
	    code == -6 ? "lock is held by another worker" :
	    code == BULLMQ_JOB_NOT_A_HASH ? "its key holds no hash: not a "
	    "job, its key left alone" :
	    code == BULLMQ_JOB_BAD_FIELD ? "atm is not an integer" :
	    "refused");
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
	} else if ((r->type == REDIS_REPLY_ARRAY ||
	    r->type == REDIS_REPLY_STRING) && w->q != NULL) {
		rv = bmq_take_fetch(w, r, token, now, &j);
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
 * Move the job to completed or failed (finish-1.lua).  Returns 0 with
 * *code set, or -1.
 */
static int
finish_call(bullmq_queue *q, bullmq_worker *w, bullmq_job *j, int failed,
    const char *value, size_t vlen, const char *stack, size_t stacklen,
    bullmq_job **next, long long *code)
{
	const bullmq_worker	*ws = w != NULL ? w : &bmq_no_worker;
	struct bullmq_worker	 tmp;
	const char		*av[MAX_ARGS];
	size_t			 al[MAX_ARGS];
	char			 now_s[NUMLEN], att[NUMLEN], kc[NUMLEN];
	char			 ka[2 * NUMLEN], token[BMQ_MAX_TOKEN];
	char			 hint[NUMLEN];
	struct bullmq_keep	 keep;
	redisReply		*r;
	int64_t			 now;
	int			 n;

	if (w == NULL) {
		tmp = bmq_no_worker;
		tmp.q = q;
		ws = &tmp;
	}
	strlcpy(token, j->token[0] != '\0' ? j->token : "0", sizeof(token));
	now = bullmq_now();
	bmq_fmt_ms(now_s, sizeof(now_s), now);
	keep_for(ws, j, failed, &keep);
	keep_args(&keep, kc, ka);
	/* the one key: finish-1.lua makes the others from the prefix */
	n = bmq_put(av, al, 0, q->keys[BMQ_K_ACTIVE], q->keylens[BMQ_K_ACTIVE]);
	n = bmq_put_fetch_args(ws, now_s, token, av, al, n);
	n = bmq_puts0(av, al, n, j->id);
	n = bmq_puts0(av, al, n, failed ? "failed" : "completed");
	n = bmq_put(av, al, n, value, vlen);
	n = bmq_puts0(av, al, n, kc);
	n = bmq_puts0(av, al, n, ka);
	n = bmq_puts0(av, al, n, ws->metrics_s);
	n = bmq_puts0(av, al, n, w != NULL && next != NULL ? "1" : "0");
	n = bmq_puts0(av, al, n, finish_hint(j, hint, sizeof(hint)));
	/* a completion sends no more: see finish-1.lua */
	if (failed) {
		/* attempts only matter for retries-exhausted */
		snprintf(att, sizeof(att), "%ld", bullmq_job_attempts(j));
		n = bmq_puts0(av, al, n, att);
		n = bmq_put(av, al, n, stack != NULL ? stack : "", stacklen);
	}
	if ((r = bmq_script(q, BMQ_LUA_FINISH, n, av, al)) == NULL) {
		if (w != NULL && next != NULL)
			bmq_lost_reply(w, token, j->id);
		return -1;
	}
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
		tmp = bmq_no_worker;
		tmp.q = q;
		ws = &tmp;
	}
	strlcpy(token, j->token[0] != '\0' ? j->token : "0", sizeof(token));
	now = bullmq_now();
	bmq_fmt_ms(now_s, sizeof(now_s), now);
	bmq_fmt_ms(d, sizeof(d), delay);
	n = bmq_put_keys(q, av, al, 0, bmq_fetch_keys, BMQ_NFETCH_KEYS);
	n = bmq_put(av, al, n, q->keys[BMQ_K_STALLED],
	    q->keylens[BMQ_K_STALLED]);
	n = bmq_put_fetch_args(ws, now_s, token, av, al, n);
	n = bmq_puts0(av, al, n, j->id);
	n = bmq_puts0(av, al, n, d);
	n = bmq_puts0(av, al, n, reason);
	n = bmq_put(av, al, n, stack, stacklen);
	n = bmq_puts0(av, al, n, w != NULL && next != NULL ? "1" : "0");
	if ((r = bmq_script(q, BMQ_LUA_DELAY, n, av, al)) == NULL) {
		if (w != NULL && next != NULL)
			bmq_lost_reply(w, token, j->id);
		return -1;
	}
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
	bmq_fmt_ms(now_s, sizeof(now_s), bullmq_now());
	n = bmq_put_keys(q, av, al, 0, keys,
	    (int)(sizeof(keys) / sizeof(keys[0])));
	n = bmq_put(av, al, n, q->keys[BMQ_K_BASE], q->keylens[BMQ_K_BASE]);
	n = bmq_puts0(av, al, n, now_s);
	n = bmq_puts0(av, al, n, j->id);
	n = bmq_puts0(av, al, n, j->token[0] != '\0' ? j->token : "0");
	n = bmq_puts0(av, al, n, lifo ? "RPUSH" : "LPUSH");
	n = bmq_puts0(av, al, n, reason);
	n = bmq_put(av, al, n, stack, stacklen);
	q->script_code = 0;
	if (bmq_script_int(q, bmq_script(q, BMQ_LUA_RETRY, n, av, al),
	    code) == -1)
		return q->script_code != 0 ? 0 : -1;
	return 0;
}

/*
 * Whether the job's atm is absent or an integer that retry-9.lua and
 * delay-10.lua can count on (Node reads any other as NaN: no retry).
 */
static int
atm_ok(const bullmq_job *j)
{
	const char	*s, *errstr;

	if ((s = bullmq_job_field(j, "atm", NULL)) == NULL)
		return 1;
	(void)strtonum(s, LLONG_MIN + 1, LLONG_MAX - 1, &errstr);
	return errstr == NULL;
}

/*
 * Fail a job as Node's moveToFailed does: retry it (at once or after its
 * backoff) when attempts remain and it is not unrecoverable, else move it
 * to failed.  A job whose atm is not an integer is not retried, and its
 * reason says so.  w may be NULL (the supervisor).
 */
static int
fail_job(bullmq_queue *q, bullmq_worker *w, bullmq_job *j, bullmq_job **next,
    enum bullmq_outcome *oc)
{
	struct bmq_buf	 st, why;
	const char	*reason;
	long		 atm;
	int64_t		 delay = 0;
	long long	 code = 0;
	int		 retry, rv = 0, bad;

	reason = j->reason != NULL ? j->reason : "failed";
	atm = bullmq_job_attempts_made(j);
	bad = !atm_ok(j);
	retry = !bad && !j->unrecoverable && atm + 1 < bullmq_job_attempts(j);
	/* a job started maxStartedAttempts times is not retried */
	if (w != NULL && w->max_started > 0 &&
	    w->max_started <= bmq_job_long(j, "ats", 0))
		retry = 0;
	bmq_buf_init(&why);
	bmq_buf_adds(&why, reason);
	if (bad)
		bmq_buf_adds(&why, " (not retried: atm is not an integer)");
	bmq_buf_init(&st);
	stacktrace_json(j, reason, &st);
	if (st.oom || why.oom) {
		bmq_buf_free(&st);
		bmq_buf_free(&why);
		bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
		return -1;
	}
	reason = bmq_buf_cstr(&why);
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
	}
	if (retry && rv == 0 && code == BULLMQ_JOB_BAD_FIELD) {
		/* atm went bad since the fetch: nothing was written */
		bmq_buf_adds(&why, " (not retried: atm is not an integer)");
		reason = bmq_buf_cstr(&why);
		retry = 0;
	}
	if (!retry) {
		*oc = BULLMQ_FAILED;
		rv = reason != NULL ? finish_call(q, w, j, 1, reason,
		    strlen(reason), st.b, st.len, next, &code) : -1;
		if (reason == NULL)
			bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
	}
	bmq_buf_free(&st);
	bmq_buf_free(&why);
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
 * Fail job id held under token with reason, retrying it if its options
 * allow (the supervisor's job timeout).  Returns an outcome or -1.
 */
int
bullmq_fail_job(bullmq_queue *q, const char *id, const char *token,
    const char *reason)
{
	enum bullmq_outcome	 oc = BULLMQ_LOST_LOCK;
	redisReply		*r;
	bullmq_job		*j;
	int			 rv;

	/* the id as the master got it, of any length: no key buffer */
	if ((r = bmq_command(q, "HGETALL %s%s", q->keys[BMQ_K_BASE], id)) ==
	    NULL)
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

