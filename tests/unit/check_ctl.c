/*
 * check_ctl.c: the pure parts of the operator's side of bullmq-master:
 * the control socket's request lines, the autoscaler's decision and the
 * resident size read from /proc/PID/statm.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "master.h"
#include "suite.h"

/* Parse s as a request line. */
static int
parse(const char *s, struct ctl_req *r)
{
	return ctl_parse(s, strlen(s), r);
}

/* The requests a client may send. */
START_TEST(test_parse_ok)
{
	struct ctl_req	r;

	ck_assert_int_eq(parse("status", &r), 0);
	ck_assert_int_eq(r.cmd, CTL_STATUS);
	ck_assert_int_eq(parse("status json", &r), 0);
	ck_assert_int_eq(r.cmd, CTL_STATUS_JSON);
	ck_assert_int_eq(parse("health", &r), 0);
	ck_assert_int_eq(r.cmd, CTL_READY);
	ck_assert_int_eq(parse("health ready\r", &r), 0);
	ck_assert_int_eq(r.cmd, CTL_READY);
	ck_assert_int_eq(parse("health live", &r), 0);
	ck_assert_int_eq(r.cmd, CTL_LIVE);
	ck_assert_int_eq(parse("scale 12", &r), 0);
	ck_assert_int_eq(r.cmd, CTL_SCALE);
	ck_assert_int_eq(r.relative, 0);
	ck_assert_int_eq(r.n, 12);
	ck_assert_int_eq(parse("scale +1", &r), 0);
	ck_assert_int_eq(r.relative, 1);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(parse("scale -3", &r), 0);
	ck_assert_int_eq(r.relative, 1);
	ck_assert_int_eq(r.n, -3);
	ck_assert_int_eq(parse("scale 0", &r), 0);
	ck_assert_int_eq(r.n, 0);
}
END_TEST

/* Anything else is refused. */
START_TEST(test_parse_bad)
{
	static const char *const bad[] = { "", "stat", "status xml",
	    "health sick", "scale", "scale x", "scale 4097", "scale +4097",
	    "scale 1x", "scale ", "scale +-3", "scale ++3", "STATUS",
	    " status", "status json extra" };
	struct ctl_req	r;
	char		long_line[300];
	size_t		i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse(bad[i], &r) == -1, "\"%s\"", bad[i]);
		ck_assert_int_eq(r.cmd, CTL_BAD);
	}
	ck_assert_int_eq(ctl_parse("status\0json", 11, &r), -1);
	memset(long_line, 'a', sizeof(long_line));
	memcpy(long_line, "status ", 7);
	ck_assert_int_eq(ctl_parse(long_line, sizeof(long_line), &r), -1);
}
END_TEST

/* An input with everything quiet: nothing to do. */
static struct autoscale_in
quiet_in(void)
{
	struct autoscale_in	in;

	memset(&in, 0, sizeof(in));
	in.wanted = 4;
	in.min = 2;
	in.max = 10;
	in.since_grow_ms = in.since_change_ms = 100000;
	in.wait_ms = 1000;
	in.idle_ms = 30000;
	return in;
}

/* A backlog old enough, no child idle: grow, at most doubling. */
START_TEST(test_autoscale_grow)
{
	struct autoscale_in	in = quiet_in();
	const char		*why;

	ck_assert_int_eq(autoscale_decide(&in, &why), 4);
	ck_assert_ptr_null(why);
	in.backlog = 100;
	in.backlog_ms = 999;
	ck_assert_int_eq(autoscale_decide(&in, &why), 4);
	in.backlog_ms = 1000;
	ck_assert_int_eq(autoscale_decide(&in, &why), 8);
	ck_assert_ptr_nonnull(why);
	in.backlog = 2;
	ck_assert_int_eq(autoscale_decide(&in, &why), 6);
	in.backlog = 100;
	in.wanted = 8;
	ck_assert_int_eq(autoscale_decide(&in, &why), 10);
	in.wanted = 10;
	ck_assert_int_eq(autoscale_decide(&in, &why), 10);
	in.wanted = 4;
	in.idle_now = 1;
	ck_assert_int_eq(autoscale_decide(&in, &why), 4);
	in.idle_now = 0;
	in.since_change_ms = 500;
	ck_assert_int_eq(autoscale_decide(&in, &why), 4);
	in.min = 0;
	in.wanted = 0;
	in.since_change_ms = 100000;
	ck_assert_int_eq(autoscale_decide(&in, &why), 1);
}
END_TEST

/* No backlog: the children idle long enough go, after the quiet time. */
START_TEST(test_autoscale_shrink)
{
	struct autoscale_in	in = quiet_in();
	const char		*why;

	in.idle_long = 1;
	ck_assert_int_eq(autoscale_decide(&in, &why), 3);
	ck_assert_ptr_nonnull(why);
	in.idle_long = 4;
	ck_assert_int_eq(autoscale_decide(&in, &why), 2);
	in.since_grow_ms = 29999;
	ck_assert_int_eq(autoscale_decide(&in, &why), 4);
	ck_assert_ptr_null(why);
	in.since_grow_ms = 30000;
	in.wanted = 2;
	ck_assert_int_eq(autoscale_decide(&in, &why), 2);
	in.wanted = 4;
	in.backlog = 1;
	in.backlog_ms = 0;
	ck_assert_int_eq(autoscale_decide(&in, &why), 4);
}
END_TEST

/* A count out of bounds (a new setting) is brought back into them. */
START_TEST(test_autoscale_bounds)
{
	struct autoscale_in	in = quiet_in();
	const char		*why;

	in.wanted = 1;
	ck_assert_int_eq(autoscale_decide(&in, &why), 2);
	ck_assert_ptr_nonnull(why);
	in.wanted = 50;
	ck_assert_int_eq(autoscale_decide(&in, &why), 10);
}
END_TEST

/* The resident size out of /proc/PID/statm. */
START_TEST(test_statm)
{
	ck_assert_int_eq(statm_rss_kb("2345 678 90 1 0 200 0\n", 4096),
	    678 * 4);
	ck_assert_int_eq(statm_rss_kb("1 0 0 0 0 0 0", 4096), 0);
	ck_assert_int_eq(statm_rss_kb("100 300 0", 16384), 300 * 16);
	ck_assert_int_eq(statm_rss_kb("", 4096), -1);
	ck_assert_int_eq(statm_rss_kb("2345", 4096), -1);
	ck_assert_int_eq(statm_rss_kb("2345 x 1", 4096), -1);
	ck_assert_int_eq(statm_rss_kb("2345 -5 1", 4096), -1);
	ck_assert_int_eq(statm_rss_kb("2345 99999999999999999999 1", 4096),
	    -1);
}
END_TEST

/* The suite. */
Suite *
make_suite(void)
{
	Suite	*s = suite_create("ctl");
	TCase	*tc = tcase_create("pure");

	tcase_add_test(tc, test_parse_ok);
	tcase_add_test(tc, test_parse_bad);
	tcase_add_test(tc, test_autoscale_grow);
	tcase_add_test(tc, test_autoscale_shrink);
	tcase_add_test(tc, test_autoscale_bounds);
	tcase_add_test(tc, test_statm);
	suite_add_tcase(s, tc);
	return s;
}
