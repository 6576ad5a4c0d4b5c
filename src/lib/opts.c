/*
 * opts.c: a job's options as Node names them: parsing them, checking them
 * and writing their stored form (BULLMQ-PROTOCOL.md 2.2).
 */
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bullmq-int.h"

#define MAX_PRIORITY	2097151		/* 2^21 - 1 */
#define MAX_DEDUP_ID	512

/* Is the member's key the word w? */
static int
keyis(const struct bmq_jmember *m, const char *w)
{
	return m->klen == strlen(w) && memcmp(m->k, w, m->klen) == 0;
}

/* Read an integer option within [lo, hi]; -1 with a message if not one. */
static int
get_int(const struct bmq_jmember *m, const char *name, int64_t lo,
    int64_t hi, int64_t *out, char *err, size_t errsize)
{
	if (bmq_jval_int(&m->v, out) == -1 || *out < lo || *out > hi) {
		bmq_errf(err, errsize, "option %s: must be an integer from "
		    "%lld to %lld", name, (long long)lo, (long long)hi);
		return -1;
	}
	return 0;
}

/* Read a boolean option; -1 with a message if not one. */
static int
get_bool(const struct bmq_jmember *m, const char *name, int *out, char *err,
    size_t errsize)
{
	switch (m->v.type) {
	case BMQ_J_TRUE:
		*out = 1;
		return 0;
	case BMQ_J_FALSE:
		*out = 0;
		return 0;
	default:
		bmq_errf(err, errsize, "option %s: must be true or false",
		    name);
		return -1;
	}
}

/*
 * Read a string option as a pointer into the text and a length; escapes
 * are refused since the text is not copied.
 */
static int
get_str(const struct bmq_jmember *m, const char *name, const char **p,
    size_t *len, char *err, size_t errsize)
{
	if (m->v.type != BMQ_J_STRING) {
		bmq_errf(err, errsize, "option %s: must be a string", name);
		return -1;
	}
	*p = m->v.p;
	*len = m->v.len;
	if (memchr(*p, '\\', *len) != NULL) {
		bmq_errf(err, errsize, "option %s: escaped characters are not "
		    "supported", name);
		return -1;
	}
	return 0;
}

/*
 * Read a stored retention value as Node's worker and script take it: true
 * or any truthy string removes at once, false or "" keeps all, a number is
 * a count (0 removes at once, below 0 keeps all), an object (or an array)
 * is {age, count, limit} where a count of 0 removes at once whatever the
 * age, any numeric age (text too) removes the jobs finished that many
 * seconds ago or earlier, the job itself for 0, and a limit of 0 removes
 * none of them.  null, and the values Node's script fails on (a fractional
 * count, a count or age that is no number), are read as near as they go:
 * null is unset, a count is cut to an integer, an age or count that is no
 * number is left out.
 */
static void
keep_lenient(const struct bmq_jval *v, struct bullmq_keep *k)
{
	struct bmq_jmember	 f;
	const char		*p = v->p, *e = v->p + v->len;
	double			 d, count = -1, age = NAN, limit = 1000;

	memset(k, 0, sizeof(*k));
	switch (v->type) {
	case BMQ_J_NULL:
		return;
	case BMQ_J_TRUE:
	case BMQ_J_FALSE:
	case BMQ_J_STRING:
		k->mode = bmq_jval_truthy(v) ? BULLMQ_KEEP_NONE :
		    BULLMQ_KEEP_ALL;
		return;
	case BMQ_J_NUMBER:
		if (bmq_jval_double(v, &d) == -1)
			return;
		d = floor(d);
		k->mode = d == 0 ? BULLMQ_KEEP_NONE : d < 0 ? BULLMQ_KEEP_ALL :
		    BULLMQ_KEEP_COUNT;
		k->count = d > 0 ? (d > LONG_MAX / 2 ? LONG_MAX / 2 :
		    (long)d) : 0;
		return;
	case BMQ_J_OBJECT:
		break;
	default:
		k->mode = BULLMQ_KEEP_ALL;	/* no fields */
		return;
	}
	while (bmq_json_next(&p, e, &f)) {
		/* the script's own reading: numbers, and text for the age */
		if (f.v.type == BMQ_J_NULL)
			d = NAN;
		else if (keyis(&f, "age") && f.v.type == BMQ_J_STRING &&
		    f.v.len > 0)
			d = bmq_jval_jsnum(&f.v);
		else if (bmq_jval_double(&f.v, &d) == -1)
			d = NAN;
		if (keyis(&f, "age"))
			age = d;
		else if (keyis(&f, "count"))
			count = isnan(d) ? -1 : floor(d);
		else if (keyis(&f, "limit"))
			limit = isnan(d) ? 1000 : floor(d);
	}
	if (count == 0) {
		k->mode = BULLMQ_KEEP_NONE;
		return;
	}
	k->count = count > 0 ? (count > LONG_MAX / 2 ? LONG_MAX / 2 :
	    (long)count) : 0;
	if (isnan(age) || isinf(age) || limit == 0) {
		k->mode = k->count > 0 ? BULLMQ_KEEP_COUNT : BULLMQ_KEEP_ALL;
		return;
	}
	k->mode = BULLMQ_KEEP_AGE;
	k->age = age;
	k->limit = limit < 0 ? -1 : limit > LONG_MAX / 2 ? LONG_MAX / 2 :
	    (long)limit;
}

/*
 * Read a retention value v (removeOnComplete or removeOnFail, called name)
 * into k: true, false, a count or {age, count, limit}.  strict, for options
 * being added: anything else, a number that is not a count from 0 (an age
 * from 0) or an unknown field is an error, and null fields are left out.
 * Else, for the options a job was stored with by any producer, as Node
 * reads them (keep_lenient).  Returns 0, or -1 with a message in err.
 */
int
bmq_keep_from_json(const struct bmq_jval *v, const char *name, int strict,
    struct bullmq_keep *k, char *err, size_t errsize)
{
	struct bmq_jmember	 f;
	const char		*p = v->p, *e = v->p + v->len;
	long			*field;
	int64_t			 n;
	double			 d;
	int			 has_age = 0, has_count = 0;
	char			 fname[64];

	if (!strict) {
		keep_lenient(v, k);
		return 0;
	}
	memset(k, 0, sizeof(*k));
	switch (v->type) {
	case BMQ_J_TRUE:
		k->mode = BULLMQ_KEEP_NONE;
		return 0;
	case BMQ_J_FALSE:
		k->mode = BULLMQ_KEEP_ALL;
		return 0;
	case BMQ_J_NUMBER:
		if (bmq_jval_int(v, &n) == -1 || n < 0 || n > INT32_MAX) {
			bmq_errf(err, errsize, "option %s: must be an integer "
			    "from 0 to %d", name, INT32_MAX);
			return -1;
		}
		k->mode = BULLMQ_KEEP_COUNT;
		k->count = (long)n;
		return 0;
	case BMQ_J_OBJECT:
		break;
	default:
		bmq_errf(err, errsize, "option %s: must be a boolean, a count "
		    "or {age, count, limit}", name);
		return -1;
	}
	while (bmq_json_next(&p, e, &f)) {
		snprintf(fname, sizeof(fname), "%s.%.*s", name,
		    (int)(f.klen > 20 ? 20 : f.klen), f.k);
		if (f.v.type == BMQ_J_NULL)
			continue;
		if (keyis(&f, "age")) {
			/* seconds, fractions too */
			if (bmq_jval_double(&f.v, &d) == -1 || !(d >= 0 &&
			    d <= INT32_MAX)) {
				bmq_errf(err, errsize, "option %s: must be a "
				    "number from 0 to %d", fname, INT32_MAX);
				return -1;
			}
			k->age = d;
			has_age = 1;
			continue;
		}
		if (keyis(&f, "count"))
			field = &k->count;
		else if (keyis(&f, "limit"))
			field = &k->limit;
		else {
			bmq_errf(err, errsize, "option %s: unknown field",
			    fname);
			return -1;
		}
		if (get_int(&f, fname, 0, INT32_MAX, &n, err, errsize) == -1)
			return -1;
		*field = (long)n;
		if (field == &k->count)
			has_count = 1;
	}
	/* no age: NaN; {count: 0} removes at once, as in Node */
	k->mode = has_count && k->count == 0 && !has_age ? BULLMQ_KEEP_NONE :
	    BULLMQ_KEEP_AGE;
	if (!has_age)
		k->age = NAN;
	return 0;
}

/* strtonum's word for a bad number, in plainer words. */
static const char *
num_error(const char *errstr)
{
	return strcmp(errstr, "invalid") == 0 ? "not a number" : errstr;
}

/*
 * Parse a retention setting given as text (a settings file, a command
 * line) into k; see bullmq.h.  Returns 0, or -1 with a message quoting
 * the text in err.
 */
int
bullmq_keep_parse(const char *v, struct bullmq_keep *k, char *err,
    size_t errsize)
{
	const char	*errstr, *p, *e;
	char		 word[16], num[32];
	long long	 n;
	size_t		 wl, nl;
	double		 age;
	char		*end;
	int		 have_count = 0, have_age = 0;

	memset(k, 0, sizeof(*k));
	if (v == NULL || *v == '\0')
		return 0;
	if (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0) {
		k->mode = BULLMQ_KEEP_NONE;
		return 0;
	}
	if (strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0) {
		k->mode = BULLMQ_KEEP_ALL;
		return 0;
	}
	if (isdigit((unsigned char)*v)) {
		n = strtonum(v, 0, LONG_MAX, &errstr);
		if (errstr != NULL) {
			bmq_errf(err, errsize, "\"%s\": the count is %s", v,
			    num_error(errstr));
			return -1;
		}
		k->mode = BULLMQ_KEEP_COUNT;
		k->count = (long)n;
		return 0;
	}
	for (p = v; *p != '\0'; p = *e == ',' ? e + 1 : e) {
		e = p + strcspn(p, ",");
		wl = strcspn(p, ":");
		if (wl >= (size_t)(e - p) || wl >= sizeof(word))
			goto bad;
		nl = (size_t)(e - p) - wl - 1;
		if (nl == 0 || nl >= sizeof(num))
			goto bad;
		memcpy(word, p, wl);
		word[wl] = '\0';
		memcpy(num, p + wl + 1, nl);
		num[nl] = '\0';
		if (strcmp(word, "age") == 0) {
			/* seconds, 0 and fractions too, as Node takes them */
			errno = 0;
			if (strspn(num, "0123456789.") != nl ||
			    (age = strtod(num, &end)) < 0 || *end != '\0' ||
			    errno != 0 || age > INT32_MAX) {
				bmq_errf(err, errsize, "\"%s\": age \"%s\" is "
				    "not a number", v, num);
				memset(k, 0, sizeof(*k));
				return -1;
			}
			k->age = age;
			have_age = 1;
			continue;
		}
		n = strtonum(num, 0, LONG_MAX, &errstr);
		if (errstr != NULL) {
			bmq_errf(err, errsize, "\"%s\": %s \"%s\" is %s", v,
			    word, num, num_error(errstr));
			memset(k, 0, sizeof(*k));
			return -1;
		}
		if (strcmp(word, "count") == 0) {
			k->count = (long)n;
			have_count = 1;
		} else if (strcmp(word, "limit") == 0)
			k->limit = (long)n;
		else
			goto bad;
	}
	if (!have_age && have_count && k->limit == 0) {
		/* {count: N}, stored in that form; {count: 0} is true */
		k->mode = k->count > 0 ? BULLMQ_KEEP_AGE : BULLMQ_KEEP_NONE;
		k->age = NAN;
		return 0;
	}
	if (!have_age)
		goto bad;
	k->mode = BULLMQ_KEEP_AGE;
	return 0;
bad:
	memset(k, 0, sizeof(*k));
	bmq_errf(err, errsize, "\"%s\" is not true, false, a count or "
	    "age:SECONDS[,count:N][,limit:N]", v);
	return -1;
}

/* Whether s[0..n) may name a custom backoff type (1 to 64 plain bytes). */
static int
custom_name_ok(const char *s, size_t n)
{
	size_t	i;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

/* Read backoff: a number of ms (fixed) or {type, delay, jitter}. */
static int
parse_backoff(const struct bmq_jmember *m, struct bullmq_add_opts *o,
    char *err, size_t errsize)
{
	struct bmq_jmember	 f;
	const char		*p = m->v.p, *e = m->v.p + m->v.len, *s;
	size_t			 slen;
	int64_t			 n;
	double			 d;

	if (m->v.type == BMQ_J_NUMBER) {
		if (get_int(m, "backoff", 0, INT64_C(1) << 42, &n, err,
		    errsize) == -1)
			return -1;
		o->backoff_type = BULLMQ_BACKOFF_FIXED;
		o->backoff_delay = n;
		return 0;
	}
	if (m->v.type != BMQ_J_OBJECT) {
		bmq_errf(err, errsize, "option backoff: must be a number of ms "
		    "or {type, delay, jitter}");
		return -1;
	}
	while (bmq_json_next(&p, e, &f)) {
		if (f.v.type == BMQ_J_NULL)
			continue;
		if (keyis(&f, "type")) {
			if (get_str(&f, "backoff.type", &s, &slen, err,
			    errsize) == -1)
				return -1;
			if (slen == 5 && memcmp(s, "fixed", 5) == 0)
				o->backoff_type = BULLMQ_BACKOFF_FIXED;
			else if (slen == 11 &&
			    memcmp(s, "exponential", 11) == 0)
				o->backoff_type = BULLMQ_BACKOFF_EXPONENTIAL;
			else if (custom_name_ok(s, slen)) {
				/* a worker's own strategy decides */
				o->backoff_type = BULLMQ_BACKOFF_CUSTOM;
				o->backoff_custom = s;
				o->backoff_custom_len = slen;
			} else {
				bmq_errf(err, errsize, "option backoff.type: "
				    "\"%.*s\": a custom type is made of "
				    "letters, digits, \"_\", \"-\" and \".\"",
				    (int)(slen > 40 ? 40 : slen), s);
				return -1;
			}
		} else if (keyis(&f, "delay")) {
			if (get_int(&f, "backoff.delay", 0, INT64_C(1) << 42,
			    &n, err, errsize) == -1)
				return -1;
			o->backoff_delay = n;
		} else if (keyis(&f, "jitter")) {
			if (bmq_jval_double(&f.v, &d) == -1 || !(d >= 0 &&
			    d <= 1)) {
				bmq_errf(err, errsize, "option backoff.jitter: "
				    "must be a number from 0 to 1");
				return -1;
			}
			o->backoff_jitter = d;
		} else {
			bmq_errf(err, errsize, "option backoff.%.*s: unknown "
			    "field", (int)(f.klen > 40 ? 40 : f.klen), f.k);
			return -1;
		}
	}
	if (o->backoff_type == BULLMQ_BACKOFF_NONE) {
		bmq_errf(err, errsize, "option backoff: type is missing");
		return -1;
	}
	return 0;
}

/* Read deduplication: {id, ttl, extend, replace, keepLastIfActive, reschedule}. */
static int
parse_dedup(const struct bmq_jmember *m, struct bullmq_add_opts *o,
    char *err, size_t errsize)
{
	struct bmq_jmember	 f;
	const char		*p = m->v.p, *e = m->v.p + m->v.len;
	int64_t			 n;
	int			 b;

	if (m->v.type != BMQ_J_OBJECT) {
		bmq_errf(err, errsize, "option deduplication: must be an "
		    "object {id, ttl}");
		return -1;
	}
	while (bmq_json_next(&p, e, &f)) {
		if (f.v.type == BMQ_J_NULL)
			continue;
		if (keyis(&f, "id")) {
			if (get_str(&f, "deduplication.id", &o->dedup_id,
			    &o->dedup_id_len, err, errsize) == -1)
				return -1;
		} else if (keyis(&f, "ttl")) {
			if (get_int(&f, "deduplication.ttl", 0,
			    INT64_C(1) << 42, &n, err, errsize) == -1)
				return -1;
			o->dedup_ttl = n;
		} else if (keyis(&f, "extend") || keyis(&f, "replace") ||
		    keyis(&f, "keepLastIfActive") || keyis(&f, "reschedule")) {
			if (get_bool(&f, "deduplication mode", &b, err,
			    errsize) == -1)
				return -1;
			if (keyis(&f, "extend"))
				o->dedup_extend = b;
			else if (keyis(&f, "replace"))
				o->dedup_replace = b;
			else if (keyis(&f, "keepLastIfActive"))
				o->dedup_keep_last = b;
			else
				o->dedup_reschedule = b;
		} else {
			bmq_errf(err, errsize, "option deduplication.%.*s: "
			    "unknown field", (int)(f.klen > 40 ? 40 : f.klen),
			    f.k);
			return -1;
		}
	}
	if (o->dedup_id == NULL || o->dedup_id_len == 0) {
		bmq_errf(err, errsize, "option deduplication.id: must be "
		    "given");
		return -1;
	}
	return 0;
}

/* Node option names that exist but that bullmq-c does not produce. */
static const char *const unsupported[] = {
	"parent", "repeat", "repeatJobKey", "prevMillis",
	"failParentOnFailure", "continueParentOnFailure",
	"ignoreDependencyOnFailure", "removeDependencyOnFailure",
	"sizeLimit", "telemetry", NULL
};

/* Parse one top-level option. */
static int
parse_member(const struct bmq_jmember *m, struct bullmq_add_opts *o,
    char *err, size_t errsize)
{
	int64_t		 n;
	const char	*s;
	size_t		 slen, i;
	char		 id[BMQ_MAX_ID];

	if (keyis(m, "jobId")) {
		if (get_str(m, "jobId", &s, &slen, err, errsize) == -1)
			return -1;
		if (slen == 0)
			return 0;	/* Node: "" means an automatic id */
		if (slen >= sizeof(id)) {
			bmq_errf(err, errsize, "option jobId: longer than %d "
			    "bytes", BULLMQ_MAX_ID);
			return -1;
		}
		memcpy(id, s, slen);
		id[slen] = '\0';
		if (bmq_check_job_id(id, err, errsize) == -1)
			return -1;
		o->job_id = s;
		o->job_id_len = slen;
	} else if (keyis(m, "delay")) {
		if (get_int(m, "delay", 0, INT64_C(1) << 42, &n, err,
		    errsize) == -1)
			return -1;
		o->delay = n;
		o->has_delay = 1;
	} else if (keyis(m, "priority")) {
		if (get_int(m, "priority", 0, MAX_PRIORITY, &n, err,
		    errsize) == -1)
			return -1;
		o->priority = (int)n;
		o->has_priority = 1;
	} else if (keyis(m, "attempts")) {
		if (get_int(m, "attempts", 0, INT32_MAX, &n, err,
		    errsize) == -1)
			return -1;
		o->attempts = (int)n;
	} else if (keyis(m, "backoff"))
		return parse_backoff(m, o, err, errsize);
	else if (keyis(m, "lifo")) {
		o->has_lifo = 1;
		return get_bool(m, "lifo", &o->lifo, err, errsize);
	}
	else if (keyis(m, "removeOnComplete"))
		return bmq_keep_from_json(&m->v, "removeOnComplete", 1,
		    &o->remove_on_complete, err, errsize);
	else if (keyis(m, "removeOnFail"))
		return bmq_keep_from_json(&m->v, "removeOnFail", 1,
		    &o->remove_on_fail, err, errsize);
	else if (keyis(m, "keepLogs")) {
		if (get_int(m, "keepLogs", 1, INT32_MAX, &n, err,
		    errsize) == -1)
			return -1;
		o->keep_logs = (int)n;
	} else if (keyis(m, "stackTraceLimit")) {
		if (get_int(m, "stackTraceLimit", 0, INT32_MAX, &n, err,
		    errsize) == -1)
			return -1;
		o->stack_trace_limit = (int)n;
		o->has_stack_trace_limit = 1;
	} else if (keyis(m, "deduplication"))
		return parse_dedup(m, o, err, errsize);
	else if (keyis(m, "timestamp")) {
		if (get_int(m, "timestamp", 1, INT64_C(1) << 50, &n, err,
		    errsize) == -1)
			return -1;
		o->timestamp = n;
	} else if (keyis(m, "debounce")) {
		bmq_errf(err, errsize, "option debounce: removed in BullMQ 6, "
		    "use deduplication");
		return -1;
	} else {
		for (i = 0; unsupported[i] != NULL; i++)
			if (keyis(m, unsupported[i])) {
				bmq_errf(err, errsize, "option %s: not "
				    "supported by bullmq-c", unsupported[i]);
				return -1;
			}
		bmq_errf(err, errsize, "unknown option \"%.*s\"",
		    (int)(m->klen > 60 ? 60 : m->klen), m->k);
		return -1;
	}
	return 0;
}

/*
 * Parse Node-style job options (a JSON object) into o.  Null values count
 * as not given, as in Node.  Returns 0, or -1 with a message in err.
 */
int
bullmq_add_opts_parse(const char *json, size_t len,
    struct bullmq_add_opts *o, char *err, size_t errsize)
{
	struct bmq_jmember	 m;
	const char		*p;

	memset(o, 0, sizeof(*o));
	if (json == NULL || len == 0) {
		bmq_errf(err, errsize, "job options: empty text");
		return -1;
	}
	if (!bmq_json_valid(json, len)) {
		bmq_errf(err, errsize, "job options: not valid JSON");
		return -1;
	}
	if (bmq_json_type(json, len) != BMQ_J_OBJECT) {
		bmq_errf(err, errsize, "job options: must be a JSON object");
		return -1;
	}
	p = json;
	while (bmq_json_next(&p, json + len, &m)) {
		if (m.v.type == BMQ_J_NULL)
			continue;
		if (parse_member(&m, o, err, errsize) == -1) {
			memset(o, 0, sizeof(*o));
			return -1;
		}
	}
	return 0;
}

/*
 * Write a retention option in its stored JSON form: false, true, N or
 * {"age":A,"count":C,"limit":L} with the fields that are set.  Returns 0,
 * or -1 when unset.
 */
int
bmq_keep_encode(const struct bullmq_keep *k, struct bmq_buf *b)
{
	const char	*sep = "";
	char		 num[32];

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
		break;
	default:
		return -1;
	}
	bmq_buf_adds(b, "{");
	if (!isnan(k->age)) {
		bmq_fmt_jsnum(num, sizeof(num), k->age);
		bmq_buf_addf(b, "\"age\":%s", num);
		sep = ",";
	}
	if (k->count > 0) {
		bmq_buf_addf(b, "%s\"count\":%ld", sep, k->count);
		sep = ",";
	}
	if (k->limit > 0)
		bmq_buf_addf(b, "%s\"limit\":%ld", sep, k->limit);
	bmq_buf_adds(b, "}");
	return 0;
}

/* Append a retention option as a member of the stored options. */
static void
keep_member(struct bmq_buf *b, const char *name, const struct bullmq_keep *k)
{
	bmq_buf_addf(b, ",\"%s\":", name);
	bmq_keep_encode(k, b);
}

/* Check a retention option given in a struct. */
static int
keep_check(const struct bullmq_keep *k, const char *name, char *err,
    size_t errsize)
{
	if (k->mode < BULLMQ_KEEP_UNSET || k->mode > BULLMQ_KEEP_AGE ||
	    k->count < 0 || (!isnan(k->age) && !(k->age >= 0 &&
	    k->age <= INT32_MAX)) ||
	    k->limit < 0) {
		bmq_errf(err, errsize, "option %s: bad mode or negative value",
		    name);
		return -1;
	}
	return 0;
}

/*
 * Check options given as a struct (they need not come from the parser) and
 * find the custom id and deduplication id with their lengths.  Returns 0,
 * or -1 with a message in err.
 */
int
bmq_add_opts_check(const struct bullmq_add_opts *o, const char **jid,
    size_t *jidlen, const char **did, size_t *didlen, char *err, size_t errsize)
{
	char	id[BMQ_MAX_ID];

	*jid = o->job_id != NULL ? o->job_id : "";
	*jidlen = o->job_id == NULL ? 0 : o->job_id_len != 0 ?
	    o->job_id_len : strlen(*jid);
	*did = o->dedup_id != NULL ? o->dedup_id : "";
	*didlen = o->dedup_id == NULL ? 0 : o->dedup_id_len != 0 ?
	    o->dedup_id_len : strlen(*did);
	if (*jidlen > 0) {
		if (*jidlen >= sizeof(id)) {
			bmq_errf(err, errsize, "option jobId: longer than %d "
			    "bytes", BULLMQ_MAX_ID);
			return -1;
		}
		if (memchr(*jid, '\0', *jidlen) != NULL) {
			bmq_errf(err, errsize, "option jobId: holds a NUL");
			return -1;
		}
		memcpy(id, *jid, *jidlen);
		id[*jidlen] = '\0';
		if (bmq_check_job_id(id, err, errsize) == -1)
			return -1;
	}
	if (o->attempts < 0) {
		bmq_errf(err, errsize, "option attempts: negative");
		return -1;
	}
	if (o->delay < 0) {
		bmq_errf(err, errsize, "option delay: negative");
		return -1;
	}
	if (o->priority < 0 || o->priority > MAX_PRIORITY) {
		bmq_errf(err, errsize, "option priority: must be from 0 to %d",
		    MAX_PRIORITY);
		return -1;
	}
	if (o->backoff_type == BULLMQ_BACKOFF_CUSTOM &&
	    (o->backoff_custom == NULL || !custom_name_ok(o->backoff_custom,
	    o->backoff_custom_len != 0 ? o->backoff_custom_len :
	    strlen(o->backoff_custom)))) {
		bmq_errf(err, errsize, "option backoff: a custom type needs a "
		    "name of letters, digits, \"_\", \"-\" and \".\"");
		return -1;
	}
	if (o->backoff_type < BULLMQ_BACKOFF_NONE ||
	    o->backoff_type > BULLMQ_BACKOFF_CUSTOM ||
	    o->backoff_delay < 0 || !(o->backoff_jitter >= 0 &&
	    o->backoff_jitter <= 1)) {
		bmq_errf(err, errsize, "option backoff: bad type, negative "
		    "delay or jitter outside 0..1");
		return -1;
	}
	if (keep_check(&o->remove_on_complete, "removeOnComplete", err,
	    errsize) == -1 || keep_check(&o->remove_on_fail, "removeOnFail",
	    err, errsize) == -1)
		return -1;
	if (o->keep_logs < 0 || (o->has_stack_trace_limit &&
	    o->stack_trace_limit < 0)) {
		bmq_errf(err, errsize, "option keepLogs or stackTraceLimit: "
		    "negative");
		return -1;
	}
	if (*didlen >= MAX_DEDUP_ID || memchr(*did, '\0', *didlen) != NULL) {
		bmq_errf(err, errsize, "option deduplication.id: longer than "
		    "%d bytes or holding a NUL", MAX_DEDUP_ID - 1);
		return -1;
	}
	if ((o->dedup_extend || o->dedup_replace || o->dedup_keep_last ||
	    o->dedup_reschedule) && *didlen == 0) {
		bmq_errf(err, errsize, "option deduplication: a mode without "
		    "an id");
		return -1;
	}
	if (o->dedup_ttl < 0 || (o->dedup_ttl > 0 && *didlen == 0)) {
		bmq_errf(err, errsize, "option deduplication: negative ttl, or "
		    "a ttl without an id");
		return -1;
	}
	if (o->timestamp < 0) {
		bmq_errf(err, errsize, "option timestamp: negative");
		return -1;
	}
	return 0;
}

/*
 * Append the stored form of the options (BULLMQ-PROTOCOL.md 2.2): attempts
 * always, the others only when given (delay, priority and lifo also when
 * 0 or false if their has_ flag says so), keepLogs and deduplication
 * under their aliases kl and de.
 */
void
bmq_add_opts_write(struct bmq_buf *b, const struct bullmq_add_opts *o,
    const char *jid, size_t jidlen, const char *did, size_t didlen)
{
	bmq_buf_addf(b, "{\"attempts\":%d", o->attempts);
	if (o->backoff_type != BULLMQ_BACKOFF_NONE) {
		if (o->backoff_type == BULLMQ_BACKOFF_CUSTOM)
			bmq_buf_addf(b, ",\"backoff\":{\"type\":\"%.*s\","
			    "\"delay\":%lld", (int)(o->backoff_custom_len != 0 ?
			    o->backoff_custom_len : strlen(o->backoff_custom)),
			    o->backoff_custom, (long long)o->backoff_delay);
		else
			bmq_buf_addf(b, ",\"backoff\":{\"type\":\"%s\","
			    "\"delay\":%lld", o->backoff_type ==
			    BULLMQ_BACKOFF_FIXED ? "fixed" : "exponential",
			    (long long)o->backoff_delay);
		if (o->backoff_jitter > 0)
			bmq_buf_addf(b, ",\"jitter\":%.14g", o->backoff_jitter);
		bmq_buf_adds(b, "}");
	}
	if (o->delay > 0 || o->has_delay)
		bmq_buf_addf(b, ",\"delay\":%lld", (long long)o->delay);
	if (o->priority > 0 || o->has_priority)
		bmq_buf_addf(b, ",\"priority\":%d", o->priority);
	if (o->lifo || o->has_lifo)
		bmq_buf_addf(b, ",\"lifo\":%s", o->lifo ? "true" : "false");
	if (jidlen > 0) {
		bmq_buf_adds(b, ",\"jobId\":");
		bmq_buf_add_jstr(b, jid, jidlen);
	}
	if (o->timestamp > 0)
		bmq_buf_addf(b, ",\"timestamp\":%lld", (long long)o->timestamp);
	if (o->remove_on_complete.mode != BULLMQ_KEEP_UNSET)
		keep_member(b, "removeOnComplete", &o->remove_on_complete);
	if (o->remove_on_fail.mode != BULLMQ_KEEP_UNSET)
		keep_member(b, "removeOnFail", &o->remove_on_fail);
	if (o->has_stack_trace_limit)
		bmq_buf_addf(b, ",\"stackTraceLimit\":%d",
		    o->stack_trace_limit);
	if (o->keep_logs > 0)
		bmq_buf_addf(b, ",\"kl\":%d", o->keep_logs);
	if (didlen > 0) {
		bmq_buf_adds(b, ",\"de\":{\"id\":");
		bmq_buf_add_jstr(b, did, didlen);
		if (o->dedup_ttl > 0)
			bmq_buf_addf(b, ",\"ttl\":%lld",
			    (long long)o->dedup_ttl);
		if (o->dedup_extend)
			bmq_buf_adds(b, ",\"extend\":true");
		if (o->dedup_replace)
			bmq_buf_adds(b, ",\"replace\":true");
		if (o->dedup_keep_last)
			bmq_buf_adds(b, ",\"keepLastIfActive\":true");
		if (o->dedup_reschedule)
			bmq_buf_adds(b, ",\"reschedule\":true");
		bmq_buf_adds(b, "}");
	}
	bmq_buf_adds(b, "}");
}

/*
 * Check o and append its stored form to b (for the tests and tools).
 * Returns 0, or -1 with a message in err.
 */
int
bmq_add_opts_encode(const struct bullmq_add_opts *o, struct bmq_buf *b,
    char *err, size_t errsize)
{
	const char	*jid, *did;
	size_t		 jidlen, didlen;

	if (bmq_add_opts_check(o, &jid, &jidlen, &did, &didlen, err,
	    errsize) == -1)
		return -1;
	bmq_add_opts_write(b, o, jid, jidlen, did, didlen);
	if (bmq_buf_cstr(b) == NULL) {
		bmq_errf(err, errsize, "out of memory");
		return -1;
	}
	return 0;
}
