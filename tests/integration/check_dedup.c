/*
 * check_dedup.c: the deduplication modes on add (add-dedup-9.lua) against
 * a private redis-server; tests/interop/16-dedup-modes.mjs holds them
 * against Node's Queue.add.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"
#include "harness.h"
#include "suite.h"

static bullmq_queue	*q;

/* Add a job with the deduplication id "d" and the options text. */
static int
add(const char *opts, char id[HARNESS_IDLEN])
{
	struct bullmq_add_opts	o;
	char			err[256];

	ck_assert_msg(bullmq_add_opts_parse(opts, strlen(opts), &o, err,
	    sizeof(err)) == 0, "%s", err);
	return bullmq_add(q, "n", "{}", &o, id, HARNESS_IDLEN);
}

START_TEST(replace_delayed)
{
	char	a[HARNESS_IDLEN], b[HARNESS_IDLEN];

	ck_assert_int_eq(add("{\"delay\":5000,\"deduplication\":{\"id\":\"d\","
	    "\"replace\":true}}", a), BULLMQ_ADDED);
	ck_assert_int_eq(add("{\"delay\":5000,\"deduplication\":{\"id\":\"d\","
	    "\"replace\":true}}", b), BULLMQ_ADDED);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(harness_int("EXISTS bull:q:%s", a), 0);
	ck_assert_str_eq(harness_str("GET bull:q:de:d"), b);
	ck_assert_str_eq(harness_event_field("removed", "prev"), "delayed");
	ck_assert_ptr_ne(strstr(harness_str("HGET bull:q:%s opts", b),
	    "\"replace\":true"), NULL);
}
END_TEST

START_TEST(extend_and_reschedule)
{
	char	a[HARNESS_IDLEN], b[HARNESS_IDLEN];

	ck_assert_int_eq(add("{\"deduplication\":{\"id\":\"d\",\"ttl\":100000,"
	    "\"extend\":true}}", a), BULLMQ_ADDED);
	freeReplyObject(harness_cmd("PEXPIRE bull:q:de:d 1000"));
	ck_assert_int_eq(add("{\"deduplication\":{\"id\":\"d\",\"ttl\":100000,"
	    "\"extend\":true}}", b), BULLMQ_DEDUPLICATED);
	ck_assert_str_eq(a, b);
	ck_assert_int_gt(harness_int("PTTL bull:q:de:d"), 50000);

	ck_assert_int_eq(add("{\"delay\":600000,\"deduplication\":{\"id\":"
	    "\"r\",\"reschedule\":true}}", a), BULLMQ_ADDED);
	ck_assert_int_eq(add("{\"delay\":10,\"deduplication\":{\"id\":\"r\","
	    "\"reschedule\":true}}", b), BULLMQ_DEDUPLICATED);
	ck_assert_str_eq(harness_str("HGET bull:q:%s delay", a), "10");
}
END_TEST

START_TEST(wrong_type)
{
	char	a[HARNESS_IDLEN];

	freeReplyObject(harness_cmd("SET bull:q:wait x"));
	ck_assert_int_eq(add("{\"deduplication\":{\"id\":\"d\",\"extend\":"
	    "true}}", a), -1);
	ck_assert_ptr_ne(strstr(bullmq_errstr(q), "bull:q:wait"), NULL);
	ck_assert_int_eq(harness_int("DBSIZE"), 1);
}
END_TEST

Suite *
make_suite(void)
{
	Suite	*s = suite_create("dedup");
	TCase	*tc = harness_tcase(s, "dedup", "q", &q, 60);

	tcase_add_test(tc, replace_delayed);
	tcase_add_test(tc, extend_and_reschedule);
	tcase_add_test(tc, wrong_type);
	return s;
}
