/*
 * admin.c: the operators' calls: pause and resume, counts, one job and its
 * state, remove, promote, retry one or many, clean, drain, obliterate, the
 * workers' connections and the event stream (BULLMQ-PROTOCOL.md 4.7, 4.8,
 * 4.11-4.14, 5.2).
 */
#include <sys/types.h>
#include <sys/time.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"

#define RETRY_BATCH	1000	/* Node's Queue.retryJobs count */
#define CLEAN_BATCH	10000	/* Node's Queue.clean per-call limit */
#define OBLITERATE_BATCH 1000	/* Node's Queue.obliterate count */
#define EVENT_FIELDS	32

/* Check a job id given by a caller; -1 with the error set. */
int
bmq_check_id(bullmq_queue *q, const char *id)
{
	if (id == NULL || *id == '\0') {
		bmq_seterr(q, BULLMQ_ERR_ARG, "job id is empty");
		return -1;
	}
	if (strlen(id) > BULLMQ_MAX_ID) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "job id %.32s...: longer than %d "
		    "bytes", id, BULLMQ_MAX_ID);
		return -1;
	}
	return 0;
}

/* Check id and write its job's key into key; -1 with the error set. */
static int
id_key(bullmq_queue *q, const char *id, char *key, size_t size)
{
	if (bmq_check_id(q, id) == -1)
		return -1;
	if (bmq_job_key(q, id, key, size) == -1) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "job id %s: key too long", id);
		return -1;
	}
	return 0;
}

/* Run a script that answers an integer; -1 on error or refusal. */
static int
run_int(bullmq_queue *q, enum bmq_lua s, const struct bmq_args *a,
    long long *v)
{
	return bmq_script_int(q, bmq_script(q, s, a), v);
}

/* Pause the queue globally. */
int
bullmq_pause(bullmq_queue *q)
{
	static const enum bmq_key keys[] = { BMQ_K_META, BMQ_K_MARKER,
	    BMQ_K_EVENTS };
	struct bmq_args		 a;
	long long		 v;

	bmq_args_init(&a);
	bmq_args_keys(&a, q, keys, 3);
	return run_int(q, BMQ_LUA_PAUSE, &a, &v);
}

/* Resume the queue, moving legacy paused jobs back in batches. */
int
bullmq_resume(bullmq_queue *q)
{
	static const enum bmq_key keys[] = { BMQ_K_META, BMQ_K_PAUSED,
	    BMQ_K_WAIT, BMQ_K_PRIORITIZED, BMQ_K_DELAYED, BMQ_K_MARKER,
	    BMQ_K_EVENTS };
	struct bmq_args		 a;
	long long		 left;
	int			 first = 1;

	do {
		bmq_args_init(&a);
		bmq_args_keys(&a, q, keys, 7);
		bmq_args_adds(&a, first ? "1" : "0");
		if (run_int(q, BMQ_LUA_RESUME, &a, &left) == -1)
			return -1;
		first = 0;
	} while (left > 0);
	return 0;
}

/* Count the jobs of every state. */
int
bullmq_get_counts(bullmq_queue *q, struct bullmq_counts *c)
{
	static const enum bmq_key keys[] = { BMQ_K_WAIT, BMQ_K_ACTIVE,
	    BMQ_K_DELAYED, BMQ_K_PRIORITIZED, BMQ_K_PAUSED, BMQ_K_COMPLETED,
	    BMQ_K_FAILED, BMQ_K_WAITING_CHILDREN, BMQ_K_META };
	struct bmq_args		 a;
	redisReply		*r;
	long long		 n[9];
	size_t			 i;

	bmq_args_init(&a);
	bmq_args_keys(&a, q, keys, 9);
	if ((r = bmq_script(q, BMQ_LUA_COUNTS, &a)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 9) {
		bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "script counts: "
		    "unexpected reply");
		freeReplyObject(r);
		return -1;
	}
	for (i = 0; i < 9; i++) {
		if (r->element[i]->type != REDIS_REPLY_INTEGER) {
			bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "script counts: "
			    "unexpected reply");
			freeReplyObject(r);
			return -1;
		}
		n[i] = r->element[i]->integer;
	}
	freeReplyObject(r);
	memset(c, 0, sizeof(*c));
	c->wait = (long)n[0];
	c->active = (long)n[1];
	c->delayed = (long)n[2];
	c->prioritized = (long)n[3];
	c->completed = (long)n[4];
	c->failed = (long)n[5];
	c->waiting_children = (long)n[6];
	c->paused = (long)n[7];
	c->is_paused = n[8] != 0;
	return 0;
}

/* Read one job's hash; 1 found, 0 missing, -1 error. */
int
bullmq_get_job(bullmq_queue *q, const char *id, bullmq_job **jobp)
{
	char		 key[BMQ_MAX_BASE + BMQ_MAX_ID];
	redisReply	*r;

	*jobp = NULL;
	if (id_key(q, id, key, sizeof(key)) == -1)
		return -1;
	if ((r = bmq_command(q, "HGETALL %s", key)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY) {
		bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "HGETALL: unexpected reply");
		freeReplyObject(r);
		return -1;
	}
	if (r->elements == 0) {
		freeReplyObject(r);
		return 0;
	}
	*jobp = bmq_job_from_hash(q, id, strlen(id), r);
	freeReplyObject(r);
	if (*jobp == NULL) {
		bmq_seterr(q, BULLMQ_ERR_NOMEM, "job %s: out of memory or a "
		    "malformed hash", id);
		return -1;
	}
	return 1;
}

/* Write the state of a job into buf; 0 or -1. */
int
bullmq_get_state(bullmq_queue *q, const char *id, char *buf, size_t size)
{
	static const enum bmq_key keys[] = { BMQ_K_COMPLETED, BMQ_K_FAILED,
	    BMQ_K_DELAYED, BMQ_K_PRIORITIZED, BMQ_K_ACTIVE, BMQ_K_WAIT,
	    BMQ_K_PAUSED, BMQ_K_WAITING_CHILDREN };
	struct bmq_args		 a;
	redisReply		*r;

	if (bmq_check_id(q, id) == -1)
		return -1;
	bmq_args_init(&a);
	bmq_args_keys(&a, q, keys, 8);
	bmq_args_adds(&a, id);
	if ((r = bmq_script(q, BMQ_LUA_STATE, &a)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS) {
		bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "script state: "
		    "unexpected reply");
		freeReplyObject(r);
		return -1;
	}
	if (r->len >= size) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "state buffer too small");
		freeReplyObject(r);
		return -1;
	}
	memcpy(buf, r->str, r->len);
	buf[r->len] = '\0';
	freeReplyObject(r);
	return 0;
}

/* Remove one job: 1 removed, 0 locked, -1 error or refusal. */
int
bullmq_remove(bullmq_queue *q, const char *id)
{
	static const enum bmq_key keys[] = { BMQ_K_REPEAT, BMQ_K_META,
	    BMQ_K_EVENTS, BMQ_K_COMPLETED, BMQ_K_WAITING_CHILDREN,
	    BMQ_K_DELAYED, BMQ_K_FAILED, BMQ_K_PRIORITIZED, BMQ_K_WAIT,
	    BMQ_K_PAUSED, BMQ_K_ACTIVE };
	struct bmq_args		 a;
	char			 key[BMQ_MAX_BASE + BMQ_MAX_ID];
	long long		 v;

	if (id_key(q, id, key, sizeof(key)) == -1)
		return -1;
	bmq_args_init(&a);
	bmq_args_adds(&a, key);
	bmq_args_keys(&a, q, keys, 11);
	bmq_args_adds(&a, id);
	bmq_args_key(&a, q, BMQ_K_BASE);
	if (run_int(q, BMQ_LUA_REMOVE, &a, &v) == -1) {
		if (q->script_code == -1)
			bmq_seterr(q, BULLMQ_ERR_JOB, "job %s does not exist",
			    id);
		else if (q->script_code == -8)
			bmq_seterr(q, BULLMQ_ERR_JOB, "job %s is the current "
			    "iteration of a job scheduler: remove the "
			    "scheduler instead", id);
		return -1;
	}
	return (int)v;
}

/*
 * Say why a script refused a job it was asked to move out of the state
 * "state": missing, in another state, or its key holds no hash.
 */
static void
job_refused(bullmq_queue *q, const char *id, const char *state)
{
	if (q->script_code == BULLMQ_JOB_NOT_EXIST)
		bmq_seterr(q, BULLMQ_ERR_JOB, "job %s does not exist", id);
	else if (q->script_code == BULLMQ_JOB_NOT_IN_STATE)
		bmq_seterr(q, BULLMQ_ERR_JOB, "job %s is not %s", id, state);
	else if (q->script_code == BULLMQ_JOB_NOT_A_HASH)
		bmq_seterr(q, BULLMQ_ERR_JOB, "job %s: its key holds no hash",
		    id);
}

/*
 * Move a delayed job to wait (or prioritized) now, as Job.promote: 0, or -1
 * (missing: script code BULLMQ_JOB_NOT_EXIST; not delayed:
 * BULLMQ_JOB_NOT_IN_STATE).
 */
int
bullmq_promote(bullmq_queue *q, const char *id)
{
	static const enum bmq_key keys[] = { BMQ_K_DELAYED, BMQ_K_WAIT,
	    BMQ_K_META, BMQ_K_PRIORITIZED, BMQ_K_ACTIVE, BMQ_K_PC,
	    BMQ_K_EVENTS, BMQ_K_MARKER };
	struct bmq_args		 a;
	char			 key[BMQ_MAX_BASE + BMQ_MAX_ID];
	long long		 v;

	if (id_key(q, id, key, sizeof(key)) == -1)
		return -1;
	bmq_args_init(&a);
	bmq_args_keys(&a, q, keys, 8);
	bmq_args_adds(&a, key);
	bmq_args_adds(&a, id);
	if (run_int(q, BMQ_LUA_PROMOTE, &a, &v) == -1) {
		job_refused(q, id, "delayed");
		return -1;
	}
	return 0;
}

/*
 * Move one failed (or completed) job back to wait, as Job.retry: 0, or -1
 * (missing: BULLMQ_JOB_NOT_EXIST; not in that state:
 * BULLMQ_JOB_NOT_IN_STATE).
 */
int
bullmq_retry_job(bullmq_queue *q, const char *id, const char *state,
    int flags)
{
	static const enum bmq_key keys[] = { BMQ_K_WAIT, BMQ_K_META,
	    BMQ_K_ACTIVE, BMQ_K_MARKER, BMQ_K_PRIORITIZED, BMQ_K_PC };
	struct bmq_args		 a;
	char			 key[BMQ_MAX_BASE + BMQ_MAX_ID];
	long long		 v;
	enum bmq_key		 from;

	if (state == NULL || strcmp(state, "failed") == 0) {
		from = BMQ_K_FAILED;
		state = "failed";
	} else if (strcmp(state, "completed") == 0)
		from = BMQ_K_COMPLETED;
	else {
		bmq_seterr(q, BULLMQ_ERR_ARG, "retry: state %s is not failed "
		    "or completed", state);
		return -1;
	}
	if (id_key(q, id, key, sizeof(key)) == -1)
		return -1;
	bmq_args_init(&a);
	bmq_args_adds(&a, key);
	bmq_args_key(&a, q, BMQ_K_EVENTS);
	bmq_args_key(&a, q, from);
	bmq_args_keys(&a, q, keys, 6);
	bmq_args_adds(&a, id);
	bmq_args_adds(&a, state);
	bmq_args_adds(&a, flags & BULLMQ_RESET_ATTEMPTS_MADE ? "1" : "0");
	bmq_args_adds(&a, flags & BULLMQ_RESET_ATTEMPTS_STARTED ? "1" : "0");
	if (run_int(q, BMQ_LUA_RETRY_JOB, &a, &v) == -1) {
		job_refused(q, id, state);
		return -1;
	}
	return 0;
}

/* Move failed or completed jobs back to wait; returns how many. */
long
bullmq_retry_jobs(bullmq_queue *q, const char *state, long count)
{
	static const enum bmq_key keys[] = { BMQ_K_WAIT, BMQ_K_META,
	    BMQ_K_ACTIVE, BMQ_K_EVENTS, BMQ_K_MARKER };
	struct bmq_args		 a;
	char			 ts[24], batch[24];
	long long		 moved;
	long			 total = 0, want;
	enum bmq_key		 from;

	if (state == NULL || strcmp(state, "failed") == 0)
		from = BMQ_K_FAILED;
	else if (strcmp(state, "completed") == 0)
		from = BMQ_K_COMPLETED;
	else {
		bmq_seterr(q, BULLMQ_ERR_ARG, "retry: state %s is not failed "
		    "or completed", state);
		return -1;
	}
	snprintf(ts, sizeof(ts), "%lld", (long long)bullmq_now());
	do {
		want = RETRY_BATCH;
		if (count > 0 && count - total < want)
			want = count - total;
		snprintf(batch, sizeof(batch), "%ld", want);
		bmq_args_init(&a);
		bmq_args_key(&a, q, from);
		bmq_args_keys(&a, q, keys, 5);
		bmq_args_key(&a, q, BMQ_K_BASE);
		bmq_args_adds(&a, batch);
		bmq_args_adds(&a, ts);
		bmq_args_adds(&a, from == BMQ_K_FAILED ? "failed" :
		    "completed");
		if (run_int(q, BMQ_LUA_RETRY_JOBS, &a, &moved) == -1)
			return -1;
		total += (long)moved;
	} while (moved == want && (count <= 0 || total < count));
	return total;
}

/* Delete jobs of a state finished (or created) more than grace ms ago. */
long
bullmq_clean(bullmq_queue *q, const char *state, int64_t grace, long limit)
{
	static const char *const states[] = { "completed", "failed", "wait",
	    "paused", "active", "delayed", "prioritized", NULL };
	static const enum bmq_key skeys[] = { BMQ_K_COMPLETED, BMQ_K_FAILED,
	    BMQ_K_WAIT, BMQ_K_PAUSED, BMQ_K_ACTIVE, BMQ_K_DELAYED,
	    BMQ_K_PRIORITIZED };
	static const enum bmq_key keys[] = { BMQ_K_EVENTS, BMQ_K_REPEAT };
	struct bmq_args		 a;
	redisReply		*r;
	char			 cutoff[24], batch[24];
	long			 total = 0, want, got;
	int			 i;

	if (state != NULL && strcmp(state, "waiting") == 0)
		state = "wait";
	for (i = 0; state != NULL && states[i] != NULL; i++)
		if (strcmp(state, states[i]) == 0)
			break;
	if (state == NULL || states[i] == NULL) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "clean: unknown state %s",
		    state != NULL ? state : "(null)");
		return -1;
	}
	if (grace < 0 || limit < 0) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "clean: negative grace or limit");
		return -1;
	}
	snprintf(cutoff, sizeof(cutoff), "%lld",
	    (long long)(bullmq_now() - grace));
	for (;;) {
		want = CLEAN_BATCH;
		if (limit > 0 && limit - total < want)
			want = limit - total;
		snprintf(batch, sizeof(batch), "%ld", want);
		bmq_args_init(&a);
		bmq_args_key(&a, q, skeys[i]);
		bmq_args_keys(&a, q, keys, 2);
		bmq_args_key(&a, q, BMQ_K_BASE);
		bmq_args_adds(&a, cutoff);
		bmq_args_adds(&a, batch);
		bmq_args_adds(&a, states[i]);
		if ((r = bmq_script(q, BMQ_LUA_CLEAN, &a)) == NULL)
			return -1;
		if (r->type != REDIS_REPLY_ARRAY) {
			bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "script clean: "
			    "unexpected reply");
			freeReplyObject(r);
			return -1;
		}
		got = (long)r->elements;
		freeReplyObject(r);
		total += got;
		if (got < want || (limit > 0 && total >= limit))
			break;
	}
	return total;
}

/* Delete the jobs waiting to run, and the delayed ones if asked. */
int
bullmq_drain(bullmq_queue *q, int delayed)
{
	static const enum bmq_key keys[] = { BMQ_K_WAIT, BMQ_K_PAUSED,
	    BMQ_K_DELAYED, BMQ_K_PRIORITIZED, BMQ_K_REPEAT };
	struct bmq_args		 a;
	long long		 v;

	bmq_args_init(&a);
	bmq_args_keys(&a, q, keys, 5);
	bmq_args_key(&a, q, BMQ_K_BASE);
	bmq_args_adds(&a, delayed ? "1" : "0");
	return run_int(q, BMQ_LUA_DRAIN, &a, &v) == -1 ? -1 : 0;
}

/* Pause the queue and delete it with all its jobs, as Node does. */
int
bullmq_obliterate(bullmq_queue *q, int force)
{
	static const enum bmq_key keys[] = { BMQ_K_META, BMQ_K_ACTIVE,
	    BMQ_K_DELAYED, BMQ_K_REPEAT, BMQ_K_COMPLETED, BMQ_K_WAIT,
	    BMQ_K_PAUSED, BMQ_K_PRIORITIZED, BMQ_K_FAILED, BMQ_K_EVENTS,
	    BMQ_K_STALLED_CHECK, BMQ_K_STALLED, BMQ_K_ID, BMQ_K_PC,
	    BMQ_K_MARKER, BMQ_K_METRICS_COMPLETED, BMQ_K_METRICS_FAILED };
	struct bmq_args		 a;
	char			 batch[24];
	long long		 more;

	if (bullmq_pause(q) == -1)
		return -1;
	snprintf(batch, sizeof(batch), "%d", OBLITERATE_BATCH);
	do {
		bmq_args_init(&a);
		bmq_args_keys(&a, q, keys, 17);
		bmq_args_key(&a, q, BMQ_K_BASE);
		bmq_args_adds(&a, batch);
		bmq_args_adds(&a, force ? "force" : "");
		if (run_int(q, BMQ_LUA_OBLITERATE, &a, &more) == -1) {
			if (q->script_code == -1)
				bmq_seterr(q, BULLMQ_ERR_JOB, "cannot "
				    "obliterate a queue that is not paused");
			else if (q->script_code == -2)
				bmq_seterr(q, BULLMQ_ERR_JOB, "cannot "
				    "obliterate a queue with active jobs "
				    "(force it)");
			return -1;
		}
	} while (more != 0);
	return 0;
}

/* Read a number of seconds from a CLIENT LIST field. */
static long
client_num(const char *s, size_t n)
{
	char		 buf[32];
	const char	*errstr;
	long long	 v;

	if (n >= sizeof(buf))
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	v = strtonum(buf, 0, LONG_MAX, &errstr);
	return errstr != NULL ? 0 : (long)v;
}

/*
 * Parse one CLIENT LIST line into w; 1 if its name marks a worker of the
 * queue (exactly base, or base followed by ":w:"), else 0.
 */
static int
client_line(const char *s, size_t n, const char *base, size_t baselen,
    struct bullmq_worker_info *w)
{
	const char	*e = s + n, *tok, *eq, *v;
	size_t		 klen, vlen;
	int		 match = 0;

	memset(w, 0, sizeof(*w));
	while (s < e) {
		tok = s;
		while (s < e && *s != ' ')
			s++;
		eq = memchr(tok, '=', (size_t)(s - tok));
		if (eq != NULL) {
			klen = (size_t)(eq - tok);
			v = eq + 1;
			vlen = (size_t)(s - v);
			if (klen == 4 && memcmp(tok, "name", 4) == 0) {
				if (vlen == baselen &&
				    memcmp(v, base, baselen) == 0)
					match = 1;
				else if (vlen >= baselen + 3 &&
				    memcmp(v, base, baselen) == 0 &&
				    memcmp(v + baselen, ":w:", 3) == 0) {
					match = 1;
					snprintf(w->name, sizeof(w->name),
					    "%.*s", (int)(vlen - baselen - 3),
					    v + baselen + 3);
				}
			} else if (klen == 4 && memcmp(tok, "addr", 4) == 0)
				snprintf(w->addr, sizeof(w->addr), "%.*s",
				    (int)vlen, v);
			else if (klen == 3 && memcmp(tok, "age", 3) == 0)
				w->age = client_num(v, vlen);
			else if (klen == 4 && memcmp(tok, "idle", 4) == 0)
				w->idle = client_num(v, vlen);
		}
		while (s < e && *s == ' ')
			s++;
	}
	return match;
}

/* Call cb for each worker connection of the queue (Node's getWorkers). */
long
bullmq_workers(bullmq_queue *q,
    void (*cb)(const struct bullmq_worker_info *, void *), void *arg)
{
	struct bullmq_worker_info	 w;
	redisReply			*r;
	char				 base[BMQ_MAX_BASE * 2];
	const char			*s, *e, *nl;
	size_t				 baselen;
	long				 n = 0;

	if (bullmq_worker_client_name(q, NULL, base, sizeof(base)) == -1) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "queue name too long");
		return -1;
	}
	baselen = strlen(base);
	if ((r = bmq_command(q, "CLIENT LIST")) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_STRING) {
		bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "CLIENT LIST: unexpected "
		    "reply");
		freeReplyObject(r);
		return -1;
	}
	s = r->str;
	e = r->str + r->len;
	while (s < e) {
		if ((nl = memchr(s, '\n', (size_t)(e - s))) == NULL)
			nl = e;
		if (client_line(s, (size_t)(nl > s && nl[-1] == '\r' ?
		    nl - 1 - s : nl - s), base, baselen, &w)) {
			n++;
			if (cb != NULL)
				cb(&w, arg);
		}
		s = nl < e ? nl + 1 : e;
	}
	freeReplyObject(r);
	return n;
}

/* Hand one stream entry [id, [field, value, ...]] to cb; -1 if malformed. */
static int
event_entry(const redisReply *en, void (*cb)(const char *, size_t,
    const char **, const size_t *, void *), void *arg, char *last_id)
{
	const char	*sf[EVENT_FIELDS], **f = sf;
	size_t		 sl[EVENT_FIELDS], *l = sl, i, nf = 0;
	const redisReply *fr;

	if (en->type != REDIS_REPLY_ARRAY || en->elements != 2 ||
	    en->element[0]->type != REDIS_REPLY_STRING ||
	    en->element[0]->len >= 64)
		return -1;
	fr = en->element[1];
	if (fr->type == REDIS_REPLY_ARRAY)
		nf = fr->elements;
	else if (fr->type != REDIS_REPLY_NIL)
		return -1;
	if (nf > EVENT_FIELDS) {
		f = calloc(nf, sizeof(*f));
		l = calloc(nf, sizeof(*l));
		if (f == NULL || l == NULL) {
			free(f);
			free(l);
			return -1;
		}
	}
	for (i = 0; i < nf; i++) {
		if (fr->element[i]->type != REDIS_REPLY_STRING)
			break;
		f[i] = fr->element[i]->str;
		l[i] = fr->element[i]->len;
	}
	if (i == nf) {
		memcpy(last_id, en->element[0]->str, en->element[0]->len);
		last_id[en->element[0]->len] = '\0';
		if (cb != NULL)
			cb(last_id, nf, f, l, arg);
	}
	if (f != sf) {
		free(f);
		free(l);
	}
	return i == nf ? 0 : -1;
}

/* Set the connection's command timeout to ms. */
static void
set_timeout(bullmq_queue *q, int64_t ms)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	redisSetTimeout(q->rc, tv);
}

/* Read the event stream after last_id (XREAD [BLOCK]); see bullmq.h. */
long
bullmq_events_read(bullmq_queue *q, char *last_id, int block_ms,
    void (*cb)(const char *id, size_t nfields, const char **fields,
    const size_t *lens, void *), void *arg)
{
	redisReply	*r, *entries;
	char		 ms[24];
	size_t		 i;
	long		 n = 0;

	if (last_id == NULL || *last_id == '\0' || strlen(last_id) >= 64 ||
	    block_ms < 0) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "events: bad last id or block "
		    "time");
		return -1;
	}
	snprintf(ms, sizeof(ms), "%d", block_ms);
	if (q->rc == NULL && bullmq_queue_connect(q) == -1)
		return -1;
	if (block_ms > 0 && q->command_timeout_ms > 0)
		set_timeout(q, (int64_t)block_ms + 2000);
	if (block_ms > 0)
		r = bmq_command(q, "XREAD BLOCK %s STREAMS %b %s", ms,
		    q->keys[BMQ_K_EVENTS], q->keylens[BMQ_K_EVENTS], last_id);
	else
		r = bmq_command(q, "XREAD STREAMS %b %s",
		    q->keys[BMQ_K_EVENTS], q->keylens[BMQ_K_EVENTS], last_id);
	if (block_ms > 0 && q->command_timeout_ms > 0 && q->rc != NULL)
		set_timeout(q, q->command_timeout_ms);
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		return 0;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 1 ||
	    r->element[0]->type != REDIS_REPLY_ARRAY ||
	    r->element[0]->elements != 2 ||
	    (entries = r->element[0]->element[1])->type !=
	    REDIS_REPLY_ARRAY) {
		bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "XREAD: unexpected reply");
		freeReplyObject(r);
		return -1;
	}
	for (i = 0; i < entries->elements; i++) {
		if (event_entry(entries->element[i], cb, arg, last_id) == -1) {
			bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "XREAD: malformed "
			    "entry");
			freeReplyObject(r);
			return -1;
		}
		n++;
	}
	freeReplyObject(r);
	return n;
}

/*
 * Write the id of the newest entry of the event stream ("0-0" when it is
 * empty), to read from with bullmq_events_read without missing an entry
 * added between two reads as "$" would.  Returns 0 or -1.
 */
int
bullmq_events_last_id(bullmq_queue *q, char *buf, size_t size)
{
	redisReply	*r, *e;

	if (size < 64) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "events: an id needs 64 bytes");
		return -1;
	}
	if ((r = bmq_command(q, "XREVRANGE %b + - COUNT 1",
	    q->keys[BMQ_K_EVENTS], q->keylens[BMQ_K_EVENTS])) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "XREVRANGE: unexpected "
		    "reply");
		return -1;
	}
	strlcpy(buf, "0-0", size);
	if (r->elements == 1 && (e = r->element[0])->type ==
	    REDIS_REPLY_ARRAY && e->elements == 2 &&
	    e->element[0]->type == REDIS_REPLY_STRING)
		strlcpy(buf, e->element[0]->str, size);
	freeReplyObject(r);
	return 0;
}
