/*
 * scheduler.c: job schedulers from the producer's side, as Node's
 * Queue.upsertJobScheduler, getJobScheduler(s) and removeJobScheduler
 * leave and read them (BULLMQ-PROTOCOL.md 1.4): upsert-scheduler-10.lua
 * and remove-scheduler-3.lua write, plain reads list.  The worker's side,
 * the next iteration, is in worker.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"

#define MAX_SCHEDULER_ID	1024

/* Check a scheduler id given by a caller; -1 with the error set. */
static int
check_sid(bullmq_queue *q, const char *id)
{
	if (id == NULL || *id == '\0') {
		bmq_seterr(q, BULLMQ_ERR_ARG, "scheduler id is empty");
		return -1;
	}
	if (strlen(id) > MAX_SCHEDULER_ID) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "scheduler id %.32s...: longer "
		    "than %d bytes", id, MAX_SCHEDULER_ID);
		return -1;
	}
	return 0;
}

/* Check the options as Node's upsertJobScheduler does; -1 with the error. */
static int
check_opts(bullmq_queue *q, const struct bullmq_scheduler_opts *o,
    int64_t now)
{
	struct bullmq_add_opts	 ao;
	char			 err[256];

	if ((o->every > 0) == (o->pattern != NULL && *o->pattern != '\0')) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "a scheduler needs either every "
		    "or a pattern, not both");
		return -1;
	}
	if (o->every < 0 || o->offset < 0 || o->limit < 0 ||
	    o->start_date < 0 || o->end_date < 0) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "scheduler every, offset, limit "
		    "and dates must not be negative");
		return -1;
	}
	if (o->immediately && o->start_date > 0) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "scheduler: both immediately and "
		    "a start date");
		return -1;
	}
	if (o->end_date > 0 && o->end_date < now) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "scheduler: the end date is "
		    "past");
		return -1;
	}
	if (o->data != NULL && !bmq_json_valid(o->data, strlen(o->data))) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "scheduler data is not valid "
		    "JSON");
		return -1;
	}
	if (o->opts != NULL && bullmq_add_opts_parse(o->opts, strlen(o->opts),
	    &ao, err, sizeof(err)) == -1) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "scheduler template: %s", err);
		return -1;
	}
	return 0;
}

/*
 * The first time of a pattern scheduler as Node computes it: after now,
 * not before the start date, now itself when "immediately".  1 with *next,
 * 0 when there is none before the end date, -1 on error.
 */
static int
first_time(bullmq_queue *q, const struct bullmq_scheduler_opts *o,
    int64_t now, int64_t *next)
{
	char	err[256];

	if (o->immediately) {
		*next = now;
		return 1;
	}
	if (bullmq_cron_next(o->pattern, o->tz, o->hash_seed,
	    o->start_date > now ? o->start_date : now, next, err,
	    sizeof(err)) == -1) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "scheduler pattern: %s", err);
		return -1;
	}
	if (o->end_date > 0 && *next > o->end_date)
		return 0;
	if (*next < now)
		*next = now;
	return 1;
}

/* The repeat options as the script reads them, only those given. */
static void
repeat_json(struct bmq_buf *b, const struct bullmq_scheduler_opts *o)
{
	if (o->every > 0)
		bmq_buf_addf(b, "{\"every\":%lld", (long long)o->every);
	else {
		bmq_buf_adds(b, "{\"pattern\":");
		bmq_buf_add_jstr(b, o->pattern, strlen(o->pattern));
	}
	if (o->tz != NULL) {
		bmq_buf_adds(b, ",\"tz\":");
		bmq_buf_add_jstr(b, o->tz, strlen(o->tz));
	}
	if (o->hash_seed != NULL) {
		bmq_buf_adds(b, ",\"hashSeed\":");
		bmq_buf_add_jstr(b, o->hash_seed, strlen(o->hash_seed));
	}
	if (o->limit > 0)
		bmq_buf_addf(b, ",\"limit\":%ld", o->limit);
	if (o->start_date > 0)
		bmq_buf_addf(b, ",\"startDate\":%lld",
		    (long long)o->start_date);
	if (o->end_date > 0)
		bmq_buf_addf(b, ",\"endDate\":%lld", (long long)o->end_date);
	if (o->every > 0 && o->offset > 0)
		bmq_buf_addf(b, ",\"offset\":%lld", (long long)o->offset);
	bmq_buf_adds(b, "}");
}

/* Create or update a scheduler; see bullmq.h. */
int
bullmq_scheduler_upsert(bullmq_queue *q, const char *id,
    const struct bullmq_scheduler_opts *o, char *jobid, size_t size)
{
	static const enum bmq_key keys[] = { BMQ_K_REPEAT, BMQ_K_DELAYED,
	    BMQ_K_WAIT, BMQ_K_META, BMQ_K_PRIORITIZED, BMQ_K_MARKER,
	    BMQ_K_ID, BMQ_K_EVENTS, BMQ_K_PC, BMQ_K_ACTIVE };
	struct bmq_args		 a;
	struct bmq_buf		 rep;
	redisReply		*r;
	char			 nows[32], nexts[32];
	int64_t			 now, next;
	int			 rv;

	now = bullmq_now();
	if (check_sid(q, id) == -1 || o == NULL || check_opts(q, o, now) == -1)
		return -1;
	nexts[0] = '\0';
	if (o->every == 0) {
		if ((rv = first_time(q, o, now, &next)) != 1)
			return rv;
		snprintf(nexts, sizeof(nexts), "%lld", (long long)next);
	}
	snprintf(nows, sizeof(nows), "%lld", (long long)now);
	bmq_buf_init(&rep);
	repeat_json(&rep, o);
	if (bmq_buf_cstr(&rep) == NULL) {
		bmq_buf_free(&rep);
		bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
		return -1;
	}
	bmq_args_init(&a);
	bmq_args_keys(&a, q, keys, 10);
	bmq_args_key(&a, q, BMQ_K_BASE);
	bmq_args_adds(&a, id);
	bmq_args_adds(&a, nows);
	bmq_args_adds(&a, nexts);
	bmq_args_adds(&a, o->name != NULL ? o->name : id);
	bmq_args_add(&a, rep.b, rep.len);
	bmq_args_adds(&a, o->data != NULL ? o->data : "{}");
	bmq_args_adds(&a, o->opts != NULL ? o->opts : "{}");
	r = bmq_script(q, BMQ_LUA_UPSERT_SCHEDULER, &a);
	bmq_buf_free(&rep);
	if (r == NULL)
		return -1;
	rv = -1;
	if (r->type == REDIS_REPLY_INTEGER) {
		q->script_code = (int)r->integer;
		bmq_seterr(q, BULLMQ_ERR_JOB, "scheduler %s: %s", id,
		    r->integer == -10 ? "its iteration's job id is taken" :
		    r->integer == -11 ? "32 iteration slots in a row are taken" :
		    "script refused");
	} else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "script upsert-scheduler: "
		    "unexpected reply");
	else if (jobid != NULL && size > 0 && r->element[0]->len >= size)
		bmq_seterr(q, BULLMQ_ERR_ARG, "scheduler %s: the job id does "
		    "not fit in %zu bytes", id, size);
	else {
		if (jobid != NULL && size > 0) {
			memcpy(jobid, r->element[0]->str, r->element[0]->len);
			jobid[r->element[0]->len] = '\0';
		}
		rv = 1;
	}
	freeReplyObject(r);
	return rv;
}

/* Remove a scheduler; see bullmq.h. */
int
bullmq_scheduler_remove(bullmq_queue *q, const char *id)
{
	static const enum bmq_key keys[] = { BMQ_K_REPEAT, BMQ_K_DELAYED,
	    BMQ_K_EVENTS };
	struct bmq_args		 a;
	long long		 v;

	if (check_sid(q, id) == -1)
		return -1;
	bmq_args_init(&a);
	bmq_args_keys(&a, q, keys, 3);
	bmq_args_adds(&a, id);
	bmq_args_key(&a, q, BMQ_K_BASE);
	if (bmq_script_int(q, bmq_script(q, BMQ_LUA_REMOVE_SCHEDULER, &a),
	    &v) == -1)
		return -1;
	return v == 1;
}

/* A copy of a reply string, NULL when out of memory. */
static char *
rdup(const redisReply *r)
{
	char	*s;

	if ((s = malloc(r->len + 1)) == NULL)
		return NULL;
	memcpy(s, r->str, r->len);
	s[r->len] = '\0';
	return s;
}

/* A reply string as an integer, as Node's parseInt reads it; 0 if none. */
static int64_t
rnum(const redisReply *r)
{
	char	buf[32];
	size_t	n;

	n = r->len < sizeof(buf) - 1 ? r->len : sizeof(buf) - 1;
	memcpy(buf, r->str, n);
	buf[n] = '\0';
	return strtoll(buf, NULL, 10);
}

/*
 * Fill s from the fields of a scheduler's hash (HGETALL).  Returns 1, 0
 * when the hash is empty (a scheduler without one, which Node skips), -1
 * when out of memory or of a bad shape.
 */
static int
fill(struct bullmq_scheduler *s, const redisReply *h)
{
	const redisReply	*k, *v;
	size_t			 i;
	char			**dst;

	if (h->type != REDIS_REPLY_ARRAY || h->elements % 2 != 0)
		return -1;
	if (h->elements == 0)
		return 0;
	for (i = 0; i < h->elements; i += 2) {
		k = h->element[i];
		v = h->element[i + 1];
		if (k->type != REDIS_REPLY_STRING ||
		    v->type != REDIS_REPLY_STRING)
			return -1;
		dst = NULL;
#define IS(w)	(k->len == strlen(w) && memcmp(k->str, w, k->len) == 0)
		if (IS("name"))
			dst = &s->name;
		else if (IS("pattern"))
			dst = &s->pattern;
		else if (IS("tz"))
			dst = &s->tz;
		else if (IS("data"))
			dst = &s->data;
		else if (IS("opts"))
			dst = &s->opts;
		else if (IS("ic"))
			s->iteration_count = (long)rnum(v);
		else if (IS("limit"))
			s->limit = (long)rnum(v);
		else if (IS("every"))
			s->every = rnum(v);
		else if (IS("offset"))
			s->offset = rnum(v);
		else if (IS("startDate"))
			s->start_date = rnum(v);
		else if (IS("endDate"))
			s->end_date = rnum(v);
#undef IS
		if (dst != NULL) {
			free(*dst);
			if ((*dst = rdup(v)) == NULL)
				return -1;
		}
	}
	return 1;
}

/* Free the strings of one scheduler. */
static void
clear_one(struct bullmq_scheduler *s)
{
	free(s->id);
	free(s->name);
	free(s->pattern);
	free(s->tz);
	free(s->data);
	free(s->opts);
}

/*
 * Read the scheduler id with its next time from its hash into s.  1, 0
 * when it has no hash, -1 with the error set.
 */
static int
read_one(bullmq_queue *q, const redisReply *id, int64_t next,
    struct bullmq_scheduler *s)
{
	redisReply	*h;
	int		 rv;

	memset(s, 0, sizeof(*s));
	if ((h = bmq_command(q, "HGETALL %s:%b", q->keys[BMQ_K_REPEAT],
	    id->str, id->len)) == NULL)
		return -1;
	rv = fill(s, h);
	freeReplyObject(h);
	if (rv == 1 && (s->id = rdup(id)) == NULL)
		rv = -1;
	if (rv == -1)
		bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "scheduler %.*s: out of "
		    "memory or a hash of a bad shape", (int)id->len, id->str);
	if (rv != 1) {
		clear_one(s);
		memset(s, 0, sizeof(*s));
	}
	s->next = next;
	return rv;
}

/* Free n schedulers and their array; see bullmq.h. */
void
bullmq_schedulers_free(struct bullmq_scheduler *s, long n)
{
	long	i;

	if (s == NULL)
		return;
	for (i = 0; i < n; i++)
		clear_one(&s[i]);
	free(s);
}

/* One scheduler; see bullmq.h. */
int
bullmq_scheduler_get(bullmq_queue *q, const char *id,
    struct bullmq_scheduler **out)
{
	redisReply	*sc, idr;
	int		 rv;

	*out = NULL;
	if (check_sid(q, id) == -1)
		return -1;
	if ((sc = bmq_command(q, "ZSCORE %s %s", q->keys[BMQ_K_REPEAT],
	    id)) == NULL)
		return -1;
	if (sc->type != REDIS_REPLY_STRING) {
		freeReplyObject(sc);
		return 0;
	}
	if ((*out = calloc(1, sizeof(**out))) == NULL) {
		freeReplyObject(sc);
		bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
		return -1;
	}
	memset(&idr, 0, sizeof(idr));
	idr.type = REDIS_REPLY_STRING;
	idr.str = (char *)id;
	idr.len = strlen(id);
	rv = read_one(q, &idr, rnum(sc), *out);
	freeReplyObject(sc);
	if (rv != 1) {
		free(*out);
		*out = NULL;
	}
	return rv;
}

/* A range of schedulers; see bullmq.h. */
long
bullmq_scheduler_list(bullmq_queue *q, long start, long end, int asc,
    struct bullmq_scheduler **out)
{
	redisReply	*z;
	long		 n = 0;
	size_t		 i;
	int		 rv;

	*out = NULL;
	if ((z = bmq_command(q, "%s %s %ld %ld WITHSCORES", asc ? "ZRANGE" :
	    "ZREVRANGE", q->keys[BMQ_K_REPEAT], start, end)) == NULL)
		return -1;
	if (z->type != REDIS_REPLY_ARRAY || z->elements % 2 != 0) {
		freeReplyObject(z);
		bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "scheduler list: "
		    "unexpected reply");
		return -1;
	}
	if (z->elements > 0 &&
	    (*out = calloc(z->elements / 2, sizeof(**out))) == NULL) {
		freeReplyObject(z);
		bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
		return -1;
	}
	for (i = 0; i < z->elements; i += 2) {
		if (z->element[i]->type != REDIS_REPLY_STRING ||
		    z->element[i + 1]->type != REDIS_REPLY_STRING) {
			bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "scheduler list: "
			    "unexpected reply");
			rv = -1;
		} else
			rv = read_one(q, z->element[i],
			    rnum(z->element[i + 1]), &(*out)[n]);
		if (rv == -1) {
			freeReplyObject(z);
			bullmq_schedulers_free(*out, n);
			*out = NULL;
			return -1;
		}
		if (rv == 1)
			n++;
	}
	freeReplyObject(z);
	if (n == 0) {
		free(*out);
		*out = NULL;
	}
	return n;
}
