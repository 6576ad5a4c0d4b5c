/*
 * check_cron.c: the cron evaluator against next times computed by the
 * cron-parser that bullmq@6.7.0 uses (frozen here), in UTC and in time
 * zones, across changes of summer time.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"
#include "suite.h"

static const struct {
	const char	*pattern;
	const char	*tz;
	long long	 after;
	long long	 next;
} golden[] = {
	{ "* * * * *", NULL,
	    1700000000123LL, 1700000040000LL },	/* 2023-11-14 22:14:00 */
	{ "*/5 * * * *", NULL,
	    1700000000123LL, 1700000100000LL },	/* 2023-11-14 22:15:00 */
	{ "0 * * * *", NULL,
	    1700000000000LL, 1700002800000LL },	/* 2023-11-14 23:00:00 */
	{ "30 2 * * *", NULL,
	    1700000000000LL, 1700015400000LL },	/* 2023-11-15 02:30:00 */
	{ "0 0 1 * *", NULL,
	    1700000000000LL, 1701388800000LL },	/* 2023-12-01 00:00:00 */
	{ "0 9 * * 1-5", NULL,
	    1700000000000LL, 1700038800000LL },	/* 2023-11-15 09:00:00 */
	{ "0 9 * * MON-FRI", NULL,
	    1700265600000LL, 1700470800000LL },	/* 2023-11-20 09:00:00 */
	{ "15,45 */2 * * *", NULL,
	    1700000000000LL, 1700000100000LL },	/* 2023-11-14 22:15:00 */
	{ "0 0 29 2 *", NULL,
	    1700000000000LL, 1709164800000LL },	/* 2024-02-29 00:00:00 */
	{ "0 0 31 * *", NULL,
	    1700000000000LL, 1703980800000LL },	/* 2023-12-31 00:00:00 */
	{ "0 12 13 * 5", NULL,
	    1700000000000LL, 1700222400000LL },	/* 2023-11-17 12:00:00 */
	{ "5/15 * * * *", NULL,
	    1700000000000LL, 1700000400000LL },	/* 2023-11-14 22:20:00 */
	{ "0 0 * * 7", NULL,
	    1700000000000LL, 1700352000000LL },	/* 2023-11-19 00:00:00 */
	{ "0 0 * * 5-7", NULL,
	    1700000000000LL, 1700179200000LL },	/* 2023-11-17 00:00:00 */
	{ "0 0 * * */2", NULL,
	    1700000000000LL, 1700092800000LL },	/* 2023-11-16 00:00:00 */
	{ "*/10 * * * * *", NULL,
	    1700000000123LL, 1700000010000LL },	/* 2023-11-14 22:13:30 */
	{ "*/10 * * * * *", NULL,
	    1700000010000LL, 1700000020000LL },	/* 2023-11-14 22:13:40 */
	{ "0 */15 * * * *", NULL,
	    1700000000000LL, 1700000100000LL },	/* 2023-11-14 22:15:00 */
	{ "30 30 1 * * *", NULL,
	    1700000000000LL, 1700011830000LL },	/* 2023-11-15 01:30:30 */
	{ "0 0 0 1 jan,JUL *", NULL,
	    1700000000000LL, 1704067200000LL },	/* 2024-01-01 00:00:00 */
	{ "0 0 L * *", NULL,
	    1709164800000LL, 1711843200000LL },	/* 2024-03-31 00:00:00 */
	{ "0 0 L 2 *", NULL,
	    1700000000000LL, 1709164800000LL },	/* 2024-02-29 00:00:00 */
	{ "@daily", NULL,
	    1700000000000LL, 1700006400000LL },	/* 2023-11-15 00:00:00 */
	{ "@weekly", NULL,
	    1700000000000LL, 1700352000000LL },	/* 2023-11-19 00:00:00 */
	{ "@hourly", NULL,
	    1700000000000LL, 1700002800000LL },	/* 2023-11-14 23:00:00 */
	{ "@monthly", NULL,
	    1700000000000LL, 1701388800000LL },	/* 2023-12-01 00:00:00 */
	{ "@yearly", NULL,
	    1700000000000LL, 1704067200000LL },	/* 2024-01-01 00:00:00 */
	{ "@weekdays", NULL,
	    1700265600000LL, 1700438400000LL },	/* 2023-11-20 00:00:00 */
	{ "@weekends", NULL,
	    1700000000000LL, 1700265600000LL },	/* 2023-11-18 00:00:00 */
	{ "0 0 12 ? * wed", NULL,
	    1700000000000LL, 1700049600000LL },	/* 2023-11-15 12:00:00 */
	{ "1-10/3 * * * *", NULL,
	    1700000000000LL, 1700002860000LL },	/* 2023-11-14 23:01:00 */
	{ "0 10 * * 6L", NULL,
	    1700000000000LL, 1700906400000LL },	/* 2023-11-25 10:00:00 */
	{ "0 10 * * 6L", NULL,
	    1700906400000LL, 1703930400000LL },	/* 2023-12-30 10:00:00 */
	{ "0 0 * * 1#2", NULL,
	    1700000000000LL, 1702252800000LL },	/* 2023-12-11 00:00:00 */
	{ "0 0 * * mon#1", NULL,
	    1700000000000LL, 1701648000000LL },	/* 2023-12-04 00:00:00 */
	{ "0 0 15L * *", NULL,
	    1700000000000LL, 1701302400000LL },	/* 2023-11-30 00:00:00 */
	{ "0 0 1-7 * 1", NULL,
	    1700000000000LL, 1700438400000LL },	/* 2023-11-20 00:00:00 */
	{ "59 23 31 12 *", NULL,
	    1700000000000LL, 1704067140000LL },	/* 2023-12-31 23:59:00 */
	{ "0 0 * jun-aug sun", NULL,
	    1700000000000LL, 1717286400000LL },	/* 2024-06-02 00:00:00 */
	{ "1 2 3", NULL,
	    1700000000000LL, 1706745600000LL },	/* 2024-02-01 00:00:00 */
	{ "0 0 */3 * *", NULL,
	    1700000000000LL, 1700092800000LL },	/* 2023-11-16 00:00:00 */
	{ "  0   12 * * *  ", NULL,
	    1700000000000LL, 1700049600000LL },	/* 2023-11-15 12:00:00 */
	{ "0 0 1 1 *", NULL,
	    4102444800000LL, 4133980800000LL },	/* 2101-01-01 00:00:00 */
	{ "30 2 * * *", "Europe/Berlin",
	    1700000000000LL, 1700011800000LL },	/* 2023-11-15 01:30:00 */
	{ "0 9 * * 1-5", "America/New_York",
	    1700000000000LL, 1700056800000LL },	/* 2023-11-15 14:00:00 */
	{ "0 0 * * *", "Asia/Kolkata",
	    1700000000000LL, 1700073000000LL },	/* 2023-11-15 18:30:00 */
	{ "0 0 * * *", "Australia/Lord_Howe",
	    1700000000000LL, 1700053200000LL },	/* 2023-11-15 13:00:00 */
	{ "*/30 * * * *", "Asia/Kolkata",
	    1700000000000LL, 1700001000000LL },	/* 2023-11-14 22:30:00 */
	{ "0 0 1 * *", "America/Sao_Paulo",
	    1700000000000LL, 1701399600000LL },	/* 2023-12-01 03:00:00 */
	{ "30 2 * * *", "Europe/Berlin",
	    1711843200000LL, 1711848600000LL },	/* 2024-03-31 01:30:00 */
	{ "0 2 * * *", "America/New_York",
	    1710050400000LL, 1710054000000LL },	/* 2024-03-10 07:00:00 */
	{ "* * * * *", "Europe/Berlin",
	    1711846770000LL, 1711846800000LL },	/* 2024-03-31 01:00:00 */
	{ "0 * * * *", "America/New_York",
	    1730604600000LL, 1730606400000LL },	/* 2024-11-03 04:00:00 */
	{ "30 1 * * *", "America/New_York",
	    1730611800000LL, 1730701800000LL },	/* 2024-11-04 06:30:00 */
	{ "0 0 * * *", "UTC",
	    1700000000000LL, 1700006400000LL },	/* 2023-11-15 00:00:00 */
};

/* Each pattern gives cron-parser's next time. */
START_TEST(test_golden)
{
	int64_t	next;
	char	err[256];
	size_t	i;

	for (i = 0; i < sizeof(golden) / sizeof(golden[0]); i++) {
		next = -1;
		ck_assert_msg(bmq_cron_next(golden[i].pattern, golden[i].tz,
		    golden[i].after, &next, err, sizeof(err)) == 0,
		    "\"%s\": %s", golden[i].pattern, err);
		ck_assert_msg(next == golden[i].next, "\"%s\" %s after %lld: "
		    "%lld, want %lld", golden[i].pattern, golden[i].tz != NULL ?
		    golden[i].tz : "UTC", golden[i].after, (long long)next,
		    golden[i].next);
	}
}
END_TEST

/* Iterating gives strictly growing times, one second apart at most. */
START_TEST(test_iterate)
{
	int64_t	t = 1700000000123LL, n;
	char	err[128];
	int	i;

	for (i = 0; i < 100; i++) {
		ck_assert_int_eq(bmq_cron_next("* * * * * *", NULL, t, &n, err,
		    sizeof(err)), 0);
		ck_assert(n > t && n - t <= 1000);
		ck_assert_int_eq(n % 1000, 0);
		t = n;
	}
	/* the strictly-after rule on an exact match */
	ck_assert_int_eq(bmq_cron_next("0 0 * * *", NULL, 1700006400000LL, &n,
	    err, sizeof(err)), 0);
	ck_assert_int_eq(n, 1700006400000LL + 86400000LL);
}
END_TEST

/* H is drawn from a seed as cron-parser draws it (values from it). */
START_TEST(test_hash_seed)
{
	char	err[256];
	int64_t	n = 0;

	ck_assert_int_eq(bullmq_cron_next("H H * * *", NULL, "abc",
	    1700000000000LL, &n, err, sizeof(err)), 0);
	ck_assert_int_eq(n, 1700008740000LL);
	ck_assert_int_eq(bullmq_cron_next("H/15 * * * *", NULL, "job-x",
	    1700000000000LL, &n, err, sizeof(err)), 0);
	ck_assert_int_eq(n, 1700000880000LL);
	ck_assert_int_eq(bullmq_cron_next("H * * * *", NULL, NULL,
	    1700000000000LL, &n, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "hashSeed") != NULL, "%s", err);
}
END_TEST

/* Patterns cron-parser refuses, and H without a seed, fail. */
START_TEST(test_invalid)
{
	static const char	*bad[] = {
		"61 * * * *", "0 0 * * 8", "x * * * *", "* * * * * * *",
		"0 0 32 * *", "0 24 * * *", "*/0 * * * *", "5-1 * * * *",
		"0 0 * foo *", "1,,2 * * * *", "0 0 1W * *", ",1 * * * *",
		"1, * * * *", "H * * * *", "0 0 * * L", "0 0 * * 1#6",
		"0 0 * * 1#2,3", "0 0 * * 1-2#2", "0 0 1,1 * *", "0 0 * * 0,7",
		"0 0 L-3 * *", "0 0 LW * *", "0 0 * * 1#0"
	};
	int64_t			 n;
	char			 err[256], many[300];
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(bmq_cron_next(bad[i], NULL, 0, &n, err,
		    sizeof(err)) == -1, "\"%s\" accepted", bad[i]);
		ck_assert_msg(err[0] != '\0', "\"%s\": no message", bad[i]);
	}
	/* fuzz_cron: a field whose "*"s outgrow the expansion buffer */
	memset(many, '*', sizeof(many));
	memcpy(many + sizeof(many) - 9, " * * * *", 9);
	err[0] = '\0';
	ck_assert_int_eq(bmq_cron_next(many, NULL, 0, &n, err, sizeof(err)),
	    -1);
	ck_assert_msg(err[0] != '\0', "a long field: no message");
	/* never: February 30th */
	ck_assert_int_eq(bmq_cron_next("0 0 30 2 *", NULL, 0, &n, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(bmq_cron_next("0 0 * * *", "No/Such_Zone", 0, &n,
	    err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "No/Such_Zone"));
}
END_TEST

/* The caller's TZ is left as it was. */
START_TEST(test_tz_restored)
{
	int64_t	n;
	char	err[128];

	ck_assert_int_eq(setenv("TZ", "Asia/Tokyo", 1), 0);
	ck_assert_int_eq(bmq_cron_next("0 0 * * *", "Europe/Berlin", 0, &n,
	    err, sizeof(err)), 0);
	ck_assert_str_eq(getenv("TZ"), "Asia/Tokyo");
	ck_assert_int_eq(unsetenv("TZ"), 0);
	ck_assert_int_eq(bmq_cron_next("0 0 * * *", "Europe/Berlin", 0, &n,
	    err, sizeof(err)), 0);
	ck_assert_ptr_null(getenv("TZ"));
	/* midnight in Berlin (UTC+1 in January) */
	ck_assert_int_eq(n, 82800000LL);
}
END_TEST

/* The suite. */
Suite *
make_suite(void)
{
	Suite	*s = suite_create("cron");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_golden);
	tcase_add_test(tc, test_iterate);
	tcase_add_test(tc, test_invalid);
	tcase_add_test(tc, test_hash_seed);
	tcase_add_test(tc, test_tz_restored);
	suite_add_tcase(s, tc);
	return s;
}
