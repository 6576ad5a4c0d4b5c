/*
 * check_worker.c: the worker-side scripts and C code against a private
 * redis-server: fetch, finish, retries and backoff, retention, flows,
 * schedulers, the stalled check, give-back, lock extension, progress, logs.
 * Jobs are written by hand as a Node producer would.
 */
#include <sys/time.h>

#include <check.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bullmq-int.h"
#include "harness.h"
#include "suite.h"

#define Q	"bull:wq:"

static bullmq_queue	*q;
static int		 ran;

/* Checked fixture: no job has run yet. */
static void
reset_ran(void)
{
	ran = 0;
}

/* Fetch one job without blocking; it must come. */
static bullmq_job *
fetch(bullmq_worker *w)
{
	bullmq_job	*j = NULL;
	int		 rv;

	rv = bullmq_worker_try_fetch(w, &j);
	ck_assert_msg(rv == 1, "fetch: %d %s", rv, bullmq_errstr(q));
	ck_assert_ptr_nonnull(j);
	return j;
}

/* Copy of a command's text reply, for comparing two replies. */
static char *
str_copy(char *buf, size_t size, const char *s)
{
	strlcpy(buf, s, size);
	return buf;
}

/* Forget the events so far. */
static void
clear_events(void)
{
	freeReplyObject(harness_cmd("DEL " Q "events"));
}

/*
 * Keep Redis busy for ms milliseconds with a script on a connection of its
 * own (started when this returns); busy_end waits for it.
 */
static redisContext *
busy_start(int ms)
{
	redisContext	*c;
	int		 done = 0;

	c = redisConnectUnix(harness_sock);
	ck_assert_msg(c != NULL && c->err == 0, "connect");
	redisAppendCommand(c, "EVAL %s 1 x %d", "local t = redis.call('TIME') "
	    "local e = t[1] * 1000000 + t[2] + ARGV[1] * 1000 repeat t = "
	    "redis.call('TIME') until t[1] * 1000000 + t[2] >= e return 1",
	    ms);
	while (!done)
		ck_assert_int_eq(redisBufferWrite(c, &done), REDIS_OK);
	usleep(10000);		/* let Redis start it */
	return c;
}

/* Wait for the busy script of busy_start to end, and close its connection. */
static void
busy_end(redisContext *c)
{
	redisReply	*r;

	ck_assert_int_eq(redisGetReply(c, (void **)&r), REDIS_OK);
	ck_assert_int_eq(r->integer, 1);
	freeReplyObject(r);
	redisFree(c);
}

/* Wait up to 2 s for the integer reply of cmd on key to be want. */
static void
wait_int(long long want, const char *cmd, const char *key)
{
	int	i;

	for (i = 0; i < 200 && harness_int("%s %s", cmd, key) != want; i++)
		usleep(10000);
	ck_assert_int_eq(harness_int("%s %s", cmd, key), want);
}

/* A processor that must not run. */
static int
proc_never(bullmq_job *j)
{
	(void)j;
	ran++;
	return 0;
}

/* A processor returning the job's data. */
static int
proc_echo(bullmq_job *j)
{
	const char	*d;
	size_t		 len;

	ran++;
	d = bullmq_job_data(j, &len);
	if (d != NULL)
		bullmq_job_return(j, d, len);
	return 0;
}

START_TEST(fetch_and_complete)
{
	bullmq_worker		*w = harness_worker("wname");
	bullmq_job		*j, *next = NULL;
	enum bullmq_outcome	 oc;
	char			 id[32], tmp[64];
	const char		*rv = "{\"a\": 1 , \"u\":\"x/y\", \"n\":1.50}";

	harness_add_job("plain", "{\"x\":1}", "{\"attempts\":0}", id,
	    sizeof(id));
	clear_events();
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), id);
	ck_assert_str_eq(bullmq_job_name(j), "plain");
	ck_assert_str_eq(bullmq_job_data(j, NULL), "{\"x\":1}");
	ck_assert_ptr_nonnull(bullmq_job_field(j, "timestamp", NULL));
	ck_assert_str_eq(bullmq_job_field(j, "pb", NULL), "wname");
	ck_assert_int_eq(bullmq_job_attempts_started(j), 1);
	ck_assert_str_ne(bullmq_job_token(j), "0");
	ck_assert_ptr_nonnull(strchr(bullmq_job_token(j), ':'));
	ck_assert_str_eq(harness_str("GET " Q "%s:lock", id),
	    bullmq_job_token(j));
	ck_assert_int_gt(harness_int("PTTL " Q "%s:lock", id), 25000);
	ck_assert_str_eq(harness_str("HGET " Q "%s ats", id), "1");
	ck_assert_str_eq(harness_str("HGET " Q "%s pb", id), "wname");
	ck_assert_str_ne(harness_str("HGET " Q "%s processedOn", id), "(nil)");
	ck_assert_str_eq(harness_str("LINDEX " Q "active 0"), id);
	ck_assert_str_eq(harness_str("ZSCORE " Q "marker 0"), "0");
	ck_assert_str_eq(harness_event_field("active", "prev"), "waiting");
	/* the connection is named for getWorkers(): bull:base64(wq):w:wname */
	ck_assert_ptr_nonnull(strstr(harness_str("CLIENT LIST"),
	    "name=bull:d3E=:w:wname "));

	ck_assert_int_eq(bullmq_job_return(j, rv, strlen(rv)), 0);
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, &next), 0);
	ck_assert_int_eq(oc, BULLMQ_COMPLETED);
	ck_assert_ptr_null(next);
	ck_assert_str_eq(harness_str("HGET " Q "%s returnvalue", id), rv);
	ck_assert_str_eq(harness_str("HGET " Q "%s atm", id), "1");
	ck_assert_str_ne(harness_str("HGET " Q "%s finishedOn", id), "(nil)");
	ck_assert_str_eq(str_copy(tmp, sizeof(tmp), harness_str("ZSCORE " Q
	    "completed %s", id)), harness_str("HGET " Q "%s finishedOn", id));
	ck_assert_int_eq(harness_int("EXISTS " Q "%s:lock", id), 0);
	ck_assert_int_eq(harness_int("LLEN " Q "active"), 0);
	ck_assert_str_eq(harness_event_list(), "active:1 completed:1 drained");
	ck_assert_str_eq(harness_event_field("completed", "returnvalue"), rv);
	ck_assert_str_eq(harness_event_field("completed", "prev"), "active");
	ck_assert_str_eq(harness_str("HGET " Q "meta opts.maxLenEvents"),
	    "10000");
	bullmq_worker_free(w);
}
END_TEST

START_TEST(complete_null_and_fetch_next)
{
	bullmq_worker		*w = harness_worker(NULL);
	bullmq_job		*j, *next = NULL;
	enum bullmq_outcome	 oc;
	char			 a[32], b[32], tok[BMQ_MAX_TOKEN];

	harness_add_job("a", "{}", "{}", a, sizeof(a));
	harness_add_job("b", "{}", "{}", b, sizeof(b));
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), a);
	ck_assert_ptr_null(bullmq_job_field(j, "pb", NULL));
	strlcpy(tok, bullmq_job_token(j), sizeof(tok));
	clear_events();
	/* the fetch wrote the marker; a fetch as a job finishes does not */
	ck_assert_str_eq(harness_str("ZSCORE " Q "marker 0"), "0");
	freeReplyObject(harness_cmd("DEL " Q "marker"));
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, &next), 0);
	ck_assert_int_eq(oc, BULLMQ_COMPLETED);
	ck_assert_ptr_nonnull(next);
	ck_assert_int_eq(harness_int("EXISTS " Q "marker"), 0);
	ck_assert_str_eq(bullmq_job_id(next), b);
	/* the chained job keeps the finished job's token */
	ck_assert_str_eq(bullmq_job_token(next), tok);
	ck_assert_str_eq(harness_str("GET " Q "%s:lock", b), tok);
	ck_assert_str_eq(harness_str("HGET " Q "%s returnvalue", a), "null");
	ck_assert_str_eq(harness_event_list(), "completed:1 active:2");
	ck_assert_int_eq(bullmq_worker_finish(w, next, 0, &oc, &next), 0);
	ck_assert_ptr_null(next);
	ck_assert_str_eq(harness_event_list(),
	    "completed:1 active:2 completed:2 drained");
	/* an unnamed worker: bull:base64(wq) */
	ck_assert_ptr_nonnull(strstr(harness_str("CLIENT LIST"),
	    "name=bull:d3E= "));
	bullmq_worker_free(w);
}
END_TEST

/* Fetch a job of 6 fields and n more, f0 v0 and on, and check them. */
static void
fetch_wide(bullmq_worker *w, int n)
{
	bullmq_job	*j;
	char		 f[16], v[16];
	int		 i;

	freeReplyObject(harness_cmd("HSET " Q "wide name n data {} opts {} "
	    "timestamp 1 delay 0 priority 0"));
	for (i = 0; i < n; i++)
		freeReplyObject(harness_cmd("HSET " Q "wide f%d v%d", i, i));
	freeReplyObject(harness_cmd("LPUSH " Q "wait wide"));
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), "wide");
	for (i = 0; i < n; i++) {
		snprintf(f, sizeof(f), "f%d", i);
		snprintf(v, sizeof(v), "v%d", i);
		ck_assert_str_eq(bullmq_job_field(j, f, NULL), v);
	}
	ck_assert_str_eq(bullmq_job_field(j, "name", NULL), "n");
	ck_assert_str_eq(bullmq_job_field(j, "ats", NULL), "1");
	ck_assert_ptr_nonnull(bullmq_job_field(j, "processedOn", NULL));
	bullmq_job_free(j);
	freeReplyObject(harness_cmd("DEL " Q "wide " Q "active"));
}

/*
 * The forms of a fetched job's reply (lua/fetch-9.lua): one string, the
 * table for 256 strings or more or an id of 256 bytes or more, and the
 * hash read again when a field holds a NUL.
 */
START_TEST(fetch_reply_forms)
{
	bullmq_worker	*w = harness_worker(NULL);
	bullmq_job	*j;
	char		 longid[301];
	const char	*v;
	size_t		 len;

	/* an id of 300 bytes */
	memset(longid, 'k', 300);
	longid[300] = '\0';
	freeReplyObject(harness_cmd("HSET " Q "%s name n data {\"l\":1} "
	    "opts {} timestamp 1 delay 0 priority 0", longid));
	freeReplyObject(harness_cmd("LPUSH " Q "wait %s", longid));
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), longid);
	ck_assert_str_eq(bullmq_job_data(j, NULL), "{\"l\":1}");
	ck_assert_int_eq(bullmq_job_attempts_started(j), 1);
	bullmq_job_free(j);

	/*
	 * 6 fields and n more, with processedOn and ats: 127 fields (254
	 * strings) still fit the one-string form, 128 and 132 do not
	 */
	fetch_wide(w, 119);
	fetch_wide(w, 120);
	fetch_wide(w, 124);

	/* a NUL in the data: the hash is read again */
	freeReplyObject(harness_cmd("HSET " Q "nul name n data %b opts {} "
	    "timestamp 1 delay 0 priority 0", "\"a\0b\"", (size_t)6));
	freeReplyObject(harness_cmd("LPUSH " Q "wait nul"));
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), "nul");
	v = bullmq_job_data(j, &len);
	ck_assert_uint_eq(len, 6);
	ck_assert_int_eq(memcmp(v, "\"a\0b\"", 6), 0);
	ck_assert_str_eq(bullmq_job_name(j), "n");
	bullmq_job_free(j);
	bullmq_worker_free(w);
}
END_TEST

START_TEST(prioritized_and_pc)
{
	bullmq_worker	*w = harness_worker(NULL);
	bullmq_job	*j;

	freeReplyObject(harness_cmd("HSET " Q "p1 name n data {} opts {} "
	    "timestamp 1 delay 0 priority 7"));
	freeReplyObject(harness_cmd("ZADD " Q "prioritized 30064771073 p1"));
	freeReplyObject(harness_cmd("SET " Q "pc 1"));
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), "p1");
	ck_assert_str_eq(harness_str("LINDEX " Q "active 0"), "p1");
	ck_assert_int_eq(harness_int("EXISTS " Q "pc"), 1);
	bullmq_job_free(j);
	ck_assert_int_eq(bullmq_worker_try_fetch(w, &j), 0);
	ck_assert_int_eq(harness_int("EXISTS " Q "pc"), 0);
	bullmq_worker_free(w);
}
END_TEST

START_TEST(delayed_promotion)
{
	bullmq_worker	*w = harness_worker(NULL);
	bullmq_job	*j;
	long long	 now = bullmq_now();

	freeReplyObject(harness_cmd("HSET " Q "d1 name n data {} opts {} "
	    "timestamp 1 delay 500 priority 0"));
	freeReplyObject(harness_cmd("HSET " Q "d2 name n data {} opts {} "
	    "timestamp 1 delay 500 priority 3"));
	freeReplyObject(harness_cmd("HSET " Q "d3 name n data {} opts {} "
	    "timestamp 1 delay 500 priority 0"));
	freeReplyObject(harness_cmd("ZADD " Q "delayed %lld d1 %lld d2 %lld d3",
	    (now - 20) * 4096, (now - 10) * 4096, (now + 60000) * 4096));
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), "d1");
	ck_assert_str_eq(harness_str("HGET " Q "d1 delay"), "0");
	ck_assert_str_eq(harness_str("HGET " Q "d2 delay"), "0");
	ck_assert_str_eq(harness_str("ZSCORE " Q "prioritized d2"),
	    "12884901889");
	ck_assert_str_eq(harness_event_list(),
	    "waiting:d1 waiting:d2 active:d1");
	ck_assert_str_eq(harness_event_field("waiting", "prev"), "delayed");
	bullmq_job_free(j);
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), "d2");
	bullmq_job_free(j);
	/* only a future delayed job: nothing, not even a drained event */
	ck_assert_int_eq(bullmq_worker_try_fetch(w, &j), 0);
	ck_assert_ptr_null(j);
	ck_assert_int_eq(harness_int("ZCARD " Q "delayed"), 1);
	bullmq_worker_free(w);
}
END_TEST

START_TEST(paused_maxed_limited)
{
	struct bullmq_worker_opts	 o;
	bullmq_worker			*w;
	bullmq_job			*j;
	char				 a[32], b[32];

	memset(&o, 0, sizeof(o));
	o.limiter_max = 1;
	o.limiter_duration = 60000;
	w = bullmq_worker_new(q, &o);
	harness_add_job("a", "{}", "{}", a, sizeof(a));
	harness_add_job("b", "{}", "{}", b, sizeof(b));
	freeReplyObject(harness_cmd("HSET " Q "meta paused 0"));
	ck_assert_int_eq(bullmq_worker_try_fetch(w, &j), 0);
	ck_assert_int_eq(harness_int("LLEN " Q "wait"), 2);
	freeReplyObject(harness_cmd("HDEL " Q "meta paused"));
	j = fetch(w);
	bullmq_job_free(j);
	ck_assert_str_eq(harness_str("GET " Q "limiter"), "1");
	ck_assert_int_gt(harness_int("PTTL " Q "limiter"), 50000);
	/* the worker limiter (max 1) holds the second job back */
	ck_assert_int_eq(bullmq_worker_try_fetch(w, &j), 0);
	ck_assert_int_eq(harness_int("LLEN " Q "wait"), 1);
	/* meta max wins over the worker's max */
	freeReplyObject(harness_cmd("HSET " Q "meta max 5"));
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), b);
	bullmq_job_free(j);
	ck_assert_str_eq(harness_str("GET " Q "limiter"), "2");
	bullmq_worker_free(w);

	/* global concurrency: 2 active already */
	freeReplyObject(harness_cmd("DEL " Q "limiter"));
	freeReplyObject(harness_cmd("HDEL " Q "meta max"));
	freeReplyObject(harness_cmd("HSET " Q "meta concurrency 2"));
	harness_add_job("c", "{}", "{}", a, sizeof(a));
	w = harness_worker(NULL);
	ck_assert_int_eq(bullmq_worker_try_fetch(w, &j), 0);
	freeReplyObject(harness_cmd("HSET " Q "meta concurrency 3"));
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), a);
	bullmq_job_free(j);
	bullmq_worker_free(w);
}
END_TEST

START_TEST(legacy_marker)
{
	bullmq_worker	*w = harness_worker(NULL);
	bullmq_job	*j;
	char		 a[32];

	harness_add_job("a", "{}", "{}", a, sizeof(a));
	freeReplyObject(harness_cmd("RPUSH " Q "wait 0:1"));
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), a);
	ck_assert_int_eq(harness_int("LLEN " Q "active"), 1);
	ck_assert_int_eq(harness_int("LLEN " Q "wait"), 0);
	bullmq_job_free(j);
	bullmq_worker_free(w);
}
END_TEST

static bullmq_worker	*wake_w;

/* SIGALRM: wake the worker, as bullmq-master's children do on SIGIO. */
static void
on_alarm(int sig)
{
	bullmq_worker_wake(wake_w);
}

/* bullmq_worker_wake ends a blocking fetch at once, from a handler. */
START_TEST(wake_ends_block)
{
	struct itimerval	 it;
	struct sigaction	 sa;
	bullmq_worker		*w = harness_worker(NULL);
	bullmq_job		*j = NULL;
	int64_t			 t0;
	char			 a[32];

	wake_w = w;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 300000;
	setitimer(ITIMER_REAL, &it, NULL);
	t0 = bullmq_now();
	ck_assert_int_eq(bullmq_worker_fetch(w, &j), 0);
	ck_assert_ptr_null(j);
	ck_assert_int_lt(bullmq_now() - t0, 2000);
	ck_assert_int_ge(bullmq_now() - t0, 250);
	/* a wake before the fetch: it returns at once */
	bullmq_worker_wake(w);
	t0 = bullmq_now();
	ck_assert_int_eq(bullmq_worker_fetch(w, &j), 0);
	ck_assert_int_lt(bullmq_now() - t0, 1000);
	/* and then fetches as before, on a new connection */
	harness_add_job("a", "{}", "{}", a, sizeof(a));
	ck_assert_int_eq(bullmq_worker_fetch(w, &j), 1);
	ck_assert_str_eq(bullmq_job_id(j), a);
	bullmq_job_free(j);
	bullmq_worker_free(w);
}
END_TEST

START_TEST(retry_fixed_backoff)
{
	bullmq_worker		*w = harness_worker(NULL);
	bullmq_job		*j, *next;
	enum bullmq_outcome	 oc;
	char			 id[32], next_id[32];
	long long		 before, after, score, due;

	harness_add_job("r", "{}", "{\"attempts\":3,\"backoff\":"
	    "{\"type\":\"fixed\",\"delay\":1000}}", id, sizeof(id));
	j = fetch(w);
	bullmq_job_error(j, "boom", 0);
	before = bullmq_now();
	ck_assert_int_eq(bullmq_worker_finish(w, j, 1, &oc, NULL), 0);
	after = bullmq_now();
	ck_assert_int_eq(oc, BULLMQ_DELAYED);
	score = harness_int("ZSCORE " Q "delayed %s", id);
	score = strtoll(harness_str("ZSCORE " Q "delayed %s", id), NULL, 10);
	due = score / 4096;
	ck_assert_int_ge(due, before + 1000);
	ck_assert_int_le(due, after + 1000);
	ck_assert_int_eq(score % 4096, 0);
	ck_assert_str_eq(harness_str("HGET " Q "%s delay", id), "1000");
	ck_assert_str_eq(harness_str("HGET " Q "%s atm", id), "1");
	ck_assert_str_eq(harness_str("HGET " Q "%s failedReason", id), "boom");
	ck_assert_str_eq(harness_str("HGET " Q "%s stacktrace", id),
	    "[\"Error: boom\"]");
	ck_assert_int_eq(harness_int("LLEN " Q "active"), 0);
	ck_assert_int_eq(harness_int("EXISTS " Q "%s:lock", id), 0);
	ck_assert_int_eq(strtoll(harness_event_field("delayed", "delay"), NULL,
	    10), due);
	ck_assert_int_eq(strtoll(harness_str("ZSCORE " Q "marker 1"), NULL,
	    10), due);

	/* with a job waiting, the same call hands it over */
	harness_add_job("r", "{}", "{\"attempts\":2,\"backoff\":"
	    "{\"type\":\"fixed\",\"delay\":1000}}", id, sizeof(id));
	harness_add_job("n", "{\"x\":1}", "{}", next_id, sizeof(next_id));
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), id);
	bullmq_job_error(j, "boom", 0);
	ck_assert_int_eq(bullmq_worker_finish(w, j, 1, &oc, &next), 0);
	ck_assert_int_eq(oc, BULLMQ_DELAYED);
	ck_assert_ptr_nonnull(next);
	ck_assert_str_eq(bullmq_job_id(next), next_id);
	ck_assert_str_eq(bullmq_job_field(next, "data", NULL), "{\"x\":1}");
	ck_assert_str_eq(harness_str("LINDEX " Q "active 0"), next_id);
	ck_assert_int_eq(bullmq_worker_finish(w, next, 0, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_COMPLETED);
	bullmq_worker_free(w);
}
END_TEST

START_TEST(retry_exponential_backoff)
{
	bullmq_worker		*w = harness_worker(NULL);
	bullmq_job		*j;
	enum bullmq_outcome	 oc;
	char			 id[32];
	long long		 before, after, due;

	harness_add_job("r", "{}", "{\"attempts\":4,\"backoff\":{\"type\":"
	    "\"exponential\",\"delay\":100}}", id, sizeof(id));
	freeReplyObject(harness_cmd("HSET " Q "%s atm 2 stacktrace "
	    "[\"one\",\"two\"]", id));
	j = fetch(w);
	bullmq_job_error(j, "third", 0);
	before = bullmq_now();
	ck_assert_int_eq(bullmq_worker_finish(w, j, 1, &oc, NULL), 0);
	after = bullmq_now();
	ck_assert_int_eq(oc, BULLMQ_DELAYED);
	/* retry number 3: 2^2 * 100 */
	ck_assert_str_eq(harness_str("HGET " Q "%s delay", id), "400");
	due = strtoll(harness_str("ZSCORE " Q "delayed %s", id), NULL, 10) /
	    4096;
	ck_assert_int_ge(due, before + 400);
	ck_assert_int_le(due, after + 400);
	ck_assert_str_eq(harness_str("HGET " Q "%s atm", id), "3");
	ck_assert_str_eq(harness_str("HGET " Q "%s stacktrace", id),
	    "[\"one\",\"two\",\"Error: third\"]");
	bullmq_worker_free(w);
}
END_TEST

START_TEST(retry_immediate)
{
	bullmq_worker		*w = harness_worker(NULL);
	bullmq_job		*j, *next;
	enum bullmq_outcome	 oc;
	char			 a[32], b[32], c[32];

	harness_add_job("a", "{}", "{\"attempts\":2}", a, sizeof(a));
	harness_add_job("b", "{}", "{\"attempts\":2,\"lifo\":true}", b,
	    sizeof(b));
	harness_add_job("c", "{}", "{\"attempts\":5}", c, sizeof(c));
	freeReplyObject(harness_cmd("HSET " Q "%s priority 2", c));
	j = fetch(w);
	clear_events();
	ck_assert_int_eq(bullmq_worker_finish(w, j, 1, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_RETRIED);
	/* back of the line: the left end */
	ck_assert_str_eq(harness_str("LINDEX " Q "wait 0"), a);
	ck_assert_str_eq(harness_str("HGET " Q "%s atm", a), "1");
	ck_assert_str_eq(harness_str("HGET " Q "%s failedReason", a),
	    "failed");
	ck_assert_str_eq(harness_event_list(), "waiting:1");
	ck_assert_str_eq(harness_event_field("waiting", "prev"), "active");
	ck_assert_str_eq(harness_str("ZSCORE " Q "marker 0"), "0");
	/* a lifo job goes to the front; fetch-next picks it again at once */
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), b);
	ck_assert_int_eq(bullmq_worker_finish(w, j, 1, &oc, &next), 0);
	ck_assert_int_eq(oc, BULLMQ_RETRIED);
	ck_assert_ptr_nonnull(next);
	ck_assert_str_eq(bullmq_job_id(next), b);
	ck_assert_str_eq(bullmq_job_field(next, "atm", NULL), "1");
	/* now its attempts are used up: failed for good */
	ck_assert_int_eq(bullmq_worker_finish(w, next, 1, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_FAILED);
	ck_assert_str_eq(harness_str("HGET " Q "%s atm", b), "2");
	/* a job with a priority goes back to prioritized */
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), c);
	ck_assert_int_eq(bullmq_worker_finish(w, j, 1, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_RETRIED);
	ck_assert_str_ne(harness_str("ZSCORE " Q "prioritized %s", c),
	    "(nil)");
	bullmq_worker_free(w);
}
END_TEST

START_TEST(fail_final_and_unrecoverable)
{
	bullmq_worker		*w = harness_worker(NULL);
	bullmq_job		*j;
	enum bullmq_outcome	 oc;
	char			 a[32], b[32], tmp[64];

	harness_add_job("a", "{}", "{\"attempts\":0}", a, sizeof(a));
	harness_add_job("b", "{}", "{\"attempts\":5,\"stackTraceLimit\":0}", b,
	    sizeof(b));
	j = fetch(w);
	bullmq_job_error(j, "bad thing", 0);
	clear_events();
	ck_assert_int_eq(bullmq_worker_finish(w, j, 1, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_FAILED);
	ck_assert_str_eq(harness_str("HGET " Q "%s failedReason", a),
	    "bad thing");
	ck_assert_str_eq(str_copy(tmp, sizeof(tmp), harness_str("ZSCORE " Q
	    "failed %s", a)), harness_str("HGET " Q "%s finishedOn", a));
	ck_assert_str_eq(harness_str("HGET " Q "%s atm", a), "1");
	ck_assert_str_eq(harness_event_list(), "failed:1 retries-exhausted:1");
	ck_assert_str_eq(harness_event_field("failed", "failedReason"),
	    "bad thing");
	ck_assert_str_eq(harness_event_field("failed", "prev"), "active");
	ck_assert_str_eq(harness_event_field("retries-exhausted",
	    "attemptsMade"), "1");
	/* unrecoverable: no retry even with attempts left */
	j = fetch(w);
	bullmq_job_error(j, "fatal", 1);
	clear_events();
	ck_assert_int_eq(bullmq_worker_finish(w, j, 1, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_FAILED);
	ck_assert_str_eq(harness_str("HGET " Q "%s stacktrace", b), "[]");
	/* atm 1 < attempts 5: failed, but no retries-exhausted */
	ck_assert_str_eq(harness_event_list(), "failed:2 drained");
	bullmq_worker_free(w);
}
END_TEST

START_TEST(stacktrace_limit)
{
	bullmq_worker		*w = harness_worker(NULL);
	bullmq_job		*j;
	enum bullmq_outcome	 oc;
	char			 a[32];

	harness_add_job("a", "{}", "{\"stackTraceLimit\":2}", a, sizeof(a));
	freeReplyObject(harness_cmd("HSET " Q "%s stacktrace %s", a,
	    "[\"x\\\"y\", [1,2], \"b\"]"));
	j = fetch(w);
	bullmq_job_error(j, "say \"hi\"\n", 0);
	ck_assert_int_eq(bullmq_worker_finish(w, j, 1, &oc, NULL), 0);
	ck_assert_str_eq(harness_str("HGET " Q "%s stacktrace", a),
	    "[\"b\",\"Error: say \\\"hi\\\"\\n\"]");
	bullmq_worker_free(w);
}
END_TEST

START_TEST(retention)
{
	struct bullmq_worker_opts	 o;
	bullmq_worker			*w;
	bullmq_job			*j;
	enum bullmq_outcome		 oc;
	char				 id[32], ids[3][32];
	long long			 now = bullmq_now();
	int				 i;

	memset(&o, 0, sizeof(o));
	o.remove_on_complete.mode = BULLMQ_KEEP_COUNT;
	o.remove_on_complete.count = 1;
	w = bullmq_worker_new(q, &o);

	/* true: deleted at once, the event still written */
	harness_add_job("t", "{}", "{\"removeOnComplete\":true}", id,
	    sizeof(id));
	freeReplyObject(harness_cmd("RPUSH " Q "%s:logs l", id));
	j = fetch(w);
	clear_events();
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, NULL), 0);
	ck_assert_int_eq(harness_int("EXISTS " Q "%s", id), 0);
	ck_assert_int_eq(harness_int("EXISTS " Q "%s:logs", id), 0);
	ck_assert_str_eq(harness_str("ZSCORE " Q "completed %s", id), "(nil)");
	ck_assert_str_eq(harness_event_list(), "completed:1 drained");

	/* job-level count 2 beats the worker's 1 */
	for (i = 0; i < 3; i++)
		harness_add_job("c", "{}", "{\"removeOnComplete\":2}", ids[i],
		    32);
	for (i = 0; i < 3; i++) {
		j = fetch(w);
		ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, NULL), 0);
	}
	ck_assert_int_eq(harness_int("ZCARD " Q "completed"), 2);
	ck_assert_int_eq(harness_int("EXISTS " Q "%s", ids[0]), 0);
	ck_assert_int_eq(harness_int("EXISTS " Q "%s", ids[2]), 1);

	/* job-level false keeps it even though the worker keeps 1 */
	harness_add_job("f", "{}", "{\"removeOnComplete\":false}", id,
	    sizeof(id));
	j = fetch(w);
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, NULL), 0);
	ck_assert_int_eq(harness_int("ZCARD " Q "completed"), 3);

	/* worker-level count 1 applies when the job says nothing */
	harness_add_job("w", "{}", "{}", id, sizeof(id));
	j = fetch(w);
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, NULL), 0);
	ck_assert_int_eq(harness_int("ZCARD " Q "completed"), 1);
	ck_assert_str_ne(harness_str("ZSCORE " Q "completed %s", id), "(nil)");

	/* {age}: entries older than age seconds go */
	freeReplyObject(harness_cmd("HSET " Q "old name o data {}"));
	freeReplyObject(harness_cmd("ZADD " Q "failed %lld old",
	    now - 10000));
	harness_add_job("a", "{}", "{\"removeOnFail\":{\"age\":5}}", id,
	    sizeof(id));
	j = fetch(w);
	ck_assert_int_eq(bullmq_worker_finish(w, j, 1, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_FAILED);
	ck_assert_int_eq(harness_int("EXISTS " Q "old"), 0);
	ck_assert_int_eq(harness_int("ZCARD " Q "failed"), 1);
	ck_assert_str_ne(harness_str("ZSCORE " Q "failed %s", id), "(nil)");
	bullmq_worker_free(w);
}
END_TEST

START_TEST(lock_and_state_codes)
{
	bullmq_worker		*w = harness_worker(NULL);
	bullmq_job		*j;
	enum bullmq_outcome	 oc;
	char			 id[32], msg[128];

	/* -2: the lock expired */
	harness_add_job("a", "{}", "{}", id, sizeof(id));
	j = fetch(w);
	freeReplyObject(harness_cmd("DEL " Q "%s:lock", id));
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_LOST_LOCK);
	ck_assert_int_eq(bullmq_script_code(q), -2);
	ck_assert_str_eq(harness_str("LINDEX " Q "active 0"), id);
	freeReplyObject(harness_cmd("DEL " Q "active"));

	/* -6: another worker holds it */
	harness_add_job("a", "{}", "{}", id, sizeof(id));
	j = fetch(w);
	freeReplyObject(harness_cmd("SET " Q "%s:lock other", id));
	ck_assert_int_eq(bullmq_worker_finish(w, j, 1, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_LOST_LOCK);
	ck_assert_int_eq(bullmq_script_code(q), -6);
	ck_assert_str_eq(harness_str("GET " Q "%s:lock", id), "other");
	freeReplyObject(harness_cmd("DEL " Q "active"));

	/* -3: not active any more */
	harness_add_job("a", "{}", "{}", id, sizeof(id));
	j = fetch(w);
	freeReplyObject(harness_cmd("DEL " Q "active"));
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_LOST_LOCK);
	ck_assert_int_eq(bullmq_script_code(q), -3);

	/* -1: the job was removed; its id leaves active */
	harness_add_job("a", "{}", "{}", id, sizeof(id));
	j = fetch(w);
	freeReplyObject(harness_cmd("DEL " Q "%s", id));
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_LOST_LOCK);
	ck_assert_int_eq(bullmq_script_code(q), -1);
	ck_assert_int_eq(harness_int("LLEN " Q "active"), 0);
	ck_assert_int_eq(harness_int("EXISTS " Q "%s:lock", id), 0);

	/* -4: pending children turn completion into a failure */
	harness_add_job("a", "{}", "{}", id, sizeof(id));
	freeReplyObject(harness_cmd("SADD " Q "%s:dependencies bull:wq:x",
	    id));
	j = fetch(w);
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_FAILED);
	snprintf(msg, sizeof(msg), "Job %s has pending dependencies. "
	    "moveToFinished", id);
	ck_assert_str_eq(harness_str("HGET " Q "%s failedReason", id), msg);

	/* -9: failed children make it fail unrecoverably */
	harness_add_job("a", "{}", "{\"attempts\":3}", id, sizeof(id));
	freeReplyObject(harness_cmd("ZADD " Q "%s:unsuccessful 1 bull:wq:x",
	    id));
	j = fetch(w);
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_FAILED);
	ck_assert_ptr_nonnull(strstr(harness_str("HGET " Q "%s failedReason",
	    id), "at least one failed child"));
	ck_assert_ptr_nonnull(strstr(harness_str("HGET " Q "%s stacktrace",
	    id), "UnrecoverableError"));
	bullmq_worker_free(w);
}
END_TEST

START_TEST(dedup_release)
{
	bullmq_worker		*w = harness_worker(NULL);
	bullmq_job		*j;
	enum bullmq_outcome	 oc;
	char			 a[32], b[32];

	harness_add_job("a", "{}", "{\"de\":{\"id\":\"d1\"}}", a, sizeof(a));
	freeReplyObject(harness_cmd("HSET " Q "%s deid d1", a));
	freeReplyObject(harness_cmd("SET " Q "de:d1 %s", a));
	harness_add_job("b", "{}", "{\"de\":{\"id\":\"d2\",\"ttl\":60000}}", b,
	    sizeof(b));
	freeReplyObject(harness_cmd("HSET " Q "%s deid d2", b));
	freeReplyObject(harness_cmd("SET " Q "de:d2 %s PX 60000", b));
	j = fetch(w);
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, NULL), 0);
	ck_assert_int_eq(harness_int("EXISTS " Q "de:d1"), 0);
	j = fetch(w);
	ck_assert_int_eq(bullmq_worker_finish(w, j, 1, &oc, NULL), 0);
	/* a ttl window outlives the job */
	ck_assert_str_eq(harness_str("GET " Q "de:d2"), b);
	bullmq_worker_free(w);
}
END_TEST

/*
 * keepLastIfActive: an add deduplicated while the owner ran is stored in
 * Q:dn:<id> (as bullmq@6.7.0 wrote it); finishing the owner adds it.
 */
START_TEST(dedup_keep_last_if_active)
{
	bullmq_worker		*w = harness_worker(NULL);
	bullmq_job		*j;
	enum bullmq_outcome	 oc;
	char			 a[32], b[32];

	harness_add_job("x", "{\"n\":1}", "{\"de\":{\"id\":\"k1\","
	    "\"keepLastIfActive\":true},\"attempts\":0}", a, sizeof(a));
	freeReplyObject(harness_cmd("HSET " Q "%s deid k1", a));
	freeReplyObject(harness_cmd("SET " Q "de:k1 %s", a));
	j = fetch(w);
	/* two adds while active: ids 2 and 3, the last one kept */
	freeReplyObject(harness_cmd("SET " Q "id 3"));
	freeReplyObject(harness_cmd("HSET " Q "dn:k1 name x data {\"n\":3} "
	    "opts {\"de\":{\"id\":\"k1\",\"keepLastIfActive\":true},"
	    "\"attempts\":2} jid 3"));
	clear_events();
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_COMPLETED);
	ck_assert_str_eq(harness_str("GET " Q "de:k1"), "3");
	ck_assert_int_eq(harness_int("PTTL " Q "de:k1"), -1);
	ck_assert_int_eq(harness_int("EXISTS " Q "dn:k1"), 0);
	ck_assert_str_eq(harness_str("GET " Q "id"), "4");
	ck_assert_str_eq(harness_str("HGET " Q "3 data"), "{\"n\":3}");
	ck_assert_str_eq(harness_str("HGET " Q "3 opts"), "{\"de\":{\"id\":"
	    "\"k1\",\"keepLastIfActive\":true},\"attempts\":2}");
	ck_assert_str_eq(harness_str("HGET " Q "3 deid"), "k1");
	ck_assert_str_eq(harness_str("HGET " Q "3 delay"), "0");
	ck_assert_str_eq(harness_str("HGET " Q "3 priority"), "0");
	ck_assert_str_eq(harness_str("LINDEX " Q "wait 0"), "3");
	ck_assert_str_eq(harness_event_list(), "added:3 waiting:3 completed:1");

	/* a failed owner, a delayed prototype without jid: the counter */
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), "3");
	freeReplyObject(harness_cmd("HSET " Q "dn:k1 name y data {} opts "
	    "{\"de\":{\"id\":\"k1\",\"keepLastIfActive\":true},"
	    "\"delay\":60000}"));
	clear_events();
	ck_assert_int_eq(bullmq_worker_finish(w, j, 1, &oc, NULL), 0);
	/* attempts 2: it was retried, nothing materialised yet */
	ck_assert_int_eq(oc, BULLMQ_RETRIED);
	ck_assert_int_eq(harness_int("EXISTS " Q "dn:k1"), 1);
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), "3");
	ck_assert_int_eq(bullmq_worker_finish(w, j, 1, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_FAILED);
	snprintf(b, sizeof(b), "%s", harness_str("GET " Q "id"));
	ck_assert_str_eq(b, "5");
	ck_assert_str_eq(harness_str("GET " Q "de:k1"), b);
	ck_assert_str_eq(harness_str("HGET " Q "5 name"), "y");
	ck_assert_str_eq(harness_str("HGET " Q "5 delay"), "60000");
	ck_assert_str_ne(harness_str("ZSCORE " Q "delayed 5"), "(nil)");
	ck_assert_ptr_nonnull(strstr(harness_event_list(),
	    "added:5 delayed:5"));
	ck_assert_int_eq(harness_int("EXISTS " Q "dn:k1"), 0);

	/* a job without deid never looks at Q:dn */
	harness_add_job("z", "{}", "{}", a, sizeof(a));
	freeReplyObject(harness_cmd("HSET " Q "dn:k1 name q data {} opts {}"));
	j = fetch(w);
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, NULL), 0);
	ck_assert_int_eq(harness_int("EXISTS " Q "dn:k1"), 1);
	bullmq_worker_free(w);
}
END_TEST

START_TEST(parent_bookkeeping)
{
	bullmq_worker		*w = harness_worker(NULL);
	bullmq_job		*j;
	enum bullmq_outcome	 oc;

	/* a parent in another queue waits for two children */
	freeReplyObject(harness_cmd("HSET bull:pq:P name p data {} opts {} "
	    "timestamp 1 delay 0 priority 0"));
	freeReplyObject(harness_cmd("ZADD bull:pq:waiting-children 1 P"));
	freeReplyObject(harness_cmd("SADD bull:pq:P:dependencies "
	    "bull:wq:c1 bull:wq:c2"));
	freeReplyObject(harness_cmd("HSET " Q "c1 name c data {} opts {} "
	    "timestamp 1 delay 0 priority 0 parentKey bull:pq:P parent %s",
	    "{\"id\":\"P\",\"queueKey\":\"bull:pq\"}"));
	freeReplyObject(harness_cmd("HSET " Q "c2 name c data {} opts {} "
	    "timestamp 1 delay 0 priority 0 parentKey bull:pq:P parent %s",
	    "{\"id\":\"P\",\"queueKey\":\"bull:pq\",\"fpof\":true}"));
	freeReplyObject(harness_cmd("LPUSH " Q "wait c1 c2"));
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), "c1");
	bullmq_job_return(j, "42", 2);
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, NULL), 0);
	ck_assert_str_eq(harness_str("HGET bull:pq:P:processed bull:wq:c1"),
	    "42");
	ck_assert_int_eq(harness_int("SCARD bull:pq:P:dependencies"), 1);
	ck_assert_int_eq(harness_int("ZCARD bull:pq:waiting-children"), 1);

	/* the last child completes: the parent goes to its wait */
	freeReplyObject(harness_cmd("HSET " Q "c2 parent %s",
	    "{\"id\":\"P\",\"queueKey\":\"bull:pq\"}"));
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), "c2");
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, NULL), 0);
	ck_assert_int_eq(harness_int("ZCARD bull:pq:waiting-children"), 0);
	ck_assert_str_eq(harness_str("LINDEX bull:pq:wait -1"), "P");
	ck_assert_str_eq(harness_str("ZSCORE bull:pq:marker 0"), "0");
	ck_assert_str_eq(harness_str("HGET bull:pq:P:processed bull:wq:c2"),
	    "null");
	bullmq_worker_free(w);
}
END_TEST

START_TEST(parent_fail_policy)
{
	bullmq_worker		*w = harness_worker(NULL);
	bullmq_job		*j;
	enum bullmq_outcome	 oc;
	redisReply		*r;

	freeReplyObject(harness_cmd("HSET " Q "P name p data {} opts {} "
	    "timestamp 1 delay 0 priority 0"));
	freeReplyObject(harness_cmd("ZADD " Q "waiting-children 1 P"));
	freeReplyObject(harness_cmd("SADD " Q "P:dependencies bull:wq:c1 "
	    "bull:wq:c2"));
	freeReplyObject(harness_cmd("HSET " Q "c1 name c data {} opts {} "
	    "timestamp 1 delay 0 priority 0 parentKey bull:wq:P parent %s",
	    "{\"id\":\"P\",\"queueKey\":\"bull:wq\",\"fpof\":true}"));
	freeReplyObject(harness_cmd("LPUSH " Q "wait c1"));
	j = fetch(w);
	bullmq_job_error(j, "child broke", 0);
	clear_events();
	ck_assert_int_eq(bullmq_worker_finish(w, j, 1, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_FAILED);
	ck_assert_str_ne(harness_str("ZSCORE " Q "P:unsuccessful bull:wq:c1"),
	    "(nil)");
	ck_assert_str_eq(harness_str("HGET " Q "P defa"),
	    "child bull:wq:c1 failed");
	ck_assert_int_eq(harness_int("ZCARD " Q "waiting-children"), 0);
	ck_assert_str_eq(harness_str("LINDEX " Q "wait -1"), "P");
	ck_assert_str_eq(harness_event_list(),
	    "waiting:P failed:c1 retries-exhausted:c1");
	/* the next worker fails the parent with its defa, unrun */
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), "P");
	ck_assert_int_eq(bullmq_worker_run(w, j, proc_never, &oc, NULL), 0);
	ck_assert_int_eq(ran, 0);
	ck_assert_int_eq(oc, BULLMQ_FAILED);
	ck_assert_str_eq(harness_str("HGET " Q "P failedReason"),
	    "child bull:wq:c1 failed");
	r = harness_cmd("HEXISTS " Q "P defa");
	ck_assert_int_eq(r->integer, 0);
	freeReplyObject(r);
	bullmq_worker_free(w);
}
END_TEST

START_TEST(defa_stalled)
{
	bullmq_worker		*w = harness_worker(NULL);
	bullmq_job		*j;
	enum bullmq_outcome	 oc;
	char			 id[32], id2[32];

	harness_add_job("a", "{}", "{}", id, sizeof(id));
	freeReplyObject(harness_cmd("HSET " Q "%s defa %s", id,
	    "job stalled more than allowable limit"));
	clear_events();
	j = fetch(w);
	ck_assert_int_eq(bullmq_worker_run(w, j, proc_never, &oc, NULL), 0);
	ck_assert_int_eq(ran, 0);
	ck_assert_int_eq(oc, BULLMQ_FAILED);
	ck_assert_str_eq(harness_str("HGET " Q "%s failedReason", id),
	    "job stalled more than allowable limit");
	ck_assert_int_eq(harness_int("HEXISTS " Q "%s defa", id), 0);
	ck_assert_str_eq(harness_str("HGET " Q "%s stacktrace", id),
	    "[\"UnrecoverableError: job stalled more than allowable "
	    "limit\"]");
	ck_assert_str_eq(harness_event_list(),
	    "active:1 failed:1 retries-exhausted:1 drained");
	/* attempts left do not matter */
	harness_add_job("b", "{}", "{\"attempts\":3}", id2, sizeof(id2));
	freeReplyObject(harness_cmd("HSET " Q "%s defa child", id2));
	j = fetch(w);
	ck_assert_int_eq(bullmq_worker_run(w, j, proc_never, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_FAILED);
	ck_assert_int_eq(ran, 0);
	bullmq_worker_free(w);
}
END_TEST

/* A processor that fails (recoverably). */
static int
proc_fail(bullmq_job *j)
{
	ran++;
	bullmq_job_error(j, "boom", 0);
	return 1;
}

/*
 * maxStartedAttempts as a Node worker honours it: no retry once a job was
 * started that many times, and a job started more often fails unrun.
 */
START_TEST(max_started_attempts)
{
	struct bullmq_worker_opts	 o;
	bullmq_worker			*w;
	bullmq_job			*j;
	enum bullmq_outcome		 oc;
	char				 id[32];

	memset(&o, 0, sizeof(o));
	o.max_started_attempts = -1;
	ck_assert_ptr_null(bullmq_worker_new(q, &o));
	o.max_started_attempts = 2;
	w = bullmq_worker_new(q, &o);
	ck_assert_ptr_nonnull(w);

	/* started once (ats 1): attempts left, retried */
	harness_add_job("a", "{}", "{\"attempts\":5}", id, sizeof(id));
	j = fetch(w);
	ck_assert_int_eq(bullmq_worker_run(w, j, proc_fail, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_RETRIED);
	/* started twice (ats 2 = the limit): attempts left, but failed */
	j = fetch(w);
	ck_assert_int_eq(bullmq_worker_run(w, j, proc_fail, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_FAILED);
	ck_assert_int_eq(ran, 2);
	ck_assert_str_eq(harness_str("HGET " Q "%s failedReason", id), "boom");
	ck_assert_str_eq(harness_str("HGET " Q "%s atm", id), "2");

	/* started a third time (a stall, say): failed without running */
	harness_add_job("b", "{}", "{\"attempts\":5}", id, sizeof(id));
	freeReplyObject(harness_cmd("HSET " Q "%s ats 2", id));
	j = fetch(w);
	ck_assert_int_eq(bullmq_worker_run(w, j, proc_never, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_FAILED);
	ck_assert_int_eq(ran, 2);
	ck_assert_str_eq(harness_str("HGET " Q "%s failedReason", id),
	    "job started more than allowable limit");
	ck_assert_str_eq(harness_str("HGET " Q "%s stacktrace", id),
	    "[\"UnrecoverableError: job started more than allowable "
	    "limit\"]");
	bullmq_worker_free(w);

	/* no limit: the same job runs */
	harness_add_job("c", "{}", "{}", id, sizeof(id));
	freeReplyObject(harness_cmd("HSET " Q "%s ats 7", id));
	w = harness_worker(NULL);
	j = fetch(w);
	ck_assert_int_eq(bullmq_worker_run(w, j, proc_echo, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_COMPLETED);
	ck_assert_int_eq(ran, 3);
	bullmq_worker_free(w);
}
END_TEST

START_TEST(foreign_jobs)
{
	bullmq_worker		*w = harness_worker(NULL);
	bullmq_job		*j, *next;
	enum bullmq_outcome	 oc;
	char			 a[32], b[32], c[32];
	char			*big;
	size_t			 n = 4 * 1024 * 1024, len;

	harness_add_job("bad", "{not json", "{}", a, sizeof(a));
	freeReplyObject(harness_cmd("HSET " Q "bare name only"));
	freeReplyObject(harness_cmd("LPUSH " Q "wait bare"));
	harness_add_job("ok", "[1,2]", "not json either", c, sizeof(c));
	j = fetch(w);
	ck_assert_int_eq(bullmq_worker_run(w, j, proc_echo, &oc, &next), 0);
	ck_assert_int_eq(oc, BULLMQ_FAILED);
	ck_assert_int_eq(ran, 0);
	ck_assert_str_eq(harness_str("HGET " Q "%s failedReason", a),
	    "job data is not valid JSON: {not json");
	/* a hash with only a name: runs with no data */
	ck_assert_ptr_nonnull(next);
	ck_assert_str_eq(bullmq_job_id(next), "bare");
	ck_assert_ptr_null(bullmq_job_data(next, NULL));
	ck_assert_int_eq(bullmq_job_attempts(next), 0);
	ck_assert_int_eq(bullmq_worker_run(w, next, proc_echo, &oc, &next),
	    0);
	ck_assert_int_eq(oc, BULLMQ_COMPLETED);
	ck_assert_str_eq(harness_str("HGET " Q "bare returnvalue"), "null");
	/* unreadable opts: treated as none */
	ck_assert_ptr_nonnull(next);
	ck_assert_str_eq(bullmq_job_id(next), c);
	ck_assert_int_eq(bullmq_worker_run(w, next, proc_echo, &oc, &next),
	    0);
	ck_assert_int_eq(oc, BULLMQ_COMPLETED);
	ck_assert_str_eq(harness_str("HGET " Q "%s returnvalue", c), "[1,2]");
	ck_assert_ptr_null(next);

	/* a 4 MB payload */
	big = malloc(n + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', n);
	big[0] = '"';
	big[n - 1] = '"';
	big[n] = '\0';
	snprintf(b, sizeof(b), "%lld", harness_int("INCR " Q "id"));
	freeReplyObject(harness_cmd("HSET " Q "%s name big data %b opts {} "
	    "timestamp 1 delay 0 priority 0", b, big, n));
	freeReplyObject(harness_cmd("LPUSH " Q "wait %s", b));
	j = fetch(w);
	ck_assert_ptr_nonnull(bullmq_job_data(j, &len));
	ck_assert_uint_eq(len, n);
	ck_assert_int_eq(bullmq_worker_run(w, j, proc_echo, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_COMPLETED);
	ck_assert_int_eq(harness_int("HSTRLEN " Q "%s returnvalue", b),
	    (long long)n);
	free(big);

	/* an id without a hash: dropped, not run */
	freeReplyObject(harness_cmd("LPUSH " Q "wait ghost"));
	ran = 0;
	j = fetch(w);
	ck_assert_int_eq(bullmq_worker_run(w, j, proc_echo, &oc, NULL), 0);
	ck_assert_int_eq(ran, 0);
	ck_assert_int_eq(oc, BULLMQ_LOST_LOCK);
	ck_assert_int_eq(harness_int("LLEN " Q "active"), 0);
	ck_assert_int_eq(harness_int("EXISTS " Q "ghost:lock"), 0);
	ck_assert_int_eq(harness_int("EXISTS " Q "ghost"), 0);
	bullmq_worker_free(w);
}
END_TEST

START_TEST(scheduler_every)
{
	bullmq_worker		*w = harness_worker(NULL);
	bullmq_job		*j;
	enum bullmq_outcome	 oc;
	long long		 now = bullmq_now(), prev = now - 100;
	char			 cur[64], nid[64], opts[256];
	const char		*no;

	snprintf(cur, sizeof(cur), "repeat:s1:%lld", prev);
	snprintf(nid, sizeof(nid), "repeat:s1:%lld", prev + 1000);
	freeReplyObject(harness_cmd("ZADD " Q "repeat %lld s1", prev));
	freeReplyObject(harness_cmd("HSET " Q "repeat:s1 name tick every "
	    "1000 ic 1 data {\"t\":1}"));
	snprintf(opts, sizeof(opts), "{\"repeat\":{\"every\":1000,\"count\":"
	    "1},\"jobId\":\"%s\",\"repeatJobKey\":\"s1\",\"attempts\":0}",
	    cur);
	freeReplyObject(harness_cmd("HSET " Q "%s name tick data {\"t\":1} "
	    "opts %s timestamp %lld delay 0 priority 0 rjk s1", cur, opts,
	    prev));
	freeReplyObject(harness_cmd("LPUSH " Q "wait %s", cur));
	freeReplyObject(harness_cmd("SET " Q "id 5"));
	j = fetch(w);
	clear_events();
	ck_assert_int_eq(bullmq_worker_run(w, j, proc_echo, &oc, NULL), 0);
	ck_assert_int_eq(ran, 1);
	ck_assert_int_eq(harness_int("EXISTS " Q "%s", nid), 1);
	ck_assert_int_eq(strtoll(harness_str("ZSCORE " Q "repeat s1"), NULL,
	    10), prev + 1000);
	ck_assert_str_eq(harness_str("HGET " Q "repeat:s1 ic"), "2");
	ck_assert_str_eq(harness_str("GET " Q "id"), "6");
	ck_assert_str_eq(harness_str("HGET " Q "%s rjk", nid), "s1");
	ck_assert_str_eq(harness_str("HGET " Q "%s data", nid), "{\"t\":1}");
	ck_assert_str_eq(harness_str("HGET " Q "%s name", nid), "tick");
	ck_assert_str_ne(harness_str("ZSCORE " Q "delayed %s", nid), "(nil)");
	no = harness_str("HGET " Q "%s opts", nid);
	ck_assert_ptr_nonnull(strstr(no, "\"count\":2"));
	ck_assert_ptr_nonnull(strstr(no, nid));
	ck_assert_ptr_nonnull(strstr(harness_event_list(), "added:repeat:s1:"));
	ck_assert_ptr_nonnull(strstr(harness_event_list(),
	    "delayed:repeat:s1:"));
	ck_assert_str_eq(harness_str("HGET " Q "%s returnvalue", cur),
	    "{\"t\":1}");

	/* not the current iteration any more: nothing new */
	freeReplyObject(harness_cmd("HSET " Q "%s name tick data {} opts %s "
	    "timestamp 1 delay 0 priority 0 rjk s1", cur, opts));
	freeReplyObject(harness_cmd("LPUSH " Q "wait %s", cur));
	j = fetch(w);
	ck_assert_int_eq(bullmq_worker_run(w, j, proc_echo, &oc, NULL), 0);
	ck_assert_str_eq(harness_str("GET " Q "id"), "6");
	bullmq_worker_free(w);
}
END_TEST

/*
 * A cron "pattern" scheduler as Queue.upsertJobScheduler of bullmq@6.7.0
 * wrote it: the next iteration gets cron-parser's next time after
 * max(now, prevMillis) in the scheduler's tz, as a Node worker makes it.
 */
START_TEST(scheduler_pattern)
{
	bullmq_worker		*w = harness_worker(NULL);
	bullmq_job		*j;
	enum bullmq_outcome	 oc;
	/* 2100-01-01 00:00Z, a Friday; 09:00 in Berlin is 08:00Z */
	long long		 prev = 4102444800000LL, next = 4102473600000LL;
	long long		 now, delay;
	char			 cur[64], nid[64], opts[512];
	const char		*no;

	snprintf(cur, sizeof(cur), "repeat:s1:%lld", prev);
	snprintf(nid, sizeof(nid), "repeat:s1:%lld", next);
	freeReplyObject(harness_cmd("ZADD " Q "repeat %lld s1", prev));
	freeReplyObject(harness_cmd("HSET " Q "repeat:s1 name tick tz "
	    "Europe/Berlin pattern %s offset 0 opts {\"attempts\":2} data "
	    "{\"t\":1} ic 1", "0 9 * * 1-5"));
	snprintf(opts, sizeof(opts), "{\"timestamp\":1795834505002,"
	    "\"prevMillis\":%lld,\"repeatJobKey\":\"s1\",\"jobId\":\"%s\","
	    "\"repeat\":{\"tz\":\"Europe\\/Berlin\",\"count\":1,\"pattern\":"
	    "\"0 9 * * 1-5\"},\"delay\":991,\"attempts\":2}", prev, cur);
	freeReplyObject(harness_cmd("HSET " Q "%s rjk s1 priority 0 name tick "
	    "timestamp 1795834505009 data {\"t\":1} delay 0 opts %s", cur,
	    opts));
	freeReplyObject(harness_cmd("LPUSH " Q "wait %s", cur));
	freeReplyObject(harness_cmd("SET " Q "id 1"));
	j = fetch(w);
	clear_events();
	now = bullmq_now();
	ck_assert_int_eq(bullmq_worker_run(w, j, proc_echo, &oc, NULL), 0);
	ck_assert_int_eq(ran, 1);
	ck_assert_int_eq(harness_int("EXISTS " Q "%s", nid), 1);
	ck_assert_int_eq(strtoll(harness_str("ZSCORE " Q "repeat s1"), NULL,
	    10), next);
	ck_assert_str_eq(harness_str("HGET " Q "repeat:s1 ic"), "2");
	ck_assert_str_eq(harness_str("GET " Q "id"), "2");
	ck_assert_str_eq(harness_str("HGET " Q "%s rjk", nid), "s1");
	ck_assert_str_eq(harness_str("HGET " Q "%s name", nid), "tick");
	delay = strtoll(harness_str("HGET " Q "%s delay", nid), NULL, 10);
	ck_assert(delay <= next - now && delay > next - now - 5000);
	ck_assert_int_eq(strtoll(harness_str("ZSCORE " Q "delayed %s", nid),
	    NULL, 10) / 4096, next);
	no = harness_str("HGET " Q "%s opts", nid);
	snprintf(opts, sizeof(opts), "\"prevMillis\":%lld", next);
	ck_assert_ptr_nonnull(strstr(no, opts));
	ck_assert_ptr_nonnull(strstr(no, "\"count\":2"));
	ck_assert_ptr_nonnull(strstr(no, "\"tz\":\"Europe\\/Berlin\""));
	ck_assert_ptr_nonnull(strstr(no, "\"pattern\":\"0 9 * * 1-5\""));
	ck_assert_ptr_nonnull(strstr(no, "\"attempts\":2"));
	snprintf(opts, sizeof(opts), "\"jobId\":\"%s\"", nid);
	ck_assert_ptr_nonnull(strstr(no, opts));
	ck_assert_ptr_null(strstr(no, "offset"));
	snprintf(opts, sizeof(opts), "added:%s delayed:%s", nid, nid);
	ck_assert_ptr_nonnull(strstr(harness_event_list(), opts));

	/* startDate later than prevMillis wins; no tz is UTC */
	freeReplyObject(harness_cmd("FLUSHALL"));
	snprintf(cur, sizeof(cur), "repeat:s2:%lld", prev);
	freeReplyObject(harness_cmd("ZADD " Q "repeat %lld s2", prev));
	freeReplyObject(harness_cmd("HSET " Q "repeat:s2 name t2 pattern "
	    "%s ic 1", "30 2 * * *"));
	snprintf(opts, sizeof(opts), "{\"prevMillis\":%lld,\"repeat\":{"
	    "\"count\":1,\"pattern\":\"30 2 * * *\",\"startDate\":"
	    "4133980800000,\"limit\":3},\"jobId\":\"%s\"}", prev, cur);
	freeReplyObject(harness_cmd("HSET " Q "%s rjk s2 name t2 data {} "
	    "timestamp 1 delay 0 priority 0 opts %s", cur, opts));
	freeReplyObject(harness_cmd("LPUSH " Q "wait %s", cur));
	j = fetch(w);
	ck_assert_int_eq(bullmq_worker_run(w, j, proc_echo, &oc, NULL), 0);
	ck_assert_int_eq(harness_int("EXISTS " Q "repeat:s2:4133989800000"),
	    1);

	/* the limit is reached: no next iteration */
	freeReplyObject(harness_cmd("FLUSHALL"));
	freeReplyObject(harness_cmd("ZADD " Q "repeat %lld s2", prev));
	freeReplyObject(harness_cmd("HSET " Q "repeat:s2 name t2 pattern "
	    "%s ic 3", "30 2 * * *"));
	snprintf(opts, sizeof(opts), "{\"prevMillis\":%lld,\"repeat\":{"
	    "\"count\":3,\"pattern\":\"30 2 * * *\",\"limit\":3},"
	    "\"jobId\":\"%s\"}", prev, cur);
	freeReplyObject(harness_cmd("HSET " Q "%s rjk s2 name t2 data {} "
	    "timestamp 1 delay 0 priority 0 opts %s", cur, opts));
	freeReplyObject(harness_cmd("LPUSH " Q "wait %s", cur));
	j = fetch(w);
	ck_assert_int_eq(bullmq_worker_run(w, j, proc_echo, &oc, NULL), 0);
	ck_assert_int_eq(harness_int("ZCARD " Q "delayed"), 0);
	ck_assert_str_eq(harness_str("HGET " Q "repeat:s2 ic"), "3");
	bullmq_worker_free(w);
}
END_TEST

/* Collect ids given to a callback. */
static void
collect(const char *id, void *arg)
{
	char	*buf = arg;

	if (buf[0] != '\0')
		strlcat(buf, " ", 256);
	strlcat(buf, id, 256);
}

START_TEST(stalled_check)
{
	bullmq_worker	*w = harness_worker(NULL);
	bullmq_job	*j;
	char		 a[32], b[32], got[256] = "";

	harness_add_job("a", "{}", "{}", a, sizeof(a));
	harness_add_job("b", "{}", "{}", b, sizeof(b));
	j = fetch(w);
	bullmq_job_free(j);
	j = fetch(w);
	bullmq_job_free(j);
	/* first check: only marks the active jobs */
	ck_assert_int_eq(bullmq_check_stalled(q, 1, 30000, collect, got), 0);
	ck_assert_int_eq(harness_int("SCARD " Q "stalled"), 2);
	ck_assert_int_gt(harness_int("PTTL " Q "stalled-check"), 0);
	/* throttled while stalled-check lives */
	freeReplyObject(harness_cmd("DEL " Q "%s:lock", a));
	ck_assert_int_eq(bullmq_check_stalled(q, 1, 30000, collect, got), 0);
	freeReplyObject(harness_cmd("DEL " Q "stalled-check"));
	clear_events();
	ck_assert_int_eq(bullmq_check_stalled(q, 1, 30000, collect, got), 1);
	ck_assert_str_eq(got, a);
	ck_assert_str_eq(harness_str("LINDEX " Q "wait -1"), a);
	ck_assert_str_eq(harness_str("HGET " Q "%s stc", a), "1");
	ck_assert_int_eq(harness_int("HEXISTS " Q "%s defa", a), 0);
	ck_assert_str_eq(harness_event_list(), "waiting:1 stalled:1");
	ck_assert_str_eq(harness_event_field("waiting", "prev"), "active");
	ck_assert_str_eq(harness_str("ZSCORE " Q "marker 0"), "0");
	/* b is still locked, so it stays a candidate */
	ck_assert_int_eq(harness_int("SISMEMBER " Q "stalled %s", b), 1);
	ck_assert_int_eq(harness_int("SISMEMBER " Q "stalled %s", a), 0);

	/* the second stall of a is over the limit: defa */
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), a);
	bullmq_job_free(j);
	freeReplyObject(harness_cmd("DEL " Q "%s:lock", a));
	freeReplyObject(harness_cmd("SADD " Q "stalled %s", a));
	freeReplyObject(harness_cmd("DEL " Q "stalled-check"));
	got[0] = '\0';
	ck_assert_int_eq(bullmq_check_stalled(q, 1, 30000, collect, got), 1);
	ck_assert_str_eq(harness_str("HGET " Q "%s defa", a),
	    "job stalled more than allowable limit");
	ck_assert_str_eq(harness_str("HGET " Q "%s stc", a), "2");
	bullmq_worker_free(w);
}
END_TEST

START_TEST(give_back)
{
	bullmq_worker	*w = harness_worker(NULL);
	bullmq_job	*j;
	char		 a[32], tok[BMQ_MAX_TOKEN];

	harness_add_job("a", "{}", "{}", a, sizeof(a));
	j = fetch(w);
	strlcpy(tok, bullmq_job_token(j), sizeof(tok));
	bullmq_job_free(j);
	ck_assert_int_eq(bullmq_give_back(q, a, "not-mine", 1), 0);
	ck_assert_str_eq(harness_str("LINDEX " Q "active 0"), a);
	clear_events();
	ck_assert_int_eq(bullmq_give_back(q, a, tok, 1), 1);
	ck_assert_int_eq(harness_int("EXISTS " Q "%s:lock", a), 0);
	ck_assert_int_eq(harness_int("LLEN " Q "active"), 0);
	ck_assert_str_eq(harness_str("LINDEX " Q "wait -1"), a);
	ck_assert_str_eq(harness_str("HGET " Q "%s stc", a), "1");
	ck_assert_int_eq(harness_int("HEXISTS " Q "%s defa", a), 0);
	ck_assert_str_eq(harness_event_list(), "waiting:1 stalled:1");
	/* not active any more */
	ck_assert_int_eq(bullmq_give_back(q, a, tok, 1), 0);
	/* again: over max stalled, so defa; a missing lock is fine too */
	j = fetch(w);
	bullmq_job_free(j);
	freeReplyObject(harness_cmd("DEL " Q "%s:lock", a));
	ck_assert_int_eq(bullmq_give_back(q, a, tok, 1), 1);
	ck_assert_str_eq(harness_str("HGET " Q "%s defa", a),
	    "job stalled more than allowable limit");
	bullmq_worker_free(w);
}
END_TEST

/*
 * A fetching call whose reply is lost (no answer within the command
 * timeout: Redis runs it once it is free again, for a connection that is
 * gone) leaves its job active under a token nobody holds; the worker's
 * next fetch gives that job back, as never started, and fetches it.
 */
START_TEST(reclaim_lost_reply)
{
	struct bullmq_conn_opts	 co;
	bullmq_queue		*sq;
	bullmq_worker		*w;
	bullmq_job		*j, *next = NULL;
	enum bullmq_outcome	 oc;
	char			 a[32], b[32], tok[BMQ_MAX_TOKEN];

	memset(&co, 0, sizeof(co));
	co.url = harness_url;
	co.queue = "wq";
	co.command_timeout_ms = 150;
	sq = bullmq_queue_new(&co);
	ck_assert_ptr_nonnull(sq);
	ck_assert_int_eq(bullmq_queue_connect(sq), 0);
	w = bullmq_worker_new(sq, NULL);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(bullmq_worker_reclaim(w), 0);	/* nothing lost */

	/* a fetch */
	harness_add_job("a", "{}", "{}", a, sizeof(a));
	harness_add_job("b", "{}", "{}", b, sizeof(b));
	busy_end(busy_start(0));	/* the scripts are loaded */
	{
		redisContext	*busy = busy_start(500);

		ck_assert_int_eq(bullmq_worker_try_fetch(w, &j), -1);
		ck_assert_int_eq(bullmq_errcode(sq), BULLMQ_ERR_IO);
		busy_end(busy);
	}
	wait_int(1, "LLEN", Q "active");
	ck_assert_str_eq(harness_str("LINDEX " Q "active 0"), a);
	strlcpy(tok, harness_str("GET " Q "%s:lock", a), sizeof(tok));
	clear_events();
	ck_assert_int_eq(bullmq_worker_try_fetch(w, &j), 1);
	ck_assert_str_eq(bullmq_job_id(j), a);
	ck_assert_str_ne(bullmq_job_token(j), tok);
	ck_assert_str_eq(harness_str("GET " Q "%s:lock", a),
	    bullmq_job_token(j));
	ck_assert_str_eq(harness_event_list(), "waiting:1 active:1");
	ck_assert_str_eq(harness_event_field("waiting", "prev"), "active");
	ck_assert_int_eq(harness_int("HEXISTS " Q "%s stc", a), 0);
	ck_assert_int_eq(harness_int("LLEN " Q "active"), 1);

	/* a finish that fetches the next job */
	{
		redisContext	*busy = busy_start(500);

		ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, &next),
		    -1);
		ck_assert_ptr_null(next);
		busy_end(busy);
	}
	wait_int(1, "ZCARD", Q "completed");
	ck_assert_str_eq(harness_str("LINDEX " Q "active 0"), b);
	clear_events();
	/* the blocking fetch too, at once although the queue looks drained */
	ck_assert_int_eq(bullmq_worker_fetch(w, &j), 1);
	ck_assert_str_eq(bullmq_job_id(j), b);
	ck_assert_str_eq(harness_event_list(), "waiting:2 active:2");
	ck_assert_int_eq(harness_int("HEXISTS " Q "%s stc", b), 0);
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, NULL), 0);
	ck_assert_int_eq(harness_int("ZCARD " Q "completed"), 2);
	ck_assert_int_eq(harness_int("LLEN " Q "active"), 0);
	bullmq_worker_free(w);
	bullmq_queue_free(sq);
}
END_TEST

/*
 * give-back-7.lua with no job id: every active job locked under the token,
 * as never started (no stall), but the one to leave alone; a job locked
 * under another token or whose hash is gone is not put back.
 */
START_TEST(give_back_by_token)
{
	bullmq_worker	*w = harness_worker(NULL);
	bullmq_job	*j;
	char		 a[32], b[32], c[32], d[32], tok[BMQ_MAX_TOKEN];

	harness_add_job("a", "{}", "{}", a, sizeof(a));
	harness_add_job("b", "{}", "{}", b, sizeof(b));
	harness_add_job("c", "{}", "{}", c, sizeof(c));
	harness_add_job("d", "{}", "{}", d, sizeof(d));
	j = fetch(w);
	strlcpy(tok, bullmq_job_token(j), sizeof(tok));
	bullmq_job_free(j);
	bullmq_job_free(fetch(w));
	bullmq_job_free(fetch(w));
	bullmq_job_free(fetch(w));
	freeReplyObject(harness_cmd("SET " Q "%s:lock %s", b, tok));
	freeReplyObject(harness_cmd("SET " Q "%s:lock %s", d, tok));
	freeReplyObject(harness_cmd("DEL " Q "%s", d));
	freeReplyObject(harness_cmd("SADD " Q "stalled %s", b));
	clear_events();
	ck_assert_int_eq(bmq_give_back(q, "", tok, 1, a), 1);
	ck_assert_str_eq(harness_str("LINDEX " Q "wait -1"), b);
	ck_assert_int_eq(harness_int("EXISTS " Q "%s:lock", b), 0);
	ck_assert_int_eq(harness_int("SISMEMBER " Q "stalled %s", b), 0);
	ck_assert_int_eq(harness_int("HEXISTS " Q "%s stc", b), 0);
	ck_assert_str_eq(harness_event_list(), "waiting:2");
	ck_assert_str_eq(harness_event_field("waiting", "prev"), "active");
	ck_assert_str_eq(harness_str("ZSCORE " Q "marker 0"), "0");
	/* a, c (another token) and d (its hash gone: dropped) stay or go */
	ck_assert_int_eq(harness_int("LLEN " Q "active"), 2);
	ck_assert_int_eq(harness_int("LPOS " Q "active %s", a) >= 0, 1);
	ck_assert_int_eq(harness_int("LPOS " Q "active %s", c) >= 0, 1);
	ck_assert_str_eq(harness_str("GET " Q "%s:lock", a), tok);
	ck_assert_int_eq(harness_int("LLEN " Q "wait"), 1);
	/* with nothing to leave alone, a goes too */
	ck_assert_int_eq(bmq_give_back(q, "", tok, 1, NULL), 1);
	ck_assert_str_eq(harness_str("LINDEX " Q "wait -1"), a);
	ck_assert_int_eq(bmq_give_back(q, "", tok, 1, NULL), 0);
	/* the public call wants an id */
	ck_assert_int_eq(bullmq_give_back(q, "", tok, 1), -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_ARG);
	bullmq_worker_free(w);
}
END_TEST

START_TEST(extend_locks)
{
	bullmq_worker	*w = harness_worker(NULL);
	bullmq_job	*j1, *j2;
	char		 a[32], b[32], got[256] = "";
	const char	*ids[3], *toks[3];

	harness_add_job("a", "{}", "{}", a, sizeof(a));
	harness_add_job("b", "{}", "{}", b, sizeof(b));
	j1 = fetch(w);
	j2 = fetch(w);
	freeReplyObject(harness_cmd("PEXPIRE " Q "%s:lock 1000", a));
	freeReplyObject(harness_cmd("SADD " Q "stalled %s %s", a, b));
	ids[0] = a;
	toks[0] = bullmq_job_token(j1);
	ids[1] = b;
	toks[1] = "wrong";
	ids[2] = "gone";
	toks[2] = "x";
	ck_assert_int_eq(bullmq_extend_locks(q, 3, ids, toks, 60000, collect,
	    got), 2);
	ck_assert_str_eq(got, "2 gone");
	ck_assert_int_gt(harness_int("PTTL " Q "%s:lock", a), 50000);
	ck_assert_int_eq(harness_int("SISMEMBER " Q "stalled %s", a), 0);
	ck_assert_int_eq(harness_int("SISMEMBER " Q "stalled %s", b), 1);
	ck_assert_str_eq(harness_str("GET " Q "%s:lock", b),
	    bullmq_job_token(j2));
	bullmq_job_free(j1);
	bullmq_job_free(j2);
	bullmq_worker_free(w);
}
END_TEST

START_TEST(progress_and_log)
{
	bullmq_worker	*w = harness_worker(NULL);
	bullmq_job	*j;
	char		 a[32];

	harness_add_job("a", "{}", "{\"kl\":2}", a, sizeof(a));
	j = fetch(w);
	clear_events();
	ck_assert_int_eq(bullmq_job_progress(j, "{\"p\":50}"), 0);
	ck_assert_str_eq(harness_str("HGET " Q "%s progress", a),
	    "{\"p\":50}");
	ck_assert_str_eq(harness_event_list(), "progress:1");
	ck_assert_str_eq(harness_event_field("progress", "data"), "{\"p\":50}");
	ck_assert_int_eq(bullmq_job_progress(j, "50%"), -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_ARG);
	ck_assert_int_eq(bullmq_job_log(j, "one"), 0);
	ck_assert_int_eq(bullmq_job_log(j, "two"), 0);
	ck_assert_int_eq(bullmq_job_log(j, "three"), 0);
	ck_assert_int_eq(harness_int("LLEN " Q "%s:logs", a), 2);
	ck_assert_str_eq(harness_str("LINDEX " Q "%s:logs -1", a), "three");
	freeReplyObject(harness_cmd("DEL " Q "%s", a));
	ck_assert_int_eq(bullmq_job_progress(j, "1"), -1);
	ck_assert_int_eq(bullmq_script_code(q), -1);
	ck_assert_int_eq(bullmq_job_log(j, "x"), -1);
	bullmq_job_free(j);
	bullmq_worker_free(w);
}
END_TEST

/* Progress and log of a job with the longest id, added by hand. */
START_TEST(progress_and_log_long_id)
{
	static char	 lid[BULLMQ_MAX_ID + 1];
	bullmq_worker	*w = harness_worker(NULL);
	bullmq_job	*j;

	memset(lid, 'z', BULLMQ_MAX_ID);
	lid[0] = 'L';
	lid[BULLMQ_MAX_ID] = '\0';
	freeReplyObject(harness_cmd("HSET " Q "%s name n data {} opts {} "
	    "timestamp %lld delay 0 priority 0", lid,
	    (long long)bullmq_now()));
	freeReplyObject(harness_cmd("LPUSH " Q "wait %s", lid));
	freeReplyObject(harness_cmd("ZADD " Q "marker 0 0"));
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), lid);
	ck_assert_msg(bullmq_job_progress(j, "{\"p\":7}") == 0, "progress: "
	    "%s", bullmq_errstr(q));
	ck_assert_str_eq(harness_str("HGET " Q "%s progress", lid),
	    "{\"p\":7}");
	ck_assert_msg(bullmq_job_log(j, "one") == 0, "log: %s",
	    bullmq_errstr(q));
	ck_assert_str_eq(harness_str("LINDEX " Q "%s:logs 0", lid), "one");
	bullmq_job_free(j);
	bullmq_worker_free(w);
}
END_TEST

/* A refused finish names the job by its whole id, however long. */
START_TEST(refused_long_id)
{
	static char		 lid[BULLMQ_MAX_ID + 1], want[BMQ_MAX_ERR];
	bullmq_worker		*w = harness_worker(NULL);
	bullmq_job		*j;
	enum bullmq_outcome	 oc;

	memset(lid, 'r', BULLMQ_MAX_ID);
	lid[BULLMQ_MAX_ID] = '\0';
	freeReplyObject(harness_cmd("HSET " Q "%s name n data {} opts {} "
	    "timestamp %lld delay 0 priority 0", lid,
	    (long long)bullmq_now()));
	freeReplyObject(harness_cmd("LPUSH " Q "wait %s", lid));
	freeReplyObject(harness_cmd("ZADD " Q "marker 0 0"));
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), lid);
	freeReplyObject(harness_cmd("DEL " Q "%s:lock", lid));
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_LOST_LOCK);
	snprintf(want, sizeof(want), "complete job %s: lock does not exist",
	    lid);
	ck_assert_str_eq(bullmq_errstr(q), want);
	freeReplyObject(harness_cmd("DEL " Q "active"));
	bullmq_worker_free(w);
}
END_TEST

START_TEST(fail_job_timeout)
{
	bullmq_worker	*w = harness_worker(NULL);
	bullmq_job	*j;
	char		 a[32], b[32], tok[BMQ_MAX_TOKEN];

	harness_add_job("a", "{}", "{\"attempts\":2,\"backoff\":5000}", a,
	    sizeof(a));
	harness_add_job("b", "{}", "{}", b, sizeof(b));
	j = fetch(w);
	strlcpy(tok, bullmq_job_token(j), sizeof(tok));
	bullmq_job_free(j);
	ck_assert_int_eq(bullmq_fail_job(q, a, "bad", "timed out"),
	    BULLMQ_LOST_LOCK);
	ck_assert_int_eq(bullmq_script_code(q), -6);
	ck_assert_int_eq(bullmq_fail_job(q, a, tok, "timed out"),
	    BULLMQ_DELAYED);
	ck_assert_str_eq(harness_str("HGET " Q "%s failedReason", a),
	    "timed out");
	ck_assert_str_eq(harness_str("HGET " Q "%s delay", a), "5000");
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), b);
	strlcpy(tok, bullmq_job_token(j), sizeof(tok));
	bullmq_job_free(j);
	ck_assert_int_eq(bullmq_fail_job(q, b, tok, "timed out"),
	    BULLMQ_FAILED);
	ck_assert_str_ne(harness_str("ZSCORE " Q "failed %s", b), "(nil)");
	ck_assert_int_eq(bullmq_fail_job(q, "nope", tok, "x"), -1);
	ck_assert_int_eq(bullmq_script_code(q), -1);
	bullmq_worker_free(w);
}
END_TEST

START_TEST(metrics)
{
	struct bullmq_worker_opts	 o;
	bullmq_worker			*w;
	bullmq_job			*j;
	enum bullmq_outcome		 oc;
	char				 a[32];
	long long			 now = bullmq_now();

	memset(&o, 0, sizeof(o));
	o.metrics_max_points = 10;
	w = bullmq_worker_new(q, &o);
	harness_add_job("a", "{}", "{}", a, sizeof(a));
	harness_add_job("b", "{}", "{}", a, sizeof(a));
	j = fetch(w);
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, NULL), 0);
	ck_assert_str_eq(harness_str("HGET " Q "metrics:completed count"),
	    "1");
	ck_assert_str_eq(harness_str("HGET " Q "metrics:completed prevCount"),
	    "0");
	/* three minutes later: the delta then two empty minutes */
	freeReplyObject(harness_cmd("HSET " Q "metrics:completed prevTS %lld",
	    now - 3 * 60000));
	j = fetch(w);
	ck_assert_int_eq(bullmq_worker_finish(w, j, 1, &oc, NULL), 0);
	ck_assert_int_eq(harness_int("EXISTS " Q "metrics:failed"), 1);
	ck_assert_int_eq(harness_int("LLEN " Q "metrics:completed:data"), 0);
	bullmq_worker_free(w);
	w = bullmq_worker_new(q, &o);
	harness_add_job("c", "{}", "{}", a, sizeof(a));
	j = fetch(w);
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, NULL), 0);
	ck_assert_int_eq(harness_int("LLEN " Q "metrics:completed:data"), 3);
	ck_assert_str_eq(harness_str("LINDEX " Q "metrics:completed:data 2"),
	    "1");
	ck_assert_str_eq(harness_str("HGET " Q "metrics:completed count"),
	    "2");
	bullmq_worker_free(w);
}
END_TEST

START_TEST(blocking_fetch)
{
	struct bullmq_worker_opts	 o;
	bullmq_worker			*w;
	bullmq_job			*j;
	long long			 now;

	memset(&o, 0, sizeof(o));
	o.drain_delay = 1000;
	w = bullmq_worker_new(q, &o);
	/* empty: returns 0 after blocking on the marker */
	ck_assert_int_eq(bullmq_worker_fetch(w, &j), 0);
	ck_assert_ptr_null(j);
	/* a delayed job due soon is fetched by the same call */
	now = bullmq_now();
	freeReplyObject(harness_cmd("HSET " Q "soon name n data {} opts {} "
	    "timestamp 1 delay 300 priority 0"));
	freeReplyObject(harness_cmd("ZADD " Q "delayed %lld soon",
	    (now + 300) * 4096));
	freeReplyObject(harness_cmd("ZADD " Q "marker %lld 1", now + 300));
	ck_assert_int_eq(bullmq_worker_fetch(w, &j), 1);
	ck_assert_str_eq(bullmq_job_id(j), "soon");
	ck_assert_int_ge(bullmq_now(), now + 300);
	bullmq_job_free(j);
	bullmq_worker_free(w);
}
END_TEST

START_TEST(script_flush)
{
	bullmq_worker		*w = harness_worker(NULL);
	bullmq_job		*j, *next;
	enum bullmq_outcome	 oc;
	char			 a[32], b[32];

	harness_add_job("a", "{}", "{}", a, sizeof(a));
	harness_add_job("b", "{}", "{}", b, sizeof(b));
	j = fetch(w);
	freeReplyObject(harness_cmd("SCRIPT FLUSH"));
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, &next), 0);
	ck_assert_int_eq(oc, BULLMQ_COMPLETED);
	ck_assert_ptr_nonnull(next);
	freeReplyObject(harness_cmd("SCRIPT FLUSH"));
	ck_assert_int_eq(bullmq_job_progress(next, "3"), 0);
	freeReplyObject(harness_cmd("SCRIPT FLUSH"));
	ck_assert_int_eq(bullmq_worker_finish(w, next, 0, &oc, NULL), 0);
	ck_assert_int_eq(harness_int("ZCARD " Q "completed"), 2);
	bullmq_worker_free(w);
}
END_TEST

/*
 * With spin_wait_us the reply is polled for before sleeping: a fetch gets
 * its job, and a reply that takes far longer than the spin (Redis busy in
 * another client's script for 60 ms) still arrives, from the sleep.
 */
START_TEST(spin_wait)
{
	struct bullmq_conn_opts	 co;
	bullmq_queue		*sq;
	bullmq_worker		*w;
	bullmq_job		*j, *next;
	enum bullmq_outcome	 oc;
	redisContext		*busy;
	char			 a[32], b[32];
	int64_t			 t0;

	memset(&co, 0, sizeof(co));
	co.url = harness_url;
	co.queue = "wq";
	co.spin_wait_us = 100;
	sq = bullmq_queue_new(&co);
	ck_assert_ptr_nonnull(sq);
	ck_assert_int_eq(bullmq_queue_connect(sq), 0);
	w = bullmq_worker_new(sq, NULL);
	ck_assert_ptr_nonnull(w);
	harness_add_job("a", "{}", "{}", a, sizeof(a));
	harness_add_job("b", "{}", "{}", b, sizeof(b));
	ck_assert_int_eq(bullmq_worker_try_fetch(w, &j), 1);
	ck_assert_str_eq(bullmq_job_id(j), a);

	busy = busy_start(60);
	t0 = bullmq_now();
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, &next), 0);
	ck_assert_int_ge(bullmq_now() - t0, 30);
	ck_assert_int_eq(oc, BULLMQ_COMPLETED);
	ck_assert_ptr_nonnull(next);
	ck_assert_str_eq(bullmq_job_id(next), b);
	busy_end(busy);
	ck_assert_int_eq(bullmq_worker_finish(w, next, 0, &oc, NULL), 0);
	ck_assert_int_eq(harness_int("ZCARD " Q "completed"), 2);
	bullmq_worker_free(w);
	bullmq_queue_free(sq);
}
END_TEST

/*
 * The fetching scripts send the hash as one string, its fields joined with
 * NULs; a field that holds a NUL itself (a job name from a producer that
 * allows one) makes the worker read the hash instead, and nothing is lost.
 */
START_TEST(fetch_nul_in_field)
{
	bullmq_worker		*w = harness_worker(NULL);
	bullmq_job		*j;
	enum bullmq_outcome	 oc;
	const char		*v;
	char			 id[32], plain[32];
	size_t			 len;

	harness_add_job("x", "{\"k\":1}", "{}", id, sizeof(id));
	freeReplyObject(harness_cmd("HSET " Q "%s name %b", id, "a\0b",
	    (size_t)3));
	harness_add_job("plain", "{}", "{}", plain, sizeof(plain));
	j = fetch(w);
	ck_assert_str_eq(bullmq_job_id(j), id);
	v = bullmq_job_field(j, "name", &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(memcmp(v, "a\0b", 3), 0);
	ck_assert_str_eq(bullmq_job_field(j, "data", NULL), "{\"k\":1}");
	ck_assert_str_eq(bullmq_job_field(j, "ats", NULL), "1");
	ck_assert_uint_eq(bullmq_job_nfields(j),
	    (size_t)harness_int("HLEN " Q "%s", id));
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, &j), 0);
	ck_assert_int_eq(oc, BULLMQ_COMPLETED);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(bullmq_job_id(j), plain);
	ck_assert_str_eq(bullmq_job_name(j), "plain");
	ck_assert_uint_eq(bullmq_job_nfields(j),
	    (size_t)harness_int("HLEN " Q "%s", plain));
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, NULL), 0);
	ck_assert_int_eq(harness_int("ZCARD " Q "completed"), 2);
	bullmq_worker_free(w);
}
END_TEST

/* The suite. */
Suite *
make_suite(void)
{
	Suite	*s = suite_create("worker");
	TCase	*tc = harness_tcase(s, "worker", "wq", &q, 30);

	tcase_add_checked_fixture(tc, reset_ran, NULL);

	tcase_add_test(tc, fetch_and_complete);
	tcase_add_test(tc, complete_null_and_fetch_next);
	tcase_add_test(tc, fetch_reply_forms);
	tcase_add_test(tc, prioritized_and_pc);
	tcase_add_test(tc, delayed_promotion);
	tcase_add_test(tc, paused_maxed_limited);
	tcase_add_test(tc, legacy_marker);
	tcase_add_test(tc, wake_ends_block);
	tcase_add_test(tc, retry_fixed_backoff);
	tcase_add_test(tc, retry_exponential_backoff);
	tcase_add_test(tc, retry_immediate);
	tcase_add_test(tc, fail_final_and_unrecoverable);
	tcase_add_test(tc, stacktrace_limit);
	tcase_add_test(tc, retention);
	tcase_add_test(tc, lock_and_state_codes);
	tcase_add_test(tc, dedup_release);
	tcase_add_test(tc, dedup_keep_last_if_active);
	tcase_add_test(tc, parent_bookkeeping);
	tcase_add_test(tc, parent_fail_policy);
	tcase_add_test(tc, defa_stalled);
	tcase_add_test(tc, max_started_attempts);
	tcase_add_test(tc, foreign_jobs);
	tcase_add_test(tc, scheduler_every);
	tcase_add_test(tc, scheduler_pattern);
	tcase_add_test(tc, stalled_check);
	tcase_add_test(tc, give_back);
	tcase_add_test(tc, give_back_by_token);
	tcase_add_test(tc, reclaim_lost_reply);
	tcase_add_test(tc, extend_locks);
	tcase_add_test(tc, progress_and_log);
	tcase_add_test(tc, progress_and_log_long_id);
	tcase_add_test(tc, refused_long_id);
	tcase_add_test(tc, fail_job_timeout);
	tcase_add_test(tc, metrics);
	tcase_add_test(tc, blocking_fetch);
	tcase_add_test(tc, script_flush);
	tcase_add_test(tc, spin_wait);
	tcase_add_test(tc, fetch_nul_in_field);
	return s;
}
