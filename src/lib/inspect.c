/*
 * inspect.c: what an operator reads of a queue besides its counts: a page
 * of the jobs of one state (Node's Queue.getJobs and its per-state
 * getters), a job's log lines (Queue.getJobLogs) and whether the queue
 * exists at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"

/* One state bullmq_get_jobs lists: its key, its type, its getter's order. */
struct state_kind {
	const char	*name;
	enum bmq_key	 key;
	int		 list;	/* a list, else a sorted set */
	int		 asc;	/* Node's getter: oldest or lowest first */
};

static const struct state_kind	states[] = {
	{ "wait",		BMQ_K_WAIT,		1, 1 },
	{ "waiting",		BMQ_K_WAIT,		1, 1 },
	{ "active",		BMQ_K_ACTIVE,		1, 1 },
	{ "paused",		BMQ_K_PAUSED,		1, 1 },
	{ "delayed",		BMQ_K_DELAYED,		0, 1 },
	{ "prioritized",	BMQ_K_PRIORITIZED,	0, 1 },
	{ "waiting-children",	BMQ_K_WAITING_CHILDREN,	0, 1 },
	{ "completed",		BMQ_K_COMPLETED,	0, 0 },
	{ "failed",		BMQ_K_FAILED,		0, 0 },
	{ NULL,			BMQ_K_BASE,		0, 0 }
};

/* The keys whose existence makes a queue exist. */
static const enum bmq_key	exist_keys[] = { BMQ_K_META, BMQ_K_ID,
	BMQ_K_WAIT, BMQ_K_ACTIVE, BMQ_K_PAUSED, BMQ_K_DELAYED,
	BMQ_K_PRIORITIZED, BMQ_K_WAITING_CHILDREN, BMQ_K_COMPLETED,
	BMQ_K_FAILED };
#define NEXIST	(sizeof(exist_keys) / sizeof(exist_keys[0]))

#define MAX_RANGE	(1L << 40)	/* more than any list holds */

/*
 * Bound a page so that its ends are exact integers in Lua and do not
 * overflow here: a count past MAX_RANGE is all, a start past it is past
 * the end of any list.
 */
static void
clamp_range(long *start, long *count)
{
	if (*count > MAX_RANGE)
		*count = 0;
	if (*start > MAX_RANGE)
		*start = MAX_RANGE;
}

/*
 * Call cb for a page of the jobs of a state, in the order of order
 * (BULLMQ_ORDER_*); see bullmq.h.  Returns how many, or -1.
 */
long
bullmq_get_jobs(bullmq_queue *q, const char *state, long start, long count,
    int order, void (*cb)(const bullmq_job *, int64_t, void *), void *arg)
{
	const struct state_kind	*s;
	struct bmq_args		 a;
	redisReply		*r, *id, *h, *sc;
	bullmq_job		*job;
	char			 sstart[24], scount[24], num[64];
	int64_t			 score;
	size_t			 i;
	int			 asc;

	for (s = states; state != NULL && s->name != NULL; s++)
		if (strcmp(state, s->name) == 0)
			break;
	if (state == NULL || s->name == NULL) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "jobs: unknown state %s",
		    state != NULL ? state : "(null)");
		return -1;
	}
	if (start < 0 || count < 0) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "jobs: negative start or count");
		return -1;
	}
	clamp_range(&start, &count);
	asc = order == BULLMQ_ORDER_ASC ||
	    (order != BULLMQ_ORDER_DESC && s->asc);
	snprintf(sstart, sizeof(sstart), "%ld", start);
	snprintf(scount, sizeof(scount), "%ld", count);
	bmq_args_init(&a);
	bmq_args_key(&a, q, s->key);
	bmq_args_key(&a, q, BMQ_K_BASE);
	bmq_args_adds(&a, s->list ? "list" : "zset");
	bmq_args_adds(&a, sstart);
	bmq_args_adds(&a, scount);
	bmq_args_adds(&a, asc ? "asc" : "desc");
	if ((r = bmq_script(q, BMQ_LUA_GET_JOBS, &a)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements % 3 != 0)
		goto bad;
	for (i = 0; i < r->elements; i += 3) {
		id = r->element[i];
		h = r->element[i + 1];
		sc = r->element[i + 2];
		if (id->type != REDIS_REPLY_STRING || h->type !=
		    REDIS_REPLY_ARRAY || id->len > BULLMQ_MAX_ID ||
		    sc->type != REDIS_REPLY_STRING || sc->len >= sizeof(num))
			goto bad;
	}
	for (i = 0; i < r->elements; i += 3) {
		id = r->element[i];
		sc = r->element[i + 2];
		memcpy(num, sc->str, sc->len);
		num[sc->len] = '\0';
		score = sc->len > 0 ? (int64_t)strtod(num, NULL) : 0;
		job = bmq_job_from_hash(q, id->str, id->len, r->element[i + 1]);
		if (job == NULL) {
			bmq_seterr(q, BULLMQ_ERR_NOMEM, "job %.*s: out of "
			    "memory or a malformed hash", (int)id->len,
			    id->str);
			freeReplyObject(r);
			return -1;
		}
		if (cb != NULL)
			cb(job, score, arg);
		bullmq_job_free(job);
	}
	freeReplyObject(r);
	return (long)(i / 3);
bad:
	bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "script get-jobs: unexpected reply");
	freeReplyObject(r);
	return -1;
}

/*
 * Call cb for the log lines of job id from start, at most count (0: all),
 * oldest first or, with desc, newest first, as Queue.getJobLogs; *total
 * (when not NULL) gets how many lines the job has.  Returns how many lines
 * cb got, or -1.
 */
long
bullmq_get_logs(bullmq_queue *q, const char *id, long start, long count,
    int desc, void (*cb)(const char *, size_t, void *), void *arg,
    long *total)
{
	struct bmq_args	 a;
	char		 key[BMQ_MAX_BASE + BMQ_MAX_ID + 8];
	char		 from[24], to[24];
	redisReply	*r, *lines;
	long		 end, n;
	size_t		 i;
	int		 kl;

	if (bmq_check_id(q, id) == -1)
		return -1;
	if (start < 0 || count < 0) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "logs: negative start or count");
		return -1;
	}
	clamp_range(&start, &count);
	if ((kl = bmq_job_key(q, id, key, sizeof(key) - 5)) == -1) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "job id %s: key too long", id);
		return -1;
	}
	memcpy(key + kl, ":logs", 6);
	end = count == 0 ? -1 : start + count - 1;
	/* newest first: the same page counted from the end, turned round */
	if (desc) {
		snprintf(from, sizeof(from), "%ld", -(end + 1));
		snprintf(to, sizeof(to), "%ld", -(start + 1));
	} else {
		snprintf(from, sizeof(from), "%ld", start);
		snprintf(to, sizeof(to), "%ld", end);
	}
	bmq_args_init(&a);
	bmq_args_add(&a, key, (size_t)kl + 5);
	bmq_args_adds(&a, from);
	bmq_args_adds(&a, to);
	if ((r = bmq_script(q, BMQ_LUA_GET_LOGS, &a)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    (lines = r->element[0])->type != REDIS_REPLY_ARRAY ||
	    r->element[1]->type != REDIS_REPLY_INTEGER) {
		bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "logs: unexpected reply");
		freeReplyObject(r);
		return -1;
	}
	for (i = 0; i < lines->elements; i++)
		if (lines->element[i]->type != REDIS_REPLY_STRING) {
			bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "logs: unexpected "
			    "reply");
			freeReplyObject(r);
			return -1;
		}
	n = (long)lines->elements;
	for (i = 0; cb != NULL && i < lines->elements; i++) {
		cb(lines->element[desc ? lines->elements - 1 - i : i]->str,
		    lines->element[desc ? lines->elements - 1 - i : i]->len,
		    arg);
	}
	if (total != NULL)
		*total = (long)r->element[1]->integer;
	freeReplyObject(r);
	return n;
}

/*
 * Does the queue exist: has it a meta or id key, or a key of any state?
 * 1 yes, 0 no, -1 on error.
 */
int
bullmq_queue_exists(bullmq_queue *q)
{
	const char	*argv[NEXIST + 1];
	size_t		 lens[NEXIST + 1], i;
	redisReply	*r;
	long long	 n;

	argv[0] = "EXISTS";
	lens[0] = 6;
	for (i = 0; i < NEXIST; i++) {
		argv[i + 1] = q->keys[exist_keys[i]];
		lens[i + 1] = q->keylens[exist_keys[i]];
	}
	if ((r = bmq_commandv(q, (int)NEXIST + 1, argv, lens)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_INTEGER) {
		bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "EXISTS: unexpected reply");
		freeReplyObject(r);
		return -1;
	}
	n = r->integer;
	freeReplyObject(r);
	return n > 0;
}
