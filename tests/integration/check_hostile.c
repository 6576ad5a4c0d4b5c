/*
 * check_hostile.c: hostile jobs against a private redis-server.  Every
 * field of a job hash, of its options and of the queue's meta gets each
 * hostile value, every key a script touches gets the wrong type, and each
 * such job is driven through each path a worker, the supervisor or an
 * operator takes (tables below: values, fields, keys, paths; the
 * combinations are made from them).  After each combination the job must
 * be in exactly one state (or removed where its path or policy removes
 * it), must not be retried past its attempts, must end where its path
 * leads when no call failed, and a normal job added after it must
 * complete.  Combinations that fail for a known or reported defect are
 * listed in expected_to_fail[].
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "suite.h"

#define QN		"hq"
#define Q		"bull:" QN ":"
#define PQ		"bull:pq"	/* the parent's queue */
#define JOB		"hj"		/* the id, when not the hostile thing */
#define HUGE_LEN	(64 * 1024)
#define NEST_DEPTH	20000
#define MAX_ROUNDS	6		/* failures tried before giving up */
#define PREV		1000000000000LL	/* the scheduler's current millis */

/* A hostile value. */
struct hval {
	const char	*label;
	const char	*s;		/* NULL: missing or built */
	size_t		 len;
};

static char	*huge_digits, *huge_json, *nested;

static struct hval values[] = {
	{ "missing",	 NULL, 0 },
	{ "empty",	 "", 0 },
	{ "huge",	 NULL, 0 },	/* HUGE_LEN digits */
	{ "huge-json",	 NULL, 0 },	/* a JSON string of HUGE_LEN bytes */
	{ "nul",	 "1\0002", 3 },
	{ "bad-utf8",	 "\xff\xfe\xc3(", 4 },
	{ "non-numeric", "abc", 3 },
	{ "nan",	 "nan", 3 },
	{ "negative",	 "-5", 2 },
	{ "out-of-range", "99999999999999999999999", 23 },
	{ "fractional",	 "1.5", 3 },
	{ "nested",	 NULL, 0 },	/* [[[...]]] NEST_DEPTH deep */
	{ "json-null",	 "null", 4 },
	{ "json-array",	 "[1]", 3 },
	{ "exponent",	 "1e3", 3 },	/* a number to Lua, not to strtol */
	{ "hex",	 "0x10", 4 },
	{ "space",	 " 1", 2 },
};
#define NVALUES		(sizeof(values) / sizeof(values[0]))

/* The fields of a job hash, and the options (given as "opts.NAME"). */
static const char *const fields[] = {
	"id", "name", "data", "opts", "timestamp", "delay", "priority", "atm",
	"ats", "stc", "attemptsMade", "processedOn", "finishedOn", "parentKey",
	"parent", "rjk", "deid", "returnvalue", "failedReason", "stacktrace",
	"defa", "pb", "progress",
	"opts.attempts", "opts.backoff", "opts.backoff.type",
	"opts.backoff.delay", "opts.backoff.jitter", "opts.stackTraceLimit",
	"opts.removeOnComplete", "opts.removeOnFail", "opts.lifo",
	"opts.repeat.every", "opts.repeat.count", "opts.repeat.limit",
	"opts.repeat.pattern",
};
#define NFIELDS		(sizeof(fields) / sizeof(fields[0]))

/* A key a script touches; "{}" stands for the job's key Q<id>. */
struct hkey {
	const char	*name;
	const char	*type;		/* string list set zset hash stream */
	int		 deid;		/* the job needs deid "d1" */
};

static const struct hkey keys[] = {
	{ "wait", "list", 0 },		{ "active", "list", 0 },
	{ "paused", "list", 0 },	{ "delayed", "zset", 0 },
	{ "prioritized", "zset", 0 },	{ "completed", "zset", 0 },
	{ "failed", "zset", 0 },	{ "waiting-children", "zset", 0 },
	{ "marker", "zset", 0 },	{ "repeat", "zset", 0 },
	{ "repeat:s1", "hash", 0 },	{ "meta", "hash", 0 },
	{ "events", "stream", 0 },	{ "stalled", "set", 0 },
	{ "stalled-check", "string", 0 }, { "limiter", "string", 0 },
	{ "pc", "string", 0 },		{ "id", "string", 0 },
	{ "de:d1", "string", 1 },	{ "dn:d1", "hash", 1 },
	{ "{}", "hash", 0 },		{ "{}:lock", "string", 0 },
	{ "{}:logs", "list", 0 },	{ "{}:dependencies", "set", 0 },
	{ "{}:processed", "hash", 0 },	{ "{}:failed", "hash", 0 },
	{ "{}:unsuccessful", "zset", 0 },
	{ "metrics:completed", "hash", 0 }, { "metrics:failed", "hash", 0 },
	{ "metrics:completed:data", "list", 0 },
	{ PQ ":P", "hash", 0 },		{ PQ ":P:dependencies", "set", 0 },
	{ PQ ":P:processed", "hash", 0 }, { PQ ":waiting-children", "zset", 0 },
	{ PQ ":wait", "list", 0 },	{ PQ ":P:unsuccessful", "zset", 0 },
	{ PQ ":P:failed", "hash", 0 },	{ PQ ":marker", "zset", 0 },
	{ PQ ":events", "stream", 0 },	{ PQ ":meta", "hash", 0 },
};
#define NKEYS		(sizeof(keys) / sizeof(keys[0]))

/* The fields of the queue's meta hash the scripts read. */
static const char *const metas[] = {
	"concurrency", "max", "duration", "opts.maxLenEvents",
};
#define NMETAS		(sizeof(metas) / sizeof(metas[0]))

enum kind { K_FIELD, K_KEY, K_META };

/* One combination being run. */
struct hcase {
	enum kind		 kind;
	const char		*what;		/* field or key name */
	const struct hval	*v;		/* K_FIELD, K_META */
	const struct hkey	*k;		/* K_KEY */
	const char		*as;		/* K_KEY: the wrong type */
	int			 at;		/* K_KEY: 0 pre-fetch, 1 op */
	const struct hpath	*p;
	char			*id;
	size_t			 idlen;
	bullmq_worker		*w;
	int			 skipped;
	char			 bad[512];	/* the first problem, or "" */
	char			 note[512];	/* the path's errors, for bad */
};

/* A path a job is driven through. */
struct hpath {
	const char	*name;
	void		(*run)(struct hcase *);
	int		 attempts;	/* opts.attempts; 0 none */
	int		 backoff;	/* opts.backoff fixed 1 ms */
	int		 removes;	/* the path removes the job */
	int		 parent;	/* the job has a parent in PQ; 2:
					   failing it fails the parent */
	int		 sched;		/* the job is a scheduler iteration */
	const char	*ends;		/* the states it may end in, when no
					   call failed ("removed": deleted) */
};

/*
 * Combinations that fail on today's code for a known or reported defect,
 * each with its reason ("*" matches anything, "text*" a prefix; the first
 * entry that matches counts).  Remove an entry when its fix lands: the
 * suite prints "now passes" for an entry no combination failed.  When
 * only the NULL entry is left, the table and its few uses can go.
 */
static const struct xfail {
	const char	*what, *value, *path, *reason;
} expected_to_fail[] = {
	/* known, being fixed in lua/ */
	{ NULL, NULL, NULL, NULL }
};
#define NXFAIL		(sizeof(expected_to_fail) / sizeof(expected_to_fail[0]))

static bullmq_queue	*q;
static int		 xfail_hit[NXFAIL];

/* The worker: metrics, a rate limiter and a started-attempts bound on. */
static const struct bullmq_worker_opts wopts = {
	.name = "hostile",
	.metrics_max_points = 10,
	.limiter_max = 100000,
	.limiter_duration = 60000,
	.max_started_attempts = 100,
};

/* Record the first problem of the combination. */
static void __attribute__((format(printf, 2, 3)))
bad(struct hcase *c, const char *fmt, ...)
{
	va_list	ap;

	if (c->bad[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(c->bad, sizeof(c->bad), fmt, ap);
	va_end(ap);
}

/* Record an error a call returned, shown with a problem found later. */
static void
note(struct hcase *c, const char *what)
{
	size_t	n = strlen(c->note);

	snprintf(c->note + n, sizeof(c->note) - n, "%s%s: %s", n > 0 ?
	    "; " : "", what, bullmq_errstr(q));
}

/* Run a command and drop its reply. */
static void
cmd(const char *fmt, ...)
{
	va_list		 ap;
	redisReply	*r;

	va_start(ap, fmt);
	r = redisvCommand(harness_redis(), fmt, ap);
	va_end(ap);
	ck_assert_msg(r != NULL, "command %s: connection lost", fmt);
	freeReplyObject(r);
}

/* The integer reply of a command, or -1 for any other reply. */
static long long
num(const char *fmt, ...)
{
	va_list		 ap;
	redisReply	*r;
	long long	 v;

	va_start(ap, fmt);
	r = redisvCommand(harness_redis(), fmt, ap);
	va_end(ap);
	ck_assert_msg(r != NULL, "command %s: connection lost", fmt);
	v = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	freeReplyObject(r);
	return v;
}

/* Does a command give a string (or non-nil) reply? */
static int
has(const char *fmt, ...)
{
	va_list		 ap;
	redisReply	*r;
	int		 v;

	va_start(ap, fmt);
	r = redisvCommand(harness_redis(), fmt, ap);
	va_end(ap);
	ck_assert_msg(r != NULL, "command %s: connection lost", fmt);
	v = r->type == REDIS_REPLY_STRING || (r->type == REDIS_REPLY_INTEGER &&
	    r->integer >= 0);
	freeReplyObject(r);
	return v;
}

/*
 * Make the built values: huge, huge-json, nested.  Each ends with a NUL
 * past its length, as the literals do, for the calls that take an id as
 * a C string.
 */
static void
values_init(void)
{
	size_t	i;

	huge_digits = malloc(HUGE_LEN + 1);
	huge_json = malloc(HUGE_LEN + 1);
	nested = malloc(2 * NEST_DEPTH + 2);
	ck_assert(huge_digits != NULL && huge_json != NULL && nested != NULL);
	memset(huge_digits, '7', HUGE_LEN);
	huge_digits[HUGE_LEN] = '\0';
	memset(huge_json, 'x', HUGE_LEN);
	huge_json[0] = huge_json[HUGE_LEN - 1] = '"';
	huge_json[HUGE_LEN] = '\0';
	memset(nested, '[', NEST_DEPTH);
	nested[NEST_DEPTH] = '1';
	memset(nested + NEST_DEPTH + 1, ']', NEST_DEPTH);
	nested[2 * NEST_DEPTH + 1] = '\0';
	for (i = 0; i < NVALUES; i++)
		if (strcmp(values[i].label, "huge") == 0) {
			values[i].s = huge_digits;
			values[i].len = HUGE_LEN;
		} else if (strcmp(values[i].label, "huge-json") == 0) {
			values[i].s = huge_json;
			values[i].len = HUGE_LEN;
		} else if (strcmp(values[i].label, "nested") == 0) {
			values[i].s = nested;
			values[i].len = 2 * NEST_DEPTH + 1;
		}
}

/* Is the hostile thing the option name (without "opts.")? */
static int
is_opt(const struct hcase *c, const char *name)
{
	return c->kind == K_FIELD && strncmp(c->what, "opts.", 5) == 0 &&
	    strcmp(c->what + 5, name) == 0;
}

/* Is the hostile thing the hash field name? */
static int
is_field(const struct hcase *c, const char *name)
{
	return c->kind == K_FIELD && strcmp(c->what, name) == 0;
}

/* Make room for need bytes in the buffer *b of *cap bytes. */
static void
grow(char **b, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	*cap = need * 2;
	*b = realloc(*b, *cap);
	ck_assert_ptr_nonnull(*b);
}

/*
 * Append an option: the hostile value if it is the one, else def (NULL:
 * left out).  *first tells whether a comma is due.
 */
static void
opt_member(struct hcase *c, char **b, size_t *n, size_t *cap,
    const char *name, const char *def, int *first)
{
	const char	*s = def;
	size_t		 len;

	len = s != NULL ? strlen(s) : 0;
	if (is_opt(c, name)) {
		s = c->v->s;
		len = c->v->len;
	}
	if (s == NULL)
		return;
	grow(b, cap, *n + strlen(name) + len + 8);
	*n += (size_t)sprintf(*b + *n, "%s\"%s\":", *first ? "" : ",",
	    strchr(name, '.') != NULL ? strchr(name, '.') + 1 : name);
	memcpy(*b + *n, s, len);
	*n += len;
	*first = 0;
}

/* The opts JSON of the job for its path and hostile option; free it. */
static char *
opts_json(struct hcase *c, size_t *lenp)
{
	char	*b, num_s[32];
	size_t	 n = 0, cap = 256;
	int	 first = 1, sub;

	b = malloc(cap);
	ck_assert_ptr_nonnull(b);
	b[n++] = '{';
	snprintf(num_s, sizeof(num_s), "%d", c->p->attempts);
	opt_member(c, &b, &n, &cap, "attempts", c->p->attempts > 0 ? num_s :
	    NULL, &first);
	opt_member(c, &b, &n, &cap, "stackTraceLimit", NULL, &first);
	opt_member(c, &b, &n, &cap, "removeOnComplete", NULL, &first);
	opt_member(c, &b, &n, &cap, "removeOnFail", NULL, &first);
	opt_member(c, &b, &n, &cap, "lifo", NULL, &first);
	/* backoff: whole, or an object with one hostile member */
	sub = is_opt(c, "backoff.type") || is_opt(c, "backoff.delay") ||
	    is_opt(c, "backoff.jitter");
	if (sub || (c->p->backoff && !is_opt(c, "backoff"))) {
		int	f2 = 1;

		grow(&b, &cap, n + 16);
		n += (size_t)sprintf(b + n, "%s\"backoff\":{", first ? "" :
		    ",");
		first = 0;
		opt_member(c, &b, &n, &cap, "backoff.type", "\"fixed\"", &f2);
		opt_member(c, &b, &n, &cap, "backoff.delay", "1", &f2);
		opt_member(c, &b, &n, &cap, "backoff.jitter", NULL, &f2);
		grow(&b, &cap, n + 1);
		b[n++] = '}';
	} else
		opt_member(c, &b, &n, &cap, "backoff", NULL, &first);
	if (c->p->sched || is_opt(c, "repeat.every") ||
	    is_opt(c, "repeat.count") || is_opt(c, "repeat.limit") ||
	    is_opt(c, "repeat.pattern")) {
		int	f2 = 1;

		grow(&b, &cap, n + 16);
		n += (size_t)sprintf(b + n, "%s\"repeat\":{", first ? "" :
		    ",");
		first = 0;
		opt_member(c, &b, &n, &cap, "repeat.every", c->p->sched ?
		    "1000" : NULL, &f2);
		opt_member(c, &b, &n, &cap, "repeat.count", "1", &f2);
		opt_member(c, &b, &n, &cap, "repeat.limit", NULL, &f2);
		opt_member(c, &b, &n, &cap, "repeat.pattern", NULL, &f2);
		grow(&b, &cap, n + 1);
		b[n++] = '}';
		if (c->p->sched)
			opt_member(c, &b, &n, &cap, "repeatJobKey", "\"s1\"",
			    &first);
	}
	grow(&b, &cap, n + 2);
	b[n++] = '}';
	b[n] = '\0';
	*lenp = n;
	return b;
}

/* Apply a hostile field to the job hash (again: a fetch rewrites some). */
static void
field_apply(struct hcase *c)
{
	if (c->kind != K_FIELD || strcmp(c->what, "id") == 0 ||
	    strncmp(c->what, "opts.", 5) == 0)
		return;
	if (c->v->s == NULL)
		cmd("HDEL " Q "%b %s", c->id, c->idlen, c->what);
	else
		cmd("HSET " Q "%b %s %b", c->id, c->idlen, c->what, c->v->s,
		    c->v->len);
}

/* The full name of a key of the table for this job. */
static void
key_name(const struct hcase *c, const struct hkey *k, char *buf, size_t size)
{
	if (strncmp(k->name, "bull:", 5) == 0)
		snprintf(buf, size, "%s", k->name);
	else if (strncmp(k->name, "{}", 2) == 0)
		snprintf(buf, size, Q "%.*s%s", (int)c->idlen, c->id,
		    k->name + 2);
	else
		snprintf(buf, size, Q "%s", k->name);
}

/* Is the job (id) in the key, a list or sorted set, now? */
static int
member_of(const char *key, const char *type, const char *id, size_t idlen)
{
	if (strcmp(type, "list") == 0)
		return has("LPOS %s %b", key, id, idlen);
	if (strcmp(type, "zset") == 0)
		return has("ZSCORE %s %b", key, id, idlen);
	return 0;
}

/*
 * Stage n of a path (0 before the fetch, 1 before the operation): give a
 * key the wrong type, or apply the hostile field again.
 */
static void
stage(struct hcase *c, int n)
{
	char	key[256];

	if (c->kind != K_KEY) {
		if (n == 1)
			field_apply(c);
		return;
	}
	if (c->at != n)
		return;
	key_name(c, c->k, key, sizeof(key));
	/* the state the job is in now cannot be broken without moving it */
	if (member_of(key, c->k->type, c->id, c->idlen)) {
		c->skipped = 1;
		return;
	}
	cmd("DEL %s", key);
	if (strcmp(c->as, "string") == 0)
		cmd("SET %s x", key);
	else if (strcmp(c->as, "hash") == 0)
		cmd("HSET %s f v", key);
	else
		cmd("RPUSH %s a", key);
}

/* Write the job as a producer would, with the path's extras, in wait. */
static void
put_job(struct hcase *c)
{
	char	*o;
	size_t	 olen;

	o = opts_json(c, &olen);
	cmd("HSET " Q "%b name n data {\"d\":1} opts %b timestamp %lld "
	    "delay 0 priority 0", c->id, c->idlen, o, olen,
	    (long long)bullmq_now());
	free(o);
	if (strcmp(c->p->name, "final") == 0)
		cmd("HSET " Q "%b atm 1", c->id, c->idlen);
	if (c->kind == K_KEY && c->k->deid)
		cmd("HSET " Q "%b deid d1", c->id, c->idlen);
	if (c->p->parent) {
		cmd("HSET " PQ ":P name p data {} opts {} timestamp 1 delay 0 "
		    "priority 0");
		cmd("ZADD " PQ ":waiting-children 1 P");
		cmd("SADD " PQ ":P:dependencies " Q "%b", c->id, c->idlen);
		/* a failing child fails its parent (fpof) */
		cmd("HSET " Q "%b parentKey " PQ ":P parent %s", c->id,
		    c->idlen, c->p->parent == 2 ?
		    "{\"id\":\"P\",\"queueKey\":\"" PQ "\",\"fpof\":true}" :
		    "{\"id\":\"P\",\"queueKey\":\"" PQ "\"}");
	}
	if (c->p->sched) {
		cmd("ZADD " Q "repeat %lld s1", PREV);
		cmd("HSET " Q "repeat:s1 name n every 1000 ic 1 data {}");
		cmd("HSET " Q "%b rjk s1", c->id, c->idlen);
	}
	field_apply(c);
	if (c->kind == K_META && c->v->s != NULL)
		cmd("HSET " Q "meta %s %b", c->what, c->v->s, c->v->len);
	cmd("LPUSH " Q "wait %b", c->id, c->idlen);
	cmd("ZADD " Q "marker 0 0");
}

/* Processors: complete with a value, or fail. */
static int
proc_ok(bullmq_job *j)
{
	bullmq_job_return(j, "1", 1);
	return 0;
}

static int
proc_fail(bullmq_job *j)
{
	bullmq_job_error(j, "boom", 0);
	return 1;
}

/* Fetch the job; 1 when it came, else 0 with the reason noted. */
static int
fetch(struct hcase *c, bullmq_job **jp)
{
	const char	*id;
	int		 rv;

	*jp = NULL;
	rv = bullmq_worker_try_fetch(c->w, jp);
	if (rv == -1) {
		note(c, "fetch");
		return 0;
	}
	if (rv == 0) {
		snprintf(c->note, sizeof(c->note), "fetch: nothing");
		return 0;
	}
	id = bullmq_job_id(*jp);
	if (strlen(id) != c->idlen || memcmp(id, c->id, c->idlen) != 0) {
		/* an id with a NUL byte is failed by the fetch, which takes
		   the next job (the rule): that one runs, this one is done */
		if (memchr(c->id, '\0', c->idlen) != NULL &&
		    has("ZSCORE " Q "failed %b", c->id, c->idlen)) {
			enum bullmq_outcome	oc;

			if (bullmq_worker_run(c->w, *jp, proc_ok, &oc,
			    NULL) == -1)
				note(c, "run the next job");
			*jp = NULL;
			snprintf(c->note, sizeof(c->note), "fetch: refused "
			    "the id with a NUL byte, ran the next job");
			return 0;
		}
		bad(c, "fetched as id \"%.40s\" (%zu bytes, not %zu)", id,
		    strlen(id), c->idlen);
	}
	return 1;
}

/* Fetch and run the job with fn; 1 when it ran (or was refused). */
static int
fetch_run(struct hcase *c, bullmq_process_fn fn)
{
	enum bullmq_outcome	 oc;
	bullmq_job		*j;

	stage(c, 0);
	if (c->skipped || !fetch(c, &j))
		return 0;
	stage(c, 1);
	if (c->skipped) {
		bullmq_job_free(j);
		return 0;
	}
	if (bullmq_worker_run(c->w, j, fn, &oc, NULL) == -1)
		note(c, "run");
	return 1;
}

/* Where the job is: a bit per state, and how many states. */
static const struct {
	const char	*key, *type;
} states[] = {
	{ "wait", "list" }, { "active", "list" }, { "paused", "list" },
	{ "delayed", "zset" }, { "prioritized", "zset" },
	{ "completed", "zset" }, { "failed", "zset" },
	{ "waiting-children", "zset" },
};
#define NSTATES		(sizeof(states) / sizeof(states[0]))

static int
where(const char *base, const char *id, size_t idlen, char *names,
    size_t size)
{
	char	key[128];
	size_t	i;
	int	n = 0;

	names[0] = '\0';
	for (i = 0; i < NSTATES; i++) {
		snprintf(key, sizeof(key), "%s%s", base, states[i].key);
		if (member_of(key, states[i].type, id, idlen)) {
			if (n++ > 0)
				strlcat(names, "+", size);
			strlcat(names, states[i].key, size);
		}
	}
	return n;
}

/* Are the job's attempts as the path set them (not the hostile thing)? */
static int
attempts_known(const struct hcase *c)
{
	return !is_opt(c, "attempts") && !is_field(c, "opts");
}

/* May the path (with this hostile option) delete the job? */
static int
may_remove(const struct hcase *c)
{
	return c->p->removes || is_opt(c, "removeOnComplete") ||
	    is_opt(c, "removeOnFail") || is_field(c, "opts");
}

/* Whether the job's key holds something other than a hash. */
static int
not_a_hash(const struct hcase *c)
{
	redisReply	*r;
	int		 v;

	r = harness_cmd("TYPE " Q "%b", c->id, c->idlen);
	v = r->type == REDIS_REPLY_STATUS && strcmp(r->str, "hash") != 0 &&
	    strcmp(r->str, "none") != 0;
	freeReplyObject(r);
	return v;
}

/* The job is in exactly one state, or removed where that is allowed. */
static void
check_placement(struct hcase *c, const char *when)
{
	char	names[256];
	int	n;

	n = where(Q, c->id, c->idlen, names, sizeof(names));
	if (n > 1)
		bad(c, "%s: in %d states (%s)", when, n, names);
	else if (n == 0) {
		/* a key that holds no hash is no job: out of the lists, left
		   alone (the rule of every script) */
		if (num("EXISTS " Q "%b", c->id, c->idlen) == 1) {
			if (!not_a_hash(c))
				bad(c, "%s: in no state (lost)", when);
		} else if (!may_remove(c))
			bad(c, "%s: deleted", when);
	}
}

/* Is the job in a state it is fetched again from? */
static int
pending(struct hcase *c)
{
	return has("LPOS " Q "wait %b", c->id, c->idlen) ||
	    has("ZSCORE " Q "prioritized %b", c->id, c->idlen) ||
	    has("ZSCORE " Q "delayed %b", c->id, c->idlen);
}

/*
 * Fail the job until it is failed for good: no more failures than its
 * attempts (when they are not the hostile thing), and placed after each.
 */
static void
fail_until_done(struct hcase *c)
{
	enum bullmq_outcome	 oc;
	bullmq_job		*j;
	int			 rounds = 1, bound = c->p->attempts;
	int			 known;

	known = attempts_known(c);
	if (bound < 1)
		bound = 1;
	while (c->bad[0] == '\0' && pending(c)) {
		if (rounds >= MAX_ROUNDS) {
			if (known)
				bad(c, "still retried after %d failures "
				    "(attempts %d)", rounds, bound);
			return;
		}
		/* a backoff: make it due now rather than wait for it */
		if (has("ZSCORE " Q "delayed %b", c->id, c->idlen)) {
			cmd("ZADD " Q "delayed XX %lld %b",
			    (long long)bullmq_now() * 4096, c->id, c->idlen);
			usleep(2000);
		}
		if (!fetch(c, &j)) {
			check_placement(c, "not fetched again");
			/* a broken key may well stop fetches */
			if (c->kind == K_FIELD)
				bad(c, "round %d: not fetched again",
				    rounds + 1);
			return;
		}
		if (bullmq_worker_run(c->w, j, proc_fail, &oc, NULL) == -1)
			note(c, "run");
		rounds++;
		check_placement(c, "retry");
	}
	if (known && rounds > bound)
		bad(c, "%d failures for attempts %d", rounds, bound);
}

/* The paths. */
static void
path_complete(struct hcase *c)
{
	fetch_run(c, proc_ok);
}

static void
path_fail(struct hcase *c)
{
	fetch_run(c, proc_fail);
}

static void
path_retry(struct hcase *c)
{
	if (fetch_run(c, proc_fail)) {
		check_placement(c, "first failure");
		fail_until_done(c);
	}
}

/* Fetch and let the worker die: its id and token to t. */
static int
fetch_abandon(struct hcase *c, char *tok, size_t size)
{
	bullmq_job	*j;

	stage(c, 0);
	if (c->skipped || !fetch(c, &j))
		return 0;
	strlcpy(tok, bullmq_job_token(j), size);
	bullmq_job_free(j);
	return 1;
}

static void
path_stalled(struct hcase *c)
{
	char	tok[128];

	if (!fetch_abandon(c, tok, sizeof(tok)))
		return;
	cmd("DEL " Q "%b:lock", c->id, c->idlen);
	stage(c, 1);
	if (c->skipped)
		return;
	if (bullmq_check_stalled(q, 1, 30000, NULL, NULL) == -1)
		note(c, "stalled check");
	cmd("DEL " Q "stalled-check");
	if (bullmq_check_stalled(q, 1, 30000, NULL, NULL) == -1)
		note(c, "stalled check");
}

static void
path_give_back(struct hcase *c)
{
	char	tok[128];

	if (!fetch_abandon(c, tok, sizeof(tok)))
		return;
	stage(c, 1);
	if (!c->skipped && bullmq_give_back(q, c->id, tok, 1) == -1)
		note(c, "give back");
}

static void
path_timeout(struct hcase *c)
{
	char	tok[128];

	if (!fetch_abandon(c, tok, sizeof(tok)))
		return;
	stage(c, 1);
	if (!c->skipped && bullmq_fail_job(q, c->id, tok, "timed out") == -1)
		note(c, "fail job");
}

static void
path_remove(struct hcase *c)
{
	stage(c, 0);
	stage(c, 1);
	if (!c->skipped && bullmq_remove(q, c->id) == -1)
		note(c, "remove");
}

static void
path_retry_jobs(struct hcase *c)
{
	if (!fetch_run(c, proc_fail))
		return;
	if (bullmq_retry_jobs(q, "failed", 0) == -1)
		note(c, "retry jobs");
}

static void
path_clean_completed(struct hcase *c)
{
	if (!fetch_run(c, proc_ok))
		return;
	if (bullmq_clean(q, "completed", 0, 0) == -1)
		note(c, "clean");
}

static void
path_clean_wait(struct hcase *c)
{
	stage(c, 0);
	stage(c, 1);
	if (!c->skipped && bullmq_clean(q, "wait", 0, 0) == -1)
		note(c, "clean");
}

/*
 * Complete and fetch the next job in the same call (finish-1.lua runs the
 * fetch): a second job waits behind it, and must end in one state.
 */
static void
path_complete_next(struct hcase *c)
{
	enum bullmq_outcome	 oc;
	bullmq_job		*j, *next = NULL;
	char			 names[256];
	int			 n;

	cmd("HSET " Q "n2 name n data {} opts {} timestamp 1 delay 0 "
	    "priority 0");
	cmd("LPUSH " Q "wait n2");
	stage(c, 0);
	if (c->skipped || !fetch(c, &j))
		return;
	stage(c, 1);
	if (c->skipped) {
		bullmq_job_free(j);
		return;
	}
	if (bullmq_worker_run(c->w, j, proc_ok, &oc, &next) == -1)
		note(c, "run");
	if (next != NULL && bullmq_worker_run(c->w, next, proc_ok, &oc,
	    NULL) == -1)
		note(c, "run next");
	/* a broken wait took the next job with it */
	if (c->kind == K_KEY && strcmp(c->k->name, "wait") == 0)
		return;
	if ((n = where(Q, "n2", 2, names, sizeof(names))) != 1)
		bad(c, "the next job in %d states (%s)", n, names);
}

/* Extend the lock, report progress and a log line, then complete. */
static void
path_extend_progress(struct hcase *c)
{
	enum bullmq_outcome	 oc;
	bullmq_job		*j;
	const char		*id, *tok;

	stage(c, 0);
	if (c->skipped || !fetch(c, &j))
		return;
	stage(c, 1);
	if (c->skipped) {
		bullmq_job_free(j);
		return;
	}
	id = bullmq_job_id(j);
	tok = bullmq_job_token(j);
	if (bullmq_extend_locks(q, 1, &id, &tok, 30000, NULL, NULL) == -1)
		note(c, "extend locks");
	if (bullmq_job_progress(j, "{\"p\":1}") == -1)
		note(c, "progress");
	if (bullmq_job_log(j, "line") == -1)
		note(c, "log");
	if (bullmq_worker_run(c->w, j, proc_ok, &oc, NULL) == -1)
		note(c, "run");
}

/* The scheduler's next iteration, if made, is in one state. */
static void
path_scheduler(struct hcase *c)
{
	char	nid[64], names[256];
	int	n;

	fetch_run(c, proc_ok);
	snprintf(nid, sizeof(nid), "repeat:s1:%lld", PREV + 1000);
	if (num("EXISTS " Q "%s", nid) == 1 &&
	    (n = where(Q, nid, strlen(nid), names, sizeof(names))) != 1)
		bad(c, "successor %s in %d states (%s)", nid, n, names);
}

/* The parent, still there, is in one state of its queue. */
static void
path_parent(struct hcase *c)
{
	char	names[256];
	int	n;

	fetch_run(c, proc_ok);
	if (c->kind == K_KEY && strncmp(c->k->name, PQ, strlen(PQ)) == 0)
		return;		/* its own keys are broken */
	if (num("EXISTS " PQ ":P") == 1 &&
	    (n = where(PQ ":", "P", 1, names, sizeof(names))) != 1)
		bad(c, "parent in %d states (%s)", n, names);
}

static void
path_parent_fail(struct hcase *c)
{
	char	names[256];
	int	n;

	fetch_run(c, proc_fail);
	if (c->kind == K_KEY && strncmp(c->k->name, PQ, strlen(PQ)) == 0)
		return;
	if (num("EXISTS " PQ ":P") == 1 &&
	    (n = where(PQ ":", "P", 1, names, sizeof(names))) != 1)
		bad(c, "parent in %d states (%s)", n, names);
}

static const struct hpath paths[] = {
	{ "complete", path_complete, 0, 0, 0, 0, 0,
	    " completed failed removed " },
	{ "fail", path_fail, 0, 0, 0, 0, 0, " failed removed " },
	{ "retry-now", path_retry, 3, 0, 0, 0, 0, " failed removed " },
	{ "retry-backoff", path_retry, 3, 1, 0, 0, 0, " failed removed " },
	{ "final", path_retry, 2, 0, 0, 0, 0, " failed removed " },
	{ "stalled", path_stalled, 0, 0, 0, 0, 0, " wait " },
	{ "give-back", path_give_back, 0, 0, 0, 0, 0, " wait " },
	{ "timeout", path_timeout, 2, 0, 0, 0, 0,
	    " wait prioritized delayed failed removed " },
	{ "remove", path_remove, 0, 0, 1, 0, 0, " removed " },
	{ "retry-jobs", path_retry_jobs, 0, 0, 0, 0, 0, " wait " },
	{ "clean-completed", path_clean_completed, 0, 0, 1, 0, 0,
	    " failed removed " },
	{ "clean-wait", path_clean_wait, 0, 0, 1, 0, 0, " wait removed " },
	{ "scheduler", path_scheduler, 0, 0, 0, 0, 1,
	    " completed failed removed " },
	{ "parent", path_parent, 0, 0, 0, 1, 0, " completed failed removed " },
	{ "parent-fail", path_parent_fail, 0, 0, 0, 2, 0, " failed removed " },
	{ "complete-next", path_complete_next, 0, 0, 0, 0, 0,
	    " completed failed removed " },
	{ "extend-progress", path_extend_progress, 0, 0, 0, 0, 0,
	    " completed failed removed " },
};
#define NPATHS		(sizeof(paths) / sizeof(paths[0]))

/*
 * When every call succeeded, the job ended where its path leads: a call
 * that says it did its work and did not is worse than one that failed.
 */
static void
check_end(struct hcase *c)
{
	char	names[256], want[264];

	/* hostile attempts may keep it retrying as long as they like */
	if (!attempts_known(c))
		return;
	if (where(Q, c->id, c->idlen, names, sizeof(names)) == 0) {
		if (may_remove(c))
			return;
		strlcpy(names, "removed", sizeof(names));
	}
	snprintf(want, sizeof(want), " %s ", names);
	if (strstr(c->p->ends, want) == NULL)
		bad(c, "ended in %s, not in one of%s", names, c->p->ends);
}

/*
 * Put the broken key right and take the hostile job away, then add a
 * normal job: it must be fetched and completed.
 */
static void
check_normal(struct hcase *c)
{
	enum bullmq_outcome	 oc;
	bullmq_job		*j;
	char			 key[256], id[32];
	size_t			 i;
	int			 rv;

	if (c->kind == K_KEY) {
		key_name(c, c->k, key, sizeof(key));
		cmd("DEL %s", key);
	} else if (c->kind == K_META)
		cmd("DEL " Q "meta");
	/* the job and any other (a next job, a successor) out of the way */
	for (i = 0; i < NSTATES; i++)
		cmd("DEL " Q "%s", states[i].key);
	cmd("DEL " Q "%b " Q "%b:lock", c->id, c->idlen, c->id, c->idlen);
	rv = bullmq_add(q, "normal", "{\"n\":1}", NULL, id, sizeof(id));
	if (rv != BULLMQ_ADDED) {
		bad(c, "a normal job after it was not added: %s",
		    bullmq_errstr(q));
		return;
	}
	j = NULL;
	rv = bullmq_worker_try_fetch(c->w, &j);
	if (rv != 1 || strcmp(bullmq_job_id(j), id) != 0) {
		bad(c, "a normal job after it was not fetched: %d %s%s%s", rv,
		    rv == 1 ? "got " : "", rv == 1 ? bullmq_job_id(j) : "",
		    rv == -1 ? bullmq_errstr(q) : "");
		bullmq_job_free(j);
		return;
	}
	if (bullmq_worker_run(c->w, j, proc_ok, &oc, NULL) == -1 ||
	    oc != BULLMQ_COMPLETED)
		bad(c, "a normal job after it did not complete: %s",
		    bullmq_errstr(q));
	else if (!has("ZSCORE " Q "completed %s", id))
		bad(c, "a normal job after it is not in completed");
}

/* Run one combination; 1 ok, 0 bad, -1 skipped. */
static int
run_case(struct hcase *c)
{
	static char	 plain[] = JOB;
	static char	 sid[64];

	c->skipped = 0;
	c->bad[0] = c->note[0] = '\0';
	if (c->kind == K_FIELD && strcmp(c->what, "id") == 0) {
		if (c->v->s == NULL)
			return -1;	/* an id is never missing */
		c->id = (char *)c->v->s;
		c->idlen = c->v->len;
	} else if (c->p->sched) {
		snprintf(sid, sizeof(sid), "repeat:s1:%lld", PREV);
		c->id = sid;
		c->idlen = strlen(sid);
	} else {
		c->id = plain;
		c->idlen = strlen(plain);
	}
	cmd("FLUSHDB");
	c->w = bullmq_worker_new(q, &wopts);
	ck_assert_ptr_nonnull(c->w);
	put_job(c);
	c->p->run(c);
	if (!c->skipped) {
		check_placement(c, "after");
		if (c->kind == K_FIELD && c->note[0] == '\0')
			check_end(c);
		check_normal(c);
	}
	bullmq_worker_free(c->w);
	c->w = NULL;
	if (c->skipped)
		return -1;
	return c->bad[0] == '\0';
}

/* Does a table pattern match ("*" anything, "text*" a prefix)? */
static int
matches(const char *pat, const char *s)
{
	size_t	n = strlen(pat);

	if (n > 0 && pat[n - 1] == '*')
		return strncmp(pat, s, n - 1) == 0;
	return strcmp(pat, s) == 0;
}

/* The expected_to_fail entry of a combination, or -1. */
static int
expected(const char *what, const char *value, const char *path)
{
	size_t	i;

	for (i = 0; expected_to_fail[i].what != NULL; i++)
		if (matches(expected_to_fail[i].what, what) &&
		    matches(expected_to_fail[i].value, value) &&
		    matches(expected_to_fail[i].path, path))
			return (int)i;
	return -1;
}

/* The counts of the matrix. */
struct tally {
	int	total, ok, bad, xbad, skip;
};

/* Count a combination and print it when bad. */
static void
tally(struct tally *t, const struct hcase *c, int rv, const char *what,
    const char *value)
{
	int	x;

	if (rv == -1) {
		t->skip++;
		return;
	}
	t->total++;
	x = expected(what, value, c->p->name);
	if (rv == 1) {
		t->ok++;
		return;
	}
	t->bad++;
	if (x >= 0) {
		t->xbad++;
		xfail_hit[x] = 1;
	}
	printf("hostile: bad: %s %s path %s: %s%s%s%s%s%s%s\n", what, value,
	    c->p->name, c->bad, c->note[0] != '\0' ? " (" : "", c->note,
	    c->note[0] != '\0' ? ")" : "", x >= 0 ? " [expected: " : "",
	    x >= 0 ? expected_to_fail[x].reason : "", x >= 0 ? "]" : "");
}

/*
 * The matrix: each path with every field of the job and of the queue's
 * meta and every value, and with every key given each wrong type before
 * the fetch and before the operation.
 */
START_TEST(hostile_matrix)
{
	struct hcase	 c;
	struct tally	 t;
	const char	*alt[2];
	char		 what[80], value[80];
	size_t		 f, v, k, p, i;
	int		 a, at, rv;

	values_init();
	memset(&c, 0, sizeof(c));
	memset(&t, 0, sizeof(t));
	for (p = 0; p < NPATHS; p++) {
		c.p = &paths[p];
		for (f = 0; f < NFIELDS; f++)
			for (v = 0; v < NVALUES; v++) {
				c.kind = K_FIELD;
				c.what = fields[f];
				c.v = &values[v];
				rv = run_case(&c);
				snprintf(what, sizeof(what), "field %s",
				    fields[f]);
				tally(&t, &c, rv, what, values[v].label);
			}
		for (f = 0; f < NMETAS; f++)
			for (v = 0; v < NVALUES; v++) {
				c.kind = K_META;
				c.what = metas[f];
				c.v = &values[v];
				rv = run_case(&c);
				snprintf(what, sizeof(what), "meta %s",
				    metas[f]);
				tally(&t, &c, rv, what, values[v].label);
			}
		for (k = 0; k < NKEYS; k++) {
			if (strcmp(keys[k].type, "string") == 0) {
				alt[0] = "hash";
				alt[1] = "list";
			} else {
				alt[0] = "string";
				alt[1] = strcmp(keys[k].type, "hash") == 0 ?
				    "list" : "hash";
			}
			for (a = 0; a < 2; a++)
				for (at = 0; at < 2; at++) {
					c.kind = K_KEY;
					c.k = &keys[k];
					c.what = keys[k].name;
					c.as = alt[a];
					c.at = at;
					rv = run_case(&c);
					snprintf(what, sizeof(what), "key %s",
					    keys[k].name);
					snprintf(value, sizeof(value),
					    "as-%s-%s", alt[a], at == 0 ?
					    "before-fetch" : "before-op");
					tally(&t, &c, rv, what, value);
				}
		}
	}
	for (i = 0; expected_to_fail[i].what != NULL; i++)
		if (!xfail_hit[i])
			printf("hostile: expected_to_fail[%zu] (%s %s %s) now "
			    "passes: remove it\n", i, expected_to_fail[i].what,
			    expected_to_fail[i].value,
			    expected_to_fail[i].path);
	printf("hostile: %d combinations, %d ok, %d bad (%d expected), "
	    "%d skipped\n", t.total, t.ok, t.bad, t.xbad, t.skip);
	fflush(stdout);
	ck_assert_msg(t.bad == t.xbad, "%d unexpected bad combinations",
	    t.bad - t.xbad);
}
END_TEST

/* A queue handle for the matrix (each combination empties the server). */
static void
setup(void)
{
	harness_flush();
	q = harness_queue(QN);
}

/* Free the queue handle. */
static void
teardown(void)
{
	bullmq_queue_free(q);
	q = NULL;
}

/* The suite. */
Suite *
make_suite(void)
{
	Suite	*s = suite_create("hostile");
	TCase	*tc = tcase_create("hostile");

	tcase_add_unchecked_fixture(tc, harness_start, harness_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, hostile_matrix);
	suite_add_tcase(s, tc);
	return s;
}
