/*
 * check_scripts.c: the Lua scripts as a whole against a private
 * redis-server: the Redis commands a job costs in the steady state of a
 * worker (finish-1.lua fetching the next job), what that leaves behind,
 * the fetched job as the script patches it, and Redis's script errors
 * mapped back to our files and lines through the "--@include" expansion.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"
#include "harness.h"
#include "suite.h"

#define Q		"bull:sq:"
#define NJOBS		200
/* Redis commands per job in the steady state, EVALSHA included (was 24,
   then 19, then 17) */
#define MAX_PER_JOB	16

static bullmq_queue	*q;

/* Add n jobs named "j" with data {"i":N}. */
static void
add_jobs(int n)
{
	char	data[32], id[BMQ_MAX_ID];
	int	i;

	for (i = 1; i <= n; i++) {
		snprintf(data, sizeof(data), "{\"i\":%d}", i);
		ck_assert_int_eq(bullmq_add(q, "j", data, NULL, id,
		    sizeof(id)), BULLMQ_ADDED);
	}
}

/*
 * Sum the calls of INFO commandstats, less the test's own CONFIG and INFO;
 * the evalsha calls go to *evalsha.  Each command is printed.
 */
static long
redis_calls(long *evalsha)
{
	char		*info, *p, *e;
	long		 total = 0, n;
	size_t		 k;

	info = strdup(harness_str("INFO commandstats"));
	ck_assert_ptr_nonnull(info);
	*evalsha = 0;
	for (p = info; (p = strstr(p, "cmdstat_")) != NULL; p = e) {
		p += strlen("cmdstat_");
		k = strcspn(p, ":");
		e = p + k;
		if (strncmp(e, ":calls=", 7) != 0)
			continue;
		n = strtol(e + 7, &e, 10);
		printf("# %.*s %ld\n", (int)k, p, n);
		if (strncmp(p, "config|", 7) == 0 ||
		    (k == 4 && strncmp(p, "info", 4) == 0))
			continue;
		if (k == 7 && strncmp(p, "evalsha", 7) == 0)
			*evalsha = n;
		total += n;
	}
	free(info);
	return total;
}

/* Job i's hash as "field=value " pairs in HGETALL order. */
static const char *
job_hash(int i)
{
	static char	 buf[4096];
	redisReply	*r;
	size_t		 k;

	buf[0] = '\0';
	r = harness_cmd("HGETALL " Q "%d", i);
	for (k = 0; k + 1 < r->elements; k += 2) {
		strlcat(buf, r->element[k]->str, sizeof(buf));
		strlcat(buf, "=", sizeof(buf));
		strlcat(buf, r->element[k + 1]->str, sizeof(buf));
		strlcat(buf, " ", sizeof(buf));
	}
	freeReplyObject(r);
	return buf;
}

/* An event's fields as "name=value " pairs, "event" and "prev" only by name. */
static void
event_text(const redisReply *f, char *buf, size_t size)
{
	size_t	k;

	buf[0] = '\0';
	for (k = 0; k + 1 < f->elements; k += 2) {
		strlcat(buf, f->element[k]->str, size);
		strlcat(buf, "=", size);
		strlcat(buf, f->element[k + 1]->str, size);
		strlcat(buf, " ", size);
	}
}

/* The return value job i gets: {"r":i}, null for the last one. */
static const char *
retval(int i)
{
	static char	buf[32];

	if (i > NJOBS + 1)
		return "null";
	snprintf(buf, sizeof(buf), "{\"r\":%d}", i);
	return buf;
}

START_TEST(steady_state_commands)
{
	bullmq_worker		*w = harness_worker("wname");
	bullmq_job		*j = NULL, *next;
	enum bullmq_outcome	 oc;
	redisReply		*r;
	char			 want[512], got[512], fin[32];
	const char		*h, *rv;
	long			 calls, evalsha;
	size_t			 e;
	int			 i;

	/* job 1 warms up (SCRIPT LOAD of finish), then NJOBS finishes */
	add_jobs(NJOBS + 2);
	freeReplyObject(harness_cmd("DEL " Q "events"));
	ck_assert_int_eq(bullmq_worker_try_fetch(w, &j), 1);
	for (i = 1; i <= NJOBS + 1; i++) {
		if (i == 2)
			freeReplyObject(harness_cmd("CONFIG RESETSTAT"));
		ck_assert_int_eq(atoi(bullmq_job_id(j)), i);
		rv = retval(i);
		ck_assert_int_eq(bullmq_job_return(j, rv, strlen(rv)), 0);
		next = NULL;
		ck_assert_msg(bullmq_worker_finish(w, j, 0, &oc, &next) == 0,
		    "finish: %s", bullmq_errstr(q));
		ck_assert_int_eq(oc, BULLMQ_COMPLETED);
		ck_assert_ptr_nonnull(next);
		j = next;
	}
	/* each fetching the next job in the same call */
	calls = redis_calls(&evalsha);
	printf("# steady state: %.2f Redis commands per completed job "
	    "(%ld over %d jobs, EVALSHA included; at most %d)\n",
	    (double)calls / NJOBS, calls, NJOBS, MAX_PER_JOB);
	fflush(stdout);
	ck_assert_int_eq(evalsha, NJOBS);
	ck_assert_msg(calls <= (long)MAX_PER_JOB * NJOBS, "%ld commands for "
	    "%d jobs: more than %d a job", calls, NJOBS, MAX_PER_JOB);
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, NULL), 0);

	/* what is left: finished jobs with their results, no locks */
	ck_assert_int_eq(harness_int("ZCARD " Q "completed"), NJOBS + 2);
	ck_assert_int_eq(harness_int("LLEN " Q "active"), 0);
	ck_assert_int_eq(harness_int("LLEN " Q "wait"), 0);
	ck_assert_int_eq(harness_int("EXISTS " Q "stalled"), 0);
	ck_assert_str_eq(harness_str("HGET " Q "meta opts.maxLenEvents"),
	    "10000");
	for (i = 1; i <= NJOBS + 2; i++) {
		ck_assert_int_eq(harness_int("EXISTS " Q "%d:lock", i), 0);
		strlcpy(fin, harness_str("HGET " Q "%d finishedOn", i),
		    sizeof(fin));
		ck_assert_str_eq(harness_str("ZSCORE " Q "completed %d", i),
		    fin);
		h = job_hash(i);
		snprintf(want, sizeof(want), "data={\"i\":%d} ", i);
		ck_assert_ptr_nonnull(strstr(h, want));
		snprintf(want, sizeof(want), "processedOn=%s pb=wname ats=1 "
		    "atm=1 returnvalue=%s finishedOn=%s ", harness_str("HGET "
		    Q "%d processedOn", i), retval(i), fin);
		ck_assert_msg(strstr(h, want) != NULL &&
		    strcmp(strstr(h, want), want) == 0, "job %d: %s", i, h);
		ck_assert_int_eq(harness_int("HLEN " Q "%d", i), 12);
	}

	/* the events: active N, completed N, ..., drained */
	r = harness_cmd("XRANGE " Q "events - +");
	ck_assert_uint_eq(r->elements, 2 * (NJOBS + 2) + 1);
	for (e = 0, i = 1; i <= NJOBS + 2; i++) {
		snprintf(want, sizeof(want), "event=active jobId=%d "
		    "prev=waiting ", i);
		event_text(r->element[e++]->element[1], got, sizeof(got));
		ck_assert_str_eq(got, want);
		snprintf(want, sizeof(want), "event=completed jobId=%d "
		    "returnvalue=%s prev=active ", i, retval(i));
		event_text(r->element[e++]->element[1], got, sizeof(got));
		ck_assert_str_eq(got, want);
	}
	event_text(r->element[e]->element[1], got, sizeof(got));
	ck_assert_str_eq(got, "event=drained ");
	freeReplyObject(r);
	bullmq_worker_free(w);
}
END_TEST

/* The fetched job's fields, in order, as job_hash() writes them. */
static const char *
fetched_fields(const bullmq_job *j)
{
	static char	 buf[4096];
	const char	*k, *v;
	size_t		 i;

	buf[0] = '\0';
	for (i = 0; bullmq_job_field_at(j, i, &k, &v, NULL) == 0; i++) {
		strlcat(buf, k, sizeof(buf));
		strlcat(buf, "=", sizeof(buf));
		strlcat(buf, v, sizeof(buf));
		strlcat(buf, " ", sizeof(buf));
	}
	return buf;
}

START_TEST(fetch_reply_is_the_hash)
{
	bullmq_worker	*named = harness_worker("wname");
	bullmq_worker	*anon = harness_worker(NULL);
	bullmq_job	*j = NULL;
	char		 got[4096];

	/* a new job, a retried one (ats, pb and processedOn set), a stub */
	add_jobs(2);
	freeReplyObject(harness_cmd("HSET " Q "2 ats 3 pb old processedOn 1 "
	    "atm 2"));
	freeReplyObject(harness_cmd("LPUSH " Q "wait 77"));

	ck_assert_int_eq(bullmq_worker_try_fetch(named, &j), 1);
	ck_assert_str_eq(bullmq_job_id(j), "1");
	strlcpy(got, fetched_fields(j), sizeof(got));
	ck_assert_str_eq(got, job_hash(1));
	ck_assert_str_eq(bullmq_job_field(j, "ats", NULL), "1");
	ck_assert_str_eq(bullmq_job_field(j, "pb", NULL), "wname");
	bullmq_job_free(j);

	ck_assert_int_eq(bullmq_worker_try_fetch(anon, &j), 1);
	ck_assert_str_eq(bullmq_job_id(j), "2");
	strlcpy(got, fetched_fields(j), sizeof(got));
	ck_assert_str_eq(got, job_hash(2));
	ck_assert_int_eq(bullmq_job_attempts_started(j), 4);
	ck_assert_int_eq(bullmq_job_attempts_made(j), 2);
	ck_assert_str_eq(bullmq_job_field(j, "pb", NULL), "old");
	ck_assert_str_ne(bullmq_job_field(j, "processedOn", NULL), "1");
	bullmq_job_free(j);

	ck_assert_int_eq(bullmq_worker_try_fetch(named, &j), 1);
	ck_assert_str_eq(bullmq_job_id(j), "77");
	strlcpy(got, fetched_fields(j), sizeof(got));
	ck_assert_str_eq(got, job_hash(77));
	ck_assert_int_eq(harness_int("HLEN " Q "77"), 3);
	ck_assert_str_eq(bullmq_job_field(j, "ats", NULL), "1");
	bullmq_job_free(j);
	bullmq_worker_free(named);
	bullmq_worker_free(anon);
}
END_TEST

/*
 * The number of the first line of lua/FILE holding text, or abort; with
 * text NULL, the number of lines of the file.
 */
static long
line_of(const char *file, const char *text)
{
	const char	*top = getenv("top_srcdir");
	char		 path[1024], line[1024];
	FILE		*f;
	long		 n = 0;

	snprintf(path, sizeof(path), "%s/lua/%s", top != NULL ? top : ".",
	    file);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		n++;
		if (text != NULL && strstr(line, text) != NULL) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	if (text != NULL)
		ck_abort_msg("%s: no line holds %s", path, text);
	return n;
}

/* The handle's error must start with "script NAME: FILE:LINE: " + rest. */
static void
assert_err(const char *script, const char *file, long line, const char *rest)
{
	char	want[512];

	snprintf(want, sizeof(want), "script %s: lua/%s:%ld: %s", script,
	    file, line, rest);
	ck_assert_msg(strncmp(bullmq_errstr(q), want, strlen(want)) == 0,
	    "error \"%s\", want \"%s...\"", bullmq_errstr(q), want);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_REDIS);
}

/* Line n of the expanded fetch-9.lua must be line of file. */
static void
where(long n, const char *file, long line)
{
	const char	*f;
	long		 l;

	ck_assert_int_eq(bmq_lua_where(BMQ_LUA_FETCH, n, &f, &l), 0);
	ck_assert_msg(strcmp(f, file) == 0 && l == line, "line %ld: %s:%ld, "
	    "want %s:%ld", n, f, l, file, line);
}

START_TEST(line_map)
{
	const char	*file;
	long		 m, n, k, p, r, c, t, line;

	/* fetch-9.lua: the include follows its marker line */
	m = line_of("fetch-9.lua", "--@include fetch");
	n = line_of("include/fetch.lua", NULL);
	ck_assert_int_eq(bmq_lua_where(BMQ_LUA_FETCH, 1, &file, &line), 0);
	ck_assert_str_eq(file, "lua/fetch-9.lua");
	ck_assert_int_eq(line, 1);
	ck_assert_int_eq(bmq_lua_where(BMQ_LUA_FETCH, m, &file, &line), 0);
	ck_assert_str_eq(file, "lua/fetch-9.lua");
	ck_assert_int_eq(line, m);
	ck_assert_int_eq(bmq_lua_where(BMQ_LUA_FETCH, m + 1, &file, &line),
	    0);
	ck_assert_str_eq(file, "lua/include/fetch.lua");
	ck_assert_int_eq(line, 1);
	/*
	 * fetch.lua includes promote-due.lua (p lines) after its line k,
	 * which includes pc-next.lua (c lines) after its line r, then
	 * key-types.lua (t lines) after the line that follows
	 */
	k = line_of("include/fetch.lua", "--@include promote-due");
	p = line_of("include/promote-due.lua", NULL);
	r = line_of("include/promote-due.lua", "--@include pc-next");
	c = line_of("include/pc-next.lua", NULL);
	t = line_of("include/key-types.lua", NULL);
	ck_assert_int_eq(line_of("include/promote-due.lua",
	    "--@include key-types"), r + 1);
	where(m + k, "lua/include/fetch.lua", k);
	where(m + k + 1, "lua/include/promote-due.lua", 1);
	where(m + k + r, "lua/include/promote-due.lua", r);
	where(m + k + r + 1, "lua/include/pc-next.lua", 1);
	where(m + k + r + c, "lua/include/pc-next.lua", c);
	where(m + k + r + c + 1, "lua/include/promote-due.lua", r + 1);
	where(m + k + r + c + 2, "lua/include/key-types.lua", 1);
	where(m + k + r + c + t + 1, "lua/include/key-types.lua", t);
	where(m + k + r + c + t + 2, "lua/include/promote-due.lua", r + 2);
	where(m + k + p + c + t, "lua/include/promote-due.lua", p);
	where(m + k + p + c + t + 1, "lua/include/fetch.lua", k + 1);
	where(m + n + p + c + t, "lua/include/fetch.lua", n);
	where(m + n + p + c + t + 1, "lua/fetch-9.lua", m + 1);
	ck_assert_int_eq(bmq_lua_where(BMQ_LUA_FETCH, 0, &file, &line), -1);
	/* a script's lines before its first include are its file's */
	ck_assert_int_eq(bmq_lua_where(BMQ_LUA_ADD, 30, &file, &line), 0);
	ck_assert_str_eq(file, "lua/add-9.lua");
	ck_assert_int_eq(line, 30);
	/* the SHA1 is over the expanded text Redis gets */
	ck_assert_str_eq(harness_str("SCRIPT LOAD %b",
	    bmq_lua_scripts[BMQ_LUA_FINISH].src,
	    bmq_lua_scripts[BMQ_LUA_FINISH].len),
	    bmq_lua_scripts[BMQ_LUA_FINISH].sha);
}
END_TEST

/* bmq_lua_errmsg of a C string. */
static void
errmsg(enum bmq_lua s, const char *msg, char *buf, size_t size)
{
	bmq_lua_errmsg(s, msg, strlen(msg), buf, size);
}

START_TEST(errmsg_formats)
{
	char	in[256], out[256];
	long	m;

	m = line_of("fetch-9.lua", "--@include fetch");
	/* Redis 7.0: "ERR user_script:N: text script: SHA, on @..:N." */
	errmsg(BMQ_LUA_FETCH, "ERR user_script:3: boom script: "
	    "73188b7294d6de446ee8cf5f6e71b55ba062c49e, on @user_script:3.",
	    out, sizeof(out));
	ck_assert_str_eq(out, "lua/fetch-9.lua:3: boom");
	snprintf(in, sizeof(in), "WRONGTYPE Operation against a key "
	    "holding the wrong kind of value script: 240e9fdbf4d733263804600d"
	    "5347109a42b5216b, on @user_script:%ld.", m + 2);
	errmsg(BMQ_LUA_FETCH, in, out, sizeof(out));
	ck_assert_str_eq(out, "lua/include/fetch.lua:2: WRONGTYPE Operation "
	    "against a key holding the wrong kind of value");
	/* a tail that is not Redis's is text */
	errmsg(BMQ_LUA_FETCH, "ERR x script: abc, on @user_script:3.", out,
	    sizeof(out));
	ck_assert_str_eq(out, "ERR x script: abc, on @lua/fetch-9.lua:3.");
	/* Redis 6: the place inside the text */
	snprintf(in, sizeof(in), "ERR Error running script (call to f_x): "
	    "@user_script:%ld: oops", m + 5);
	errmsg(BMQ_LUA_FETCH, in, out, sizeof(out));
	ck_assert_str_eq(out, "ERR Error running script (call to f_x): "
	    "@lua/include/fetch.lua:5: oops");
	/* not a line of the script: left as Redis's */
	errmsg(BMQ_LUA_FETCH, "ERR user_script:0: x", out, sizeof(out));
	ck_assert_str_eq(out, "user_script:0: x");
	errmsg(BMQ_LUA_FETCH, "OOM command not allowed", out, sizeof(out));
	ck_assert_str_eq(out, "OOM command not allowed");
	/* cut to the buffer, visibly */
	errmsg(BMQ_LUA_FETCH, "ERR user_script:1: abcdef", out, 20);
	ck_assert_str_eq(out, "lua/fetch-9.lua:...");
	errmsg(BMQ_LUA_FETCH, "ERR user_script:1: abcdef", out, 26);
	ck_assert_str_eq(out, "lua/fetch-9.lua:1: abcdef");
}
END_TEST

/* A long message fits the 1024 bytes the script call gives it. */
START_TEST(errmsg_long)
{
	char	in[700], out[1024];

	memset(in, 'x', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	memcpy(in, "ERR user_script:1: ", 19);
	errmsg(BMQ_LUA_FETCH, in, out, sizeof(out));
	ck_assert_uint_eq(strlen(out), strlen("lua/fetch-9.lua:1: ") + 680);
	ck_assert_int_eq(out[strlen(out) - 1], 'x');
}
END_TEST

START_TEST(errors_name_files)
{
	struct bullmq_worker_opts	 o;
	bullmq_worker			*w = harness_worker(NULL);
	bullmq_job			*j = NULL;
	struct bmq_args			 a;
	int				 n;

	/* a Redis error inside the include: queue_held's HMGET of meta */
	freeReplyObject(harness_cmd("SET " Q "meta x"));
	ck_assert_int_eq(bullmq_worker_try_fetch(w, &j), -1);
	assert_err("fetch", "include/fetch.lua", line_of("include/fetch.lua",
	    "rcall(\"HMGET\", KEYS[5]"), "WRONGTYPE");
	/*
	 * a due job and wait a string: include key-types refuses before
	 * the job leaves delayed, naming the key
	 */
	freeReplyObject(harness_cmd("DEL " Q "meta"));
	freeReplyObject(harness_cmd("ZADD " Q "delayed 4096 d"));
	freeReplyObject(harness_cmd("SET " Q "wait x"));
	ck_assert_int_eq(bullmq_worker_try_fetch(w, &j), -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_JOB);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_KEY_WRONG_TYPE);
	ck_assert_str_eq(bullmq_errstr(q), "script fetch: key " Q "wait holds "
	    "a string, not a list: nothing was written");
	ck_assert_str_eq(harness_str("ZSCORE " Q "delayed d"), "4096");
	bullmq_worker_free(w);

	/* and in the include after it: the limiter a hash */
	memset(&o, 0, sizeof(o));
	o.limiter_max = 5;
	w = bullmq_worker_new(q, &o);
	ck_assert_ptr_nonnull(w);
	freeReplyObject(harness_cmd("DEL " Q "wait " Q "delayed"));
	freeReplyObject(harness_cmd("HSET " Q "limiter a b"));
	ck_assert_int_eq(bullmq_worker_try_fetch(w, &j), -1);
	assert_err("fetch", "include/fetch.lua", line_of("include/fetch.lua",
	    "rcall(\"GET\", KEYS[8])"), "WRONGTYPE");
	bullmq_worker_free(w);

	/* in the other include, from finish: the metrics a string */
	freeReplyObject(harness_cmd("DEL " Q "meta " Q "limiter"));
	memset(&o, 0, sizeof(o));
	o.metrics_max_points = 10;
	w = bullmq_worker_new(q, &o);
	ck_assert_ptr_nonnull(w);
	add_jobs(1);
	ck_assert_int_eq(bullmq_worker_try_fetch(w, &j), 1);
	freeReplyObject(harness_cmd("SET " Q "metrics:completed x"));
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, NULL, NULL), -1);
	assert_err("finish", "include/finish-rare.lua",
	    line_of("include/finish-rare.lua", "rcall(\"HMGET\", mk"),
	    "WRONGTYPE");
	bullmq_worker_free(w);

	/* from drain, a parent's dependencies key that holds a string: a
	   refusal before the first write */
	freeReplyObject(harness_cmd("HSET " Q "5 parentKey " Q "p"));
	freeReplyObject(harness_cmd("HSET " Q "p name p"));
	freeReplyObject(harness_cmd("SET " Q "p:dependencies x"));
	freeReplyObject(harness_cmd("LPUSH " Q "wait 5"));
	freeReplyObject(harness_cmd("HSET " Q "6 name n"));
	freeReplyObject(harness_cmd("LPUSH " Q "wait 6"));
	ck_assert_int_eq(bullmq_drain(q, 0), -1);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_KEY_WRONG_TYPE);
	ck_assert_int_eq(harness_int("EXISTS " Q "5"), 1);
	/* 6 went before 5 refused: wait holds 5 alone */
	ck_assert_int_eq(harness_int("EXISTS " Q "6"), 0);
	ck_assert_int_eq(harness_int("LLEN " Q "wait"), 1);
	ck_assert_str_eq(harness_str("LINDEX " Q "wait 0"), "5");

	/* a Lua error in a script's own lines after an include */
	freeReplyObject(harness_cmd("HSET " Q "meta paused 1"));
	bmq_args_init(&a);
	bmq_args_adds(&a, Q "meta");
	for (n = 1; n < 17; n++)
		bmq_args_adds(&a, Q "x");
	bmq_args_adds(&a, Q);
	bmq_args_adds(&a, "not a number");
	bmq_args_adds(&a, "");
	ck_assert_ptr_null(bmq_script(q, BMQ_LUA_OBLITERATE, &a));
	assert_err("obliterate", "obliterate-17.lua", line_of(
	    "obliterate-17.lua", "budget - 1"), "attempt to perform "
	    "arithmetic");
}
END_TEST

Suite *
make_suite(void)
{
	Suite	*s = suite_create("scripts");
	TCase	*tc = harness_tcase(s, "scripts", "sq", &q, 60);

	tcase_add_test(tc, steady_state_commands);
	tcase_add_test(tc, fetch_reply_is_the_hash);
	tcase_add_test(tc, line_map);
	tcase_add_test(tc, errmsg_formats);
	tcase_add_test(tc, errmsg_long);
	tcase_add_test(tc, errors_name_files);
	return s;
}
