/*
 * check_inspect.c: the calls on one job or a page of jobs against a
 * private redis-server: bullmq_get_jobs, bullmq_get_logs, bullmq_promote,
 * bullmq_retry_job and bullmq_queue_exists (BULLMQ-PROTOCOL.md 4.14).
 * Worker-made states are written by hand.
 */
#include <check.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"
#include "harness.h"
#include "suite.h"

static bullmq_queue	*q;

/* Run a command on the plain connection, ignoring its reply. */
static void __attribute__((__format__(__printf__, 1, 2)))
cmd(const char *fmt, ...)
{
	va_list		 ap;
	redisReply	*r;

	va_start(ap, fmt);
	r = redisvCommand(harness_redis(), fmt, ap);
	va_end(ap);
	ck_assert_ptr_ne(r, NULL);
	ck_assert_msg(r->type != REDIS_REPLY_ERROR, "%s: %s", fmt, r->str);
	freeReplyObject(r);
}

/* Write a job hash by hand, as another producer would have. */
static void
job(const char *id, const char *opts, int priority)
{
	cmd("HSET bull:q:%s name n%s data {} opts %s timestamp 1 delay 0 "
	    "priority %d", id, id, opts, priority);
}

/* Write a job failed (or completed) at ts, run twice. */
static void
finished(const char *id, const char *state, long long ts)
{
	job(id, "{}", 0);
	cmd("HSET bull:q:%s finishedOn %lld processedOn %lld atm 2 ats 2 "
	    "stacktrace [\"x\"] %s %s", id, ts, ts, strcmp(state, "failed") ==
	    0 ? "failedReason" : "returnvalue", strcmp(state, "failed") == 0 ?
	    "boom" : "1");
	cmd("ZADD bull:q:%s %lld %s", state, ts, id);
}

/* What cb_ids collects: the ids, joined by spaces. */
static char	ids[512];

static void
cb_ids(const bullmq_job *j, int64_t score, void *arg)
{
	size_t	n = strlen(ids);

	if (score != 0)
		snprintf(ids + n, sizeof(ids) - n, "%s@%lld ", bullmq_job_id(j),
		    (long long)score);
	else
		snprintf(ids + n, sizeof(ids) - n, "%s ", bullmq_job_id(j));
	ck_assert_str_eq(bullmq_job_name(j), "n");
}

/* The ids of a page of state, in order. */
static const char *
page(const char *state, long start, long count, int order)
{
	ids[0] = '\0';
	ck_assert_int_ne(bullmq_get_jobs(q, state, start, count, order, cb_ids,
	    NULL), -1);
	return ids;
}

START_TEST(get_jobs)
{
	const char	*w[] = { "1", "2", "3", "4" };
	size_t		 i;

	for (i = 0; i < 4; i++) {
		cmd("HSET bull:q:%s name n timestamp 1", w[i]);
		cmd("LPUSH bull:q:wait %s", w[i]);
	}
	/* wait: the order they run (oldest, at the tail, first) */
	ck_assert_str_eq(page("wait", 0, 0, BULLMQ_ORDER_STATE), "1 2 3 4 ");
	ck_assert_str_eq(page("waiting", 1, 2, BULLMQ_ORDER_STATE), "2 3 ");
	ck_assert_str_eq(page("wait", 1, 2, BULLMQ_ORDER_DESC), "3 2 ");
	ck_assert_str_eq(page("wait", 3, 5, BULLMQ_ORDER_ASC), "4 ");
	ck_assert_str_eq(page("wait", 4, 5, BULLMQ_ORDER_ASC), "");
	/* pages past what a Lua number holds exactly */
	ck_assert_str_eq(page("wait", 0, LONG_MAX, BULLMQ_ORDER_STATE),
	    "1 2 3 4 ");
	ck_assert_str_eq(page("wait", LONG_MAX, 1, BULLMQ_ORDER_ASC), "");
	ck_assert_str_eq(page("wait", LONG_MAX, LONG_MAX, BULLMQ_ORDER_DESC),
	    "");
	/* an id without a hash is skipped and the page filled */
	cmd("DEL bull:q:2");
	ck_assert_str_eq(page("wait", 0, 2, BULLMQ_ORDER_STATE), "1 3 ");
	ck_assert_int_eq(bullmq_get_jobs(q, "wait", 0, 0, 0, NULL, NULL), 3);

	/* completed: the newest first */
	cmd("HSET bull:q:c1 name n");
	cmd("HSET bull:q:c2 name n");
	cmd("ZADD bull:q:completed 10 c1 20 c2");
	ck_assert_str_eq(page("completed", 0, 0, BULLMQ_ORDER_STATE),
	    "c2@20 c1@10 ");
	ck_assert_str_eq(page("completed", 0, 1, BULLMQ_ORDER_ASC), "c1@10 ");
	/* a delayed job's score: its due time times 4096 plus a sequence */
	cmd("HSET bull:q:d name n");
	cmd("ZADD bull:q:delayed 7372800000000005 d");
	ck_assert_str_eq(page("delayed", 0, 0, BULLMQ_ORDER_STATE),
	    "d@7372800000000005 ");

	ck_assert_int_eq(bullmq_get_jobs(q, "finished", 0, 0, 0, NULL, NULL),
	    -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_ARG);
	ck_assert_int_eq(bullmq_get_jobs(q, "wait", -1, 0, 0, NULL, NULL),
	    -1);
}
END_TEST

/* What cb_lines collects. */
static char	lines[512];

static void
cb_lines(const char *line, size_t len, void *arg)
{
	size_t	n = strlen(lines);

	snprintf(lines + n, sizeof(lines) - n, "%.*s|", (int)len, line);
}

START_TEST(get_logs)
{
	long	total = -1;

	cmd("HSET bull:q:7 name n");
	cmd("RPUSH bull:q:7:logs a b c d");
	lines[0] = '\0';
	ck_assert_int_eq(bullmq_get_logs(q, "7", 0, 0, 0, cb_lines, NULL,
	    &total), 4);
	ck_assert_str_eq(lines, "a|b|c|d|");
	ck_assert_int_eq(total, 4);
	lines[0] = '\0';
	ck_assert_int_eq(bullmq_get_logs(q, "7", 1, 2, 1, cb_lines, NULL,
	    &total), 2);
	ck_assert_str_eq(lines, "c|b|");
	lines[0] = '\0';
	ck_assert_int_eq(bullmq_get_logs(q, "7", 0, 0, 1, cb_lines, NULL,
	    NULL), 4);
	ck_assert_str_eq(lines, "d|c|b|a|");
	lines[0] = '\0';
	ck_assert_int_eq(bullmq_get_logs(q, "7", 2, LONG_MAX, 1, cb_lines,
	    NULL, &total), 2);
	ck_assert_str_eq(lines, "b|a|");
	ck_assert_int_eq(bullmq_get_logs(q, "7", LONG_MAX, LONG_MAX, 1,
	    cb_lines, NULL, &total), 0);
	ck_assert_int_eq(bullmq_get_logs(q, "7", LONG_MAX, 1, 0, cb_lines,
	    NULL, &total), 0);
	ck_assert_int_eq(total, 4);
	ck_assert_int_eq(bullmq_get_logs(q, "8", 0, 0, 0, cb_lines, NULL,
	    &total), 0);
	ck_assert_int_eq(total, 0);
	ck_assert_int_eq(bullmq_get_logs(q, "", 0, 0, 0, NULL, NULL, NULL),
	    -1);
}
END_TEST

START_TEST(promote)
{
	cmd("HSET bull:q:meta paused 1");
	job("d1", "{}", 0);
	job("d2", "{}", 3);
	job("w", "{}", 0);
	cmd("ZADD bull:q:delayed 4096000 d1 8192000 d2");
	cmd("LPUSH bull:q:wait w");
	cmd("HSET bull:q:d1 delay 1000");
	ck_assert_int_eq(bullmq_promote(q, "d1"), 0);
	ck_assert_str_eq(harness_str("LINDEX bull:q:wait 0"), "d1");
	ck_assert_str_eq(harness_str("HGET bull:q:d1 delay"), "0");
	ck_assert_int_eq(harness_int("ZCARD bull:q:delayed"), 1);
	/* paused: no marker */
	ck_assert_int_eq(harness_int("EXISTS bull:q:marker"), 0);
	ck_assert_str_eq(harness_last_event(),
	    "event=waiting jobId=d1 prev=delayed");
	cmd("HDEL bull:q:meta paused");
	cmd("SET bull:q:pc 6");
	ck_assert_int_eq(bullmq_promote(q, "d2"), 0);
	ck_assert_str_eq(harness_str("ZSCORE bull:q:prioritized d2"),
	    "12884901895");
	ck_assert_str_eq(harness_str("ZSCORE bull:q:marker 0"), "0");

	/* refusals write nothing */
	ck_assert_int_eq(bullmq_promote(q, "w"), -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_JOB);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_JOB_NOT_IN_STATE);
	ck_assert_int_eq(bullmq_promote(q, "nope"), -1);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_JOB_NOT_EXIST);
	cmd("SET bull:q:s text");
	cmd("ZADD bull:q:delayed 4096000 s");
	ck_assert_int_eq(bullmq_promote(q, "s"), -1);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_JOB_NOT_A_HASH);
	ck_assert_int_eq(harness_int("ZCARD bull:q:delayed"), 1);
	ck_assert_int_eq(harness_int("LLEN bull:q:wait"), 2);
	ck_assert_int_eq(harness_int("XLEN bull:q:events"), 2);
}
END_TEST

START_TEST(retry_job)
{
	finished("f", "failed", 100);
	finished("c", "completed", 200);
	finished("l", "failed", 300);
	cmd("HSET bull:q:l opts {\"lifo\":true}");
	job("w", "{}", 0);
	cmd("LPUSH bull:q:wait w");

	ck_assert_int_eq(bullmq_retry_job(q, "f", NULL, 0), 0);
	ck_assert_str_eq(harness_str("LINDEX bull:q:wait 0"), "f");
	ck_assert_int_eq(harness_int("HEXISTS bull:q:f failedReason"), 0);
	ck_assert_int_eq(harness_int("HEXISTS bull:q:f finishedOn"), 0);
	ck_assert_int_eq(harness_int("HEXISTS bull:q:f processedOn"), 0);
	ck_assert_str_eq(harness_str("HGET bull:q:f atm"), "2");
	ck_assert_str_eq(harness_str("HGET bull:q:f ats"), "2");
	ck_assert_str_eq(harness_str("HGET bull:q:f stacktrace"), "[\"x\"]");
	ck_assert_str_eq(harness_str("ZSCORE bull:q:marker 0"), "0");
	ck_assert_str_eq(harness_last_event(),
	    "event=waiting jobId=f prev=failed");

	ck_assert_int_eq(bullmq_retry_job(q, "c", "completed",
	    BULLMQ_RESET_ATTEMPTS_MADE | BULLMQ_RESET_ATTEMPTS_STARTED), 0);
	ck_assert_int_eq(harness_int("HEXISTS bull:q:c returnvalue"), 0);
	ck_assert_int_eq(harness_int("HEXISTS bull:q:c atm"), 0);
	ck_assert_int_eq(harness_int("HEXISTS bull:q:c ats"), 0);
	ck_assert_str_eq(harness_last_event(),
	    "event=waiting jobId=c prev=completed");

	/* lifo: to the consumer end */
	ck_assert_int_eq(bullmq_retry_job(q, "l", "failed",
	    BULLMQ_RESET_ATTEMPTS_MADE), 0);
	ck_assert_str_eq(harness_str("LINDEX bull:q:wait -1"), "l");
	ck_assert_int_eq(harness_int("HEXISTS bull:q:l atm"), 0);
	ck_assert_str_eq(harness_str("HGET bull:q:l ats"), "2");

	/* refusals write nothing */
	ck_assert_int_eq(bullmq_retry_job(q, "w", NULL, 0), -1);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_JOB_NOT_IN_STATE);
	finished("x", "failed", 400);
	ck_assert_int_eq(bullmq_retry_job(q, "x", "completed", 0), -1);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_JOB_NOT_IN_STATE);
	ck_assert_int_eq(harness_int("HEXISTS bull:q:x failedReason"), 1);
	ck_assert_int_eq(bullmq_retry_job(q, "nope", NULL, 0), -1);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_JOB_NOT_EXIST);
	ck_assert_int_eq(bullmq_retry_job(q, "x", "active", 0), -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_ARG);
	cmd("SET bull:q:s text");
	cmd("ZADD bull:q:failed 1 s");
	ck_assert_int_eq(bullmq_retry_job(q, "s", NULL, 0), -1);
	ck_assert_int_eq(bullmq_script_code(q), BULLMQ_JOB_NOT_A_HASH);
	ck_assert_str_eq(harness_str("ZSCORE bull:q:failed s"), "1");
	ck_assert_int_eq(harness_int("LLEN bull:q:wait"), 4);
	ck_assert_int_eq(harness_int("XLEN bull:q:events"), 3);
}
END_TEST

START_TEST(queue_exists)
{
	ck_assert_int_eq(bullmq_queue_exists(q), 0);
	cmd("SET bull:q:id 3");
	ck_assert_int_eq(bullmq_queue_exists(q), 1);
	cmd("DEL bull:q:id");
	cmd("ZADD bull:q:failed 1 x");
	ck_assert_int_eq(bullmq_queue_exists(q), 1);
	cmd("DEL bull:q:failed");
	cmd("SET bull:other:id 3");
	cmd("HSET bull:q:1 name n");	/* a job alone is not a queue */
	ck_assert_int_eq(bullmq_queue_exists(q), 0);
	cmd("HSET bull:q:meta paused 1");
	ck_assert_int_eq(bullmq_queue_exists(q), 1);
}
END_TEST

/* The suite. */
Suite *
make_suite(void)
{
	Suite	*s = suite_create("inspect");
	TCase	*tc = harness_tcase(s, "inspect", "q", &q, 30);

	tcase_add_test(tc, get_jobs);
	tcase_add_test(tc, get_logs);
	tcase_add_test(tc, promote);
	tcase_add_test(tc, retry_job);
	tcase_add_test(tc, queue_exists);
	return s;
}
