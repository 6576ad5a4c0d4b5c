/*
 * suite.h: what a Check suite defines.
 *
 * Each tests/unit/check_NAME.c and tests/integration/check_NAME.c defines
 * make_suite(); tests/check-main.c, linked into every one, runs it.
 */
#ifndef SUITE_H
#define SUITE_H

#include <check.h>

/* The suite of this program, built once by main(). */
Suite	*make_suite(void);

#endif
