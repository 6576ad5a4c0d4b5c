/*
 * finish.c: finishing a job: moveToFinished with fetch-next, the failure
 * decision (attempts, backoff, unrecoverable, maxStartedAttempts), retries
 * at once or delayed, stack traces, retention, and failing a job for the
 * supervisor (bullmq_fail_job).
 */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"
#include "worker-int.h"

/*
 * Fill a keep mode's two script arguments: the count, and the age with the
 * most to remove per call, "AGE LIMIT" ("" when no age; a negative limit
 * removes all).
 */
static void
keep_args(const struct bullmq_keep *k, char *count, char *age)
{
	char	num[32];

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
		/* any age, as Node's script takes it: 0 or less is all */
		if (isnan(k->age))
			break;
		bmq_fmt_jsnum(num, sizeof(num), k->age);
		snprintf(age, 2 * NUMLEN, "%s %ld", num,
		    k->limit != 0 ? k->limit : 1000);
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
static const struct bullmq_keep *
keep_for(const bullmq_worker *w, const bullmq_job *j, int failed)
{
	const struct bullmq_keep	*k;

	k = failed ? &j->o.keep_fail : &j->o.keep_complete;
	if (k->mode == BULLMQ_KEEP_UNSET)
		k = failed ? &w->keep_fail : &w->keep_complete;
	return k;
}

/*
 * The job's stacktrace array with one entry more for this failure, cut as
 * opts.stackTraceLimit says (0 keeps none, N the newest N, -N drops the
 * oldest N), as JSON in b.
 */
static void
stacktrace_json(const bullmq_job *j, const char *reason, struct bmq_buf *b)
{
	const char	*old;
	size_t		 oldlen, n, skip = 0;
	int64_t		 limit = j->o.stack_trace_limit;
	int64_t		 drop = j->o.stack_trace_drop;
	struct bmq_buf	 entry;

	bmq_buf_adds(b, "[");
	if (limit == 0) {
		bmq_buf_adds(b, "]");
		return;
	}
	old = bullmq_job_field(j, "stacktrace", &oldlen);
	if (old == NULL || oldlen == 0 || old[0] != '[' ||
	    !bmq_json_valid(old, oldlen))
		old = NULL;
	n = old != NULL ? bmq_json_array_elems(old, oldlen, 0, NULL) : 0;
	if (limit > 0 && (int64_t)n + 1 > limit)
		skip = n + 1 - (size_t)limit;
	if (drop > (int64_t)n) {
		/* the new entry goes too */
		bmq_buf_adds(b, "]");
		return;
	}
	if (drop > 0)
		skip = (size_t)drop;
	if (old != NULL)
		bmq_json_array_elems(old, oldlen, skip, b);
	bmq_buf_init(&entry);
	bmq_buf_addf(&entry, "%s: %s", j->unrecoverable ?
	    "UnrecoverableError" : "Error", reason);
	if (b->len > 1)
		bmq_buf_add(b, ",", 1);
	bmq_buf_add_jstr(b, entry.b != NULL ? entry.b : "", entry.len);
	bmq_buf_free(&entry);
	bmq_buf_adds(b, "]");
}

/* The delay a custom strategy gives retry n of job j (-1: no retry). */
static int64_t
custom_backoff(bullmq_worker *w, bullmq_job *j, long n, const char *reason)
{
	char	type[256];

	if (bmq_jval_string(&j->o.backoff_custom, type, sizeof(type)) < 0)
		return 0;
	return w->backoff_fn(j, n, type, reason, w->backoff_arg);
}

/*
 * Whether to retry after a delay (1, the delay as text in buf) or at once
 * (0), from opts.backoff for retry number n.  A custom backoff type (a
 * Node-side strategy) retries at once.
 */
static int
backoff_for(const bullmq_job *j, long n, char *buf, size_t size)
{
	double	r;

	r = (double)arc4random() / 4294967296.0;
	return bmq_retry_delay(&j->o, n, r, buf, size);
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
	struct bmq_args		 a;
	char			 now_s[NUMLEN], att[NUMLEN], kc[NUMLEN];
	char			 ka[2 * NUMLEN], token[BMQ_MAX_TOKEN];
	char			 hint[NUMLEN];
	redisReply		*r;
	int64_t			 now;

	if (w == NULL) {
		tmp = bmq_no_worker;
		tmp.q = q;
		ws = &tmp;
	}
	strlcpy(token, j->token[0] != '\0' ? j->token : "0", sizeof(token));
	now = bullmq_now();
	bmq_fmt_ms(now_s, sizeof(now_s), now);
	keep_args(keep_for(ws, j, failed), kc, ka);
	/* the one key: finish-1.lua makes the others from the prefix */
	bmq_args_init(&a);
	bmq_args_key(&a, q, BMQ_K_ACTIVE);
	bmq_args_fetch(&a, ws, now_s, token);
	bmq_args_adds(&a, j->id);
	bmq_args_adds(&a, failed ? "failed" : "completed");
	bmq_args_add(&a, value, vlen);
	bmq_args_adds(&a, kc);
	bmq_args_adds(&a, ka);
	bmq_args_adds(&a, ws->metrics_s);
	bmq_args_adds(&a, w != NULL && next != NULL ? "1" : "0");
	bmq_args_adds(&a, finish_hint(j, hint, sizeof(hint)));
	/* a completion sends no more: see finish-1.lua */
	if (failed) {
		/* attempts only matter for retries-exhausted */
		/* "": stored as no number, no retries-exhausted (Node's
		 * script fails there, after the failed event) */
		att[0] = '\0';
		if (j->o.attempts_lua)
			snprintf(att, sizeof(att), "%ld",
			    bullmq_job_attempts(j));
		bmq_args_adds(&a, att);
		bmq_args_add(&a, stack != NULL ? stack : "", stacklen);
	}
	if ((r = bmq_script(q, BMQ_LUA_FINISH, &a)) == NULL) {
		if (w != NULL && next != NULL)
			bmq_lost_reply(w, token, j->id);
		return -1;
	}
	return take_finish(w != NULL ? w : &tmp, r, token, now, next, code);
}

/* Retry with a delay (delay-10.lua); 0 with *code set, or -1. */
static int
delay_call(bullmq_queue *q, bullmq_worker *w, bullmq_job *j, const char *delay,
    const char *reason, const char *stack, size_t stacklen,
    bullmq_job **next, long long *code)
{
	struct bullmq_worker	 tmp;
	const bullmq_worker	*ws = w;
	struct bmq_args		 a;
	char			 now_s[NUMLEN];
	char			 token[BMQ_MAX_TOKEN];
	redisReply		*r;
	int64_t			 now;

	if (w == NULL) {
		tmp = bmq_no_worker;
		tmp.q = q;
		ws = &tmp;
	}
	strlcpy(token, j->token[0] != '\0' ? j->token : "0", sizeof(token));
	now = bullmq_now();
	bmq_fmt_ms(now_s, sizeof(now_s), now);
	bmq_args_init(&a);
	bmq_args_keys(&a, q, bmq_fetch_keys, BMQ_NFETCH_KEYS);
	bmq_args_key(&a, q, BMQ_K_STALLED);
	bmq_args_fetch(&a, ws, now_s, token);
	bmq_args_adds(&a, j->id);
	bmq_args_adds(&a, delay);
	bmq_args_adds(&a, reason);
	bmq_args_add(&a, stack, stacklen);
	bmq_args_adds(&a, w != NULL && next != NULL ? "1" : "0");
	if ((r = bmq_script(q, BMQ_LUA_DELAY, &a)) == NULL) {
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
	struct bmq_args	 a;
	redisReply	*r;
	char		 now_s[NUMLEN];

	bmq_fmt_ms(now_s, sizeof(now_s), bullmq_now());
	bmq_args_init(&a);
	bmq_args_keys(&a, q, keys, (int)(sizeof(keys) / sizeof(keys[0])));
	bmq_args_key(&a, q, BMQ_K_BASE);
	bmq_args_adds(&a, now_s);
	bmq_args_adds(&a, j->id);
	bmq_args_adds(&a, j->token[0] != '\0' ? j->token : "0");
	bmq_args_adds(&a, j->o.lifo ? "RPUSH" : "LPUSH");
	bmq_args_adds(&a, reason);
	bmq_args_add(&a, stack, stacklen);
	q->script_code = 0;
	/* an error (a key of the wrong type too) is not a refusal code */
	if ((r = bmq_script(q, BMQ_LUA_RETRY, &a)) == NULL)
		return -1;
	if (bmq_script_int(q, r, code) == -1)
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
	char		 delay[64];
	long long	 code = 0;
	int64_t		 ms;
	int		 retry, delayed = 0, rv = 0, bad;

	reason = j->reason != NULL ? j->reason : "failed";
	atm = bullmq_job_attempts_made(j);
	bad = !atm_ok(j);
	/* atm may be as large as a long: no atm + 1 */
	retry = !bad && !j->unrecoverable && atm < bullmq_job_attempts(j) - 1;
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
	if (retry && j->o.backoff_custom.type == BMQ_J_STRING && w != NULL &&
	    w->backoff_fn != NULL) {
		/* the worker's own strategy for this type: -1 fails the job */
		ms = custom_backoff(w, j, atm + 1, reason);
		if (ms < 0)
			retry = 0;
		else if (ms > 0) {
			snprintf(delay, sizeof(delay), "%lld", (long long)ms);
			delayed = 1;
		}
	} else if (retry)
		delayed = backoff_for(j, atm + 1, delay, sizeof(delay));
	if (retry && delayed) {
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

