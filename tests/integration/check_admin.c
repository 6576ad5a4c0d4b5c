/*
 * check_admin.c: the operators' calls against a private redis-server:
 * pause/resume, counts, get job and state, remove, retry, clean, drain,
 * obliterate, workers and the event stream (BULLMQ-PROTOCOL.md 4.7, 4.8,
 * 4.11-4.14, 5.2).  Worker-made states are written by hand.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* Add a plain job and return its id in a static buffer. */
static const char *
add(const char *name)
{
	static char	id[HARNESS_IDLEN];

	harness_add(name, NULL, NULL, id);
	return id;
}

/* Write a job hash by hand, as another producer would have. */
static void
job(const char *id, long long ts)
{
	cmd("HSET bull:q:%s name n data {} opts {\"attempts\":0} timestamp "
	    "%lld delay 0 priority 0", id, ts);
}

START_TEST(pause_resume)
{
	struct bullmq_counts	c;

	add("a");
	ck_assert_int_eq(bullmq_pause(q), 0);
	ck_assert_str_eq(harness_str("HGET bull:q:meta paused"), "1");
	ck_assert_int_eq(harness_int("EXISTS bull:q:marker"), 0);
	ck_assert_str_eq(harness_last_event(), "event=paused");
	ck_assert_int_eq(bullmq_get_counts(q, &c), 0);
	ck_assert_int_eq(c.is_paused, 1);
	ck_assert_int_eq(c.wait, 1);

	ck_assert_int_eq(bullmq_resume(q), 0);
	ck_assert_int_eq(harness_int("HEXISTS bull:q:meta paused"), 0);
	ck_assert_str_eq(harness_str("ZSCORE bull:q:marker 0"), "0");
	ck_assert_str_eq(harness_last_event(), "event=resumed");
	ck_assert_int_eq(bullmq_get_counts(q, &c), 0);
	ck_assert_int_eq(c.is_paused, 0);
}
END_TEST

START_TEST(resume_markers)
{
	/* Nothing waiting, a delayed job: the "1" marker at its due time. */
	cmd("HSET bull:q:meta paused 1");
	cmd("ZADD bull:q:delayed 6963200020480003 d1");
	ck_assert_int_eq(bullmq_resume(q), 0);
	ck_assert_int_eq(harness_int("ZCARD bull:q:marker"), 1);
	ck_assert_int_eq(atoll(harness_str("ZSCORE bull:q:marker 1")),
	    1700000005000LL);
	/* Nothing at all: no marker. */
	harness_flush();
	cmd("HSET bull:q:meta paused 1");
	ck_assert_int_eq(bullmq_resume(q), 0);
	ck_assert_int_eq(harness_int("EXISTS bull:q:marker"), 0);
	/* Only a prioritized job: the "0" marker. */
	cmd("ZADD bull:q:prioritized 4294967297 p1");
	cmd("HSET bull:q:meta paused 1");
	ck_assert_int_eq(bullmq_resume(q), 0);
	ck_assert_str_eq(harness_str("ZSCORE bull:q:marker 0"), "0");
}
END_TEST

START_TEST(resume_legacy_paused)
{
	redisReply	*r;
	char		 ev[8][200];
	int		 i;

	/* Q:paused alone is renamed to Q:wait. */
	cmd("RPUSH bull:q:paused a b c");
	cmd("HSET bull:q:meta paused 1");
	ck_assert_int_eq(bullmq_resume(q), 0);
	ck_assert_int_eq(harness_int("EXISTS bull:q:paused"), 0);
	ck_assert_str_eq(harness_str("LINDEX bull:q:wait 0"), "a");
	ck_assert_str_eq(harness_str("LINDEX bull:q:wait -1"), "c");

	/* Both lists: moved to the front of wait, 7000 a call. */
	harness_flush();
	cmd("LPUSH bull:q:wait w1");
	for (i = 0; i < 7005; i++)
		cmd("RPUSH bull:q:paused p%d", i);
	cmd("HSET bull:q:meta paused 1");
	ck_assert_int_eq(bullmq_resume(q), 0);
	ck_assert_int_eq(harness_int("EXISTS bull:q:paused"), 0);
	ck_assert_int_eq(harness_int("LLEN bull:q:wait"), 7006);
	ck_assert_str_eq(harness_str("LINDEX bull:q:wait 0"), "w1");
	ck_assert_str_eq(harness_str("LINDEX bull:q:wait 1"), "p0");
	ck_assert_str_eq(harness_str("LINDEX bull:q:wait -1"), "p7004");
	/* One resumed event for the several calls. */
	ck_assert_int_eq(harness_events(ev, 8), 1);
	ck_assert_str_eq(ev[0], "event=resumed");
	r = harness_cmd("ZRANGE bull:q:marker 0 -1");
	ck_assert_uint_eq(r->elements, 1);
	freeReplyObject(r);
}
END_TEST

START_TEST(counts)
{
	struct bullmq_counts	c;

	cmd("LPUSH bull:q:wait w1 w2 w3");
	cmd("LPUSH bull:q:active a1 a2");
	cmd("ZADD bull:q:delayed 1 d1");
	cmd("ZADD bull:q:prioritized 4294967297 p1 4294967298 p2");
	cmd("ZADD bull:q:completed 1 c1 2 c2 3 c3 4 c4");
	cmd("ZADD bull:q:failed 1 f1 2 f2 3 f3 4 f4 5 f5");
	cmd("ZADD bull:q:waiting-children 1 x1 2 x2 3 x3 4 x4 5 x5 6 x6");
	cmd("RPUSH bull:q:paused l1 l2 l3 l4 l5 l6 l7");
	ck_assert_int_eq(bullmq_get_counts(q, &c), 0);
	ck_assert_int_eq(c.wait, 3);
	ck_assert_int_eq(c.active, 2);
	ck_assert_int_eq(c.delayed, 1);
	ck_assert_int_eq(c.prioritized, 2);
	ck_assert_int_eq(c.completed, 4);
	ck_assert_int_eq(c.failed, 5);
	ck_assert_int_eq(c.waiting_children, 6);
	ck_assert_int_eq(c.paused, 7);
	ck_assert_int_eq(c.is_paused, 0);

	/* A legacy "0:" marker at the consumer end is dropped, not counted. */
	cmd("RPUSH bull:q:wait 0:123");
	ck_assert_int_eq(bullmq_get_counts(q, &c), 0);
	ck_assert_int_eq(c.wait, 3);
	ck_assert_int_eq(harness_int("LLEN bull:q:wait"), 3);
	ck_assert_str_eq(harness_str("LINDEX bull:q:wait -1"), "w1");
	/* ... unless it is alone (Node leaves it there). */
	cmd("DEL bull:q:wait");
	cmd("RPUSH bull:q:wait 0:1");
	ck_assert_int_eq(bullmq_get_counts(q, &c), 0);
	ck_assert_int_eq(c.wait, 0);
	ck_assert_int_eq(harness_int("LLEN bull:q:wait"), 1);
}
END_TEST

START_TEST(get_job)
{
	bullmq_job	*j;
	const char	*v;
	size_t		 len;

	ck_assert_int_eq(bullmq_add(q, "mail", "{\"x\":1}", NULL, NULL, 0),
	    BULLMQ_ADDED);
	ck_assert_int_eq(bullmq_get_job(q, "1", &j), 1);
	ck_assert_str_eq(bullmq_job_id(j), "1");
	ck_assert_str_eq(bullmq_job_name(j), "mail");
	v = bullmq_job_data(j, &len);
	ck_assert_uint_eq(len, 7);
	ck_assert(memcmp(v, "{\"x\":1}", 7) == 0);
	ck_assert_uint_eq(bullmq_job_nfields(j), 6);
	ck_assert_str_eq(bullmq_job_field(j, "priority", NULL), "0");
	bullmq_job_free(j);

	ck_assert_int_eq(bullmq_get_job(q, "nope", &j), 0);
	ck_assert_ptr_eq(j, NULL);
	ck_assert_int_eq(bullmq_get_job(q, "", &j), -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_ARG);
}
END_TEST

START_TEST(get_state)
{
	char	st[32];

	cmd("ZADD bull:q:completed 1 c");
	cmd("ZADD bull:q:failed 1 f");
	cmd("ZADD bull:q:delayed 1 d");
	cmd("ZADD bull:q:prioritized 1 p");
	cmd("LPUSH bull:q:active a");
	cmd("LPUSH bull:q:wait w");
	cmd("LPUSH bull:q:paused l");
	cmd("ZADD bull:q:waiting-children 1 x");
	ck_assert_int_eq(bullmq_get_state(q, "c", st, sizeof(st)), 0);
	ck_assert_str_eq(st, "completed");
	ck_assert_int_eq(bullmq_get_state(q, "f", st, sizeof(st)), 0);
	ck_assert_str_eq(st, "failed");
	ck_assert_int_eq(bullmq_get_state(q, "d", st, sizeof(st)), 0);
	ck_assert_str_eq(st, "delayed");
	ck_assert_int_eq(bullmq_get_state(q, "p", st, sizeof(st)), 0);
	ck_assert_str_eq(st, "prioritized");
	ck_assert_int_eq(bullmq_get_state(q, "a", st, sizeof(st)), 0);
	ck_assert_str_eq(st, "active");
	ck_assert_int_eq(bullmq_get_state(q, "w", st, sizeof(st)), 0);
	ck_assert_str_eq(st, "waiting");
	ck_assert_int_eq(bullmq_get_state(q, "l", st, sizeof(st)), 0);
	ck_assert_str_eq(st, "waiting");
	ck_assert_int_eq(bullmq_get_state(q, "x", st, sizeof(st)), 0);
	ck_assert_str_eq(st, "waiting-children");
	ck_assert_int_eq(bullmq_get_state(q, "zz", st, sizeof(st)), 0);
	ck_assert_str_eq(st, "unknown");
	/* The order decides for a job found twice. */
	cmd("LPUSH bull:q:wait c");
	ck_assert_int_eq(bullmq_get_state(q, "c", st, sizeof(st)), 0);
	ck_assert_str_eq(st, "completed");
	ck_assert_int_eq(bullmq_get_state(q, "c", st, 5), -1);
}
END_TEST

START_TEST(remove_job)
{
	char	st[32];

	add("a");
	add("b");
	cmd("RPUSH bull:q:1:logs line");
	ck_assert_int_eq(bullmq_remove(q, "1"), 1);
	ck_assert_int_eq(harness_int("EXISTS bull:q:1 bull:q:1:logs"), 0);
	ck_assert_int_eq(harness_int("LLEN bull:q:wait"), 1);
	ck_assert_str_eq(harness_last_event(),
	    "event=removed jobId=1 prev=wait");
	ck_assert_int_eq(bullmq_get_state(q, "1", st, sizeof(st)), 0);
	ck_assert_str_eq(st, "unknown");

	/* Missing. */
	ck_assert_int_eq(bullmq_remove(q, "1"), -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_JOB);
	ck_assert_int_eq(bullmq_script_code(q), -1);

	/* Locked (an active job held by a worker): left alone. */
	cmd("LREM bull:q:wait 1 2");
	cmd("LPUSH bull:q:active 2");
	cmd("SET bull:q:2:lock tok PX 30000");
	ck_assert_int_eq(bullmq_remove(q, "2"), 0);
	ck_assert_int_eq(harness_int("EXISTS bull:q:2"), 1);
	ck_assert_int_eq(harness_int("LLEN bull:q:active"), 1);
	/* Unlocked active (stalled): removed, with its state as prev. */
	cmd("DEL bull:q:2:lock");
	ck_assert_int_eq(bullmq_remove(q, "2"), 1);
	ck_assert_str_eq(harness_last_event(),
	    "event=removed jobId=2 prev=active");
	ck_assert_int_eq(harness_int("EXISTS bull:q:active"), 0);

	/* The states' prev names. */
	job("c", 1);
	cmd("ZADD bull:q:completed 5 c");
	ck_assert_int_eq(bullmq_remove(q, "c"), 1);
	ck_assert_str_eq(harness_last_event(),
	    "event=removed jobId=c prev=completed");
	job("p", 1);
	cmd("ZADD bull:q:prioritized 5 p");
	ck_assert_int_eq(bullmq_remove(q, "p"), 1);
	ck_assert_str_eq(harness_last_event(),
	    "event=removed jobId=p prev=prioritized");
	job("l", 1);
	cmd("RPUSH bull:q:paused l");
	ck_assert_int_eq(bullmq_remove(q, "l"), 1);
	ck_assert_str_eq(harness_last_event(),
	    "event=removed jobId=l prev=paused");
	ck_assert_str_eq(harness_str("HGET bull:q:meta opts.maxLenEvents"),
	    "10000");
}
END_TEST

/* Get, state and remove by the longest id; a longer one is refused. */
START_TEST(long_id)
{
	static char		 lid[BULLMQ_MAX_ID + 2];
	struct bullmq_add_opts	 o;
	bullmq_job		*j;
	char			 id[BULLMQ_MAX_ID + 1], st[32];

	memset(lid, 'y', BULLMQ_MAX_ID);
	lid[0] = 'L';
	lid[BULLMQ_MAX_ID] = '\0';
	memset(&o, 0, sizeof(o));
	o.job_id = lid;
	ck_assert_int_eq(bullmq_add(q, "long", "{\"a\":1}", &o, id,
	    sizeof(id)), BULLMQ_ADDED);
	cmd("RPUSH bull:q:%s:logs line", lid);
	ck_assert_int_eq(bullmq_get_job(q, lid, &j), 1);
	ck_assert_str_eq(bullmq_job_id(j), lid);
	ck_assert_str_eq(bullmq_job_name(j), "long");
	bullmq_job_free(j);
	ck_assert_int_eq(bullmq_get_state(q, lid, st, sizeof(st)), 0);
	ck_assert_str_eq(st, "waiting");
	ck_assert_int_eq(bullmq_remove(q, lid), 1);
	ck_assert_int_eq(harness_int("EXISTS bull:q:%s bull:q:%s:logs", lid,
	    lid), 0);
	ck_assert_int_eq(bullmq_get_job(q, lid, &j), 0);

	/* a byte more: refused before Redis is asked, naming the limit */
	lid[BULLMQ_MAX_ID] = 'y';
	lid[BULLMQ_MAX_ID + 1] = '\0';
	ck_assert_int_eq(bullmq_get_job(q, lid, &j), -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_ARG);
	ck_assert_msg(strstr(bullmq_errstr(q), "longer than 3072 bytes") !=
	    NULL, "error \"%s\"", bullmq_errstr(q));
	ck_assert_int_eq(bullmq_get_state(q, lid, st, sizeof(st)), -1);
	ck_assert(strstr(bullmq_errstr(q), "longer than 3072 bytes") != NULL);
	ck_assert_int_eq(bullmq_remove(q, lid), -1);
	ck_assert(strstr(bullmq_errstr(q), "longer than 3072 bytes") != NULL);
}
END_TEST

START_TEST(remove_scheduler_dedup_parent)
{
	struct bullmq_add_opts	o;
	char			id[128];

	/* The current iteration of a scheduler is refused (-8). */
	job("repeat:s1:1700000000000", 1);
	cmd("HSET bull:q:repeat:s1:1700000000000 rjk s1");
	cmd("ZADD bull:q:repeat 1700000000000 s1");
	cmd("ZADD bull:q:delayed 1 repeat:s1:1700000000000");
	ck_assert_int_eq(bullmq_remove(q, "repeat:s1:1700000000000"), -1);
	ck_assert_int_eq(bullmq_script_code(q), -8);
	ck_assert(strstr(bullmq_errstr(q), "scheduler") != NULL);
	ck_assert_int_eq(harness_int("ZCARD bull:q:delayed"), 1);
	/* An older iteration is not protected. */
	job("repeat:s1:1600000000000", 1);
	cmd("HSET bull:q:repeat:s1:1600000000000 rjk s1");
	ck_assert_int_eq(bullmq_remove(q, "repeat:s1:1600000000000"), 1);

	/* The deduplication window of a removed job is released. */
	memset(&o, 0, sizeof(o));
	o.dedup_id = "dd";
	ck_assert_int_eq(bullmq_add(q, "x", NULL, &o, id, sizeof(id)), 0);
	cmd("HSET bull:q:dn:dd name x");
	ck_assert_int_eq(bullmq_remove(q, id), 1);
	ck_assert_int_eq(harness_int("EXISTS bull:q:de:dd bull:q:dn:dd"), 0);
	/* ... but not a window owned by another job. */
	ck_assert_int_eq(bullmq_add(q, "x", NULL, &o, id, sizeof(id)), 0);
	cmd("SET bull:q:de:dd other");
	ck_assert_int_eq(bullmq_remove(q, id), 1);
	ck_assert_str_eq(harness_str("GET bull:q:de:dd"), "other");

	/* The last pending child releases its parent to the front of wait. */
	job("par", 1);
	cmd("ZADD bull:q:waiting-children 1 par");
	cmd("SADD bull:q:par:dependencies bull:q:k1 bull:q:k2");
	job("k1", 1);
	cmd("HSET bull:q:k1 parentKey bull:q:par");
	job("k2", 1);
	cmd("HSET bull:q:k2 parentKey bull:q:par");
	cmd("LPUSH bull:q:wait k1 k2");
	ck_assert_int_eq(bullmq_remove(q, "k1"), 1);
	ck_assert_int_eq(harness_int("ZCARD bull:q:waiting-children"), 1);
	cmd("DEL bull:q:marker");
	ck_assert_int_eq(bullmq_remove(q, "k2"), 1);
	ck_assert_int_eq(harness_int("ZCARD bull:q:waiting-children"), 0);
	ck_assert_str_eq(harness_str("LINDEX bull:q:wait -1"), "par");
	ck_assert_str_eq(harness_str("ZSCORE bull:q:marker 0"), "0");
	{
		char	ev[64][200];
		int	n = harness_events(ev, 64);

		ck_assert_int_ge(n, 2);
		ck_assert_str_eq(ev[n - 2], "event=waiting jobId=par "
		    "prev=waiting-children");
		ck_assert_str_eq(ev[n - 1], "event=removed jobId=k2 prev=wait");
	}
}
END_TEST

START_TEST(retry_failed)
{
	long long	now = bullmq_now();
	char		ev[16][200];
	int		n;

	job("f1", 1);
	job("f2", 1);
	job("f3", 1);
	cmd("HSET bull:q:f1 finishedOn %lld processedOn 5 failedReason boom "
	    "atm 1", now - 3000);
	cmd("HSET bull:q:f2 finishedOn %lld processedOn 5 failedReason boom",
	    now - 2000);
	cmd("ZADD bull:q:failed %lld f1 %lld f2 %lld f3", now - 3000,
	    now - 2000, now + 60000);
	ck_assert_int_eq(bullmq_retry_jobs(q, NULL, 0), 2);
	/* Oldest first to the consumer end; f3 finished "later". */
	ck_assert_str_eq(harness_str("LINDEX bull:q:wait -1"), "f1");
	ck_assert_str_eq(harness_str("LINDEX bull:q:wait 0"), "f2");
	ck_assert_int_eq(harness_int("ZCARD bull:q:failed"), 1);
	ck_assert_int_eq(harness_int("HEXISTS bull:q:f1 finishedOn"), 0);
	ck_assert_int_eq(harness_int("HEXISTS bull:q:f1 processedOn"), 0);
	ck_assert_int_eq(harness_int("HEXISTS bull:q:f1 failedReason"), 0);
	ck_assert_str_eq(harness_str("HGET bull:q:f1 atm"), "1");
	ck_assert_str_eq(harness_str("ZSCORE bull:q:marker 0"), "0");
	n = harness_events(ev, 16);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(ev[0], "event=waiting jobId=f1 prev=failed");
	ck_assert_str_eq(ev[1], "event=waiting jobId=f2 prev=failed");

	ck_assert_int_eq(bullmq_retry_jobs(q, "failed", 0), 0);
	ck_assert_int_eq(bullmq_retry_jobs(q, "active", 0), -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_ARG);
}
END_TEST

START_TEST(retry_completed_count_paused)
{
	long long	now = bullmq_now();
	int		i;

	cmd("HSET bull:q:meta paused 1");
	for (i = 0; i < 5; i++) {
		cmd("HSET bull:q:c%d name n data {} returnvalue 42 finishedOn "
		    "%lld", i, now - 100 + i);
		cmd("ZADD bull:q:completed %lld c%d", now - 100 + i, i);
	}
	/* A child retried from completed is pending for its parent again. */
	job("par", 1);
	cmd("HSET bull:q:c0 parentKey bull:q:par");
	cmd("HSET bull:q:par:processed bull:q:c0 42");
	ck_assert_int_eq(bullmq_retry_jobs(q, "completed", 3), 3);
	ck_assert_int_eq(harness_int("LLEN bull:q:wait"), 3);
	ck_assert_int_eq(harness_int("ZCARD bull:q:completed"), 2);
	ck_assert_int_eq(harness_int("HEXISTS bull:q:c0 returnvalue"), 0);
	ck_assert_int_eq(harness_int("SISMEMBER bull:q:par:dependencies "
	    "bull:q:c0"), 1);
	ck_assert_int_eq(harness_int("HEXISTS bull:q:par:processed "
	    "bull:q:c0"), 0);
	ck_assert_str_eq(harness_last_event(), "event=waiting jobId=c2 "
	    "prev=completed");
	/* Paused: no marker. */
	ck_assert_int_eq(harness_int("EXISTS bull:q:marker"), 0);
	ck_assert_int_eq(bullmq_retry_jobs(q, "completed", 0), 2);
	ck_assert_int_eq(harness_int("LLEN bull:q:wait"), 5);
}
END_TEST

START_TEST(clean_finished)
{
	long long	now = bullmq_now();
	int		i;

	for (i = 0; i < 10; i++) {
		job("x", 1);
		cmd("RENAME bull:q:x bull:q:c%d", i);
		cmd("ZADD bull:q:completed %lld c%d", i < 6 ? now - 60000 :
		    now, i);
	}
	cmd("RPUSH bull:q:c0:logs l");
	ck_assert_int_eq(bullmq_clean(q, "completed", 10000, 0), 6);
	ck_assert_int_eq(harness_int("ZCARD bull:q:completed"), 4);
	ck_assert_int_eq(harness_int("EXISTS bull:q:c0 bull:q:c0:logs "
	    "bull:q:c5"), 0);
	ck_assert_int_eq(harness_int("EXISTS bull:q:c6"), 1);
	ck_assert_str_eq(harness_last_event(), "event=cleaned count=6");
	/* With a limit. */
	ck_assert_int_eq(bullmq_clean(q, "completed", 0, 3), 3);
	ck_assert_int_eq(harness_int("ZCARD bull:q:completed"), 1);
	ck_assert_str_eq(harness_last_event(), "event=cleaned count=3");
	ck_assert_int_eq(bullmq_clean(q, "bogus", 0, 0), -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_ARG);
}
END_TEST

START_TEST(clean_lists)
{
	long long	now = bullmq_now();
	char		st[32];

	/* wait: by finishedOn, processedOn, then timestamp. */
	job("old", now - 60000);
	job("new", now);
	job("proc", now - 60000);
	cmd("HSET bull:q:proc processedOn %lld", now);
	job("repeat:s:5", now - 60000);
	cmd("HSET bull:q:repeat:s:5 rjk s");
	cmd("ZADD bull:q:repeat 5 s");
	cmd("LPUSH bull:q:wait old new proc repeat:s:5");
	ck_assert_int_eq(bullmq_clean(q, "waiting", 10000, 0), 1);
	ck_assert_int_eq(harness_int("LLEN bull:q:wait"), 3);
	ck_assert_int_eq(harness_int("EXISTS bull:q:old"), 0);
	ck_assert_int_eq(bullmq_get_state(q, "repeat:s:5", st, sizeof(st)),
	    0);
	ck_assert_str_eq(st, "waiting");
	ck_assert_int_eq(harness_int("LPOS bull:q:wait %s", ""), -999999);

	/* active: only jobs without a lock. */
	job("a1", now - 60000);
	job("a2", now - 60000);
	cmd("LPUSH bull:q:active a1 a2");
	cmd("SET bull:q:a2:lock tok");
	ck_assert_int_eq(bullmq_clean(q, "active", 10000, 0), 1);
	ck_assert_str_eq(harness_str("LINDEX bull:q:active 0"), "a2");
	ck_assert_int_eq(harness_int("LLEN bull:q:active"), 1);

	/* delayed: by processedOn then timestamp; prioritized: timestamp. */
	job("d1", now - 60000);
	job("d2", now);
	cmd("ZADD bull:q:delayed 1 d1 2 d2");
	ck_assert_int_eq(bullmq_clean(q, "delayed", 10000, 0), 1);
	ck_assert_int_eq(harness_int("ZCARD bull:q:delayed"), 1);
	ck_assert_str_eq(harness_str("ZSCORE bull:q:delayed d2"), "2");
	job("p1", now - 60000);
	cmd("ZADD bull:q:prioritized 1 p1");
	ck_assert_int_eq(bullmq_clean(q, "prioritized", 10000, 0), 1);
	ck_assert_int_eq(harness_int("EXISTS bull:q:prioritized bull:q:p1"),
	    0);

	/* A limit on a list counts from the consumer (oldest) end. */
	cmd("DEL bull:q:wait");
	job("w1", 1);
	job("w2", 1);
	job("w3", 1);
	cmd("LPUSH bull:q:wait w1 w2 w3");
	ck_assert_int_eq(bullmq_clean(q, "wait", 0, 2), 2);
	ck_assert_int_eq(harness_int("LLEN bull:q:wait"), 1);
	ck_assert_str_eq(harness_str("LINDEX bull:q:wait 0"), "w3");
}
END_TEST

START_TEST(clean_big)
{
	struct bullmq_add_req	*reqs;
	size_t			 i, n = 12000;

	reqs = calloc(n, sizeof(*reqs));
	ck_assert_ptr_ne(reqs, NULL);
	for (i = 0; i < n; i++)
		reqs[i].name = "x";
	ck_assert_int_eq(bullmq_add_bulk(q, reqs, n), (long)n);
	free(reqs);
	/* More than one call of 10000 (Node's batch); two cleaned events. */
	ck_assert_int_eq(bullmq_clean(q, "wait", 0, 0), (long)n);
	ck_assert_int_eq(harness_int("EXISTS bull:q:wait bull:q:1 "
	    "bull:q:12000"), 0);
	ck_assert_str_eq(harness_last_event(), "event=cleaned count=2000");
}
END_TEST

START_TEST(drain)
{
	struct bullmq_add_opts	o;
	struct bullmq_counts	c;
	char			id[128];

	memset(&o, 0, sizeof(o));
	add("w");
	add("w");
	o.priority = 3;
	bullmq_add(q, "p", NULL, &o, id, sizeof(id));
	o.priority = 0;
	o.delay = 60000;
	bullmq_add(q, "d", NULL, &o, id, sizeof(id));
	o.delay = 0;
	o.dedup_id = "dd";
	bullmq_add(q, "dd", NULL, &o, id, sizeof(id));
	job("l1", 1);
	cmd("RPUSH bull:q:paused l1");
	job("a1", 1);
	cmd("LPUSH bull:q:active a1");
	job("c1", 1);
	cmd("ZADD bull:q:completed 1 c1");
	/* A scheduler's current iteration stays. */
	job("repeat:s:7", 1);
	cmd("HSET bull:q:repeat:s:7 rjk s");
	cmd("ZADD bull:q:repeat 7 s");
	cmd("LPUSH bull:q:wait repeat:s:7");
	add("w");

	ck_assert_int_eq(bullmq_drain(q, 0), 0);
	ck_assert_int_eq(bullmq_get_counts(q, &c), 0);
	ck_assert_int_eq(c.wait, 1);
	ck_assert_int_eq(c.prioritized, 0);
	ck_assert_int_eq(c.delayed, 1);
	ck_assert_int_eq(c.paused, 0);
	ck_assert_int_eq(c.active, 1);
	ck_assert_int_eq(c.completed, 1);
	ck_assert_str_eq(harness_str("LINDEX bull:q:wait 0"), "repeat:s:7");
	ck_assert_int_eq(harness_int("EXISTS bull:q:1 bull:q:3 bull:q:5 "
	    "bull:q:l1 bull:q:de:dd"), 0);
	ck_assert_int_eq(harness_int("EXISTS bull:q:4 bull:q:a1 bull:q:c1"),
	    3);
	ck_assert_int_eq(bullmq_drain(q, 1), 0);
	ck_assert_int_eq(bullmq_get_counts(q, &c), 0);
	ck_assert_int_eq(c.delayed, 0);
	ck_assert_int_eq(harness_int("EXISTS bull:q:4"), 0);
}
END_TEST

START_TEST(obliterate)
{
	struct bullmq_add_req	*reqs;
	size_t			 i, n = 2500;
	redisReply		*r;

	reqs = calloc(n, sizeof(*reqs));
	ck_assert_ptr_ne(reqs, NULL);
	for (i = 0; i < n; i++) {
		reqs[i].name = "x";
		reqs[i].opts.priority = i % 3 == 0 ? 2 : 0;
		reqs[i].opts.delay = i % 5 == 0 ? 60000 : 0;
	}
	ck_assert_int_eq(bullmq_add_bulk(q, reqs, n), (long)n);
	free(reqs);
	job("a1", 1);
	cmd("LPUSH bull:q:active a1");
	cmd("SET bull:q:a1:lock tok");
	job("c1", 1);
	cmd("ZADD bull:q:completed 1 c1");
	job("f1", 1);
	cmd("ZADD bull:q:failed 1 f1");
	cmd("RPUSH bull:q:f1:logs x");
	cmd("ZADD bull:q:repeat 5 s");
	cmd("HSET bull:q:repeat:s name n ic 1");
	cmd("HSET bull:q:metrics:completed count 1");
	cmd("RPUSH bull:q:metrics:completed:data 1");
	cmd("SET bull:q:stalled-check 1");
	cmd("SADD bull:q:stalled a1");

	/* Active jobs refuse it without force; the queue is left paused. */
	ck_assert_int_eq(bullmq_obliterate(q, 0), -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_JOB);
	ck_assert_int_eq(bullmq_script_code(q), -2);
	ck_assert_int_eq(harness_int("HEXISTS bull:q:meta paused"), 1);
	ck_assert_int_eq(harness_int("EXISTS bull:q:1"), 1);

	cmd("SET bull:q:limiter 3");
	ck_assert_int_eq(bullmq_obliterate(q, 1), 0);
	/* Like bullmq 6.7.0: only the limiter survives here. */
	r = harness_cmd("KEYS *");
	ck_assert_uint_eq(r->elements, 1);
	ck_assert_str_eq(r->element[0]->str, "bull:q:limiter");
	freeReplyObject(r);
}
END_TEST

START_TEST(obliterate_pauses_first)
{
	add("x");
	/* Node's Queue.obliterate pauses the queue itself. */
	ck_assert_int_eq(bullmq_obliterate(q, 0), 0);
	ck_assert_int_eq(harness_int("DBSIZE"), 0);
}
END_TEST

/* Collect worker names for the workers test. */
static void
worker_cb(const struct bullmq_worker_info *w, void *arg)
{
	char	*names = arg;

	strlcat(names, "[", 256);
	strlcat(names, w->name, 256);
	strlcat(names, "]", 256);
	ck_assert(w->addr[0] != '\0');
	ck_assert_int_ge(w->age, 0);
}

START_TEST(workers)
{
	static const char *const names[] = { "bull:cQ==", "bull:cQ==:w:alpha",
	    "bull:cQ==:qe", "bull:cQ==x", "bull:other", NULL };
	redisContext	*c[5];
	redisReply	*r;
	char		 got[256] = "";
	int		 i;

	ck_assert_int_eq(bullmq_workers(q, NULL, NULL), 0);
	for (i = 0; names[i] != NULL; i++) {
		c[i] = redisConnectUnix(harness_sock);
		ck_assert(c[i] != NULL && c[i]->err == 0);
		r = redisCommand(c[i], "CLIENT SETNAME %s", names[i]);
		ck_assert_ptr_ne(r, NULL);
		freeReplyObject(r);
	}
	ck_assert_int_eq(bullmq_workers(q, worker_cb, got), 2);
	ck_assert(strstr(got, "[]") != NULL);
	ck_assert(strstr(got, "[alpha]") != NULL);
	for (i = 0; names[i] != NULL; i++)
		redisFree(c[i]);
}
END_TEST

/* What the events test saw. */
struct seen {
	int	n;
	char	last[400];
};

/* Record one event entry as "id: name=value ...". */
static void
event_cb(const char *id, size_t nf, const char **f, const size_t *l,
    void *arg)
{
	struct seen	*s = arg;
	size_t		 i, o;

	o = snprintf(s->last, sizeof(s->last), "%s:", id[0] != '\0' ? "id" :
	    "");
	for (i = 0; i + 1 < nf; i += 2)
		o += snprintf(s->last + o, sizeof(s->last) - o, " %.*s=%.*s",
		    (int)l[i], f[i], (int)l[i + 1], f[i + 1]);
	s->n++;
}

START_TEST(events_read)
{
	struct seen	s;
	char		last[64] = "0";
	pid_t		pid;
	int		st;

	memset(&s, 0, sizeof(s));
	add("e");
	ck_assert_int_eq(bullmq_events_read(q, last, 0, event_cb, &s), 2);
	ck_assert_int_eq(s.n, 2);
	ck_assert_str_eq(s.last, "id: event=waiting jobId=1");
	ck_assert_str_ne(last, "0");
	/* Nothing new: 0 at once, or after the block time. */
	ck_assert_int_eq(bullmq_events_read(q, last, 0, event_cb, &s), 0);
	ck_assert_int_eq(bullmq_events_read(q, last, 50, event_cb, &s), 0);

	/* Blocking: another process writes while we wait. */
	if ((pid = fork()) == 0) {
		redisContext	*c;
		struct timespec	 ts = { 0, 200000000L };

		nanosleep(&ts, NULL);
		c = redisConnectUnix(harness_sock);
		freeReplyObject(redisCommand(c, "XADD bull:q:events * event "
		    "custom x 1"));
		redisFree(c);
		_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(bullmq_events_read(q, last, 5000, event_cb, &s), 1);
	ck_assert_str_eq(s.last, "id: event=custom x=1");
	waitpid(pid, &st, 0);
	ck_assert_int_eq(bullmq_events_read(q, last, 0, event_cb, &s), 0);

	strlcpy(last, "bogus", sizeof(last));
	ck_assert_int_eq(bullmq_events_read(q, last, 0, event_cb, &s), -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_REDIS);
}
END_TEST

START_TEST(events_block_outlasts_timeout)
{
	struct bullmq_conn_opts	 co;
	bullmq_queue		*q2;
	struct seen		 s;
	char			 last[64] = "$";

	/* A block longer than the command timeout is not a lost link. */
	memset(&co, 0, sizeof(co));
	memset(&s, 0, sizeof(s));
	co.url = harness_url;
	co.queue = "q";
	co.command_timeout_ms = 100;
	q2 = bullmq_queue_new(&co);
	ck_assert_ptr_ne(q2, NULL);
	ck_assert_int_eq(bullmq_events_read(q2, last, 300, event_cb, &s), 0);
	ck_assert_str_eq(last, "$");
	/* The timeout is back afterwards: the handle still works. */
	ck_assert_int_eq(bullmq_add(q2, "x", NULL, NULL, NULL, 0), 0);
	ck_assert_int_eq(bullmq_events_read(q2, last, 0, event_cb, &s), 0);
	bullmq_queue_free(q2);
}
END_TEST

/* The suite. */
Suite *
make_suite(void)
{
	Suite	*s = suite_create("admin");
	TCase	*tc = harness_tcase(s, "admin", "q", &q, 60);

	tcase_add_test(tc, pause_resume);
	tcase_add_test(tc, resume_markers);
	tcase_add_test(tc, resume_legacy_paused);
	tcase_add_test(tc, counts);
	tcase_add_test(tc, get_job);
	tcase_add_test(tc, get_state);
	tcase_add_test(tc, remove_job);
	tcase_add_test(tc, long_id);
	tcase_add_test(tc, remove_scheduler_dedup_parent);
	tcase_add_test(tc, retry_failed);
	tcase_add_test(tc, retry_completed_count_paused);
	tcase_add_test(tc, clean_finished);
	tcase_add_test(tc, clean_lists);
	tcase_add_test(tc, clean_big);
	tcase_add_test(tc, drain);
	tcase_add_test(tc, obliterate);
	tcase_add_test(tc, obliterate_pauses_first);
	tcase_add_test(tc, workers);
	tcase_add_test(tc, events_read);
	tcase_add_test(tc, events_block_outlasts_timeout);
	return s;
}
