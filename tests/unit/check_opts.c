/*
 * check_opts.c: Node-style job options parsed from JSON, and their stored
 * form (BULLMQ-PROTOCOL.md 2.2), byte for byte.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"
#include "suite.h"

/* Parse json into o; fail the test on an error. */
static void
parse_ok(const char *json, struct bullmq_add_opts *o)
{
	char	err[256] = "";

	if (bullmq_add_opts_parse(json, strlen(json), o, err,
	    sizeof(err)) != 0)
		ck_abort_msg("parse %s: %s", json, err);
}

/* Parse json, expecting an error containing want. */
static void
parse_bad(const char *json, const char *want)
{
	struct bullmq_add_opts	o;
	char			err[256] = "";

	ck_assert_msg(bullmq_add_opts_parse(json, strlen(json), &o, err,
	    sizeof(err)) == -1, "%s was accepted", json);
	ck_assert_msg(strstr(err, want) != NULL, "%s: error \"%s\" lacks "
	    "\"%s\"", json, err, want);
	ck_assert_ptr_eq(o.job_id, NULL);
}

/* The stored form of json's options must be exactly want. */
static void
stored(const char *json, const char *want)
{
	struct bullmq_add_opts	o;
	struct bmq_buf		b;
	char			err[256] = "";

	parse_ok(json, &o);
	bmq_buf_init(&b);
	ck_assert_msg(bmq_add_opts_encode(&o, &b, err, sizeof(err)) == 0,
	    "%s: %s", json, err);
	ck_assert_str_eq(bmq_buf_cstr(&b), want);
	ck_assert_msg(bmq_json_valid(b.b, b.len), "%s is not JSON", b.b);
	bmq_buf_free(&b);
}

START_TEST(parse_fields)
{
	struct bullmq_add_opts	o;

	parse_ok("{\"jobId\":\"my-id\",\"delay\":1500,\"priority\":7,"
	    "\"attempts\":3,\"backoff\":{\"type\":\"exponential\","
	    "\"delay\":1000,\"jitter\":0.25},\"lifo\":true,"
	    "\"removeOnComplete\":{\"age\":3600,\"count\":10},"
	    "\"removeOnFail\":5,\"keepLogs\":7,\"stackTraceLimit\":0,"
	    "\"deduplication\":{\"id\":\"d1\",\"ttl\":60000},"
	    "\"timestamp\":1700000000000}", &o);
	ck_assert_uint_eq(o.job_id_len, 5);
	ck_assert(memcmp(o.job_id, "my-id", 5) == 0);
	ck_assert_int_eq(o.delay, 1500);
	ck_assert_int_eq(o.priority, 7);
	ck_assert_int_eq(o.attempts, 3);
	ck_assert_int_eq(o.backoff_type, BULLMQ_BACKOFF_EXPONENTIAL);
	ck_assert_int_eq(o.backoff_delay, 1000);
	ck_assert(o.backoff_jitter == 0.25);
	ck_assert_int_eq(o.lifo, 1);
	ck_assert_int_eq(o.remove_on_complete.mode, BULLMQ_KEEP_AGE);
	ck_assert_int_eq(o.remove_on_complete.age, 3600);
	ck_assert_int_eq(o.remove_on_complete.count, 10);
	ck_assert_int_eq(o.remove_on_fail.mode, BULLMQ_KEEP_COUNT);
	ck_assert_int_eq(o.remove_on_fail.count, 5);
	ck_assert_int_eq(o.keep_logs, 7);
	ck_assert_int_eq(o.has_stack_trace_limit, 1);
	ck_assert_int_eq(o.stack_trace_limit, 0);
	ck_assert_uint_eq(o.dedup_id_len, 2);
	ck_assert(memcmp(o.dedup_id, "d1", 2) == 0);
	ck_assert_int_eq(o.dedup_ttl, 60000);
	ck_assert_int_eq(o.timestamp, 1700000000000LL);

	parse_ok(" { } ", &o);
	ck_assert_ptr_eq(o.job_id, NULL);
	ck_assert_int_eq(o.attempts, 0);

	/* A bare backoff number is fixed; null counts as not given. */
	parse_ok("{\"backoff\":250,\"delay\":null,\"jobId\":null}", &o);
	ck_assert_int_eq(o.backoff_type, BULLMQ_BACKOFF_FIXED);
	ck_assert_int_eq(o.backoff_delay, 250);
	ck_assert_int_eq(o.delay, 0);
	ck_assert_ptr_eq(o.job_id, NULL);

	parse_ok("{\"removeOnComplete\":true,\"removeOnFail\":false}", &o);
	ck_assert_int_eq(o.remove_on_complete.mode, BULLMQ_KEEP_NONE);
	ck_assert_int_eq(o.remove_on_fail.mode, BULLMQ_KEEP_ALL);

	/* Node treats an empty jobId as no custom id. */
	parse_ok("{\"jobId\":\"\"}", &o);
	ck_assert_ptr_eq(o.job_id, NULL);

	/* A false deduplication mode flag is harmless. */
	parse_ok("{\"deduplication\":{\"id\":\"x\",\"extend\":false}}", &o);
	ck_assert_uint_eq(o.dedup_id_len, 1);
	ck_assert_int_eq(o.dedup_extend, 0);
	/* The modes, stored as Node stores them. */
	parse_ok("{\"deduplication\":{\"id\":\"x\",\"extend\":true,"
	    "\"replace\":true,\"keepLastIfActive\":true,"
	    "\"reschedule\":true}}", &o);
	ck_assert(o.dedup_extend && o.dedup_replace && o.dedup_keep_last &&
	    o.dedup_reschedule);
	/* a custom backoff type is kept for a worker's strategy */
	parse_ok("{\"backoff\":{\"type\":\"linear\",\"delay\":150}}", &o);
	ck_assert_int_eq(o.backoff_type, BULLMQ_BACKOFF_CUSTOM);
	ck_assert_int_eq(o.backoff_custom_len, 6);
	ck_assert(memcmp(o.backoff_custom, "linear", 6) == 0);
	ck_assert_int_eq(o.backoff_delay, 150);
}
END_TEST

START_TEST(parse_errors)
{
	parse_bad("", "empty");
	parse_bad("{\"delay\":", "not valid JSON");
	parse_bad("[1,2]", "must be a JSON object");
	parse_bad("{\"colour\":1}", "unknown option \"colour\"");
	parse_bad("{\"delay\":-1}", "option delay");
	parse_bad("{\"delay\":1.5}", "option delay");
	parse_bad("{\"delay\":\"10\"}", "option delay");
	parse_bad("{\"priority\":2097152}", "option priority");
	parse_bad("{\"priority\":1.5}", "option priority");
	parse_bad("{\"attempts\":true}", "option attempts");
	parse_bad("{\"lifo\":1}", "option lifo");
	parse_bad("{\"jobId\":42}", "option jobId: must be a string");
	parse_bad("{\"jobId\":\"42\"}", "integers");
	parse_bad("{\"jobId\":\"0\"}", "0:");
	parse_bad("{\"jobId\":\"0:x\"}", "0:");
	parse_bad("{\"jobId\":\"a:b\"}", "':'");
	parse_bad("{\"jobId\":\"a\\\"b\"}", "escaped");
	parse_bad("{\"backoff\":{\"type\":\"my type\",\"delay\":1}}",
	    "a custom type is made of");
	parse_bad("{\"backoff\":{\"delay\":1}}", "type is missing");
	parse_bad("{\"backoff\":{\"type\":\"fixed\",\"jitter\":2}}",
	    "backoff.jitter");
	parse_bad("{\"backoff\":{\"type\":\"fixed\",\"speed\":2}}",
	    "backoff.speed: unknown");
	parse_bad("{\"backoff\":\"fixed\"}", "option backoff");
	parse_bad("{\"removeOnComplete\":\"yes\"}", "removeOnComplete");
	parse_bad("{\"removeOnFail\":{\"age\":-1}}", "removeOnFail.age");
	parse_bad("{\"removeOnFail\":{\"size\":1}}", "removeOnFail.size");
	parse_bad("{\"keepLogs\":0}", "keepLogs");
	parse_bad("{\"deduplication\":{\"ttl\":5}}", "deduplication.id");
	parse_bad("{\"deduplication\":\"d\"}", "deduplication");
	parse_bad("{\"deduplication\":{\"id\":\"d\",\"replace\":1}}",
	    "deduplication mode");
	parse_bad("{\"debounce\":{\"id\":\"d\"}}", "deduplication");
	parse_bad("{\"parent\":{\"id\":\"1\",\"queue\":\"bull:p\"}}",
	    "option parent: not supported");
	parse_bad("{\"repeat\":{\"every\":1000}}", "repeat");
	parse_bad("{\"timestamp\":0}", "timestamp");
	/* A valid option before a bad one does not leak into o. */
	parse_bad("{\"jobId\":\"ok\",\"delay\":-5}", "delay");
}
END_TEST

START_TEST(stored_form)
{
	stored("{}", "{\"attempts\":0}");
	stored("{\"attempts\":3}", "{\"attempts\":3}");
	stored("{\"jobId\":\"my-id\",\"attempts\":3,\"backoff\":{\"type\":"
	    "\"exponential\",\"delay\":1000},\"removeOnComplete\":{\"age\":"
	    "3600,\"count\":10},\"removeOnFail\":5,\"keepLogs\":7,"
	    "\"lifo\":true}",
	    "{\"attempts\":3,\"backoff\":{\"type\":\"exponential\","
	    "\"delay\":1000},\"lifo\":true,\"jobId\":\"my-id\","
	    "\"removeOnComplete\":{\"age\":3600,\"count\":10},"
	    "\"removeOnFail\":5,\"kl\":7}");
	stored("{\"deduplication\":{\"id\":\"d1\",\"ttl\":60000}}",
	    "{\"attempts\":0,\"de\":{\"id\":\"d1\",\"ttl\":60000}}");
	stored("{\"deduplication\":{\"id\":\"d1\"}}",
	    "{\"attempts\":0,\"de\":{\"id\":\"d1\"}}");
	stored("{\"backoff\":500}",
	    "{\"attempts\":0,\"backoff\":{\"type\":\"fixed\",\"delay\":500}}");
	stored("{\"backoff\":{\"type\":\"fixed\",\"delay\":100,"
	    "\"jitter\":0.5}}", "{\"attempts\":0,\"backoff\":{\"type\":"
	    "\"fixed\",\"delay\":100,\"jitter\":0.5}}");
	stored("{\"delay\":5000,\"priority\":3,\"timestamp\":1700000000000}",
	    "{\"attempts\":0,\"delay\":5000,\"priority\":3,"
	    "\"timestamp\":1700000000000}");
	stored("{\"removeOnComplete\":true,\"removeOnFail\":false}",
	    "{\"attempts\":0,\"removeOnComplete\":true,"
	    "\"removeOnFail\":false}");
	stored("{\"removeOnComplete\":0}",
	    "{\"attempts\":0,\"removeOnComplete\":0}");
	stored("{\"removeOnFail\":{\"count\":4}}",
	    "{\"attempts\":0,\"removeOnFail\":{\"count\":4}}");
	stored("{\"removeOnFail\":{\"age\":60,\"limit\":50}}",
	    "{\"attempts\":0,\"removeOnFail\":{\"age\":60,\"limit\":50}}");
	stored("{\"stackTraceLimit\":0}",
	    "{\"attempts\":0,\"stackTraceLimit\":0}");
	/* delay, priority and lifo given are stored, 0 and false too, as
	 * Queue.add stores them; {count: N} keeps its form */
	stored("{\"delay\":0,\"priority\":0,\"lifo\":false}",
	    "{\"attempts\":0,\"delay\":0,\"priority\":0,\"lifo\":false}");
	stored("{\"removeOnFail\":{\"count\":4}}",
	    "{\"attempts\":0,\"removeOnFail\":{\"count\":4}}");
	/* Scheduler-shaped ids (three parts) are allowed. */
	stored("{\"jobId\":\"repeat:s1:1700000000000\"}",
	    "{\"attempts\":0,\"jobId\":\"repeat:s1:1700000000000\"}");
}
END_TEST

START_TEST(struct_checks)
{
	struct bullmq_add_opts	o;
	struct bmq_buf		b;
	char			err[256];

	bmq_buf_init(&b);
	memset(&o, 0, sizeof(o));
	o.job_id = "x\"y";
	ck_assert_int_eq(bmq_add_opts_encode(&o, &b, err, sizeof(err)), 0);
	ck_assert_str_eq(b.b, "{\"attempts\":0,\"jobId\":\"x\\\"y\"}");

	memset(&o, 0, sizeof(o));
	o.job_id = "123";
	ck_assert_int_eq(bmq_add_opts_encode(&o, &b, err, sizeof(err)), -1);
	ck_assert(strstr(err, "integers") != NULL);
	memset(&o, 0, sizeof(o));
	o.priority = 2097152;
	ck_assert_int_eq(bmq_add_opts_encode(&o, &b, err, sizeof(err)), -1);
	ck_assert(strstr(err, "priority") != NULL);
	memset(&o, 0, sizeof(o));
	o.backoff_type = BULLMQ_BACKOFF_FIXED;
	o.backoff_jitter = 1.5;
	ck_assert_int_eq(bmq_add_opts_encode(&o, &b, err, sizeof(err)), -1);
	memset(&o, 0, sizeof(o));
	o.dedup_ttl = 10;
	ck_assert_int_eq(bmq_add_opts_encode(&o, &b, err, sizeof(err)), -1);
	ck_assert(strstr(err, "deduplication") != NULL);
	memset(&o, 0, sizeof(o));
	o.delay = -1;
	ck_assert_int_eq(bmq_add_opts_encode(&o, &b, err, sizeof(err)), -1);
	memset(&o, 0, sizeof(o));
	o.remove_on_fail.mode = BULLMQ_KEEP_COUNT;
	o.remove_on_fail.count = -2;
	ck_assert_int_eq(bmq_add_opts_encode(&o, &b, err, sizeof(err)), -1);
	bmq_buf_free(&b);
}
END_TEST

/* The suite. */
START_TEST(backoff_arithmetic)
{
	/* fixed: the same delay every time */
	ck_assert_int_eq(bmq_backoff_delay(BULLMQ_BACKOFF_FIXED, 500, 0, 1,
	    0.5), 500);
	ck_assert_int_eq(bmq_backoff_delay(BULLMQ_BACKOFF_FIXED, 500, 0, 7,
	    0.5), 500);
	/* exponential: round(2^(n-1) * delay), n = 1 for the first retry */
	ck_assert_int_eq(bmq_backoff_delay(BULLMQ_BACKOFF_EXPONENTIAL, 1000, 0,
	    1, 0), 1000);
	ck_assert_int_eq(bmq_backoff_delay(BULLMQ_BACKOFF_EXPONENTIAL, 1000, 0,
	    2, 0), 2000);
	ck_assert_int_eq(bmq_backoff_delay(BULLMQ_BACKOFF_EXPONENTIAL, 1000, 0,
	    3, 0), 4000);
	ck_assert_int_eq(bmq_backoff_delay(BULLMQ_BACKOFF_EXPONENTIAL, 3, 0,
	    10, 0), 1536);
	/* huge attempt numbers saturate instead of overflowing */
	ck_assert(bmq_backoff_delay(BULLMQ_BACKOFF_EXPONENTIAL, 1000, 0, 500,
	    0) == 9007199254740991LL);
	/* jitter j: floor(r * d * j + d * (1 - j)) */
	ck_assert_int_eq(bmq_backoff_delay(BULLMQ_BACKOFF_FIXED, 1000, 0.5, 1,
	    0.0), 500);
	ck_assert_int_eq(bmq_backoff_delay(BULLMQ_BACKOFF_FIXED, 1000, 0.5, 1,
	    0.999), 999);
	ck_assert_int_eq(bmq_backoff_delay(BULLMQ_BACKOFF_EXPONENTIAL, 1000,
	    1.0, 2, 0.25), 500);
	ck_assert_int_eq(bmq_backoff_delay(BULLMQ_BACKOFF_NONE, 1000, 0, 1,
	    0), 0);
}
END_TEST

/* Read stored opts o into jo. */
#define READ(o, jo)	bmq_job_opts_read((o), strlen(o), (jo))

START_TEST(retention_from_opts)
{
	struct bmq_job_opts	 jo;
	struct bmq_buf		 b;

	READ("{\"removeOnComplete\":true,\"removeOnFail\":false}", &jo);
	ck_assert_int_eq(jo.keep_complete.mode, BULLMQ_KEEP_NONE);
	ck_assert_int_eq(jo.keep_fail.mode, BULLMQ_KEEP_ALL);
	READ("{\"removeOnComplete\":10,\"removeOnFail\":0}", &jo);
	ck_assert_int_eq(jo.keep_complete.mode, BULLMQ_KEEP_COUNT);
	ck_assert_int_eq(jo.keep_complete.count, 10);
	ck_assert_int_eq(jo.keep_fail.mode, BULLMQ_KEEP_NONE);
	READ("{\"removeOnComplete\":{\"age\":3600,\"count\":5,\"limit\":9}}",
	    &jo);
	ck_assert_int_eq(jo.keep_complete.mode, BULLMQ_KEEP_AGE);
	ck_assert_int_eq(jo.keep_complete.age, 3600);
	ck_assert_int_eq(jo.keep_complete.count, 5);
	ck_assert_int_eq(jo.keep_complete.limit, 9);
	ck_assert_int_eq(jo.keep_fail.mode, BULLMQ_KEEP_UNSET);
	bmq_buf_init(&b);
	ck_assert_int_eq(bmq_keep_encode(&jo.keep_complete, &b), 0);
	ck_assert_str_eq(bmq_buf_cstr(&b),
	    "{\"age\":3600,\"count\":5,\"limit\":9}");
	bmq_buf_free(&b);
	READ("{\"removeOnComplete\":{\"count\":3}}", &jo);
	ck_assert_int_eq(jo.keep_complete.mode, BULLMQ_KEEP_COUNT);
	ck_assert_int_eq(jo.keep_complete.count, 3);
	/* what cannot be read is left out; the last of a repeated key */
	READ("{\"removeOnComplete\":{\"age\":\"x\",\"count\":-2,\"z\":1},"
	    "\"removeOnFail\":{\"age\":5,\"age\":null,\"count\":4}}", &jo);
	ck_assert_int_eq(jo.keep_complete.mode, BULLMQ_KEEP_ALL);
	ck_assert_int_eq(jo.keep_fail.mode, BULLMQ_KEEP_COUNT);
	ck_assert_int_eq(jo.keep_fail.count, 4);
	READ("{\"removeOnComplete\":1,\"removeOnComplete\":null}", &jo);
	ck_assert_int_eq(jo.keep_complete.mode, BULLMQ_KEEP_UNSET);
	READ("{\"attempts\":0}", &jo);
	ck_assert_int_eq(jo.keep_complete.mode, BULLMQ_KEEP_UNSET);
	READ("{not json", &jo);
	ck_assert_int_eq(jo.keep_complete.mode, BULLMQ_KEEP_UNSET);
}
END_TEST

START_TEST(retention_from_text)
{
	struct bullmq_keep	 k;
	char			 err[256];

	ck_assert_int_eq(bullmq_keep_parse("", &k, err, sizeof(err)), 0);
	ck_assert_int_eq(k.mode, BULLMQ_KEEP_UNSET);
	ck_assert_int_eq(bullmq_keep_parse("TRUE", &k, err, sizeof(err)), 0);
	ck_assert_int_eq(k.mode, BULLMQ_KEEP_NONE);
	ck_assert_int_eq(bullmq_keep_parse("no", &k, err, sizeof(err)), 0);
	ck_assert_int_eq(k.mode, BULLMQ_KEEP_ALL);
	ck_assert_int_eq(bullmq_keep_parse("25", &k, err, sizeof(err)), 0);
	ck_assert(k.mode == BULLMQ_KEEP_COUNT && k.count == 25);
	ck_assert_int_eq(bullmq_keep_parse("count:7", &k, err, sizeof(err)),
	    0);
	/* {count: 7}: the object form, without an age */
	ck_assert(k.mode == BULLMQ_KEEP_AGE && k.count == 7 && isnan(k.age));
	ck_assert_int_eq(bullmq_keep_parse("limit:5,age:60,count:3", &k, err,
	    sizeof(err)), 0);
	ck_assert(k.mode == BULLMQ_KEEP_AGE && k.age == 60 && k.count == 3 &&
	    k.limit == 5);
	ck_assert_int_eq(bullmq_keep_parse("age:forever", &k, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "\"age:forever\": age \"forever\" is not a "
	    "number");
	ck_assert_int_eq(k.mode, BULLMQ_KEEP_UNSET);
	ck_assert_int_eq(bullmq_keep_parse("12x", &k, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "\"12x\": the count is not a number");
	ck_assert_int_eq(bullmq_keep_parse("maybe", &k, err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "\"maybe\" is not true, false, a count or "
	    "age:SECONDS[,count:N][,limit:N]");
	ck_assert_int_eq(bullmq_keep_parse("count:2,limit:3", &k, err,
	    sizeof(err)), -1);
	/* any age from 0, as a Node Worker's {age: 0} or {age: 0.5} */
	ck_assert_int_eq(bullmq_keep_parse("age:0", &k, err, sizeof(err)),
	    0);
	ck_assert(k.mode == BULLMQ_KEEP_AGE && k.age == 0);
	ck_assert_int_eq(bullmq_keep_parse("age:0.5,count:2", &k, err,
	    sizeof(err)), 0);
	ck_assert(k.mode == BULLMQ_KEEP_AGE && k.age == 0.5 && k.count == 2);
	ck_assert_int_eq(bullmq_keep_parse("age:-1", &k, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(bullmq_keep_parse("age:1e3", &k, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(bullmq_keep_parse("count:0", &k, err, sizeof(err)),
	    0);
	ck_assert_int_eq(k.mode, BULLMQ_KEEP_NONE);
}
END_TEST

START_TEST(job_opts_once)
{
	struct bmq_job_opts	 jo;
	char			 buf[64];

	READ("{\"attempts\":3,\"backoff\":{\"type\":\"exponential\","
	    "\"delay\":100,\"jitter\":0.5},\"kl\":7,\"stackTraceLimit\":2,"
	    "\"lifo\":true,\"prevMillis\":1000,\"repeat\":{\"pattern\":"
	    "\"*/5 * * * *\",\"tz\":\"Europe/Paris\",\"count\":4,\"limit\":9,"
	    "\"startDate\":11,\"endDate\":12}}", &jo);
	ck_assert_int_eq(jo.attempts, 3);
	ck_assert_int_eq(jo.backoff_type, BULLMQ_BACKOFF_EXPONENTIAL);
	ck_assert(bmq_jval_jsnum(&jo.backoff_delay) == 100);
	ck_assert(jo.backoff_jitter == 0.5);
	ck_assert_int_eq(jo.keep_logs, 7);
	ck_assert_int_eq(jo.stack_trace_limit, 2);
	ck_assert_int_eq(jo.lifo, 1);
	ck_assert_int_eq(jo.prev_millis, 1000);
	ck_assert_int_eq(bmq_jval_string(&jo.repeat_pattern, buf,
	    sizeof(buf)), 11);
	ck_assert_str_eq(buf, "*/5 * * * *");
	ck_assert_int_eq(bmq_jval_string(&jo.repeat_tz, buf, sizeof(buf)),
	    12);
	ck_assert_int_eq(jo.repeat_count, 4);
	ck_assert_int_eq(jo.repeat_limit, 9);
	ck_assert_int_eq(jo.repeat_start, 11);
	ck_assert_int_eq(jo.repeat_end, 12);
	/* absent, unreadable or out of range: the values of {} */
	READ("{\"attempts\":-1,\"backoff\":{\"type\":\"custom\","
	    "\"delay\":\"x\"},\"kl\":-3,\"stackTraceLimit\":1.5,"
	    "\"lifo\":1,\"repeat\":5}", &jo);
	ck_assert_int_eq(jo.attempts, 0);
	ck_assert_int_eq(jo.backoff_type, BULLMQ_BACKOFF_NONE);
	ck_assert(isnan(bmq_jval_jsnum(&jo.backoff_delay)));
	/* as Node gives them to its scripts, or as JavaScript cuts them */
	ck_assert(jo.keep_logs == -3);
	ck_assert_int_eq(jo.stack_trace_limit, 1);
	ck_assert_int_eq(jo.lifo, 1);
	ck_assert_int_eq(jo.repeat_pattern.type, BMQ_J_NONE);
	ck_assert_int_eq(jo.repeat_limit, -1);
	READ("{\"attempts\":5e9,\"backoff\":250}", &jo);
	ck_assert_int_eq(jo.attempts, 1000000000);
	ck_assert_int_eq(jo.backoff_type, BULLMQ_BACKOFF_FIXED);
	ck_assert(bmq_jval_jsnum(&jo.backoff_delay) == 250);
	/* the last of a repeated key decides, at every level */
	READ("{\"backoff\":{\"type\":\"fixed\",\"delay\":9},\"backoff\":"
	    "{\"delay\":5,\"type\":\"exponential\",\"type\":3}}", &jo);
	ck_assert_int_eq(jo.backoff_type, BULLMQ_BACKOFF_NONE);
	ck_assert(bmq_jval_jsnum(&jo.backoff_delay) == 5);
	bmq_job_opts_read(NULL, 0, &jo);
	ck_assert_int_eq(jo.stack_trace_limit, -1);
	READ("[1]", &jo);
	ck_assert_int_eq(jo.attempts, 0);
}
END_TEST

/* Read the value text t as a bmq_jval. */
static double
jsnum_of(const char *t)
{
	static char	js[128];
	struct bmq_jval	v;

	snprintf(js, sizeof(js), "{\"v\":%s}", t);
	ck_assert_int_eq(bmq_json_get(js, strlen(js), "v", &v), 1);
	return bmq_jval_jsnum(&v);
}

/* The retry after a failure of a job with stored opts o: 0, or the delay. */
static const char *
retry_of(const char *o, long n)
{
	static char		 buf[64];
	struct bmq_job_opts	 jo;

	READ(o, &jo);
	if (bmq_retry_delay(&jo, n, 0.5, buf, sizeof(buf)) == 0)
		return "now";
	return buf;
}

START_TEST(js_values)
{
	struct bmq_job_opts	 jo;
	char			 buf[64];

	/* Number() of a value */
	ck_assert(jsnum_of("\" 3 \"") == 3);
	ck_assert(jsnum_of("\"0x10\"") == 16);
	ck_assert(jsnum_of("\"\"") == 0);
	ck_assert(jsnum_of("\"1e3\"") == 1000);
	ck_assert(isnan(jsnum_of("\"inf\"")));
	ck_assert(isnan(jsnum_of("\"-0x1\"")));
	ck_assert(isnan(jsnum_of("{}")));
	ck_assert(jsnum_of("true") == 1 && jsnum_of("null") == 0);
	/* String() of a number */
	bmq_fmt_jsnum(buf, sizeof(buf), 1000.0 / 3);
	ck_assert_str_eq(buf, "333.3333333333333");
	bmq_fmt_jsnum(buf, sizeof(buf), 250.5);
	ck_assert_str_eq(buf, "250.5");
	bmq_fmt_jsnum(buf, sizeof(buf), -0.0);
	ck_assert_str_eq(buf, "0");
	/* attempts: Node retries while attemptsMade + 1 < attempts */
	READ("{\"attempts\":\"3\"}", &jo);
	ck_assert_int_eq(jo.attempts, 3);
	READ("{\"attempts\":2.5}", &jo);
	ck_assert_int_eq(jo.attempts, 3);
	READ("{\"attempts\":\"x\"}", &jo);
	ck_assert_int_eq(jo.attempts, 0);
	READ("{\"attempts\":true}", &jo);
	ck_assert(jo.attempts == 1 && !jo.attempts_lua);
	READ("{\"attempts\":\" 3\"}", &jo);
	ck_assert(jo.attempts == 3 && jo.attempts_lua);
	READ("{}", &jo);
	ck_assert(jo.attempts == 0 && jo.attempts_lua);
	/* backoff: the delay a fixed backoff is stored with, if truthy */
	ck_assert_str_eq(retry_of("{\"backoff\":250.5}", 1), "250.5");
	ck_assert_str_eq(retry_of("{\"backoff\":{\"type\":\"fixed\","
	    "\"delay\":333.3333333333333}}", 1), "333.3333333333333");
	ck_assert_str_eq(retry_of("{\"backoff\":{\"type\":\"fixed\","
	    "\"delay\":\"300\"}}", 1), "300");
	ck_assert_str_eq(retry_of("{\"backoff\":{\"type\":\"fixed\","
	    "\"delay\":-100}}", 1), "-100");
	ck_assert_str_eq(retry_of("{\"backoff\":{\"type\":\"fixed\","
	    "\"delay\":\"0\"}}", 1), "0");
	ck_assert_str_eq(retry_of("{\"backoff\":0}", 1), "now");
	ck_assert_str_eq(retry_of("{\"backoff\":{\"type\":\"fixed\","
	    "\"delay\":null}}", 1), "now");
	ck_assert_str_eq(retry_of("{\"backoff\":{\"type\":\"fixed\","
	    "\"delay\":\"x\"}}", 1), "now");
	ck_assert_str_eq(retry_of("{\"backoff\":\"300\"}", 1), "now");
	/* computed delays are numbers: Math.round, Math.floor */
	ck_assert_str_eq(retry_of("{\"backoff\":{\"type\":\"exponential\","
	    "\"delay\":\"300\"}}", 2), "600");
	ck_assert_str_eq(retry_of("{\"backoff\":{\"type\":\"exponential\","
	    "\"delay\":250.25}}", 1), "250");
	ck_assert_str_eq(retry_of("{\"backoff\":{\"type\":\"fixed\","
	    "\"delay\":\"300\",\"jitter\":\"0.5\"}}", 1), "225");
	/* retention as getKeepJobs and the finishing script read it */
	READ("{\"removeOnComplete\":{\"count\":0,\"age\":9},"
	    "\"removeOnFail\":{\"age\":0}}", &jo);
	ck_assert_int_eq(jo.keep_complete.mode, BULLMQ_KEEP_NONE);
	ck_assert(jo.keep_fail.mode == BULLMQ_KEEP_AGE &&
	    jo.keep_fail.age == 0);
	READ("{\"removeOnComplete\":-1,\"removeOnFail\":{\"age\":0.5}}",
	    &jo);
	ck_assert_int_eq(jo.keep_complete.mode, BULLMQ_KEEP_ALL);
	ck_assert(jo.keep_fail.mode == BULLMQ_KEEP_AGE &&
	    jo.keep_fail.age == 0.5);
	READ("{\"removeOnComplete\":\"2\",\"removeOnFail\":\"\"}", &jo);
	ck_assert_int_eq(jo.keep_complete.mode, BULLMQ_KEEP_NONE);
	ck_assert_int_eq(jo.keep_fail.mode, BULLMQ_KEEP_ALL);
	READ("{\"removeOnComplete\":{\"age\":\"1\",\"limit\":-1},"
	    "\"removeOnFail\":{\"age\":5,\"limit\":0}}", &jo);
	ck_assert(jo.keep_complete.mode == BULLMQ_KEEP_AGE &&
	    jo.keep_complete.age == 1 && jo.keep_complete.limit == -1);
	ck_assert_int_eq(jo.keep_fail.mode, BULLMQ_KEEP_ALL);
	READ("{\"removeOnComplete\":[],\"removeOnFail\":1.5}", &jo);
	ck_assert_int_eq(jo.keep_complete.mode, BULLMQ_KEEP_ALL);
	ck_assert(jo.keep_fail.mode == BULLMQ_KEEP_COUNT &&
	    jo.keep_fail.count == 1);
	/* stackTraceLimit: slice(-limit) */
	READ("{\"stackTraceLimit\":\"2\"}", &jo);
	ck_assert_int_eq(jo.stack_trace_limit, 2);
	READ("{\"stackTraceLimit\":-2}", &jo);
	ck_assert(jo.stack_trace_limit == -1 && jo.stack_trace_drop == 2);
	READ("{\"stackTraceLimit\":\"0\"}", &jo);
	ck_assert(jo.stack_trace_limit == -1 && jo.stack_trace_drop == 0);
	READ("{\"stackTraceLimit\":0}", &jo);
	ck_assert_int_eq(jo.stack_trace_limit, 0);
	/* lifo and kl: truthiness, and kl as given */
	READ("{\"lifo\":\"no\",\"kl\":\"3\"}", &jo);
	ck_assert(jo.lifo == 1 && jo.keep_logs == 3);
	READ("{\"lifo\":0,\"kl\":false}", &jo);
	ck_assert(jo.lifo == 0 && jo.keep_logs == 0);
}
END_TEST

Suite *
make_suite(void)
{
	Suite	*s = suite_create("opts");
	TCase	*tc = tcase_create("opts");

	tcase_add_test(tc, parse_fields);
	tcase_add_test(tc, parse_errors);
	tcase_add_test(tc, stored_form);
	tcase_add_test(tc, struct_checks);
	tcase_add_test(tc, backoff_arithmetic);
	tcase_add_test(tc, js_values);
	tcase_add_test(tc, retention_from_opts);
	tcase_add_test(tc, job_opts_once);
	tcase_add_test(tc, retention_from_text);
	suite_add_tcase(s, tc);
	return s;
}
