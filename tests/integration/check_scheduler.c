/*
 * check_scheduler.c: job schedulers from the producer's side against a
 * private redis-server (bullmq_scheduler_upsert/remove/get/list,
 * upsert-scheduler-10.lua, remove-scheduler-3.lua; BULLMQ-PROTOCOL.md 1.4).
 * tests/interop/14-schedulers.mjs holds the same against Node.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"
#include "harness.h"
#include "suite.h"

static bullmq_queue	*q;

/* A fresh options struct for every ms. */
static struct bullmq_scheduler_opts
every_opts(int64_t every)
{
	struct bullmq_scheduler_opts	o;

	memset(&o, 0, sizeof(o));
	o.every = every;
	return o;
}

/* Does the job's stored opts hold the text s? */
static int
opts_has(const char *jid, const char *s)
{
	return strstr(harness_str("HGET bull:q:%s opts", jid), s) != NULL;
}

START_TEST(upsert_every)
{
	struct bullmq_scheduler_opts	o = every_opts(1000);
	char				jid[128], want[300];
	long long			next;

	o.name = "tick";
	o.data = "{\"a\":1}";
	o.opts = "{\"attempts\":2,\"keepLogs\":3}";
	ck_assert_int_eq(bullmq_scheduler_upsert(q, "s1", &o, jid,
	    sizeof(jid)), 1);
	next = atoll(harness_str("ZSCORE bull:q:repeat s1"));
	snprintf(want, sizeof(want), "repeat:s1:%lld", next);
	ck_assert_str_eq(jid, want);
	ck_assert_str_eq(harness_str("HGET bull:q:repeat:s1 name"), "tick");
	ck_assert_str_eq(harness_str("HGET bull:q:repeat:s1 every"), "1000");
	ck_assert_str_eq(harness_str("HGET bull:q:repeat:s1 data"),
	    "{\"a\":1}");
	ck_assert_str_eq(harness_str("HGET bull:q:repeat:s1 ic"), "1");
	ck_assert_int_eq(atoll(harness_str("HGET bull:q:repeat:s1 offset")),
	    next % 1000);
	/* stored under Node's short names */
	ck_assert_ptr_ne(strstr(harness_str("HGET bull:q:repeat:s1 opts"),
	    "\"kl\":3"), NULL);
	/* the first iteration runs now */
	ck_assert_str_eq(harness_str("LINDEX bull:q:wait 0"), jid);
	ck_assert_str_eq(harness_str("HGET bull:q:%s rjk", jid), "s1");
	ck_assert_str_eq(harness_str("HGET bull:q:%s name", jid), "tick");
	ck_assert_str_eq(harness_str("HGET bull:q:%s data", jid), "{\"a\":1}");
	ck_assert(opts_has(jid, "\"count\":1"));
	ck_assert(opts_has(jid, "\"every\":1000"));
	ck_assert(opts_has(jid, "\"repeatJobKey\":\"s1\""));
	ck_assert(opts_has(jid, "\"attempts\":2"));
	ck_assert(!opts_has(jid, "prevMillis"));
	ck_assert_str_eq(harness_str("GET bull:q:id"), "1");
	snprintf(want, sizeof(want), "added:%s waiting:%s", jid, jid);
	ck_assert_str_eq(harness_event_list(), want);
}
END_TEST

START_TEST(upsert_pattern_update)
{
	struct bullmq_scheduler_opts	o;
	char				jid[128], jid2[128];
	int64_t				next;
	char				err[128];

	memset(&o, 0, sizeof(o));
	o.pattern = "0 0 1 1 *";
	o.tz = "Europe/Berlin";
	o.limit = 5;
	ck_assert_int_eq(bullmq_scheduler_upsert(q, "p", &o, jid,
	    sizeof(jid)), 1);
	ck_assert_int_eq(bullmq_cron_next("0 0 1 1 *", "Europe/Berlin", NULL,
	    bullmq_now(), &next, err, sizeof(err)), 0);
	ck_assert_int_eq(atoll(harness_str("ZSCORE bull:q:repeat p")), next);
	ck_assert_int_eq(harness_int("ZCARD bull:q:delayed"), 1);
	ck_assert_str_eq(harness_str("HGET bull:q:repeat:p offset"), "0");
	ck_assert_str_eq(harness_str("HGET bull:q:repeat:p limit"), "5");
	ck_assert(opts_has(jid, "\"prevMillis\":"));
	ck_assert(opts_has(jid, "\"limit\":5"));
	ck_assert_str_eq(harness_str("HGET bull:q:%s name", jid), "p");

	/* an update replaces the delayed iteration; the count stays */
	freeReplyObject(harness_cmd("HSET bull:q:repeat:p ic 3"));
	o.pattern = "0 0 1 6 *";
	o.name = "n2";
	ck_assert_int_eq(bullmq_scheduler_upsert(q, "p", &o, jid2,
	    sizeof(jid2)), 1);
	ck_assert_str_ne(jid, jid2);
	ck_assert_int_eq(harness_int("EXISTS bull:q:%s", jid), 0);
	ck_assert_int_eq(harness_int("ZCARD bull:q:delayed"), 1);
	ck_assert_str_eq(harness_str("HGET bull:q:repeat:p ic"), "3");
	ck_assert_str_eq(harness_str("HGET bull:q:repeat:p name"), "n2");
	ck_assert_str_eq(harness_str("HGET bull:q:repeat:p pattern"),
	    "0 0 1 6 *");
}
END_TEST

START_TEST(upsert_refusals)
{
	struct bullmq_scheduler_opts	o = every_opts(1000);

	o.pattern = "* * * * *";
	ck_assert_int_eq(bullmq_scheduler_upsert(q, "x", &o, NULL, 0), -1);
	o = every_opts(0);
	ck_assert_int_eq(bullmq_scheduler_upsert(q, "x", &o, NULL, 0), -1);
	o.pattern = "not a cron";
	ck_assert_int_eq(bullmq_scheduler_upsert(q, "x", &o, NULL, 0), -1);
	o.pattern = "* * * * *";
	o.immediately = 1;
	o.start_date = bullmq_now() + 1000;
	ck_assert_int_eq(bullmq_scheduler_upsert(q, "x", &o, NULL, 0), -1);
	o = every_opts(1000);
	o.end_date = bullmq_now() - 1000;
	ck_assert_int_eq(bullmq_scheduler_upsert(q, "x", &o, NULL, 0), -1);
	o = every_opts(1000);
	o.data = "{nope";
	ck_assert_int_eq(bullmq_scheduler_upsert(q, "x", &o, NULL, 0), -1);
	o = every_opts(1000);
	o.opts = "{\"debounce\":{\"id\":\"a\"}}";
	ck_assert_int_eq(bullmq_scheduler_upsert(q, "x", &o, NULL, 0), -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_ARG);
	ck_assert_int_eq(bullmq_scheduler_upsert(q, "", &o, NULL, 0), -1);
	/* nothing was written */
	ck_assert_int_eq(harness_int("DBSIZE"), 0);
	/* a wrong-typed repeat key: refused before any write */
	freeReplyObject(harness_cmd("SET bull:q:repeat x"));
	o = every_opts(1000);
	ck_assert_int_eq(bullmq_scheduler_upsert(q, "x", &o, NULL, 0), -1);
	ck_assert_int_eq(harness_int("DBSIZE"), 1);
	/* so is a wait list that is not one, where the iteration goes last */
	freeReplyObject(harness_cmd("DEL bull:q:repeat"));
	freeReplyObject(harness_cmd("SET bull:q:wait x"));
	ck_assert_int_eq(bullmq_scheduler_upsert(q, "x", &o, NULL, 0), -1);
	ck_assert_ptr_ne(strstr(bullmq_errstr(q), "bull:q:wait"), NULL);
	ck_assert_int_eq(harness_int("DBSIZE"), 1);
}
END_TEST

START_TEST(pattern_collision)
{
	struct bullmq_scheduler_opts	o;
	int64_t				next;
	char				err[128];

	memset(&o, 0, sizeof(o));
	o.pattern = "0 0 1 1 *";
	ck_assert_int_eq(bullmq_cron_next(o.pattern, NULL, NULL,
	    bullmq_now(), &next, err, sizeof(err)), 0);
	/* a finished job holds the iteration's id */
	freeReplyObject(harness_cmd("HSET bull:q:repeat:c:%lld name c",
	    (long long)next));
	ck_assert_int_eq(bullmq_scheduler_upsert(q, "c", &o, NULL, 0), -1);
	ck_assert_int_eq(bullmq_script_code(q), -10);
	ck_assert_int_eq(harness_int("EXISTS bull:q:repeat"), 0);
}
END_TEST

START_TEST(remove_one)
{
	struct bullmq_scheduler_opts	o;
	char				jid[128];

	memset(&o, 0, sizeof(o));
	o.pattern = "0 0 1 1 *";
	ck_assert_int_eq(bullmq_scheduler_upsert(q, "r", &o, jid,
	    sizeof(jid)), 1);
	ck_assert_int_eq(bullmq_scheduler_remove(q, "r"), 1);
	ck_assert_int_eq(harness_int("EXISTS bull:q:repeat:r"), 0);
	ck_assert_int_eq(harness_int("EXISTS bull:q:%s", jid), 0);
	ck_assert_int_eq(harness_int("ZCARD bull:q:delayed"), 0);
	ck_assert_str_eq(harness_event_field("removed", "prev"), "delayed");
	ck_assert_int_eq(bullmq_scheduler_remove(q, "r"), 0);
	ck_assert_int_eq(bullmq_scheduler_remove(q, ""), -1);
	/* an events key of another type: refused, the scheduler kept */
	ck_assert_int_eq(bullmq_scheduler_upsert(q, "r", &o, jid,
	    sizeof(jid)), 1);
	freeReplyObject(harness_cmd("DEL bull:q:events"));
	freeReplyObject(harness_cmd("SET bull:q:events x"));
	ck_assert_int_eq(bullmq_scheduler_remove(q, "r"), -1);
	ck_assert_int_eq(harness_int("EXISTS bull:q:%s", jid), 1);
	ck_assert_int_eq(harness_int("ZCARD bull:q:repeat"), 1);
}
END_TEST

START_TEST(get_list)
{
	struct bullmq_scheduler_opts	 o = every_opts(60000);
	struct bullmq_scheduler		*s;
	long				 n;

	o.offset = 5;
	o.limit = 9;
	o.data = "{\"d\":1}";
	o.opts = "{\"priority\":2}";
	ck_assert_int_eq(bullmq_scheduler_upsert(q, "b", &o, NULL, 0), 1);
	memset(&o, 0, sizeof(o));
	o.pattern = "0 0 1 1 *";
	o.tz = "UTC";
	ck_assert_int_eq(bullmq_scheduler_upsert(q, "a", &o, NULL, 0), 1);
	/* listed without a hash: skipped */
	freeReplyObject(harness_cmd("ZADD bull:q:repeat 1 ghost"));

	ck_assert_int_eq(bullmq_scheduler_get(q, "b", &s), 1);
	ck_assert_str_eq(s->id, "b");
	ck_assert_str_eq(s->name, "b");
	ck_assert_int_eq(s->every, 60000);
	ck_assert_int_eq(s->offset, 5);
	ck_assert_int_eq(s->limit, 9);
	ck_assert_int_eq(s->iteration_count, 1);
	ck_assert_int_eq(s->next % 60000, 5);
	ck_assert_str_eq(s->data, "{\"d\":1}");
	ck_assert_str_eq(s->opts, "{\"priority\":2}");
	ck_assert_ptr_eq(s->pattern, NULL);
	bullmq_schedulers_free(s, 1);
	ck_assert_int_eq(bullmq_scheduler_get(q, "nope", &s), 0);
	ck_assert_ptr_eq(s, NULL);
	ck_assert_int_eq(bullmq_scheduler_get(q, "ghost", &s), 0);

	n = bullmq_scheduler_list(q, 0, -1, 0, &s);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(s[0].id, "a");		/* the latest first */
	ck_assert_str_eq(s[0].pattern, "0 0 1 1 *");
	ck_assert_str_eq(s[0].tz, "UTC");
	ck_assert_str_eq(s[1].id, "b");
	bullmq_schedulers_free(s, n);
	n = bullmq_scheduler_list(q, 0, 1, 1, &s);
	ck_assert_int_eq(n, 1);			/* ghost, then b */
	ck_assert_str_eq(s[0].id, "b");
	bullmq_schedulers_free(s, n);
	freeReplyObject(harness_cmd("DEL bull:q:repeat"));
	ck_assert_int_eq(bullmq_scheduler_list(q, 0, -1, 0, &s), 0);
	ck_assert_ptr_eq(s, NULL);
}
END_TEST

/* A processor that succeeds. */
static int
proc_ok(bullmq_job *j)
{
	(void)j;
	return 0;
}

/* A C worker makes the next iteration of a scheduler we made. */
START_TEST(worker_next)
{
	struct bullmq_scheduler_opts	 o = every_opts(100000);
	char				 jid[128];
	bullmq_worker			*w;
	bullmq_job			*j;

	ck_assert_int_eq(bullmq_scheduler_upsert(q, "w", &o, jid,
	    sizeof(jid)), 1);
	w = harness_worker("w1");
	ck_assert_int_eq(bullmq_worker_try_fetch(w, &j), 1);
	ck_assert_str_eq(bullmq_job_id(j), jid);
	ck_assert_int_eq(bullmq_worker_run(w, j, proc_ok, NULL, NULL), 0);
	ck_assert_str_eq(harness_str("HGET bull:q:repeat:w ic"), "2");
	ck_assert_int_eq(harness_int("ZCARD bull:q:delayed"), 1);
	bullmq_worker_free(w);
}
END_TEST

Suite *
make_suite(void)
{
	Suite	*s = suite_create("scheduler");
	TCase	*tc = harness_tcase(s, "scheduler", "q", &q, 60);

	tcase_add_test(tc, upsert_every);
	tcase_add_test(tc, upsert_pattern_update);
	tcase_add_test(tc, upsert_refusals);
	tcase_add_test(tc, pattern_collision);
	tcase_add_test(tc, remove_one);
	tcase_add_test(tc, get_list);
	tcase_add_test(tc, worker_next);
	return s;
}
