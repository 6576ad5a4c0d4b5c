/*
 * check_producer.c: adding jobs, one or many, against a private
 * redis-server: the job hash, the list side or zset score, the marker, the
 * id counter and the events, as BULLMQ-PROTOCOL.md 4.1 describes them.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"
#include "harness.h"
#include "suite.h"

#define T0	1700000000000LL		/* a fixed job timestamp */

static bullmq_queue	*q;

/* The events must be exactly the n lines given. */
static void
expect_events(int n, ...)
{
	char	ev[64][200];
	va_list	ap;
	int	got, i;

	got = harness_events(ev, 64);
	va_start(ap, n);
	for (i = 0; i < n; i++) {
		const char *want = va_arg(ap, const char *);

		ck_assert_msg(i < got, "event %d missing (want %s)", i, want);
		ck_assert_str_eq(ev[i], want);
	}
	va_end(ap);
	ck_assert_int_eq(got, n);
}

START_TEST(add_standard)
{
	char	id[128], want[64];
	int64_t	before = bullmq_now();

	ck_assert_int_eq(harness_add("email", "{\"to\":\"a@b\"}", NULL, id),
	    BULLMQ_ADDED);
	ck_assert_str_eq(id, "1");
	ck_assert_int_eq(harness_add("email", NULL, NULL, id), BULLMQ_ADDED);
	ck_assert_str_eq(id, "2");

	ck_assert_str_eq(harness_str("HGET bull:q:1 name"), "email");
	ck_assert_str_eq(harness_str("HGET bull:q:1 data"), "{\"to\":\"a@b\"}");
	ck_assert_str_eq(harness_str("HGET bull:q:2 data"), "{}");
	ck_assert_str_eq(harness_str("HGET bull:q:1 opts"), "{\"attempts\":0}");
	ck_assert_str_eq(harness_str("HGET bull:q:1 delay"), "0");
	ck_assert_str_eq(harness_str("HGET bull:q:1 priority"), "0");
	ck_assert_int_ge(atoll(harness_str("HGET bull:q:1 timestamp")),
	    before);
	ck_assert_int_le(atoll(harness_str("HGET bull:q:1 timestamp")),
	    bullmq_now());
	ck_assert_int_eq(harness_int("HLEN bull:q:1"), 6);

	/* FIFO: LPUSH, so the first job is at the consumer (right) end. */
	ck_assert_str_eq(harness_str("LINDEX bull:q:wait 0"), "2");
	ck_assert_str_eq(harness_str("LINDEX bull:q:wait -1"), "1");
	ck_assert_str_eq(harness_str("GET bull:q:id"), "2");
	ck_assert_str_eq(harness_str("ZSCORE bull:q:marker 0"), "0");
	ck_assert_int_eq(harness_int("ZCARD bull:q:marker"), 1);
	ck_assert_str_eq(harness_str("HGET bull:q:meta opts.maxLenEvents"),
	    "10000");
	snprintf(want, sizeof(want), "event=added jobId=1 name=email");
	expect_events(4, want, "event=waiting jobId=1",
	    "event=added jobId=2 name=email", "event=waiting jobId=2");
}
END_TEST

START_TEST(add_verbatim_data)
{
	const char	*data = "{ \"url\": \"http://x/y\",  \"n\": 1.50,"
	    " \"s\": \"\\u00e9\" }";
	char		 id[128];

	harness_add("raw", data, NULL, id);
	ck_assert_str_eq(harness_str("HGET bull:q:1 data"), data);
	harness_add("str", "\"just a string\"", NULL, id);
	ck_assert_str_eq(harness_str("HGET bull:q:2 data"),
	    "\"just a string\"");
}
END_TEST

START_TEST(add_lifo)
{
	struct bullmq_add_opts	o;
	char			id[128];

	memset(&o, 0, sizeof(o));
	harness_add("a", NULL, NULL, id);
	o.lifo = 1;
	harness_add("b", NULL, &o, id);
	ck_assert_str_eq(id, "2");
	/* LIFO: RPUSH, the front of the line. */
	ck_assert_str_eq(harness_str("LINDEX bull:q:wait -1"), "2");
	ck_assert_str_eq(harness_str("LINDEX bull:q:wait 0"), "1");
	ck_assert_str_eq(harness_str("HGET bull:q:2 opts"),
	    "{\"attempts\":0,\"lifo\":true}");
}
END_TEST

START_TEST(add_delayed)
{
	struct bullmq_add_opts	o;
	char			id[128];

	memset(&o, 0, sizeof(o));
	o.delay = 5000;
	o.timestamp = T0;
	harness_add("d", NULL, &o, id);
	harness_add("d", NULL, &o, id);
	harness_add("d", NULL, &o, id);
	/* Due T0 + 5000, score (T0 + 5000) * 4096 + sequence. */
	ck_assert_str_eq(harness_str("ZSCORE bull:q:delayed 1"),
	    "6963200020480000");
	ck_assert_str_eq(harness_str("ZSCORE bull:q:delayed 2"),
	    "6963200020480001");
	ck_assert_str_eq(harness_str("ZSCORE bull:q:delayed 3"),
	    "6963200020480002");
	ck_assert_str_eq(harness_str("HGET bull:q:1 delay"), "5000");
	ck_assert_str_eq(harness_str("HGET bull:q:1 timestamp"),
	    "1700000000000");
	ck_assert_str_eq(harness_str("HGET bull:q:1 opts"),
	    "{\"attempts\":0,\"delay\":5000,\"timestamp\":1700000000000}");
	ck_assert_int_eq(harness_int("EXISTS bull:q:wait"), 0);
	/* Only the "1" marker, at the due time in ms. */
	ck_assert_str_eq(harness_str("ZSCORE bull:q:marker 1"),
	    "1700000005000");
	ck_assert_int_eq(harness_int("ZCARD bull:q:marker"), 1);
	expect_events(6, "event=added jobId=1 name=d",
	    "event=delayed jobId=1 delay=1700000005000",
	    "event=added jobId=2 name=d",
	    "event=delayed jobId=2 delay=1700000005000",
	    "event=added jobId=3 name=d",
	    "event=delayed jobId=3 delay=1700000005000");

	/* An earlier job moves the marker down. */
	o.delay = 1000;
	harness_add("d", NULL, &o, id);
	ck_assert_str_eq(harness_str("ZSCORE bull:q:marker 1"),
	    "1700000001000");
	/* A delay with a priority still goes to delayed first. */
	o.priority = 4;
	harness_add("d", NULL, &o, id);
	ck_assert_str_eq(harness_str("HGET bull:q:5 priority"), "4");
	ck_assert_int_eq(harness_int("ZCARD bull:q:delayed"), 5);
	ck_assert_int_eq(harness_int("EXISTS bull:q:prioritized"), 0);
}
END_TEST

START_TEST(add_delayed_saturates)
{
	struct bullmq_add_opts	o;
	char			id[128];

	memset(&o, 0, sizeof(o));
	o.delay = 1;
	o.timestamp = T0;
	/* A job already at the top of the millisecond keeps the top. */
	freeReplyObject(harness_cmd("ZADD bull:q:delayed 6963200000008191 x"));
	harness_add("d", NULL, &o, id);
	ck_assert_str_eq(harness_str("ZSCORE bull:q:delayed 1"),
	    "6963200000008191");
}
END_TEST

START_TEST(add_prioritized)
{
	struct bullmq_add_opts	o;
	char			id[128];

	memset(&o, 0, sizeof(o));
	o.priority = 7;
	harness_add("p", NULL, &o, id);
	o.lifo = 1;		/* ignored for prioritized jobs */
	harness_add("p", NULL, &o, id);
	o.priority = 3;
	o.lifo = 0;
	harness_add("p", NULL, &o, id);
	ck_assert_str_eq(harness_str("ZSCORE bull:q:prioritized 1"),
	    "30064771073");
	ck_assert_str_eq(harness_str("ZSCORE bull:q:prioritized 2"),
	    "30064771074");
	ck_assert_str_eq(harness_str("ZSCORE bull:q:prioritized 3"),
	    "12884901891");
	ck_assert_str_eq(harness_str("GET bull:q:pc"), "3");
	ck_assert_str_eq(harness_str("HGET bull:q:1 priority"), "7");
	ck_assert_str_eq(harness_str("HGET bull:q:1 opts"),
	    "{\"attempts\":0,\"priority\":7}");
	ck_assert_int_eq(harness_int("EXISTS bull:q:wait"), 0);
	ck_assert_str_eq(harness_str("ZSCORE bull:q:marker 0"), "0");
	expect_events(6, "event=added jobId=1 name=p", "event=waiting jobId=1",
	    "event=added jobId=2 name=p", "event=waiting jobId=2",
	    "event=added jobId=3 name=p", "event=waiting jobId=3");
}
END_TEST

START_TEST(add_custom_id_duplicate)
{
	struct bullmq_add_opts	o;
	char			id[128];

	memset(&o, 0, sizeof(o));
	o.job_id = "my-id";
	o.attempts = 3;
	ck_assert_int_eq(harness_add("c", "{\"v\":1}", &o, id), BULLMQ_ADDED);
	ck_assert_str_eq(id, "my-id");
	ck_assert_str_eq(harness_str("HGET bull:q:my-id opts"),
	    "{\"attempts\":3,\"jobId\":\"my-id\"}");
	ck_assert_str_eq(harness_str("GET bull:q:id"), "1");

	/* The same id again: reported, never overwritten; Q:id still grows. */
	o.attempts = 9;
	ck_assert_int_eq(harness_add("c2", "{\"v\":2}", &o, id),
	    BULLMQ_DUPLICATE);
	ck_assert_str_eq(id, "my-id");
	ck_assert_str_eq(harness_str("HGET bull:q:my-id data"), "{\"v\":1}");
	ck_assert_str_eq(harness_str("HGET bull:q:my-id name"), "c");
	ck_assert_str_eq(harness_str("HGET bull:q:my-id opts"),
	    "{\"attempts\":3,\"jobId\":\"my-id\"}");
	ck_assert_str_eq(harness_str("GET bull:q:id"), "2");
	ck_assert_int_eq(harness_int("LLEN bull:q:wait"), 1);
	expect_events(3, "event=added jobId=my-id name=c",
	    "event=waiting jobId=my-id", "event=duplicated jobId=my-id");

	/* An id given with an explicit length (not NUL terminated). */
	o.job_id = "other-id-and-more";
	o.job_id_len = 8;
	ck_assert_int_eq(harness_add("c", NULL, &o, id), BULLMQ_ADDED);
	ck_assert_str_eq(id, "other-id");
	ck_assert_int_eq(harness_int("EXISTS bull:q:other-id"), 1);
}
END_TEST

START_TEST(add_bad_input)
{
	static const char *const bad_ids[] = { "123", "0", "0:abc", "a:b",
	    "-5", NULL };
	struct bullmq_add_opts	o;
	char			id[128];
	int			i;

	memset(&o, 0, sizeof(o));
	for (i = 0; bad_ids[i] != NULL; i++) {
		o.job_id = bad_ids[i];
		ck_assert_int_eq(bullmq_add(q, "x", NULL, &o, id, sizeof(id)),
		    -1);
		ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_ARG);
		ck_assert_msg(strstr(bullmq_errstr(q), bad_ids[i]) != NULL,
		    "error \"%s\" does not name the id", bullmq_errstr(q));
	}
	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(bullmq_add(q, "x", "{\"a\":", NULL, id, sizeof(id)),
	    -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_ARG);
	ck_assert_str_eq(bullmq_errstr(q), "job data is not valid JSON");
	ck_assert_int_eq(bullmq_add(q, "x", "undefined", NULL, id,
	    sizeof(id)), -1);
	ck_assert_int_eq(bullmq_add(q, NULL, "{}", NULL, id, sizeof(id)), -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_ARG);
	o.priority = 3000000;
	ck_assert_int_eq(bullmq_add(q, "x", NULL, &o, id, sizeof(id)), -1);
	ck_assert(strstr(bullmq_errstr(q), "priority") != NULL);
	/* Nothing at all was written. */
	ck_assert_int_eq(harness_int("DBSIZE"), 0);
}
END_TEST

START_TEST(add_dedup_simple)
{
	struct bullmq_add_opts	o;
	char			id[128];

	memset(&o, 0, sizeof(o));
	o.dedup_id = "d1";
	ck_assert_int_eq(harness_add("x", NULL, &o, id), BULLMQ_ADDED);
	ck_assert_str_eq(id, "1");
	ck_assert_str_eq(harness_str("GET bull:q:de:d1"), "1");
	ck_assert_int_eq(harness_int("PTTL bull:q:de:d1"), -1);
	ck_assert_str_eq(harness_str("HGET bull:q:1 deid"), "d1");
	ck_assert_str_eq(harness_str("HGET bull:q:1 opts"),
	    "{\"attempts\":0,\"de\":{\"id\":\"d1\"}}");

	ck_assert_int_eq(harness_add("x", NULL, &o, id), BULLMQ_DEDUPLICATED);
	ck_assert_str_eq(id, "1");
	ck_assert_str_eq(harness_str("GET bull:q:id"), "2");
	ck_assert_int_eq(harness_int("EXISTS bull:q:2"), 0);
	ck_assert_int_eq(harness_int("LLEN bull:q:wait"), 1);
	expect_events(3, "event=added jobId=1 name=x", "event=waiting jobId=1",
	    "event=deduplicated jobId=1 deduplicationId=d1 "
	    "deduplicatedJobId=2");

	/* The owner vanished without releasing: a new window opens. */
	freeReplyObject(harness_cmd("DEL bull:q:1"));
	ck_assert_int_eq(harness_add("x", NULL, &o, id), BULLMQ_ADDED);
	ck_assert_str_eq(id, "3");
	ck_assert_str_eq(harness_str("GET bull:q:de:d1"), "3");
}
END_TEST

START_TEST(add_dedup_ttl)
{
	struct bullmq_add_opts	o;
	char			id[128];
	long long		pttl;

	memset(&o, 0, sizeof(o));
	o.dedup_id = "d2";
	o.dedup_ttl = 60000;
	ck_assert_int_eq(harness_add("x", NULL, &o, id), BULLMQ_ADDED);
	pttl = harness_int("PTTL bull:q:de:d2");
	ck_assert_int_gt(pttl, 50000);
	ck_assert_int_le(pttl, 60000);
	ck_assert_str_eq(harness_str("HGET bull:q:1 opts"),
	    "{\"attempts\":0,\"de\":{\"id\":\"d2\",\"ttl\":60000}}");
	/* Within the window, even after the job is gone. */
	freeReplyObject(harness_cmd("DEL bull:q:1"));
	ck_assert_int_eq(harness_add("x", NULL, &o, id), BULLMQ_DEDUPLICATED);
	ck_assert_str_eq(id, "1");
	/* After the window: a new job. */
	freeReplyObject(harness_cmd("DEL bull:q:de:d2"));
	ck_assert_int_eq(harness_add("x", NULL, &o, id), BULLMQ_ADDED);
	ck_assert_str_eq(id, "3");
}
END_TEST

START_TEST(add_paused_and_maxed)
{
	struct bullmq_add_opts	o;
	char			id[128];

	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(bullmq_pause(q), 0);
	harness_add("x", NULL, NULL, id);
	/* Paused: the job waits in Q:wait, no "0" marker. */
	ck_assert_int_eq(harness_int("LLEN bull:q:wait"), 1);
	ck_assert_int_eq(harness_int("EXISTS bull:q:marker"), 0);
	o.priority = 2;
	harness_add("x", NULL, &o, id);
	ck_assert_int_eq(harness_int("EXISTS bull:q:marker"), 0);
	/* A delayed job still sets the "1" marker. */
	o.priority = 0;
	o.delay = 1000;
	o.timestamp = T0;
	harness_add("x", NULL, &o, id);
	ck_assert_str_eq(harness_str("ZSCORE bull:q:marker 1"),
	    "1700000001000");
	ck_assert_int_eq(harness_int("ZCARD bull:q:marker"), 1);

	/* Any value of the paused field means paused. */
	freeReplyObject(harness_cmd("DEL bull:q:marker"));
	freeReplyObject(harness_cmd("HSET bull:q:meta paused 0"));
	harness_add("x", NULL, NULL, id);
	ck_assert_int_eq(harness_int("EXISTS bull:q:marker"), 0);

	/* Global concurrency reached: no marker; below it: a marker. */
	freeReplyObject(harness_cmd("HDEL bull:q:meta paused"));
	freeReplyObject(harness_cmd("HSET bull:q:meta concurrency 1"));
	freeReplyObject(harness_cmd("LPUSH bull:q:active 99"));
	harness_add("x", NULL, NULL, id);
	ck_assert_int_eq(harness_int("EXISTS bull:q:marker"), 0);
	freeReplyObject(harness_cmd("HSET bull:q:meta concurrency 2"));
	harness_add("x", NULL, NULL, id);
	ck_assert_str_eq(harness_str("ZSCORE bull:q:marker 0"), "0");
}
END_TEST

START_TEST(add_max_events)
{
	char	id[128];
	int	i;

	/* Small stream nodes so that approximate trimming shows. */
	freeReplyObject(harness_cmd("CONFIG SET stream-node-max-entries 4"));
	freeReplyObject(harness_cmd("HSET bull:q:meta opts.maxLenEvents 10"));
	for (i = 0; i < 200; i++)
		harness_add("x", NULL, NULL, id);
	ck_assert_str_eq(harness_str("HGET bull:q:meta opts.maxLenEvents"),
	    "10");
	/* 400 entries written; each "waiting" trims to about 10. */
	ck_assert_int_le(harness_int("XLEN bull:q:events"), 20);
	ck_assert_int_ge(harness_int("XLEN bull:q:events"), 10);
	freeReplyObject(harness_cmd("CONFIG SET stream-node-max-entries 100"));
}
END_TEST

START_TEST(add_options_stored)
{
	struct bullmq_add_opts	o;
	const char		*json = "{\"jobId\":\"job-x\",\"attempts\":3,"
	    "\"backoff\":{\"type\":\"exponential\",\"delay\":1000},"
	    "\"removeOnComplete\":{\"age\":3600,\"count\":10},"
	    "\"removeOnFail\":5,\"keepLogs\":7,\"lifo\":true}";
	char			id[128], err[256];

	ck_assert_int_eq(bullmq_add_opts_parse(json, strlen(json), &o, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(harness_add("o", NULL, &o, id), BULLMQ_ADDED);
	ck_assert_str_eq(id, "job-x");
	ck_assert_str_eq(harness_str("HGET bull:q:job-x opts"),
	    "{\"attempts\":3,\"backoff\":{\"type\":\"exponential\","
	    "\"delay\":1000},\"lifo\":true,\"jobId\":\"job-x\","
	    "\"removeOnComplete\":{\"age\":3600,\"count\":10},"
	    "\"removeOnFail\":5,\"kl\":7}");
	ck_assert_str_eq(harness_str("LINDEX bull:q:wait -1"), "job-x");
}
END_TEST

START_TEST(add_bulk_many)
{
	struct bullmq_add_req	*reqs;
	size_t			 i, n = 10000;
	char			 want[32];
	redisReply		*r;

	reqs = calloc(n, sizeof(*reqs));
	ck_assert_ptr_ne(reqs, NULL);
	for (i = 0; i < n; i++) {
		reqs[i].name = "bulk";
		reqs[i].data = "{\"i\":1}";
	}
	ck_assert_int_eq(bullmq_add_bulk(q, reqs, n), (long)n);
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "%zu", i + 1);
		ck_assert_int_eq(reqs[i].result, BULLMQ_ADDED);
		ck_assert_str_eq(reqs[i].id, want);
	}
	ck_assert_int_eq(harness_int("LLEN bull:q:wait"), (long long)n);
	ck_assert_str_eq(harness_str("GET bull:q:id"), "10000");
	/* Consumer order is the order given. */
	r = harness_cmd("LRANGE bull:q:wait 0 -1");
	ck_assert_uint_eq(r->elements, n);
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "%zu", n - i);
		ck_assert_str_eq(r->element[i]->str, want);
	}
	freeReplyObject(r);
	ck_assert_str_eq(harness_str("HGET bull:q:5000 data"), "{\"i\":1}");
	ck_assert_str_eq(harness_str("HGET bull:q:5000 opts"),
	    "{\"attempts\":0}");
	free(reqs);
}
END_TEST

START_TEST(add_bulk_mixed)
{
	struct bullmq_add_req	reqs[6];

	memset(reqs, 0, sizeof(reqs));
	reqs[0].name = "a";
	reqs[1].name = "b";
	reqs[1].data = "{oops}";
	reqs[2].name = "c";
	reqs[2].opts.job_id = "cid";
	reqs[3].name = "d";
	reqs[3].opts.job_id = "cid";
	reqs[4].name = "e";
	reqs[4].opts.priority = 5;
	reqs[5].name = "f";
	reqs[5].opts.job_id = "12";
	ck_assert_int_eq(bullmq_add_bulk(q, reqs, 6), 4);
	ck_assert_int_eq(reqs[0].result, BULLMQ_ADDED);
	ck_assert_str_eq(reqs[0].id, "1");
	ck_assert_int_eq(reqs[1].result, -1);
	ck_assert_str_eq(reqs[1].err, "job data is not valid JSON");
	ck_assert_int_eq(reqs[2].result, BULLMQ_ADDED);
	ck_assert_str_eq(reqs[2].id, "cid");
	ck_assert_int_eq(reqs[3].result, BULLMQ_DUPLICATE);
	ck_assert_str_eq(reqs[3].id, "cid");
	ck_assert_int_eq(reqs[4].result, BULLMQ_ADDED);
	ck_assert_str_eq(reqs[4].id, "4");
	ck_assert_int_eq(reqs[5].result, -1);
	ck_assert(strstr(reqs[5].err, "integers") != NULL);
	/* The rejected ones were never sent: Q:id counts four calls. */
	ck_assert_str_eq(harness_str("GET bull:q:id"), "4");
	ck_assert_str_eq(harness_str("ZSCORE bull:q:prioritized 4"),
	    "21474836481");
	ck_assert_int_eq(bullmq_add_bulk(q, reqs, 0), 0);
}
END_TEST

/* A custom id of n bytes, "L" then "x"s, in a static buffer. */
static const char *
long_id(size_t n)
{
	static char	id[BULLMQ_MAX_ID + 2];

	ck_assert_uint_lt(n, sizeof(id));
	memset(id, 'x', n);
	id[0] = 'L';
	id[n] = '\0';
	return id;
}

START_TEST(add_long_id)
{
	struct bullmq_add_opts	 o;
	char			 id[BULLMQ_MAX_ID + 1], small[128], err[256];
	char			*json;
	const char		*lid;
	size_t			 n;

	/* the longest id: added, stored under it and handed back whole */
	memset(&o, 0, sizeof(o));
	o.job_id = lid = long_id(BULLMQ_MAX_ID);
	ck_assert_int_eq(bullmq_add(q, "x", NULL, &o, id, sizeof(id)),
	    BULLMQ_ADDED);
	ck_assert_str_eq(id, lid);
	ck_assert_str_eq(harness_str("HGET bull:q:%s name", lid), "x");
	ck_assert_str_eq(harness_str("LINDEX bull:q:wait 0"), lid);
	ck_assert_int_eq(bullmq_add(q, "x", NULL, &o, id, sizeof(id)),
	    BULLMQ_DUPLICATE);
	ck_assert_str_eq(id, lid);

	/* a byte more is refused, naming the limit */
	o.job_id = long_id(BULLMQ_MAX_ID + 1);
	ck_assert_int_eq(bullmq_add(q, "x", NULL, &o, id, sizeof(id)), -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_ARG);
	ck_assert_msg(strstr(bullmq_errstr(q), "longer than 3072 bytes") !=
	    NULL, "error \"%s\" does not name the limit", bullmq_errstr(q));

	/* an id that does not fit the caller's buffer: refused, not added */
	o.job_id = lid = long_id(300);
	ck_assert_int_eq(bullmq_add(q, "x", NULL, &o, small, sizeof(small)),
	    -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_ARG);
	ck_assert_msg(strstr(bullmq_errstr(q), "300 bytes do not fit") !=
	    NULL, "error \"%s\"", bullmq_errstr(q));
	ck_assert_int_eq(harness_int("EXISTS bull:q:%s", lid), 0);
	ck_assert_int_eq(bullmq_add(q, "x", NULL, &o, NULL, 0), BULLMQ_ADDED);
	ck_assert_int_eq(harness_int("EXISTS bull:q:%s", lid), 1);

	/* the option parser: jobId up to the limit */
	n = BULLMQ_MAX_ID + 1;
	json = malloc(n + 16);
	ck_assert_ptr_nonnull(json);
	snprintf(json, n + 16, "{\"jobId\":\"%s\"}", long_id(n));
	ck_assert_int_eq(bullmq_add_opts_parse(json, strlen(json), &o, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "option jobId: longer than 3072 bytes");
	snprintf(json, n + 16, "{\"jobId\":\"%s\"}", long_id(n - 1));
	ck_assert_int_eq(bullmq_add_opts_parse(json, strlen(json), &o, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(o.job_id_len, BULLMQ_MAX_ID);
	free(json);
}
END_TEST

START_TEST(add_bulk_long_id)
{
	struct bullmq_add_req	reqs[3];
	char			lid[BULLMQ_MAX_ID + 1];

	strlcpy(lid, long_id(BULLMQ_MAX_ID), sizeof(lid));
	memset(reqs, 0, sizeof(reqs));
	reqs[0].name = reqs[1].name = reqs[2].name = "b";
	reqs[0].opts.job_id = lid;
	reqs[2].opts.job_id = long_id(BULLMQ_MAX_ID + 1);
	ck_assert_int_eq(bullmq_add_bulk(q, reqs, 3), 2);
	/* added, but its id does not fit in reqs[].id: left empty */
	ck_assert_int_eq(reqs[0].result, BULLMQ_ADDED);
	ck_assert_str_eq(reqs[0].id, "");
	ck_assert_int_eq(harness_int("EXISTS bull:q:%s", lid), 1);
	ck_assert_int_eq(reqs[1].result, BULLMQ_ADDED);
	ck_assert_str_eq(reqs[1].id, "2");
	ck_assert_int_eq(reqs[2].result, -1);
	ck_assert_msg(strstr(reqs[2].err, "longer than 3072 bytes") != NULL,
	    "error \"%s\"", reqs[2].err);
}
END_TEST

START_TEST(script_flush)
{
	struct bullmq_add_req	reqs[3];
	char			id[128];

	harness_add("x", NULL, NULL, id);
	freeReplyObject(harness_cmd("SCRIPT FLUSH"));
	ck_assert_int_eq(harness_add("x", NULL, NULL, id), BULLMQ_ADDED);
	ck_assert_str_eq(id, "2");
	freeReplyObject(harness_cmd("SCRIPT FLUSH"));
	memset(reqs, 0, sizeof(reqs));
	reqs[0].name = reqs[1].name = reqs[2].name = "y";
	ck_assert_int_eq(bullmq_add_bulk(q, reqs, 3), 3);
	ck_assert_str_eq(reqs[0].id, "3");
	ck_assert_str_eq(reqs[2].id, "5");
	ck_assert_int_eq(harness_int("LLEN bull:q:wait"), 5);
}
END_TEST

/* What the stream tests saw: every result, in the order handed over. */
struct seen {
	size_t	 n, cap;
	long	*tag;		/* the push's udata, as a number */
	int	*result;
	char	(*id)[32];
	char	(*err)[64];
	uint64_t badseq;	/* sequence numbers out of order, +1 */
};

/* Keep one result of a stream. */
static void
seen_cb(const struct bullmq_add_result *r, void *arg)
{
	struct seen	*sn = arg;

	if (r->seq != sn->n && sn->badseq == 0)
		sn->badseq = r->seq + 1;
	ck_assert_uint_lt(sn->n, sn->cap);
	sn->tag[sn->n] = (long)(intptr_t)r->udata;
	sn->result[sn->n] = r->result;
	ck_assert_uint_eq(strlen(r->id), r->idlen);
	snprintf(sn->id[sn->n], sizeof(sn->id[0]), "%s", r->id);
	snprintf(sn->err[sn->n], sizeof(sn->err[0]), "%s", r->err);
	sn->n++;
}

/* Room for cap results. */
static void
seen_init(struct seen *sn, size_t cap)
{
	memset(sn, 0, sizeof(*sn));
	sn->cap = cap;
	sn->tag = calloc(cap, sizeof(*sn->tag));
	sn->result = calloc(cap, sizeof(*sn->result));
	sn->id = calloc(cap, sizeof(*sn->id));
	sn->err = calloc(cap, sizeof(*sn->err));
	ck_assert(sn->tag && sn->result && sn->id && sn->err);
}

/* Free what seen_init took. */
static void
seen_free(struct seen *sn)
{
	free(sn->tag);
	free(sn->result);
	free(sn->id);
	free(sn->err);
}

/*
 * Good, bad and duplicate jobs, more than a stream keeps outstanding: each
 * result comes back in order with its own tag, most of them before finish.
 */
START_TEST(add_stream_order)
{
	bullmq_add_stream	*st;
	struct bullmq_add_opts	 o;
	struct seen		 sn;
	redisReply		*r;
	size_t			 i, n = 12000, before, w;
	long			 last = 0, added = 0;
	int			 want;

	seen_init(&sn, n);
	st = bullmq_add_stream_new(q, seen_cb, &sn);
	ck_assert_ptr_nonnull(st);
	for (i = 0; i < n; i++) {
		memset(&o, 0, sizeof(o));
		if (i % 1000 == 5)
			o.job_id = "same";	/* added once, then duplicate */
		ck_assert_int_eq(bullmq_add_stream_push(st, "s",
		    i % 7 == 3 ? "{bad" : "{\"i\":1}", &o,
		    (void *)(intptr_t)(i + 1)), 0);
	}
	before = sn.n;
	ck_assert_int_eq(bullmq_add_stream_finish(st), 0);
	ck_assert_uint_eq(sn.n, n);
	ck_assert_uint_eq(sn.badseq, 0);
	/* the replies are read as they come, not all at the end */
	ck_assert_msg(before >= n - 4096, "only %zu of %zu results before "
	    "finish", before, n);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(sn.tag[i], (long)i + 1);
		want = i % 7 == 3 ? -1 : i == 5 ? BULLMQ_ADDED :
		    i % 1000 == 5 ? BULLMQ_DUPLICATE : BULLMQ_ADDED;
		ck_assert_msg(sn.result[i] == want, "job %zu: result %d, "
		    "want %d", i, sn.result[i], want);
		if (want == -1) {
			ck_assert_str_eq(sn.id[i], "");
			ck_assert_str_eq(sn.err[i],
			    "job data is not valid JSON");
		} else if (i % 1000 == 5)
			ck_assert_str_eq(sn.id[i], "same");
		else {
			/* automatic ids grow with the order of the pushes */
			ck_assert_str_eq(sn.err[i], "");
			ck_assert_int_gt(atol(sn.id[i]), last);
			last = atol(sn.id[i]);
			added++;
		}
	}
	/* the queue holds them in that order (LPUSH: newest first) */
	r = harness_cmd("LRANGE bull:q:wait 0 -1");
	ck_assert_uint_eq(r->elements, (size_t)added + 1);
	for (i = 0, w = r->elements; i < n; i++) {
		if (sn.result[i] != BULLMQ_ADDED)
			continue;
		ck_assert_str_eq(r->element[--w]->str, sn.id[i]);
	}
	freeReplyObject(r);
	/* the connection is clean afterwards */
	ck_assert_int_eq(bullmq_add_stream_push(st, "t", NULL, NULL, NULL),
	    0);
	bullmq_add_stream_free(st);
	ck_assert_int_eq(harness_int("LLEN bull:q:wait"), added + 1);
	ck_assert_int_eq(harness_add("x", NULL, NULL, NULL), BULLMQ_ADDED);
	seen_free(&sn);
}
END_TEST

/* Is the add script in Redis's script cache? */
static long long
script_loaded(void)
{
	redisReply	*r;
	long long	 v;

	r = harness_cmd("SCRIPT EXISTS %s", bmq_lua_scripts[BMQ_LUA_ADD].sha);
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	v = r->element[0]->integer;
	freeReplyObject(r);
	return v;
}

/* The script cache flushed between pushes: the jobs go in, in order. */
START_TEST(add_stream_noscript)
{
	bullmq_add_stream	*st;
	struct seen		 sn;
	char			 want[32];
	size_t			 i;

	seen_init(&sn, 600);
	st = bullmq_add_stream_new(q, seen_cb, &sn);
	ck_assert_ptr_nonnull(st);
	for (i = 0; i < 200; i++)
		ck_assert_int_eq(bullmq_add_stream_push(st, "n", NULL, NULL,
		    NULL), 0);
	ck_assert_int_eq(bullmq_add_stream_flush(st), 0);
	freeReplyObject(harness_cmd("SCRIPT FLUSH"));
	ck_assert_int_eq(script_loaded(), 0);
	for (i = 200; i < 600; i++)
		ck_assert_int_eq(bullmq_add_stream_push(st, "n", NULL, NULL,
		    NULL), 0);
	ck_assert_int_eq(bullmq_add_stream_finish(st), 0);
	bullmq_add_stream_free(st);
	ck_assert_uint_eq(sn.n, 600);
	for (i = 0; i < 600; i++) {
		snprintf(want, sizeof(want), "%zu", i + 1);
		ck_assert_int_eq(sn.result[i], BULLMQ_ADDED);
		ck_assert_str_eq(sn.id[i], want);
	}
	ck_assert_int_eq(harness_int("LLEN bull:q:wait"), 600);
	ck_assert_str_eq(harness_str("LINDEX bull:q:wait 0"), "600");
	/* it met NOSCRIPT and loaded the script again */
	ck_assert_int_eq(script_loaded(), 1);
	seen_free(&sn);
}
END_TEST

/*
 * The connection killed mid-stream: the stream fails with an I/O error and
 * stays failed; every job reported added is in Redis.
 */
START_TEST(add_stream_lost)
{
	bullmq_add_stream	*st;
	struct seen		 sn;
	size_t			 i;
	int			 rc = 0;

	seen_init(&sn, 20000);
	st = bullmq_add_stream_new(q, seen_cb, &sn);
	ck_assert_ptr_nonnull(st);
	for (i = 0; i < 3000 && rc == 0; i++)
		rc = bullmq_add_stream_push(st, "l", NULL, NULL, NULL);
	ck_assert_int_eq(rc, 0);
	freeReplyObject(harness_cmd("CLIENT KILL TYPE normal SKIPME yes"));
	for (i = 0; i < 20000 && rc == 0; i++)
		rc = bullmq_add_stream_push(st, "l", NULL, NULL, NULL);
	if (rc == 0)
		rc = bullmq_add_stream_finish(st);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_IO);
	/* failed for good: nothing more is sent or handed over */
	i = sn.n;
	ck_assert_int_eq(bullmq_add_stream_push(st, "l", NULL, NULL, NULL),
	    -1);
	ck_assert_int_eq(bullmq_add_stream_finish(st), -1);
	ck_assert_uint_eq(sn.n, i);
	bullmq_add_stream_free(st);
	ck_assert_uint_lt(sn.n, 23000);
	ck_assert_int_le((long long)sn.n, harness_int("LLEN bull:q:wait"));
	for (i = 0; i < sn.n; i++) {
		ck_assert_int_eq(sn.result[i], BULLMQ_ADDED);
		ck_assert_int_eq(harness_int("EXISTS bull:q:%s", sn.id[i]), 1);
	}
	/* the handle connects again for the next call */
	ck_assert_int_eq(harness_add("x", NULL, NULL, NULL), BULLMQ_ADDED);
	seen_free(&sn);
}
END_TEST

START_TEST(other_prefix)
{
	struct bullmq_conn_opts	 co;
	bullmq_queue		*q2;
	char			 id[128];

	memset(&co, 0, sizeof(co));
	co.url = harness_url;
	co.queue = "mails";
	co.prefix = "{app}";
	q2 = bullmq_queue_new(&co);
	ck_assert_ptr_ne(q2, NULL);
	ck_assert_int_eq(bullmq_add(q2, "m", NULL, NULL, id, sizeof(id)),
	    BULLMQ_ADDED);
	ck_assert_str_eq(harness_str("HGET {app}:mails:1 name"), "m");
	ck_assert_str_eq(harness_str("LINDEX {app}:mails:wait 0"), "1");
	bullmq_queue_free(q2);
}
END_TEST

/* The suite. */
Suite *
make_suite(void)
{
	Suite	*s = suite_create("producer");
	TCase	*tc = harness_tcase(s, "add", "q", &q, 60);

	tcase_add_test(tc, add_standard);
	tcase_add_test(tc, add_verbatim_data);
	tcase_add_test(tc, add_lifo);
	tcase_add_test(tc, add_delayed);
	tcase_add_test(tc, add_delayed_saturates);
	tcase_add_test(tc, add_prioritized);
	tcase_add_test(tc, add_custom_id_duplicate);
	tcase_add_test(tc, add_bad_input);
	tcase_add_test(tc, add_dedup_simple);
	tcase_add_test(tc, add_dedup_ttl);
	tcase_add_test(tc, add_paused_and_maxed);
	tcase_add_test(tc, add_max_events);
	tcase_add_test(tc, add_options_stored);
	tcase_add_test(tc, add_bulk_many);
	tcase_add_test(tc, add_bulk_mixed);
	tcase_add_test(tc, add_long_id);
	tcase_add_test(tc, add_bulk_long_id);
	tcase_add_test(tc, script_flush);
	tcase_add_test(tc, add_stream_order);
	tcase_add_test(tc, add_stream_noscript);
	tcase_add_test(tc, add_stream_lost);
	tcase_add_test(tc, other_prefix);
	return s;
}
