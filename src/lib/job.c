/*
 * job.c: the job handle, its fields, its options read once, and backoff.
 */
#include <errno.h>
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

/* Is the member's key the word w? */
static int
keyis(const struct bmq_jmember *m, const char *w)
{
	return m->klen == strlen(w) && memcmp(m->k, w, m->klen) == 0;
}

/* An integer value, or def when it is not one. */
static int64_t
int_or(const struct bmq_jval *v, int64_t def)
{
	int64_t	n;

	return bmq_jval_int(v, &n) == 0 ? n : def;
}

/*
 * Read backoff as Node's Job normalises it: a finite number is a fixed
 * delay, an object names its type; anything else, or a type other than
 * fixed and exponential, retries at once (where Node's worker throws).
 */
static void
read_backoff(const struct bmq_jval *v, struct bmq_job_opts *o)
{
	struct bmq_jmember	 f;
	const char		*p = v->p;

	o->backoff_type = BULLMQ_BACKOFF_NONE;
	memset(&o->backoff_delay, 0, sizeof(o->backoff_delay));
	o->backoff_jitter = 0;
	memset(&o->backoff_custom, 0, sizeof(o->backoff_custom));
	if (v->type == BMQ_J_NUMBER) {
		o->backoff_type = BULLMQ_BACKOFF_FIXED;
		o->backoff_delay = *v;
		return;
	}
	if (v->type != BMQ_J_OBJECT)
		return;
	while (bmq_json_next(&p, v->p + v->len, &f)) {
		if (keyis(&f, "type")) {
			o->backoff_type = BULLMQ_BACKOFF_NONE;
			memset(&o->backoff_custom, 0, sizeof(o->backoff_custom));
			if (f.v.type != BMQ_J_STRING)
				continue;
			if (f.v.len == 5 && memcmp(f.v.p, "fixed", 5) == 0)
				o->backoff_type = BULLMQ_BACKOFF_FIXED;
			else if (f.v.len == 11 &&
			    memcmp(f.v.p, "exponential", 11) == 0)
				o->backoff_type = BULLMQ_BACKOFF_EXPONENTIAL;
			else
				o->backoff_custom = f.v;
		} else if (keyis(&f, "delay"))
			o->backoff_delay = f.v;
		else if (keyis(&f, "jitter")) {
			o->backoff_jitter = bmq_jval_jsnum(&f.v);
			if (isnan(o->backoff_jitter))
				o->backoff_jitter = 0;
		}
	}
}

/*
 * Read stackTraceLimit as Node applies it: exactly 0 keeps no entry, a
 * falsy value keeps all, else slice(-limit): the newest N for a positive
 * N (cut to an integer), the oldest -N dropped for a negative one.
 */
static void
read_stack_limit(const struct bmq_jval *v, struct bmq_job_opts *o)
{
	double	d;

	o->stack_trace_limit = -1;
	o->stack_trace_drop = 0;
	if (v->type == BMQ_J_NUMBER && bmq_jval_double(v, &d) == 0 &&
	    d == 0) {
		o->stack_trace_limit = 0;
		return;
	}
	if (!bmq_jval_truthy(v))
		return;
	d = trunc(bmq_jval_jsnum(v));
	if (isnan(d) || d == 0)
		return;
	if (d > 1e15)
		d = 1e15;
	if (d < -1e15)
		d = -1e15;
	if (d > 0)
		o->stack_trace_limit = (int64_t)d;
	else
		o->stack_trace_drop = (int64_t)-d;
}

/* Read repeat: the fields of a cron scheduler's next time. */
static void
read_repeat(const struct bmq_jval *v, struct bmq_job_opts *o)
{
	struct bmq_jmember	 f;
	const char		*p = v->p;

	memset(&o->repeat_pattern, 0, sizeof(o->repeat_pattern));
	memset(&o->repeat_tz, 0, sizeof(o->repeat_tz));
	memset(&o->repeat_seed, 0, sizeof(o->repeat_seed));
	o->repeat_count = 0;
	o->repeat_limit = -1;
	o->repeat_start = o->repeat_end = 0;
	if (v->type != BMQ_J_OBJECT)
		return;
	while (bmq_json_next(&p, v->p + v->len, &f)) {
		if (keyis(&f, "pattern"))
			o->repeat_pattern = f.v;
		else if (keyis(&f, "tz"))
			o->repeat_tz = f.v;
		else if (keyis(&f, "hashSeed"))
			o->repeat_seed = f.v;
		else if (keyis(&f, "count"))
			o->repeat_count = int_or(&f.v, 0);
		else if (keyis(&f, "limit"))
			o->repeat_limit = int_or(&f.v, -1);
		else if (keyis(&f, "startDate"))
			o->repeat_start = int_or(&f.v, 0);
		else if (keyis(&f, "endDate"))
			o->repeat_end = int_or(&f.v, 0);
	}
}

/*
 * Read what the library uses of a job's stored options (JSON text of len
 * bytes; NULL or not valid JSON reads as {}) into o, in one walk over the
 * text.  Of a repeated key the last one decides.  o's JSON values point
 * into the text.
 */
void
bmq_job_opts_read(const char *s, size_t len, struct bmq_job_opts *o)
{
	struct bmq_jmember	 m;
	const char		*p = s;
	double			 d;

	/* what read_repeat leaves for no repeat, and the rest of {} */
	memset(o, 0, sizeof(*o));
	o->attempts_lua = 1;
	o->stack_trace_limit = -1;
	o->repeat_limit = -1;
	if (s == NULL || !bmq_json_valid(s, len) ||
	    bmq_json_type(s, len) != BMQ_J_OBJECT)
		return;
	while (bmq_json_next(&p, s + len, &m)) {
		if (keyis(&m, "attempts")) {
			/* Node retries while attemptsMade + 1 < attempts */
			d = ceil(bmq_jval_jsnum(&m.v));
			o->attempts = !(d > 0) ? 0 : d > 1e9 ? 1000000000 :
			    (long)d;
			/* Node's finishing script compares it as a number */
			o->attempts_lua = m.v.type == BMQ_J_NUMBER ||
			    (m.v.type == BMQ_J_STRING && m.v.len > 0 &&
			    !isnan(bmq_jval_jsnum(&m.v)) &&
			    strspn(m.v.p, " \t\n\r") < m.v.len);
		} else if (keyis(&m, "backoff"))
			read_backoff(&m.v, o);
		else if (keyis(&m, "removeOnComplete"))
			bmq_keep_from_json(&m.v, "removeOnComplete", 0,
			    &o->keep_complete, NULL, 0);
		else if (keyis(&m, "removeOnFail"))
			bmq_keep_from_json(&m.v, "removeOnFail", 0,
			    &o->keep_fail, NULL, 0);
		else if (keyis(&m, "kl")) {
			/* given to the log script when truthy, as in Node */
			o->keep_logs = bmq_jval_truthy(&m.v) ?
			    bmq_jval_jsnum(&m.v) : 0;
			if (isnan(o->keep_logs) || isinf(o->keep_logs))
				o->keep_logs = 0;
		} else if (keyis(&m, "stackTraceLimit"))
			read_stack_limit(&m.v, o);
		else if (keyis(&m, "lifo"))
			o->lifo = bmq_jval_truthy(&m.v);
		else if (keyis(&m, "repeat"))
			read_repeat(&m.v, o);
		else if (keyis(&m, "prevMillis"))
			o->prev_millis = int_or(&m.v, 0);
	}
}

/* Read the job's "opts" field into j->o. */
static void
job_read_opts(bullmq_job *j)
{
	const char	*s;
	size_t		 len;

	s = bullmq_job_field(j, "opts", &len);
	bmq_job_opts_read(s, len, &j->o);
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
	job_read_opts(j);
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
	job_read_opts(j);
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

/*
 * A field read as an integer, or def when missing, not a number, out of
 * range or holding a NUL (its text is the whole value, not a prefix).
 */
long
bmq_job_long(const bullmq_job *j, const char *name, long def)
{
	const char	*s;
	char		*end;
	size_t		 len;
	long		 v;

	if ((s = bullmq_job_field(j, name, &len)) == NULL || len == 0 ||
	    strlen(s) != len)
		return def;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno == ERANGE)
		return def;
	return v;
}

/*
 * Attempts made: atm, or the legacy attemptsMade when larger (only atm
 * grows, so a stale attemptsMade must not hold the count back), never
 * negative.
 */
long
bullmq_job_attempts_made(const bullmq_job *j)
{
	long	atm, legacy;

	atm = bmq_job_long(j, "atm", 0);
	legacy = bmq_job_long(j, "attemptsMade", 0);
	if (legacy > atm)
		atm = legacy;
	return atm < 0 ? 0 : atm;
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
	return j->o.attempts;
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
 * The delay before retry number n (1 for the first retry) in JavaScript's
 * arithmetic, as Node computes it: the fixed delay, or
 * Math.round(2^(n-1) * delay); with jitter j > 0 the value becomes
 * floor(r * d * j + d * (1 - j)) for r in [0, 1).  NaN when the delay is
 * no number.
 */
double
bmq_backoff_delay(enum bullmq_backoff_type type, double delay, double jitter,
    long n, double r)
{
	double	d;

	switch (type) {
	case BULLMQ_BACKOFF_FIXED:
		d = delay;
		break;
	case BULLMQ_BACKOFF_EXPONENTIAL:
		if (n < 1)
			n = 1;
		if (n > 62)
			n = 62;
		/* Math.round: halves go up, -2.5 to -2 */
		d = floor(pow(2.0, (double)(n - 1)) * delay + 0.5);
		break;
	default:
		return 0;
	}
	if (jitter > 0)
		d = floor(r * d * jitter + d * (1 - jitter));
	if (d > 9007199254740991.0)
		d = 9007199254740991.0;
	return d;
}

/*
 * Whether Node retries a job with options o after a delay (1) or at once
 * (0), for retry number n with random r in [0, 1); the delay is written to
 * buf as Node gives it to its script: a fixed delay without jitter as
 * stored (any truthy value delays; one below 1 is due at once, but through
 * the delayed set), the others as numbers.  A delay that is no number
 * retries at once, where Node's script fails.
 */
int
bmq_retry_delay(const struct bmq_job_opts *o, long n, double r, char *buf,
    size_t size)
{
	const struct bmq_jval	*v = &o->backoff_delay;
	double			 d;

	if (o->backoff_type == BULLMQ_BACKOFF_NONE)
		return 0;
	if (o->backoff_type == BULLMQ_BACKOFF_FIXED &&
	    !(o->backoff_jitter > 0) && !bmq_jval_truthy(v))
		return 0;
	d = bmq_backoff_delay(o->backoff_type, bmq_jval_jsnum(v),
	    o->backoff_jitter, n, r);
	if (isnan(d) || isinf(d))
		return 0;
	if (o->backoff_type != BULLMQ_BACKOFF_FIXED || o->backoff_jitter > 0) {
		/* a computed delay of 0 is falsy: at once */
		if (d == 0)
			return 0;
	} else if (v->type == BMQ_J_STRING && v->len < size &&
	    memchr(v->p, '\\', v->len) == NULL) {
		memcpy(buf, v->p, v->len);
		buf[v->len] = '\0';
		return 1;
	}
	bmq_fmt_jsnum(buf, size, d);
	return 1;
}
