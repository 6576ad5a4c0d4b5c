/*
 * check_moves.c: a processor moving its own job out of active (DelayedError,
 * WaitingError, RateLimitError, WaitingChildrenError in Node's terms), and
 * reading or changing its job (data, children's values and failures,
 * dependency counts), against a private redis-server, through the public
 * API only.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq.h"
#include "harness.h"
#include "suite.h"

#define Q	"bull:mq:"

static bullmq_queue	*q;
static int64_t		 arg;		/* what the processor is told */
static const char	*child;		/* move_to_waiting_children's key */
static int		 got;		/* what its call returned */

/* Fresh data and a queue handle for each test. */
static void
setup(void)
{
	harness_flush();
	q = harness_queue("mq");
	arg = 0;
	child = NULL;
	got = -99;
}

/* Free the queue handle. */
static void
teardown(void)
{
	bullmq_queue_free(q);
	q = NULL;
}

/* Add job id as Node's addStandardJob would, with a priority. */
static void
add_job(const char *id, int priority)
{
	freeReplyObject(harness_cmd("HSET " Q "%s name n data {} opts {} "
	    "timestamp %lld delay 0 priority %d", id,
	    (long long)bullmq_now(), priority));
	if (priority > 0)
		freeReplyObject(harness_cmd("ZADD " Q "prioritized %lld %s",
		    (long long)priority << 32, id));
	else
		freeReplyObject(harness_cmd("LPUSH " Q "wait %s", id));
	freeReplyObject(harness_cmd("ZADD " Q "marker 0 0"));
}

/* Fetch one job without blocking; it must come. */
static bullmq_job *
fetch(bullmq_worker *w)
{
	bullmq_job	*j = NULL;

	ck_assert_msg(bullmq_worker_try_fetch(w, &j) == 1 && j != NULL,
	    "fetch: %s", bullmq_errstr(q));
	return j;
}

/* A worker with default settings. */
static bullmq_worker *
worker(void)
{
	struct bullmq_worker_opts	 o;
	bullmq_worker			*w;

	memset(&o, 0, sizeof(o));
	o.name = "mover";
	w = bullmq_worker_new(q, &o);
	ck_assert_msg(w != NULL, "worker: %s", bullmq_errstr(q));
	return w;
}

static int
to_delayed(bullmq_job *j)
{
	got = bullmq_job_move_to_delayed(j, arg);
	return 0;
}

static int
to_wait(bullmq_job *j)
{
	int64_t	ttl = -1;

	got = bullmq_job_move_to_wait(j, arg, &ttl);
	arg = ttl;
	return -1;	/* ignored once moved, as a thrown error in Node */
}

static int
to_children(bullmq_job *j)
{
	got = bullmq_job_move_to_waiting_children(j, child);
	return 0;
}

/* Whether the newest event of the stream has these fields. */
static int
last_event(const char *event, const char *id)
{
	redisReply	*r;
	int		 ok;

	r = harness_cmd("XREVRANGE " Q "events + - COUNT 1");
	ok = r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
	    r->element[0]->element[1]->elements >= 4 &&
	    strcmp(r->element[0]->element[1]->element[1]->str, event) == 0 &&
	    strcmp(r->element[0]->element[1]->element[3]->str, id) == 0;
	freeReplyObject(r);
	return ok;
}

/* DelayedError: delayed until the time, no attempt counted, lock gone. */
START_TEST(move_to_delayed)
{
	bullmq_worker		*w = worker();
	enum bullmq_outcome	 oc = 0;
	bullmq_job		*next = (bullmq_job *)1;
	int64_t			 now = bullmq_now();

	add_job("d1", 0);
	arg = now + 60000;
	ck_assert_int_eq(bullmq_worker_run(w, fetch(w), to_delayed, &oc,
	    &next), 0);
	ck_assert_int_eq(got, 0);
	ck_assert_int_eq(oc, BULLMQ_MOVED);
	ck_assert_ptr_null(next);
	ck_assert_int_eq(harness_int("LLEN " Q "active"), 0);
	ck_assert_int_eq(harness_int("EXISTS " Q "d1:lock"), 0);
	ck_assert_int_eq(harness_int("HEXISTS " Q "d1 atm"), 0);
	ck_assert_int_eq((int64_t)strtod(harness_str("ZSCORE " Q "delayed d1"),
	    NULL) / 4096, now + 60000);
	ck_assert_int_ge(atoll(harness_str("HGET " Q "d1 delay")), 59000);
	ck_assert(last_event("delayed", "d1"));
	bullmq_worker_free(w);
}
END_TEST

/* WaitingError: back to the front of wait; the next job comes after it. */
START_TEST(move_to_wait_front)
{
	bullmq_worker		*w = worker();
	enum bullmq_outcome	 oc = 0;
	bullmq_job		*next = NULL;

	add_job("a", 0);
	add_job("b", 0);
	ck_assert_int_eq(bullmq_worker_run(w, fetch(w), to_wait, &oc, &next),
	    0);
	ck_assert_int_eq(got, 0);
	ck_assert_int_eq(oc, BULLMQ_MOVED);
	ck_assert_int_eq(arg, 0);	/* no rate limit */
	/* the worker fetched the next job at once: a again, the front */
	ck_assert_ptr_nonnull(next);
	ck_assert_str_eq(bullmq_job_id(next), "a");
	ck_assert_int_eq(harness_int("HEXISTS " Q "a atm"), 0);
	bullmq_job_free(next);
	bullmq_worker_free(w);
}
END_TEST

/* RateLimitError: the queue is limited, the job waits, nothing is fetched. */
START_TEST(move_to_wait_rate_limited)
{
	bullmq_worker		*w = worker();
	enum bullmq_outcome	 oc = 0;
	bullmq_job		*next = NULL, *j = NULL;
	int64_t			 t0;

	add_job("r1", 0);
	add_job("r2", 0);
	arg = 5000;
	ck_assert_int_eq(bullmq_worker_run(w, fetch(w), to_wait, &oc, &next),
	    0);
	ck_assert_int_eq(got, 0);
	ck_assert_int_gt(arg, 4000);	/* the limiter's time to live */
	ck_assert_ptr_null(next);
	ck_assert_int_gt(harness_int("PTTL " Q "limiter"), 4000);
	ck_assert_int_eq(harness_int("LLEN " Q "wait"), 2);
	ck_assert_str_eq(harness_str("LINDEX " Q "wait -1"), "r1");
	ck_assert(last_event("waiting", "r1"));
	/* this worker waits out the limit before it fetches again */
	freeReplyObject(harness_cmd("PEXPIRE " Q "limiter 400"));
	bullmq_worker_free(w);
	w = worker();
	add_job("r3", 0);
	arg = 400;
	ck_assert_int_eq(bullmq_worker_run(w, fetch(w), to_wait, &oc, &next),
	    0);
	ck_assert_ptr_null(next);
	t0 = bullmq_now();
	ck_assert_int_eq(bullmq_worker_fetch(w, &j), 1);
	ck_assert_int_ge(bullmq_now() - t0, 300);
	ck_assert_str_eq(bullmq_job_id(j), "r1");	/* the front of wait */
	bullmq_job_free(j);
	bullmq_worker_free(w);
}
END_TEST

/* A prioritized job goes back in front of its priority. */
START_TEST(move_to_wait_prioritized)
{
	bullmq_worker		*w = worker();
	enum bullmq_outcome	 oc = 0;

	add_job("p", 3);
	ck_assert_int_eq(bullmq_worker_run(w, fetch(w), to_wait, &oc, NULL),
	    0);
	ck_assert_int_eq(got, 0);
	ck_assert_int_eq((int64_t)strtod(harness_str("ZSCORE " Q
	    "prioritized p"), NULL), 3LL << 32);
	bullmq_worker_free(w);
}
END_TEST

/* WaitingChildrenError: moved while a child is pending; else runs on. */
START_TEST(move_to_waiting_children)
{
	bullmq_worker		*w = worker();
	enum bullmq_outcome	 oc = 0;

	add_job("p1", 0);
	freeReplyObject(harness_cmd("SADD " Q "p1:dependencies bull:c:1"));
	ck_assert_int_eq(bullmq_worker_run(w, fetch(w), to_children, &oc,
	    NULL), 0);
	ck_assert_int_eq(got, 1);
	ck_assert_int_eq(oc, BULLMQ_MOVED);
	ck_assert_int_eq(harness_int("ZCARD " Q "waiting-children"), 1);
	ck_assert(last_event("waiting-children", "p1"));

	/* no child pending: not moved, the job completes */
	add_job("p2", 0);
	ck_assert_int_eq(bullmq_worker_run(w, fetch(w), to_children, &oc,
	    NULL), 0);
	ck_assert_int_eq(got, 0);
	ck_assert_msg(oc == BULLMQ_COMPLETED, "outcome %d: %s", oc,
	    harness_str("HGET " Q "p2 failedReason"));
	ck_assert_int_eq(harness_int("ZCARD " Q "completed"), 1);

	/* waiting for one child that is not among its dependencies */
	add_job("p3", 0);
	freeReplyObject(harness_cmd("SADD " Q "p3:dependencies bull:c:2"));
	child = "bull:c:3";
	ck_assert_int_eq(bullmq_worker_run(w, fetch(w), to_children, &oc,
	    NULL), 0);
	ck_assert_int_eq(got, 0);
	/* not moved; completing it is refused (a child is pending) */
	ck_assert_int_ne(oc, BULLMQ_MOVED);
	ck_assert_int_eq(harness_int("ZCARD " Q "waiting-children"), 1);

	/* a failed child: refused, the job is still the processor's */
	add_job("p4", 0);
	freeReplyObject(harness_cmd("SADD " Q "p4:dependencies bull:c:4"));
	freeReplyObject(harness_cmd("ZADD " Q "p4:unsuccessful 1 bull:c:5"));
	child = NULL;
	ck_assert_int_eq(bullmq_worker_run(w, fetch(w), to_children, &oc,
	    NULL), 0);
	ck_assert_int_eq(got, -1);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_JOB_HAS_FAILED_CHILDREN);
	ck_assert_int_eq(harness_int("ZCARD " Q "waiting-children"), 1);
	bullmq_worker_free(w);
}
END_TEST

/* A job whose lock is another worker's is not moved: nothing changes. */
START_TEST(move_refused_without_lock)
{
	bullmq_worker		*w = worker();
	bullmq_job		*j;

	add_job("x", 0);
	j = fetch(w);
	freeReplyObject(harness_cmd("SET " Q "%s:lock other",
	    bullmq_job_id(j)));
	ck_assert_int_eq(bullmq_job_move_to_delayed(j, bullmq_now() + 1000),
	    -1);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_JOB_LOCK_MISMATCH);
	ck_assert_int_eq(harness_int("LLEN " Q "active"), 1);
	ck_assert_int_eq(harness_int("ZCARD " Q "delayed"), 0);
	ck_assert_int_eq(bullmq_job_moved(j), 0);
	bullmq_job_free(j);
	bullmq_worker_free(w);
}
END_TEST

/* updateData, getChildrenValues, getIgnoredChildrenFailures, counts. */
START_TEST(job_data_and_children)
{
	bullmq_worker			*w = worker();
	bullmq_job			*j;
	struct bullmq_deps_count	 c;
	char				*json = NULL;

	add_job("p", 0);
	freeReplyObject(harness_cmd("HSET " Q "p:processed bull:c:1 "
	    "{\"a\":1} bull:c:2 \"x\""));
	freeReplyObject(harness_cmd("HSET " Q "p:failed bull:c:3 boom"));
	freeReplyObject(harness_cmd("SADD " Q "p:dependencies bull:c:4 "
	    "bull:c:5"));
	freeReplyObject(harness_cmd("ZADD " Q "p:unsuccessful 1 bull:c:6"));
	j = fetch(w);
	ck_assert_int_eq(bullmq_job_update_data(j, "{\"n\":2}", 7), 0);
	ck_assert_str_eq(harness_str("HGET " Q "p data"), "{\"n\":2}");
	ck_assert_int_eq(bullmq_job_update_data(j, "{bad", 4), -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_ARG);
	ck_assert_int_eq(bullmq_job_children_values(j, &json), 0);
	ck_assert_msg(strcmp(json, "{\"bull:c:1\":{\"a\":1},\"bull:c:2\":"
	    "\"x\"}") == 0 || strcmp(json, "{\"bull:c:2\":\"x\","
	    "\"bull:c:1\":{\"a\":1}}") == 0, "%s", json);
	free(json);
	ck_assert_int_eq(bullmq_job_ignored_failures(j, &json), 0);
	ck_assert_str_eq(json, "{\"bull:c:3\":\"boom\"}");
	free(json);
	ck_assert_int_eq(bullmq_job_dependencies_count(j, &c), 0);
	ck_assert_int_eq(c.processed, 2);
	ck_assert_int_eq(c.unprocessed, 2);
	ck_assert_int_eq(c.ignored, 1);
	ck_assert_int_eq(c.failed, 1);
	/* a job whose hash is gone cannot take data */
	freeReplyObject(harness_cmd("DEL " Q "p"));
	ck_assert_int_eq(bullmq_job_update_data(j, "1", 1), -1);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_JOB_NOT_EXIST);
	bullmq_job_free(j);
	bullmq_worker_free(w);
}
END_TEST

Suite *
make_suite(void)
{
	Suite	*s = suite_create("moves");
	TCase	*tc = tcase_create("moves");

	tcase_add_unchecked_fixture(tc, harness_start, harness_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, move_to_delayed);
	tcase_add_test(tc, move_to_wait_front);
	tcase_add_test(tc, move_to_wait_rate_limited);
	tcase_add_test(tc, move_to_wait_prioritized);
	tcase_add_test(tc, move_to_waiting_children);
	tcase_add_test(tc, move_refused_without_lock);
	tcase_add_test(tc, job_data_and_children);
	suite_add_tcase(s, tc);
	return s;
}
