/*
 * check_poison.c: jobs no script can make sense of, against a private
 * redis-server.  Each ends once, failed with a reason that names the
 * problem or taken out of the queue's lists (a key that holds no hash),
 * no script leaves a job half-moved, and the next job runs.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"
#include "harness.h"
#include "suite.h"

#define Q	"bull:pq:"

static bullmq_queue	*q;

/* Fresh data and a queue handle for each test. */
static void
setup(void)
{
	harness_flush();
	q = harness_queue("pq");
}

/* Free the queue handle. */
static void
teardown(void)
{
	bullmq_queue_free(q);
	q = NULL;
}

/* Write job id with opts and its atm (NULL: none); push it. */
static void
put_job(const char *id, const char *opts, const char *atm)
{
	freeReplyObject(harness_cmd("HSET " Q "%s name n data {} opts %s "
	    "timestamp 1", id, opts));
	if (atm != NULL)
		freeReplyObject(harness_cmd("HSET " Q "%s atm %s", id, atm));
	freeReplyObject(harness_cmd("LPUSH " Q "wait %s", id));
}

/* A worker with default settings. */
static bullmq_worker *
worker(void)
{
	bullmq_worker	*w;

	w = bullmq_worker_new(q, NULL);
	ck_assert_msg(w != NULL, "worker: %s", bullmq_errstr(q));
	return w;
}

/* Fetch one job without blocking; it must be id. */
static bullmq_job *
fetch(bullmq_worker *w, const char *id)
{
	bullmq_job	*j = NULL;

	ck_assert_msg(bullmq_worker_try_fetch(w, &j) == 1, "fetch: %s",
	    bullmq_errstr(q));
	ck_assert_str_eq(bullmq_job_id(j), id);
	return j;
}

/* Fail job j with reason "boom"; the outcome must be want. */
static void
fail_it(bullmq_worker *w, bullmq_job *j, enum bullmq_outcome want)
{
	enum bullmq_outcome	oc;

	ck_assert_int_eq(bullmq_job_error(j, "boom", 0), 0);
	ck_assert_msg(bullmq_worker_finish(w, j, 1, &oc, NULL) == 0,
	    "finish: %s", bullmq_errstr(q));
	ck_assert_int_eq(oc, want);
}

/* Job id is failed, not active nor locked, with reason why. */
static void
assert_failed(const char *id, const char *why)
{
	ck_assert_str_ne(harness_str("ZSCORE " Q "failed %s", id), "");
	ck_assert_int_eq(harness_int("LLEN " Q "active"), 0);
	ck_assert_int_eq(harness_int("EXISTS " Q "%s:lock", id), 0);
	ck_assert_int_eq(harness_int("ZCARD " Q "delayed"), 0);
	ck_assert_int_eq(harness_int("LLEN " Q "wait"), 0);
	ck_assert_str_eq(harness_str("HGET " Q "%s failedReason", id), why);
}

/* The job retried at once: an atm that is not an integer. */
START_TEST(atm_not_integer)
{
	bullmq_worker	*w = worker();

	put_job("p", "{\"attempts\":2}", "abc");
	fail_it(w, fetch(w, "p"), BULLMQ_FAILED);
	assert_failed("p", "boom (not retried: atm is not an integer)");
	ck_assert_str_eq(harness_str("HGET " Q "p ats"), "1");
	bullmq_worker_free(w);
}
END_TEST

/* The job retried after a backoff: it was lost. */
START_TEST(atm_not_integer_backoff)
{
	bullmq_worker	*w = worker();

	put_job("p", "{\"attempts\":3,\"backoff\":100}", "abc");
	fail_it(w, fetch(w, "p"), BULLMQ_FAILED);
	assert_failed("p", "boom (not retried: atm is not an integer)");
	bullmq_worker_free(w);
}
END_TEST

/*
 * atm goes bad after the fetch: retry-9.lua and delay-10.lua refuse
 * before their first write, and the worker fails the job.
 */
START_TEST(atm_bad_after_fetch)
{
	static const char *const	 opts[] = {
		"{\"attempts\":2}", "{\"attempts\":2,\"backoff\":100}"
	};
	bullmq_worker			*w = worker();
	bullmq_job			*j;
	size_t				 i;

	for (i = 0; i < 2; i++) {
		harness_flush();
		put_job("p", opts[i], NULL);
		j = fetch(w, "p");
		freeReplyObject(harness_cmd("HSET " Q "p atm x1"));
		fail_it(w, j, BULLMQ_FAILED);
		assert_failed("p", "boom (not retried: atm is not an "
		    "integer)");
	}
	bullmq_worker_free(w);
}
END_TEST

/* The script alone: -21 and nothing written. */
START_TEST(retry_script_refuses)
{
	struct bmq_args	 a;
	long long	 code;
	static const enum bmq_key keys[] = {
		BMQ_K_WAIT, BMQ_K_ACTIVE, BMQ_K_PRIORITIZED, BMQ_K_DELAYED,
		BMQ_K_META, BMQ_K_EVENTS, BMQ_K_MARKER, BMQ_K_PC,
		BMQ_K_STALLED
	};

	freeReplyObject(harness_cmd("HSET " Q "p name n atm 1.5"));
	freeReplyObject(harness_cmd("LPUSH " Q "active p"));
	freeReplyObject(harness_cmd("SET " Q "p:lock t"));
	bmq_args_init(&a);
	bmq_args_keys(&a, q, keys, 9);
	bmq_args_adds(&a, Q);
	bmq_args_adds(&a, "1000");
	bmq_args_adds(&a, "p");
	bmq_args_adds(&a, "t");
	bmq_args_adds(&a, "LPUSH");
	bmq_args_adds(&a, "why");
	bmq_args_adds(&a, "");
	q->script_code = 0;
	ck_assert_int_eq(bmq_script_int(q, bmq_script(q, BMQ_LUA_RETRY, &a),
	    &code), -1);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_JOB_BAD_FIELD);
	ck_assert_str_eq(harness_str("GET " Q "p:lock"), "t");
	ck_assert_str_eq(harness_str("LINDEX " Q "active 0"), "p");
	ck_assert_int_eq(harness_int("HEXISTS " Q "p failedReason"), 0);
	ck_assert_int_eq(harness_int("LLEN " Q "wait"), 0);
	ck_assert_int_eq(harness_int("EXISTS " Q "events"), 0);
}
END_TEST

/* An id with a NUL byte ends failed at the fetch; the next job comes. */
START_TEST(nul_id)
{
	bullmq_worker	*w = worker();
	bullmq_job	*j;

	freeReplyObject(harness_cmd("HSET " Q "%b name n data {} opts {} "
	    "timestamp 1", "nu\0l", (size_t)4));
	freeReplyObject(harness_cmd("LPUSH " Q "wait %b", "nu\0l",
	    (size_t)4));
	freeReplyObject(harness_cmd("ZADD " Q "prioritized 1 %b", "p\0",
	    (size_t)2));
	put_job("ok", "{}", NULL);
	j = fetch(w, "ok");
	ck_assert_str_eq(harness_str("HGET " Q "%b failedReason", "nu\0l",
	    (size_t)4), "job id contains a NUL byte");
	ck_assert_str_ne(harness_str("ZSCORE " Q "failed %b", "nu\0l",
	    (size_t)4), "");
	ck_assert_int_eq(harness_int("LLEN " Q "active"), 1);
	bullmq_job_free(j);
	/* from prioritized, with no hash: out of every list, an event */
	ck_assert_int_eq(bullmq_worker_try_fetch(w, &j), 0);
	ck_assert_int_eq(harness_int("ZCARD " Q "prioritized"), 0);
	ck_assert_int_eq(harness_int("LLEN " Q "active"), 1);
	ck_assert_int_eq(harness_int("ZCARD " Q "failed"), 1);
	ck_assert_int_eq(harness_int("EXISTS " Q "%b", "p\0", (size_t)2), 0);
	bullmq_worker_free(w);
}
END_TEST

/*
 * A wait entry whose key holds a string: given with no fields, its finish
 * takes it out of active and names it; the key is left alone.
 */
START_TEST(string_key)
{
	bullmq_worker		*w = worker();
	bullmq_job		*j, *next;
	enum bullmq_outcome	 oc;

	freeReplyObject(harness_cmd("SET " Q "str hello"));
	put_job("ok", "{}", NULL);
	freeReplyObject(harness_cmd("LPUSH " Q "wait str"));
	freeReplyObject(harness_cmd("RPUSH " Q "wait str"));
	j = fetch(w, "str");
	ck_assert_uint_eq(bullmq_job_nfields(j), 0);
	ck_assert_int_eq(bullmq_worker_run(w, j, NULL, &oc, &next), 0);
	ck_assert_int_eq(oc, BULLMQ_LOST_LOCK);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_JOB_NOT_A_HASH);
	ck_assert_msg(strstr(bullmq_errstr(q), "job str: its key holds no "
	    "hash") != NULL, "%s", bullmq_errstr(q));
	ck_assert_ptr_null(next);
	ck_assert_str_eq(harness_str("GET " Q "str"), "hello");
	ck_assert_int_eq(harness_int("LLEN " Q "active"), 0);
	ck_assert_int_eq(harness_int("EXISTS " Q "str:lock"), 0);
	/* the second entry, fetched by the finish of the job before it */
	j = fetch(w, "ok");
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, &next), 0);
	ck_assert_int_eq(oc, BULLMQ_COMPLETED);
	ck_assert_ptr_nonnull(next);
	ck_assert_str_eq(bullmq_job_id(next), "str");
	ck_assert_int_eq(bullmq_worker_run(w, next, NULL, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_LOST_LOCK);
	ck_assert_int_eq(harness_int("LLEN " Q "active"), 0);
	ck_assert_int_eq(harness_int("LLEN " Q "wait"), 0);
	ck_assert_str_eq(harness_str("GET " Q "str"), "hello");
	bullmq_worker_free(w);
}
END_TEST

/* Collect the ids the stalled check recovered, space separated. */
static void
collect(const char *id, void *arg)
{
	char	*buf = arg;

	if (buf[0] != '\0')
		strlcat(buf, " ", 256);
	strlcat(buf, id, 256);
}

/*
 * The stalled check goes on past a key that holds a string (back to wait
 * as any id, left alone) and a stall counter that is not a count (its
 * job fails, named); give-back does the same.
 */
START_TEST(stalled_round_goes_on)
{
	char	got[256] = "";

	freeReplyObject(harness_cmd("SET " Q "s x"));
	freeReplyObject(harness_cmd("HSET " Q "c name n stc 1x"));
	freeReplyObject(harness_cmd("HSET " Q "a name n"));
	freeReplyObject(harness_cmd("RPUSH " Q "active s c a"));
	freeReplyObject(harness_cmd("SADD " Q "stalled s c a"));
	ck_assert_msg(bullmq_check_stalled(q, 1, 30000, collect, got) == 3,
	    "%s", bullmq_errstr(q));
	ck_assert_int_eq(harness_int("LLEN " Q "wait"), 3);
	ck_assert_int_eq(harness_int("LLEN " Q "active"), 0);
	ck_assert_str_eq(harness_str("GET " Q "s"), "x");
	ck_assert_str_eq(harness_str("HGET " Q "c defa"),
	    "job's stalled counter (stc) is not a count");
	ck_assert_str_eq(harness_str("HGET " Q "c stc"), "1x");
	ck_assert_str_eq(harness_str("HGET " Q "a stc"), "1");

	/* an id with a NUL byte is named with the NUL shown */
	harness_flush();
	freeReplyObject(harness_cmd("RPUSH " Q "active %b", "n\0l",
	    (size_t)3));
	freeReplyObject(harness_cmd("SADD " Q "stalled %b", "n\0l",
	    (size_t)3));
	got[0] = '\0';
	ck_assert_int_eq(bullmq_check_stalled(q, 1, 30000, collect, got), 1);
	ck_assert_str_eq(got, "n\\x00l");

	harness_flush();
	freeReplyObject(harness_cmd("SET " Q "s x"));
	freeReplyObject(harness_cmd("RPUSH " Q "active s"));
	freeReplyObject(harness_cmd("SET " Q "s:lock t"));
	ck_assert_int_eq(bullmq_give_back(q, "s", "t", 1), 1);
	ck_assert_str_eq(harness_str("LINDEX " Q "wait 0"), "s");
	ck_assert_str_eq(harness_str("GET " Q "s"), "x");

	/* a lock key that holds a hash is no one's: the others go back */
	harness_flush();
	freeReplyObject(harness_cmd("HSET " Q "h:lock t t"));
	freeReplyObject(harness_cmd("HSET " Q "b name n"));
	freeReplyObject(harness_cmd("SET " Q "b:lock t"));
	freeReplyObject(harness_cmd("RPUSH " Q "active h b"));
	ck_assert_int_eq(bullmq_give_back(q, "h", "t", 1), 0);
	ck_assert_msg(bmq_give_back(q, "", "t", 0, NULL) == 1, "%s",
	    bullmq_errstr(q));
	ck_assert_str_eq(harness_str("LINDEX " Q "wait 0"), "b");
	ck_assert_str_eq(harness_str("LINDEX " Q "active 0"), "h");
}
END_TEST

/*
 * A due delayed entry whose key holds a string moves to wait as any id;
 * the other due jobs are not lost.  An events cap that is not a count is
 * taken as the default.
 */
START_TEST(promote_string_and_bad_cap)
{
	bullmq_worker		*w = worker();
	bullmq_job		*j;
	enum bullmq_outcome	 oc;

	freeReplyObject(harness_cmd("SET " Q "s x"));
	freeReplyObject(harness_cmd("HSET " Q "d name n data {} opts {} "
	    "timestamp 1 delay 5"));
	freeReplyObject(harness_cmd("ZADD " Q "delayed 4096 s 4097 d"));
	freeReplyObject(harness_cmd("HSET " Q "meta opts.maxLenEvents abc"));
	j = fetch(w, "s");
	ck_assert_str_eq(harness_str("LINDEX " Q "wait 0"), "d");
	ck_assert_str_eq(harness_str("HGET " Q "d delay"), "0");
	ck_assert_str_eq(harness_str("GET " Q "s"), "x");
	ck_assert_int_eq(bullmq_worker_run(w, j, NULL, &oc, NULL), 0);
	j = fetch(w, "d");
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, NULL), 0);
	ck_assert_int_eq(oc, BULLMQ_COMPLETED);
	ck_assert_str_eq(harness_str("HGET " Q "meta opts.maxLenEvents"),
	    "abc");
	bullmq_worker_free(w);
}
END_TEST

/* A processor that completes the job with null. */
static int
proc_ok(bullmq_job *j)
{
	(void)j;
	return 0;
}

/*
 * add-9.lua reads the events cap and the concurrency before its first
 * write: values no command takes neither stop the add halfway.
 */
START_TEST(add_bad_meta)
{
	char	id[32];

	freeReplyObject(harness_cmd("HSET " Q "meta opts.maxLenEvents abc "
	    "concurrency x"));
	ck_assert_int_eq(bullmq_add(q, "n", "{}", NULL, id, sizeof(id)),
	    BULLMQ_ADDED);
	ck_assert_str_eq(harness_str("LINDEX " Q "wait 0"), id);
	ck_assert_int_eq(harness_int("XLEN " Q "events"), 2);
	ck_assert_str_eq(harness_str("HGET " Q "meta opts.maxLenEvents"),
	    "abc");
}
END_TEST

/*
 * clean, drain, remove and retry-jobs take a key that holds no hash out
 * of their lists as any id and leave the key alone.
 */
START_TEST(admin_string_key)
{
	char	id[32];

	freeReplyObject(harness_cmd("SET " Q "s x"));
	freeReplyObject(harness_cmd("LPUSH " Q "wait s"));
	ck_assert_int_eq(bullmq_add(q, "n", "{}", NULL, id, sizeof(id)),
	    BULLMQ_ADDED);
	ck_assert_msg(bullmq_clean(q, "wait", 0, 0) == 2, "%s",
	    bullmq_errstr(q));
	ck_assert_int_eq(harness_int("LLEN " Q "wait"), 0);
	ck_assert_str_eq(harness_str("GET " Q "s"), "x");

	freeReplyObject(harness_cmd("LPUSH " Q "wait s"));
	ck_assert_msg(bullmq_drain(q, 0) == 0, "%s", bullmq_errstr(q));
	ck_assert_int_eq(harness_int("LLEN " Q "wait"), 0);
	ck_assert_str_eq(harness_str("GET " Q "s"), "x");

	freeReplyObject(harness_cmd("LPUSH " Q "wait s"));
	ck_assert_msg(bullmq_remove(q, "s") == 1, "%s", bullmq_errstr(q));
	ck_assert_int_eq(harness_int("LLEN " Q "wait"), 0);
	ck_assert_str_eq(harness_str("GET " Q "s"), "x");

	freeReplyObject(harness_cmd("HSET " Q "f name n finishedOn 1"));
	freeReplyObject(harness_cmd("ZADD " Q "failed 1 s 2 f"));
	ck_assert_msg(bullmq_retry_jobs(q, "failed", 10) == 2, "%s",
	    bullmq_errstr(q));
	ck_assert_int_eq(harness_int("LLEN " Q "wait"), 2);
	ck_assert_int_eq(harness_int("HEXISTS " Q "f finishedOn"), 0);
	ck_assert_str_eq(harness_str("GET " Q "s"), "x");
}
END_TEST

/* Collect lost ids. */
static void
lost(const char *id, void *arg)
{
	strlcat(arg, id, 64);
}

/* A lock key that holds no string is lost; the batch goes on. */
START_TEST(extend_odd_lock)
{
	const char	*ids[] = { "a", "b" }, *toks[] = { "t", "t" };
	char		 got[64] = "";

	freeReplyObject(harness_cmd("HSET " Q "a:lock t t"));
	freeReplyObject(harness_cmd("SET " Q "b:lock t PX 1000"));
	ck_assert_msg(bullmq_extend_locks(q, 2, ids, toks, 60000, lost,
	    got) == 1, "%s", bullmq_errstr(q));
	ck_assert_str_eq(got, "a");
	ck_assert_int_gt(harness_int("PTTL " Q "b:lock"), 2000);
}
END_TEST

/*
 * Counters no command takes start again: a scheduler's "ic", the metrics
 * fields, the rate limiter's count.  The events cap of progress, a
 * deduplication ttl that is not whole.
 */
START_TEST(odd_counters)
{
	struct bullmq_worker_opts	 o;
	bullmq_worker			*w;
	bullmq_job			*j;
	enum bullmq_outcome		 oc;
	long long			 now = bullmq_now(), prev = now - 100;
	char				 cur[64], opts[256];

	memset(&o, 0, sizeof(o));
	o.metrics_max_points = 10;
	o.limiter_max = 100;
	o.limiter_duration = 60000;
	w = bullmq_worker_new(q, &o);
	ck_assert_ptr_nonnull(w);
	snprintf(cur, sizeof(cur), "repeat:s1:%lld", prev);
	freeReplyObject(harness_cmd("ZADD " Q "repeat %lld s1", prev));
	freeReplyObject(harness_cmd("HSET " Q "repeat:s1 name t every 1000 "
	    "ic many"));
	snprintf(opts, sizeof(opts), "{\"repeat\":{\"every\":1000},"
	    "\"de\":{\"id\":\"k\",\"keepLastIfActive\":true}}");
	freeReplyObject(harness_cmd("HSET " Q "%s name t data {} opts %s "
	    "timestamp 1 rjk s1 deid k", cur, opts));
	freeReplyObject(harness_cmd("LPUSH " Q "wait %s", cur));
	freeReplyObject(harness_cmd("SET " Q "limiter lots PX 60000"));
	freeReplyObject(harness_cmd("HSET " Q "metrics:completed count c "
	    "prevTS p prevCount q"));
	freeReplyObject(harness_cmd("HSET " Q "meta opts.maxLenEvents abc"));
	freeReplyObject(harness_cmd("SET " Q "de:k %s", cur));
	freeReplyObject(harness_cmd("HSET " Q "dn:k name d data {} opts "
	    "{\"de\":{\"id\":\"k\",\"ttl\":1500.5}} jid nx"));
	j = fetch(w, cur);
	ck_assert_str_eq(harness_str("GET " Q "limiter"), "1");
	ck_assert_int_eq(bullmq_job_progress(j, "50"), 0);
	ck_assert_str_eq(harness_str("HGET " Q "%s progress", cur), "50");
	ck_assert_msg(bullmq_worker_run(w, j, proc_ok, &oc, NULL) == 0, "%s",
	    bullmq_errstr(q));
	ck_assert_int_eq(oc, BULLMQ_COMPLETED);
	ck_assert_str_eq(harness_str("HGET " Q "repeat:s1 ic"), "1");
	ck_assert_str_eq(harness_str("HGET " Q "metrics:completed count"),
	    "1");
	ck_assert_str_eq(harness_str("GET " Q "de:k"), "nx");
	ck_assert_int_gt(harness_int("PTTL " Q "de:k"), 0);
	ck_assert_int_eq(harness_int("EXISTS " Q "nx"), 1);
	bullmq_worker_free(w);
}
END_TEST

/*
 * A priority counter INCR refuses starts again from 1: in an add, a
 * promotion and a retry, each of which used to fail after its job had
 * left its list.  An id counter so is left alone by a scheduler.
 */
START_TEST(odd_priority_counter)
{
	struct bullmq_add_opts	 o;
	bullmq_worker		*w = worker();
	bullmq_job		*j;
	char			 id[32];

	freeReplyObject(harness_cmd("SET " Q "pc x"));
	memset(&o, 0, sizeof(o));
	o.priority = 2;
	ck_assert_msg(bullmq_add(q, "n", "{}", &o, id, sizeof(id)) ==
	    BULLMQ_ADDED, "%s", bullmq_errstr(q));
	ck_assert_str_eq(harness_str("GET " Q "pc"), "1");
	ck_assert_int_eq(harness_int("ZCARD " Q "prioritized"), 1);

	harness_flush();
	freeReplyObject(harness_cmd("SET " Q "pc x"));
	freeReplyObject(harness_cmd("HSET " Q "d name n data {} opts "
	    "{\"attempts\":2} timestamp 1 priority 3"));
	freeReplyObject(harness_cmd("ZADD " Q "delayed 4096 d"));
	j = fetch(w, "d");
	ck_assert_str_eq(harness_str("GET " Q "pc"), "1");
	freeReplyObject(harness_cmd("SET " Q "pc y"));
	fail_it(w, j, BULLMQ_RETRIED);
	ck_assert_str_eq(harness_str("GET " Q "pc"), "1");
	ck_assert_str_ne(harness_str("ZSCORE " Q "prioritized d"), "");
	ck_assert_int_eq(harness_int("LLEN " Q "active"), 0);
	bullmq_worker_free(w);
}
END_TEST

/*
 * A key a script writes once the job has left its state holds the wrong
 * type: the script refuses first (BULLMQ_KEY_WRONG_TYPE, naming the key),
 * and the job stays where it was, still locked.
 */
START_TEST(wrong_type_refuses_first)
{
	bullmq_worker		*w = worker();
	bullmq_job		*j;
	enum bullmq_outcome	 oc;
	char			 tok[128];

	/* finish: the finished set a string */
	put_job("c", "{}", NULL);
	j = fetch(w, "c");
	strlcpy(tok, bullmq_job_token(j), sizeof(tok));
	freeReplyObject(harness_cmd("SET " Q "completed x"));
	ck_assert_int_eq(bullmq_job_return(j, "1", 1), 0);
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, NULL), -1);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_KEY_WRONG_TYPE);
	ck_assert_str_eq(bullmq_errstr(q), "script finish: key " Q "completed "
	    "holds a string, not a zset: nothing was written");
	ck_assert_str_eq(harness_str("LINDEX " Q "active 0"), "c");
	ck_assert_str_eq(harness_str("GET " Q "c:lock"), tok);
	ck_assert_int_eq(harness_int("HEXISTS " Q "c returnvalue"), 0);
	ck_assert_str_eq(harness_str("GET " Q "completed"), "x");

	/* finish: stalled a hash, after the finished set took the job */
	freeReplyObject(harness_cmd("DEL " Q "completed " Q "active"));
	put_job("s", "{}", NULL);
	j = fetch(w, "s");
	freeReplyObject(harness_cmd("HSET " Q "stalled a b"));
	ck_assert_int_eq(bullmq_job_return(j, "1", 1), 0);
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, &oc, NULL), -1);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_KEY_WRONG_TYPE);
	ck_assert_ptr_nonnull(strstr(bullmq_errstr(q), "key " Q "stalled "
	    "holds a hash, not a set"));
	ck_assert_int_eq(harness_int("EXISTS " Q "completed"), 0);
	ck_assert_str_eq(harness_str("LINDEX " Q "active 0"), "s");
	ck_assert_int_eq(harness_int("EXISTS " Q "s:lock"), 1);
	freeReplyObject(harness_cmd("DEL " Q "stalled " Q "active"));

	/* retry: wait a string */
	put_job("r", "{\"attempts\":3}", NULL);
	j = fetch(w, "r");
	freeReplyObject(harness_cmd("SET " Q "wait x"));
	ck_assert_int_eq(bullmq_job_error(j, "boom", 0), 0);
	ck_assert_int_eq(bullmq_worker_finish(w, j, 1, &oc, NULL), -1);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_KEY_WRONG_TYPE);
	ck_assert_ptr_nonnull(strstr(bullmq_errstr(q), "key " Q "wait holds "
	    "a string, not a list"));
	ck_assert_str_eq(harness_str("LINDEX " Q "active 0"), "r");
	ck_assert_int_eq(harness_int("EXISTS " Q "r:lock"), 1);
	ck_assert_int_eq(harness_int("HEXISTS " Q "r failedReason"), 0);
	bullmq_worker_free(w);
}
END_TEST

/* A negative atm counts from 0 when retried: no more tries than attempts. */
START_TEST(atm_negative)
{
	bullmq_worker	*w = worker();

	put_job("n", "{\"attempts\":2}", "-5");
	fail_it(w, fetch(w, "n"), BULLMQ_RETRIED);
	ck_assert_str_eq(harness_str("HGET " Q "n atm"), "1");
	fail_it(w, fetch(w, "n"), BULLMQ_FAILED);
	assert_failed("n", "boom");
	ck_assert_str_eq(harness_str("HGET " Q "n atm"), "2");
	bullmq_worker_free(w);
}
END_TEST

/*
 * A processor's move: a key it writes of the wrong type refuses before the
 * job leaves active; a NaN priority is none; a key that holds no hash
 * leaves active, the key left alone.
 */
START_TEST(move_refuses_first)
{
	bullmq_worker	*w = worker();
	bullmq_job	*j;

	put_job("m", "{}", NULL);
	j = fetch(w, "m");
	freeReplyObject(harness_cmd("SET " Q "delayed x"));
	ck_assert_int_eq(bullmq_job_move_to_delayed(j, bullmq_now() + 60000),
	    -1);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_KEY_WRONG_TYPE);
	ck_assert_ptr_nonnull(strstr(bullmq_errstr(q), "key " Q "delayed "
	    "holds a string, not a zset"));
	ck_assert_str_eq(harness_str("LINDEX " Q "active 0"), "m");
	ck_assert_int_eq(harness_int("EXISTS " Q "m:lock"), 1);
	freeReplyObject(harness_cmd("DEL " Q "delayed"));

	freeReplyObject(harness_cmd("HSET " Q "m priority nan"));
	ck_assert_int_eq(bullmq_job_move_to_wait(j, 0, NULL), 0);
	ck_assert_str_eq(harness_str("LINDEX " Q "wait 0"), "m");
	ck_assert_int_eq(harness_int("LLEN " Q "active"), 0);
	bullmq_job_free(j);

	freeReplyObject(harness_cmd("DEL " Q "wait"));
	put_job("s", "{}", NULL);
	j = fetch(w, "s");
	freeReplyObject(harness_cmd("DEL " Q "s"));
	freeReplyObject(harness_cmd("SET " Q "s hello"));
	ck_assert_int_eq(bullmq_job_move_to_delayed(j, bullmq_now()), -1);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_JOB_NOT_A_HASH);
	ck_assert_int_eq(harness_int("LLEN " Q "active"), 0);
	ck_assert_str_eq(harness_str("GET " Q "s"), "hello");
	bullmq_job_free(j);
	bullmq_worker_free(w);
}
END_TEST

/*
 * An add kept for later (Q:dn:<deid>) becomes a job when its owner
 * finishes: with wait a string, the finish refuses first rather than make
 * a job in no state; with dn a string, the prototype is left alone.
 */
START_TEST(dedup_kept_wrong_type)
{
	bullmq_worker		*w = worker();
	bullmq_job		*j;
	enum bullmq_outcome	 oc;

	freeReplyObject(harness_cmd("HSET " Q "o name n data {} opts {} "
	    "timestamp 1 deid k"));
	freeReplyObject(harness_cmd("LPUSH " Q "wait o"));
	freeReplyObject(harness_cmd("SET " Q "de:k o"));
	freeReplyObject(harness_cmd("HSET " Q "dn:k name d data {} opts {} "
	    "jid nx"));
	j = fetch(w, "o");
	freeReplyObject(harness_cmd("SET " Q "wait x"));
	ck_assert_int_eq(bullmq_worker_run(w, j, proc_ok, &oc, NULL), -1);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_KEY_WRONG_TYPE);
	ck_assert_str_eq(harness_str("LINDEX " Q "active 0"), "o");
	ck_assert_int_eq(harness_int("EXISTS " Q "nx"), 0);
	ck_assert_str_eq(harness_str("GET " Q "de:k"), "o");
	ck_assert_int_eq(harness_int("EXISTS " Q "dn:k"), 1);

	/* dn:k a string: no prototype; the window ends, the key stays */
	freeReplyObject(harness_cmd("DEL " Q "wait " Q "dn:k " Q "active"));
	freeReplyObject(harness_cmd("SET " Q "dn:k x"));
	freeReplyObject(harness_cmd("LPUSH " Q "wait o"));
	j = fetch(w, "o");
	ck_assert_msg(bullmq_worker_run(w, j, proc_ok, &oc, NULL) == 0, "%s",
	    bullmq_errstr(q));
	ck_assert_int_eq(oc, BULLMQ_COMPLETED);
	ck_assert_int_eq(harness_int("EXISTS " Q "de:k"), 0);
	ck_assert_str_eq(harness_str("GET " Q "dn:k"), "x");
	ck_assert_int_eq(harness_int("EXISTS " Q "nx"), 0);
	bullmq_worker_free(w);
}
END_TEST

/*
 * Removing the last pending child of a parent whose queue's wait holds a
 * string: remove and clean refuse before their first write (the parent
 * would leave waiting-children for no state), and clean leaves no blank
 * entry in wait.
 */
START_TEST(remove_parent_wrong_type)
{
	freeReplyObject(harness_cmd("HSET bull:pp:P name p"));
	freeReplyObject(harness_cmd("ZADD bull:pp:waiting-children 1 P"));
	freeReplyObject(harness_cmd("SADD bull:pp:P:dependencies " Q "c"));
	freeReplyObject(harness_cmd("SET bull:pp:wait x"));
	freeReplyObject(harness_cmd("HSET " Q "c name n parentKey "
	    "bull:pp:P timestamp 1"));
	freeReplyObject(harness_cmd("HSET " Q "d name n timestamp 1"));
	freeReplyObject(harness_cmd("RPUSH " Q "wait d c"));
	ck_assert_int_eq(bullmq_remove(q, "c"), -1);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_KEY_WRONG_TYPE);
	ck_assert_ptr_nonnull(strstr(bullmq_errstr(q), "key bull:pp:wait "
	    "holds a string, not a list"));
	ck_assert_int_eq(harness_int("LLEN " Q "wait"), 2);
	ck_assert_int_eq(harness_int("EXISTS " Q "c"), 1);
	ck_assert_str_ne(harness_str("ZSCORE bull:pp:waiting-children P"),
	    "");
	ck_assert_int_eq(harness_int("SCARD bull:pp:P:dependencies"), 1);

	ck_assert_int_eq(bullmq_clean(q, "wait", 0, 0), -1);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_KEY_WRONG_TYPE);
	/* d went before c refused: no blank is left behind */
	ck_assert_int_eq(harness_int("LLEN " Q "wait"), 1);
	ck_assert_str_eq(harness_str("LINDEX " Q "wait 0"), "c");
	ck_assert_int_eq(harness_int("SCARD bull:pp:P:dependencies"), 1);

	/* from completed: the job deleted before leaves the set too */
	freeReplyObject(harness_cmd("DEL " Q "wait"));
	freeReplyObject(harness_cmd("HSET " Q "e name n timestamp 1"));
	freeReplyObject(harness_cmd("ZADD " Q "completed 1 e 2 c"));
	ck_assert_int_eq(bullmq_clean(q, "completed", 0, 0), -1);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_KEY_WRONG_TYPE);
	ck_assert_int_eq(harness_int("ZCARD " Q "completed"), 1);
	ck_assert_str_eq(harness_str("ZSCORE " Q "completed c"), "2");
	ck_assert_int_eq(harness_int("EXISTS " Q "e"), 0);

	freeReplyObject(harness_cmd("DEL bull:pp:wait"));
	ck_assert_int_eq(bullmq_remove(q, "c"), 1);
	ck_assert_str_eq(harness_str("LINDEX bull:pp:wait 0"), "P");
}
END_TEST

/*
 * Retrying one failed job by hand with wait a string, or promoting a
 * delayed one with events a hash, refuses before the job leaves its
 * state; a NaN priority is none.
 */
START_TEST(retry_job_wrong_type)
{
	freeReplyObject(harness_cmd("HSET " Q "f name n timestamp 1 "
	    "priority nan failedReason boom"));
	freeReplyObject(harness_cmd("ZADD " Q "failed 1 f"));
	freeReplyObject(harness_cmd("SET " Q "wait x"));
	ck_assert_int_eq(bullmq_retry_job(q, "f", "failed", 0), -1);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_KEY_WRONG_TYPE);
	ck_assert_str_eq(harness_str("ZSCORE " Q "failed f"), "1");
	ck_assert_str_eq(harness_str("HGET " Q "f failedReason"), "boom");
	freeReplyObject(harness_cmd("DEL " Q "wait"));
	ck_assert_int_eq(bullmq_retry_job(q, "f", "failed", 0), 0);
	ck_assert_str_eq(harness_str("LINDEX " Q "wait 0"), "f");
	ck_assert_int_eq(harness_int("ZCARD " Q "failed"), 0);

	/* promote, the same: events a hash */
	freeReplyObject(harness_cmd("DEL " Q "wait " Q "events"));
	freeReplyObject(harness_cmd("ZADD " Q "delayed 4096 f"));
	freeReplyObject(harness_cmd("HSET " Q "events a b"));
	ck_assert_int_eq(bullmq_promote(q, "f"), -1);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_KEY_WRONG_TYPE);
	ck_assert_str_eq(harness_str("ZSCORE " Q "delayed f"), "4096");
	freeReplyObject(harness_cmd("DEL " Q "events"));
	ck_assert_int_eq(bullmq_promote(q, "f"), 0);
	ck_assert_str_eq(harness_str("LINDEX " Q "wait 0"), "f");
}
END_TEST

Suite *
make_suite(void)
{
	Suite	*s = suite_create("poison");
	TCase	*tc = tcase_create("poison");

	tcase_add_unchecked_fixture(tc, harness_start, harness_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, atm_not_integer);
	tcase_add_test(tc, atm_not_integer_backoff);
	tcase_add_test(tc, atm_bad_after_fetch);
	tcase_add_test(tc, retry_script_refuses);
	tcase_add_test(tc, nul_id);
	tcase_add_test(tc, string_key);
	tcase_add_test(tc, stalled_round_goes_on);
	tcase_add_test(tc, promote_string_and_bad_cap);
	tcase_add_test(tc, add_bad_meta);
	tcase_add_test(tc, admin_string_key);
	tcase_add_test(tc, extend_odd_lock);
	tcase_add_test(tc, odd_counters);
	tcase_add_test(tc, odd_priority_counter);
	tcase_add_test(tc, wrong_type_refuses_first);
	tcase_add_test(tc, atm_negative);
	tcase_add_test(tc, move_refuses_first);
	tcase_add_test(tc, dedup_kept_wrong_type);
	tcase_add_test(tc, remove_parent_wrong_type);
	tcase_add_test(tc, retry_job_wrong_type);
	suite_add_tcase(s, tc);
	return s;
}
