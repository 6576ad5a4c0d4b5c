/*
 * check_log.c: the daemon's log lines, read back from the standard error,
 * from a log file and from a stand-in for syslog(3): whole up to
 * LOG_LINE_MAX bytes, cut visibly past it, control characters escaped, one
 * write a line; the time in front, text, logfmt or JSON, and the levels.
 * slurp() checks the time of each line and masks it as T0.
 */
#include <sys/types.h>

/* Our own syslog() below, not glibc's checking one. */
#undef _FORTIFY_SOURCE

#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "daemon.h"
#include "suite.h"

#define T0	"0000-00-00T00:00:00.000Z"	/* a time, masked */

static char	path[64];
static char	buf[4 * LOG_LINE_MAX];
static char	prefix[64];
static char	sys_msg[2 * LOG_LINE_MAX];
static int	sys_pri = -1;

void	__syslog_chk(int, int, const char *, ...);

/* Keep a message as syslog would send it. */
static void
keep(int pri, const char *fmt, va_list ap)
{
	vsnprintf(sys_msg, sizeof(sys_msg), fmt, ap);
	sys_pri = pri;
}

/* In place of syslog(3), for log.c: keep the message. */
void
syslog(int pri, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	keep(pri, fmt, ap);
	va_end(ap);
}

/* The same, when log.c was built with _FORTIFY_SOURCE. */
void
__syslog_chk(int pri, int flag, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	keep(pri, fmt, ap);
	va_end(ap);
}

/* No syslog socket to open or close. */
void
openlog(const char *ident, int option, int facility)
{
}

void
closelog(void)
{
}

/* Send the standard error to a new file, and the log there. */
static void
setup(void)
{
	int	fd;

	strlcpy(path, "/tmp/check_log.XXXXXX", sizeof(path));
	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_ne(dup2(fd, STDERR_FILENO), -1);
	close(fd);
	ck_assert_int_eq(log_init(LOG_TO_STDERR, NULL, NULL, 0), 0);
	log_set_ident("test");
	log_set_format(LOG_FMT_TEXT);
	log_set_level(LOG_INFO);
	snprintf(prefix, sizeof(prefix), T0 " test[%ld]: ", (long)getpid());
}

/* Remove the file. */
static void
teardown(void)
{
	unlink(path);
}

/*
 * Whether t starts with an ISO 8601 time, UTC, to the millisecond, as
 * 2026-12-06T05:52:16.064Z; mask it as T0 when it does.
 */
static int
mask_time(char *t)
{
	static const char	shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	size_t			i;

	for (i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)t[i]) :
		    t[i] != shape[i])
			return 0;
	memcpy(t, T0, sizeof(T0) - 1);
	return 1;
}

/*
 * What the file p holds, in buf, each line's time checked and masked
 * (text lines start with it; logfmt and JSON ones hold it quoted after
 * "time="); its length.
 */
static size_t
slurp(const char *p)
{
	ssize_t	 n;
	char	*l, *t;
	int	 fd;

	fd = open(p, O_RDONLY);
	ck_assert_int_ne(fd, -1);
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_ge(n, 0);
	close(fd);
	buf[n] = '\0';
	for (l = buf; *l != '\0'; l = strchr(l, '\n') + 1) {
		if ((t = strstr(l, "time=")) != NULL && t - l < 4)
			t += 5;
		else if ((t = strstr(l, "\"time\":\"")) != NULL &&
		    t - l < 4)
			t += 8;
		else
			t = l;
		ck_assert_msg(mask_time(t), "no time: %.40s", l);
		if (strchr(l, '\n') == NULL)
			break;
	}
	return (size_t)n;
}

/* How many newlines buf holds. */
static size_t
lines(void)
{
	size_t	n = 0;
	char	*p;

	for (p = buf; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	return n;
}

/* A message of the longest job id and its context is whole. */
START_TEST(test_longest_id)
{
	char	id[BULLMQ_MAX_ID + 1], want[LOG_LINE_MAX];

	memset(id, 'a', BULLMQ_MAX_ID);
	id[BULLMQ_MAX_ID] = '\0';
	log_warnx("job %s: fail: finish job %s: lock does not exist", id, id);
	snprintf(want, sizeof(want), "%swarning: job %s: fail: finish job "
	    "%s: lock does not exist\n", prefix, id, id);
	ck_assert_uint_eq(slurp(path), strlen(want));
	ck_assert_msg(strcmp(buf, want) == 0, "the line differs");
}
END_TEST

/* A line of exactly LOG_LINE_MAX bytes is whole; one byte more is cut. */
START_TEST(test_bound)
{
	static char	m[LOG_LINE_MAX];
	size_t		n = LOG_LINE_MAX - 1 - strlen(prefix);

	memset(m, 'b', n);
	m[n] = '\0';
	log_info("%s", m);
	ck_assert_uint_eq(slurp(path), LOG_LINE_MAX);
	ck_assert_uint_eq(lines(), 1);
	ck_assert_int_eq(buf[LOG_LINE_MAX - 2], 'b');
	ck_assert_ptr_null(strstr(buf, "[cut]"));

	ck_assert_int_eq(ftruncate(STDERR_FILENO, 0), 0);
	ck_assert_int_eq(lseek(STDERR_FILENO, 0, SEEK_SET), 0);
	log_info("%sc", m);
	ck_assert_uint_eq(slurp(path), LOG_LINE_MAX);
	ck_assert_uint_eq(lines(), 1);
	ck_assert_str_eq(buf + LOG_LINE_MAX - 9, "...[cut]\n");
	ck_assert_int_eq(buf[LOG_LINE_MAX - 10], 'b');
}
END_TEST

/* A message longer than any buffer is cut at the bound, visibly. */
START_TEST(test_huge)
{
	char	*m;

	ck_assert_ptr_nonnull(m = malloc(3 * LOG_LINE_MAX));
	memset(m, 'h', 3 * LOG_LINE_MAX - 1);
	m[3 * LOG_LINE_MAX - 1] = '\0';
	log_warnx("job %s timed out after 500 ms", m);
	free(m);
	ck_assert_uint_eq(slurp(path), LOG_LINE_MAX);
	ck_assert_uint_eq(lines(), 1);
	ck_assert_str_eq(buf + LOG_LINE_MAX - 12, "hhh...[cut]\n");
}
END_TEST

/*
 * Newlines and other control characters are escaped: one line; and so is
 * a backslash, so that a "\\n" in a job id is not read as a newline.
 */
START_TEST(test_escape)
{
	char	want[256];

	log_warnx("redis: %s", "ERR one\ntwo\r\tthree\033[31m\177end a\\nb");
	snprintf(want, sizeof(want), "%swarning: redis: ERR one\\ntwo\\r\\t"
	    "three\\x1b[31m\\x7fend a\\\\nb\n", prefix);
	slurp(path);
	ck_assert_str_eq(buf, want);
	ck_assert_uint_eq(lines(), 1);
}
END_TEST

/* An escape is never split by the cut, and the line stays in bound. */
START_TEST(test_escape_cut)
{
	char	m[BULLMQ_MAX_ID + 1], *p;
	size_t	n;

	memset(m, '\001', BULLMQ_MAX_ID);
	m[BULLMQ_MAX_ID] = '\0';
	log_info("job %s", m);
	n = slurp(path);
	ck_assert_uint_le(n, LOG_LINE_MAX);
	ck_assert_uint_gt(n, LOG_LINE_MAX - 4);
	ck_assert_uint_eq(lines(), 1);
	ck_assert_str_eq(buf + n - 13, "\\x01...[cut]\n");
	p = buf + strlen(prefix) + 4;
	ck_assert_uint_eq((size_t)(buf + n - 9 - p) % 4, 0);
}
END_TEST

/* log_warn ends with the text of errno, and leaves errno alone. */
START_TEST(test_warn_errno)
{
	char	want[256];

	errno = ENOENT;
	log_warn("open %s", "/nowhere");
	ck_assert_int_eq(errno, ENOENT);
	snprintf(want, sizeof(want), "%swarning: open /nowhere: %s\n",
	    prefix, strerror(ENOENT));
	slurp(path);
	ck_assert_str_eq(buf, want);
}
END_TEST

/* The text of errno counts in the bound: a long message is cut. */
START_TEST(test_warn_cut)
{
	static char	m[LOG_LINE_MAX];

	memset(m, 'w', sizeof(m) - 1);
	errno = EIO;
	log_warn("%s", m);
	ck_assert_uint_eq(slurp(path), LOG_LINE_MAX);
	ck_assert_uint_eq(lines(), 1);
	ck_assert_str_eq(buf + LOG_LINE_MAX - 9, "...[cut]\n");
}
END_TEST

/* In a log file each line has the time in front and the same bound. */
START_TEST(test_file)
{
	static char	m[LOG_LINE_MAX];
	char		fpath[64];
	size_t		n;
	int		fd;

	strlcpy(fpath, "/tmp/check_log.XXXXXX", sizeof(fpath));
	ck_assert_int_ne(fd = mkstemp(fpath), -1);
	close(fd);
	ck_assert_int_eq(log_init(LOG_TO_FILE, fpath, NULL, 0), 0);
	memset(m, 'f', sizeof(m) - 1);
	log_info("one %s", m);
	log_info("two\nthree");
	n = slurp(fpath);
	unlink(fpath);
	ck_assert_uint_eq(lines(), 2);
	ck_assert_int_eq(strncmp(buf, T0 " test[", 30), 0);
	ck_assert_ptr_nonnull(strstr(buf, "f...[cut]\n"));
	ck_assert_uint_eq((size_t)(strstr(buf, "[cut]\n") + 6 - buf),
	    LOG_LINE_MAX);
	ck_assert_ptr_nonnull(strstr(buf + LOG_LINE_MAX, "]: two\\nthree\n"));
	ck_assert_int_eq(buf[n - 1], '\n');
	log_close();
}
END_TEST

/* To syslog: the message alone, escaped, within the same bound. */
START_TEST(test_syslog)
{
	char	id[BULLMQ_MAX_ID + 1], want[LOG_LINE_MAX], *m;

	ck_assert_int_eq(log_init(LOG_TO_SYSLOG, NULL, NULL, 0), 0);
	memset(id, 's', BULLMQ_MAX_ID);
	id[BULLMQ_MAX_ID] = '\0';
	log_warnx("job %s timed out\nafter 500 ms", id);
	snprintf(want, sizeof(want), "job %s timed out\\nafter 500 ms", id);
	ck_assert_uint_eq(strlen(sys_msg), strlen(want));
	ck_assert_msg(strcmp(sys_msg, want) == 0, "the message differs");
	ck_assert_int_eq(sys_pri, LOG_WARNING);

	ck_assert_ptr_nonnull(m = malloc(2 * LOG_LINE_MAX));
	memset(m, 'y', 2 * LOG_LINE_MAX - 1);
	m[2 * LOG_LINE_MAX - 1] = '\0';
	log_info("%s", m);
	free(m);
	ck_assert_uint_eq(strlen(sys_msg), LOG_LINE_MAX - 1);
	ck_assert_str_eq(sys_msg + LOG_LINE_MAX - 10, "y...[cut]");
	ck_assert_int_eq(sys_pri, LOG_INFO);
	log_close();
}
END_TEST

/* logfmt: keys, the message quoted and escaped, a cut one still closed. */
START_TEST(test_logfmt)
{
	static char	m[LOG_LINE_MAX];
	char		want[256];
	size_t		n;

	log_set_format(LOG_FMT_LOGFMT);
	log_warnx("job %s: \"quoted\" a\\b\001", "7");
	snprintf(want, sizeof(want), "time=" T0 " level=warning ident=test "
	    "pid=%ld msg=\"job 7: \\\"quoted\\\" a\\\\b\\u0001\"\n",
	    (long)getpid());
	slurp(path);
	ck_assert_str_eq(buf, want);

	ck_assert_int_eq(ftruncate(STDERR_FILENO, 0), 0);
	ck_assert_int_eq(lseek(STDERR_FILENO, 0, SEEK_SET), 0);
	memset(m, 'q', sizeof(m) - 1);
	log_info("%s", m);
	n = slurp(path);
	ck_assert_uint_eq(n, LOG_LINE_MAX);
	ck_assert_uint_eq(lines(), 1);
	ck_assert_str_eq(buf + n - 11, "q...[cut]\"\n");
}
END_TEST

/* JSON: one object a line, control characters as \u00HH. */
START_TEST(test_json)
{
	static char	m[LOG_LINE_MAX];
	char		want[256];
	size_t		n;

	log_set_format(LOG_FMT_JSON);
	log_info("id \"a\"\nb\033");
	snprintf(want, sizeof(want), "{\"time\":\"" T0 "\",\"level\":"
	    "\"info\",\"ident\":\"test\",\"pid\":%ld,\"msg\":\"id "
	    "\\\"a\\\"\\nb\\u001b\"}\n", (long)getpid());
	slurp(path);
	ck_assert_str_eq(buf, want);

	ck_assert_int_eq(ftruncate(STDERR_FILENO, 0), 0);
	ck_assert_int_eq(lseek(STDERR_FILENO, 0, SEEK_SET), 0);
	memset(m, '\001', sizeof(m) - 1);
	log_warnx("%s", m);
	n = slurp(path);
	ck_assert_uint_le(n, LOG_LINE_MAX);
	ck_assert_uint_eq(lines(), 1);
	ck_assert_str_eq(buf + n - 17, "\\u0001...[cut]\"}\n");
}
END_TEST

/*
 * JSON must be UTF-8: a valid sequence stays as it is, any other byte from
 * 0x80 up (a stray one, an overlong form, a sequence cut short) is
 * \u00HH; text lines keep the bytes as they were.
 */
START_TEST(test_json_utf8)
{
	char	want[256];

	log_set_format(LOG_FMT_JSON);
	log_info("caf\xc3\xa9 \xe2\x82\xac \xff \xc0\xaf \xe2\x82");
	snprintf(want, sizeof(want), "{\"time\":\"" T0 "\",\"level\":"
	    "\"info\",\"ident\":\"test\",\"pid\":%ld,\"msg\":\"caf\xc3\xa9 "
	    "\xe2\x82\xac \\u00ff \\u00c0\\u00af \\u00e2\\u0082\"}\n",
	    (long)getpid());
	slurp(path);
	ck_assert_str_eq(buf, want);

	ck_assert_int_eq(ftruncate(STDERR_FILENO, 0), 0);
	ck_assert_int_eq(lseek(STDERR_FILENO, 0, SEEK_SET), 0);
	log_set_format(LOG_FMT_TEXT);
	log_info("caf\xc3\xa9 \xff");
	snprintf(want, sizeof(want), "%scaf\xc3\xa9 \xff\n", prefix);
	slurp(path);
	ck_assert_str_eq(buf, want);
}
END_TEST

/* log-level: less urgent messages are dropped; error lines say so. */
START_TEST(test_level)
{
	char	want[256];

	ck_assert_int_eq(log_level_parse("debug"), LOG_DEBUG);
	ck_assert_int_eq(log_level_parse("error"), LOG_ERR);
	ck_assert_int_eq(log_level_parse("loud"), -1);
	ck_assert_int_eq(log_format_parse("json"), LOG_FMT_JSON);
	ck_assert_int_eq(log_format_parse("xml"), -1);
	log_debug("not at info");
	log_set_level(LOG_WARNING);
	log_info("not at warning");
	log_warnx("a warning");
	log_set_level(LOG_ERR);
	log_warnx("not at error");
	log_errx("an error");
	log_set_level(LOG_DEBUG);
	log_debug("at debug");
	snprintf(want, sizeof(want), "%swarning: a warning\n%serror: an "
	    "error\n%sat debug\n", prefix, prefix, prefix);
	slurp(path);
	ck_assert_str_eq(buf, want);
}
END_TEST

/* The suite. */
Suite *
make_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("lines");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_longest_id);
	tcase_add_test(tc, test_bound);
	tcase_add_test(tc, test_huge);
	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_escape_cut);
	tcase_add_test(tc, test_warn_errno);
	tcase_add_test(tc, test_warn_cut);
	tcase_add_test(tc, test_file);
	tcase_add_test(tc, test_syslog);
	tcase_add_test(tc, test_logfmt);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_json_utf8);
	tcase_add_test(tc, test_level);
	suite_add_tcase(s, tc);
	return s;
}
