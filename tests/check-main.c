/*
 * check-main.c: main() of every Check suite: runs make_suite()'s suite and
 * exits 0 when every test passed.  CK_FORK, CK_RUN_CASE and the other
 * environment variables of Check apply.
 */
#include <check.h>
#include <stdlib.h>

#include "suite.h"

/* Run the suite. */
int
main(void)
{
	SRunner	*sr = srunner_create(make_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
