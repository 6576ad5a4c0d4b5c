/*
 * check_restart.c: the restart policy, a pure function of the restart
 * history and the time.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "daemon.h"
#include "suite.h"

/* The first quick death restarts at once, later ones back off. */
START_TEST(test_backoff_grows)
{
	struct restart_hist	h;
	int64_t			d;

	ck_assert_int_eq(restart_hist_init(&h, 100), 0);
	ck_assert_int_eq(restart_decide(&h, 100, 60000, 0, 1000, &d),
	    RESTART_NOW);
	ck_assert_int_eq(d, 0);
	ck_assert_int_eq(restart_decide(&h, 100, 60000, 1, 1000, &d),
	    RESTART_NOW);
	ck_assert_int_eq(d, 0);
	ck_assert_int_eq(restart_decide(&h, 100, 60000, 2, 1000, &d),
	    RESTART_LATER);
	ck_assert_int_eq(d, RESTART_BACKOFF_MIN);
	ck_assert_int_eq(restart_decide(&h, 100, 60000, 3, 1000, &d),
	    RESTART_LATER);
	ck_assert_int_eq(d, 2 * RESTART_BACKOFF_MIN);
	ck_assert_int_eq(restart_decide(&h, 100, 60000, 4, 1000, &d),
	    RESTART_LATER);
	ck_assert_int_eq(d, 4 * RESTART_BACKOFF_MIN);
	ck_assert_int_eq(restart_decide(&h, 100, 60000, 50, 1000, &d),
	    RESTART_LATER);
	ck_assert_int_eq(d, RESTART_BACKOFF_MAX);
	restart_hist_free(&h);
}
END_TEST

/* More than max-restarts within the window gives up. */
START_TEST(test_give_up)
{
	struct restart_hist	h;
	int64_t			d, t;

	ck_assert_int_eq(restart_hist_init(&h, 3), 0);
	for (t = 1000; t < 4000; t += 1000) {
		ck_assert_int_ne(restart_decide(&h, 3, 10000, 1, t, &d),
		    RESTART_GIVE_UP);
		restart_record(&h, t);
	}
	ck_assert_uint_eq(restart_count(&h, 4000, 10000), 3);
	ck_assert_int_eq(restart_decide(&h, 3, 10000, 1, 4000, &d),
	    RESTART_GIVE_UP);
	restart_hist_free(&h);
}
END_TEST

/* Restarts older than the window no longer count. */
START_TEST(test_window_slides)
{
	struct restart_hist	h;
	int64_t			d;

	ck_assert_int_eq(restart_hist_init(&h, 2), 0);
	restart_record(&h, 1000);
	restart_record(&h, 2000);
	ck_assert_int_eq(restart_decide(&h, 2, 5000, 0, 3000, &d),
	    RESTART_GIVE_UP);
	ck_assert_uint_eq(restart_count(&h, 6500, 5000), 1);
	ck_assert_int_eq(restart_decide(&h, 2, 5000, 0, 6500, &d),
	    RESTART_NOW);
	ck_assert_int_eq(restart_decide(&h, 2, 5000, 0, 7001, &d),
	    RESTART_NOW);
	ck_assert_uint_eq(restart_count(&h, 7001, 5000), 0);
	restart_hist_free(&h);
}
END_TEST

/* The ring keeps only the newest max-restarts + 1 times. */
START_TEST(test_ring)
{
	struct restart_hist	h;
	int64_t			t;

	ck_assert_int_eq(restart_hist_init(&h, 4), 0);
	for (t = 1; t <= 100; t++)
		restart_record(&h, t);
	ck_assert_uint_eq(h.n, 5);
	ck_assert_uint_eq(restart_count(&h, 100, 1000), 5);
	ck_assert_uint_eq(restart_count(&h, 100, 3), 3);
	restart_hist_free(&h);
	ck_assert_ptr_null(h.times);
}
END_TEST

/* max-restarts 0 gives up at the first unexpected death. */
START_TEST(test_zero)
{
	struct restart_hist	h;
	int64_t			d;

	ck_assert_int_eq(restart_hist_init(&h, 0), 0);
	ck_assert_int_eq(restart_decide(&h, 0, 60000, 0, 5, &d),
	    RESTART_GIVE_UP);
	restart_hist_free(&h);
}
END_TEST

/* The decision does not change the history. */
START_TEST(test_pure)
{
	struct restart_hist	h;
	int64_t			d;

	ck_assert_int_eq(restart_hist_init(&h, 5), 0);
	restart_record(&h, 10);
	(void)restart_decide(&h, 5, 1000, 3, 20, &d);
	(void)restart_decide(&h, 5, 1000, 3, 20, &d);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_uint_eq(restart_count(&h, 20, 1000), 1);
	restart_hist_free(&h);
}
END_TEST

/* The suite. */
Suite *
make_suite(void)
{
	Suite	*s = suite_create("restart");
	TCase	*tc = tcase_create("policy");

	tcase_add_test(tc, test_backoff_grows);
	tcase_add_test(tc, test_give_up);
	tcase_add_test(tc, test_window_slides);
	tcase_add_test(tc, test_ring);
	tcase_add_test(tc, test_zero);
	tcase_add_test(tc, test_pure);
	suite_add_tcase(s, tc);
	return s;
}
