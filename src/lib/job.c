/*
 * job.c: the job handle, its fields and options, backoff and retention.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"

/* Copy n bytes into a new NUL-terminated string. */
static char *
dupn(const char *s, size_t n)
{
	char	*d;

	if ((d = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/*
 * A new job with id and room for nf fields whose names and values take
 * text bytes (their NULs included): one block holds the length, name and
 * value arrays, then the text, which *textp points at.  NULL when out of
 * memory.
 */
static bullmq_job *
job_alloc(bullmq_queue *q, const char *id, size_t idlen, size_t nf,
    size_t text, char **textp)
{
	bullmq_job	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	j->q = q;
	if ((j->id = dupn(id, idlen)) == NULL || (nf > 0 &&
	    (j->fvlen = malloc(nf * (2 * sizeof(char *) + sizeof(size_t)) +
	    text)) == NULL)) {
		bullmq_job_free(j);
		return NULL;
	}
	*textp = NULL;
	if (nf > 0) {
		j->fk = (char **)(j->fvlen + nf);
		j->fv = j->fk + nf;
		*textp = (char *)(j->fv + nf);
	}
	j->nf = nf;
	j->fetched_at = bullmq_now();
	return j;
}

/*
 * Make a job from its id and a flat array of field names and values (an
 * HGETALL reply).  Returns NULL when out of memory or when r is not such an
 * array.
 */
bullmq_job *
bmq_job_from_hash(bullmq_queue *q, const char *id, size_t idlen,
    const redisReply *r)
{
	const redisReply	*k, *v;
	bullmq_job		*j;
	size_t			 i, nf, size;
	char			*p;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0)
		return NULL;
	nf = r->elements / 2;
	size = 0;
	for (i = 0; i < r->elements; i++) {
		if (r->element[i]->type != REDIS_REPLY_STRING)
			return NULL;
		size += r->element[i]->len + 1;
	}
	if ((j = job_alloc(q, id, idlen, nf, size, &p)) == NULL)
		return NULL;
	for (i = 0; i < nf; i++) {
		k = r->element[2 * i];
		v = r->element[2 * i + 1];
		j->fk[i] = p;
		memcpy(p, k->str, k->len);
		p += k->len;
		*p++ = '\0';
		j->fv[i] = p;
		j->fvlen[i] = v->len;
		memcpy(p, v->str, v->len);
		p += v->len;
		*p++ = '\0';
	}
	return j;
}

/*
 * Make a job from its id and its hash as the fetching scripts send it: the
 * n strings of an HGETALL reply joined with NULs, in s of len bytes.
 * Returns NULL when out of memory, or with *bad set when s does not hold n
 * strings (a field with a NUL in it).
 */
bullmq_job *
bmq_job_from_packed(bullmq_queue *q, const char *id, size_t idlen,
    const char *s, size_t len, long long n, int *bad)
{
	const char	*p, *e = s + len, *z;
	bullmq_job	*j;
	size_t		 i, nf;
	char		*d;

	*bad = 0;
	if (n < 0 || n % 2 != 0 || (n == 0 && len != 0) ||
	    (size_t)n > len + 1) {
		*bad = 1;
		return NULL;
	}
	/* the NULs: n - 1 of them */
	for (i = 0, p = s; n > 0 && p <= e; i++) {
		if ((z = memchr(p, '\0', (size_t)(e - p))) == NULL)
			z = e;
		p = z + 1;
	}
	if ((long long)i != n) {
		*bad = 1;
		return NULL;
	}
	nf = (size_t)n / 2;
	if ((j = job_alloc(q, id, idlen, nf, len + 1, &d)) == NULL)
		return NULL;
	/* the text as it came, its NULs ending each name and value */
	if (nf > 0) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	for (i = 0; i < nf; i++) {
		j->fk[i] = d;
		d += strlen(d) + 1;
		j->fv[i] = d;
		j->fvlen[i] = strlen(d);
		d += j->fvlen[i] + 1;
	}
	return j;
}

/* Free a job; NULL is accepted. */
void
bullmq_job_free(bullmq_job *j)
{
	if (j == NULL)
		return;
	free(j->fvlen);		/* the block of every field */
	free(j->id);
	free(j->result);
	free(j->reason);
	free(j);
}

/* The job's id. */
const char *
bullmq_job_id(const bullmq_job *j)
{
	return j->id;
}

/* A field of the job hash, or NULL. */
const char *
bullmq_job_field(const bullmq_job *j, const char *name, size_t *len)
{
	size_t	i;

	for (i = 0; i < j->nf; i++)
		if (strcmp(j->fk[i], name) == 0) {
			if (len != NULL)
				*len = j->fvlen[i];
			return j->fv[i];
		}
	if (len != NULL)
		*len = 0;
	return NULL;
}

/* The job's name ("" when missing). */
const char *
bullmq_job_name(const bullmq_job *j)
{
	const char	*s = bullmq_job_field(j, "name", NULL);

	return s != NULL ? s : "";
}

/* The job's data as JSON text, or NULL when missing. */
const char *
bullmq_job_data(const bullmq_job *j, size_t *len)
{
	return bullmq_job_field(j, "data", len);
}

/* The job's stored options as JSON text, or NULL when missing. */
const char *
bullmq_job_opts(const bullmq_job *j, size_t *len)
{
	return bullmq_job_field(j, "opts", len);
}

/* The lock token the job is held with ("" when none). */
const char *
bullmq_job_token(const bullmq_job *j)
{
	return j->token;
}

/* A field read as an integer, or def when missing or not a number. */
long
bmq_job_long(const bullmq_job *j, const char *name, long def)
{
	const char	*s;
	char		*end;
	long		 v;

	if ((s = bullmq_job_field(j, name, NULL)) == NULL || *s == '\0')
		return def;
	v = strtol(s, &end, 10);
	return *end == '\0' ? v : def;
}

/* Attempts made: atm, or the legacy attemptsMade that Node prefers. */
long
bullmq_job_attempts_made(const bullmq_job *j)
{
	long	v;

	if ((v = bmq_job_long(j, "attemptsMade", -1)) >= 0)
		return v;
	return bmq_job_long(j, "atm", 0);
}

/* Attempts started: ats. */
long
bullmq_job_attempts_started(const bullmq_job *j)
{
	return bmq_job_long(j, "ats", 0);
}

/* opts.attempts, 0 when missing. */
long
bullmq_job_attempts(const bullmq_job *j)
{
	struct bmq_jval	 v;
	const char	*o;
	size_t		 len;
	int64_t		 n;

	if ((o = bullmq_job_opts(j, &len)) == NULL ||
	    bmq_json_get(o, len, "attempts", &v) != 1 ||
	    bmq_jval_int(&v, &n) == -1 || n < 0)
		return 0;
	return n > 1000000000 ? 1000000000 : (long)n;
}

/* The creation timestamp, 0 when missing. */
int64_t
bullmq_job_timestamp(const bullmq_job *j)
{
	const char	*s;

	if ((s = bullmq_job_field(j, "timestamp", NULL)) == NULL)
		return 0;
	return strtoll(s, NULL, 10);
}

/* How many fields the job hash has. */
size_t
bullmq_job_nfields(const bullmq_job *j)
{
	return j->nf;
}

/* Field i of the job hash in HGETALL order; -1 past the end. */
int
bullmq_job_field_at(const bullmq_job *j, size_t i, const char **name,
    const char **value, size_t *len)
{
	if (i >= j->nf)
		return -1;
	*name = j->fk[i];
	*value = j->fv[i];
	if (len != NULL)
		*len = j->fvlen[i];
	return 0;
}

/* Set the processor's return value, which must be valid JSON. */
int
bullmq_job_return(bullmq_job *j, const char *json, size_t len)
{
	char	*s;

	if (json == NULL) {
		free(j->result);
		j->result = NULL;
		j->resultlen = 0;
		return 0;
	}
	if (!bmq_json_valid(json, len))
		return -1;
	if ((s = dupn(json, len)) == NULL)
		return -1;
	free(j->result);
	j->result = s;
	j->resultlen = len;
	return 0;
}

/* Set the processor's failure reason. */
int
bullmq_job_error(bullmq_job *j, const char *reason, int unrecoverable)
{
	char	*s;

	if ((s = strdup(reason != NULL ? reason : "failed")) == NULL)
		return -1;
	free(j->reason);
	j->reason = s;
	j->unrecoverable = unrecoverable;
	return 0;
}

/* The return value set by bullmq_job_return, or NULL (null) when none. */
const char *
bullmq_job_result(const bullmq_job *j, size_t *len)
{
	if (len != NULL)
		*len = j->result != NULL ? j->resultlen : 0;
	return j->result;
}

/* The reason set by bullmq_job_error, or NULL ("failed") when none. */
const char *
bullmq_job_reason(const bullmq_job *j, int *unrecoverable)
{
	if (unrecoverable != NULL)
		*unrecoverable = j->reason != NULL ? j->unrecoverable : 0;
	return j->reason;
}

/*
 * Write a retention option in its stored JSON form: false, true, N or
 * {"age":A,"count":C,"limit":L}.  Returns 0, or -1 when unset.
 */
int
bmq_keep_encode(const struct bullmq_keep *k, struct bmq_buf *b)
{
	switch (k->mode) {
	case BULLMQ_KEEP_ALL:
		bmq_buf_adds(b, "false");
		return 0;
	case BULLMQ_KEEP_NONE:
		bmq_buf_adds(b, "true");
		return 0;
	case BULLMQ_KEEP_COUNT:
		bmq_buf_addf(b, "%ld", k->count);
		return 0;
	case BULLMQ_KEEP_AGE:
		bmq_buf_addf(b, "{\"age\":%ld", k->age);
		if (k->count > 0)
			bmq_buf_addf(b, ",\"count\":%ld", k->count);
		if (k->limit > 0)
			bmq_buf_addf(b, ",\"limit\":%ld", k->limit);
		bmq_buf_adds(b, "}");
		return 0;
	default:
		return -1;
	}
}

/*
 * Read a retention option (removeOnComplete or removeOnFail, named by key)
 * from stored opts JSON.  Absent or malformed gives BULLMQ_KEEP_UNSET.
 * Returns 0.
 */
int
bmq_keep_from_opts(const char *opts, size_t len, const char *key,
    struct bullmq_keep *k)
{
	struct bmq_jval	 v, f;
	char		 path[64];
	int64_t		 n;

	memset(k, 0, sizeof(*k));
	if (opts == NULL || bmq_json_get(opts, len, key, &v) != 1)
		return 0;
	switch (v.type) {
	case BMQ_J_TRUE:
		k->mode = BULLMQ_KEEP_NONE;
		break;
	case BMQ_J_FALSE:
		k->mode = BULLMQ_KEEP_ALL;
		break;
	case BMQ_J_NUMBER:
		if (bmq_jval_int(&v, &n) == -1)
			break;
		if (n <= 0)
			k->mode = BULLMQ_KEEP_NONE;
		else {
			k->mode = BULLMQ_KEEP_COUNT;
			k->count = (long)n;
		}
		break;
	case BMQ_J_OBJECT:
		k->mode = BULLMQ_KEEP_AGE;
		snprintf(path, sizeof(path), "%s.age", key);
		if (bmq_json_get(opts, len, path, &f) == 1 &&
		    bmq_jval_int(&f, &n) == 0 && n > 0)
			k->age = (long)n;
		snprintf(path, sizeof(path), "%s.count", key);
		if (bmq_json_get(opts, len, path, &f) == 1 &&
		    bmq_jval_int(&f, &n) == 0 && n > 0)
			k->count = (long)n;
		snprintf(path, sizeof(path), "%s.limit", key);
		if (bmq_json_get(opts, len, path, &f) == 1 &&
		    bmq_jval_int(&f, &n) == 0 && n > 0)
			k->limit = (long)n;
		if (k->age == 0) {
			/* {count} alone behaves as a count */
			k->mode = k->count > 0 ? BULLMQ_KEEP_COUNT :
			    BULLMQ_KEEP_ALL;
		}
		break;
	default:
		break;
	}
	return 0;
}

/*
 * The delay before retry number n (1 for the first retry), as Node computes
 * it: fixed delay, or round(2^(n-1) * delay); with jitter j in (0, 1] the
 * value becomes floor(r * d * j + d * (1 - j)) for r in [0, 1).
 */
int64_t
bmq_backoff_delay(enum bullmq_backoff_type type, int64_t delay, double jitter,
    long n, double r)
{
	double	d;

	switch (type) {
	case BULLMQ_BACKOFF_FIXED:
		d = (double)delay;
		break;
	case BULLMQ_BACKOFF_EXPONENTIAL:
		if (n < 1)
			n = 1;
		if (n > 62)
			n = 62;
		d = round(pow(2.0, (double)(n - 1)) * (double)delay);
		break;
	default:
		return 0;
	}
	if (jitter > 0) {
		if (jitter > 1)
			jitter = 1;
		d = floor(r * d * jitter + d * (1 - jitter));
	}
	if (d > 9007199254740991.0)
		d = 9007199254740991.0;
	return d < 0 ? 0 : (int64_t)d;
}
