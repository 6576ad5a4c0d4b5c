/*
 * check_msg.c: the messages of a child to the master, laid out by
 * msg_encode and read back by msg_parse, a pure function of the bytes;
 * the duration a MSG_DONE carries, counted by metrics.c.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "buf.h"
#include "suite.h"

static char	buf[2 * MSG_MAX];

/* A message with an id and a token. */
static size_t
encode_job(char *at, int type, const char *id, const char *tok)
{
	struct msg	m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.status = -1;
	m.at = 12345;
	m.idlen = (uint16_t)strlen(id);
	m.toklen = (uint8_t)strlen(tok);
	return msg_encode(at, &m, id, tok);
}

/* What is encoded is parsed back, field for field. */
START_TEST(test_roundtrip)
{
	struct msg	m;
	size_t		n;

	n = encode_job(buf, MSG_NEXT, "job:1", "tok-a");
	ck_assert_uint_eq(n, sizeof(m) + 5 + 5);
	ck_assert_int_eq(msg_parse(buf, n, &m), (ssize_t)n);
	ck_assert_int_eq(m.type, MSG_NEXT);
	ck_assert_int_eq(m.status, -1);
	ck_assert_int_eq(m.at, 12345);
	ck_assert_int_eq(m.idlen, 5);
	ck_assert_int_eq(m.toklen, 5);
	ck_assert(memcmp(buf + sizeof(m), "job:1tok-a", 10) == 0);
}
END_TEST

/* Any part of a message short of its end asks for more. */
START_TEST(test_partial)
{
	struct msg	m;
	size_t		n, i;

	n = encode_job(buf, MSG_START, "42", "t");
	for (i = 0; i < n; i++)
		ck_assert_int_eq(msg_parse(buf, i, &m), 0);
	ck_assert_int_eq(msg_parse(buf, n + 3, &m), (ssize_t)n);
}
END_TEST

/* Two messages back to back: the second starts where the first ends. */
START_TEST(test_two)
{
	struct msg	m;
	size_t		a, b;
	ssize_t		got;

	a = encode_job(buf, MSG_START, "1", "x");
	memset(&m, 0, sizeof(m));
	m.type = MSG_IDLE;
	m.client_id = 77;
	b = msg_encode(buf + a, &m, NULL, NULL);
	ck_assert_uint_eq(b, sizeof(m));
	ck_assert_int_eq(msg_parse(buf, a + b, &m), (ssize_t)a);
	ck_assert_int_eq(m.type, MSG_START);
	got = msg_parse(buf + a, b, &m);
	ck_assert_int_eq(got, (ssize_t)b);
	ck_assert_int_eq(m.type, MSG_IDLE);
	ck_assert_int_eq(m.client_id, 77);
}
END_TEST

/* The longest message is whole; a header announcing more is refused. */
START_TEST(test_bounds)
{
	struct msg	m;
	static char	id[MSG_ID_LEN + 1], tok[MSG_TOKEN_MAX];

	memset(id, 'i', MSG_ID_LEN);
	memset(tok, 't', MSG_TOKEN_MAX - 1);
	ck_assert_uint_eq(encode_job(buf, MSG_START, id, tok), MSG_MAX);
	ck_assert_int_eq(msg_parse(buf, MSG_MAX, &m), (ssize_t)MSG_MAX);
	memset(&m, 0, sizeof(m));
	m.type = MSG_START;
	m.idlen = MSG_ID_LEN;
	m.toklen = MSG_TOKEN_MAX;
	memcpy(buf, &m, sizeof(m));
	/* refused on its header alone, before the rest arrives */
	ck_assert_int_eq(msg_parse(buf, sizeof(m), &m), -1);
	ck_assert_int_eq(m.idlen, MSG_ID_LEN);
	m.idlen = UINT16_MAX;
	m.toklen = 0;
	memcpy(buf, &m, sizeof(m));
	ck_assert_int_eq(msg_parse(buf, sizeof(m), &m), -1);
}
END_TEST

/* msg_send writes a message whole, and keeps errno. */
START_TEST(test_send)
{
	struct msg	m;
	char		in[MSG_MAX];
	size_t		n;
	int		p[2];

	ck_assert_int_eq(pipe(p), 0);
	n = encode_job(buf, MSG_START, "abc", "tok");
	errno = 1234;
	msg_send(p[1], buf, n);
	ck_assert_int_eq(errno, 1234);
	ck_assert_int_eq(read(p[0], in, sizeof(in)), (ssize_t)n);
	ck_assert_int_eq(msg_parse(in, n, &m), (ssize_t)n);
	ck_assert(memcmp(in + sizeof(m), "abctok", 6) == 0);
	close(p[0]);
	close(p[1]);
}
END_TEST

/*
 * A MSG_DONE carries how long the job's processor ran, in the header's
 * union (the message keeps its size); the master's histogram counts it in
 * the first bucket it fits, its outcome by name; a job that could not be
 * finished (-1) is not a job outcome.
 */
START_TEST(test_duration)
{
	struct msg	m;
	struct buf	b;
	char		*t;

	memset(&m, 0, sizeof(m));
	m.type = MSG_DONE;
	m.status = BULLMQ_COMPLETED;
	m.took_us = 3000;
	ck_assert_uint_eq(msg_encode(buf, &m, NULL, NULL), sizeof(m));
	memset(&m, 0, sizeof(m));
	ck_assert_int_eq(msg_parse(buf, sizeof(m), &m), (ssize_t)sizeof(m));
	ck_assert_int_eq(m.took_us, 3000);
	metrics_job(m.status, m.took_us);
	metrics_job(BULLMQ_RETRIED, 2000000);
	metrics_job(-1, 5);
	metrics_outcome(MO_STALLED, 2);
	buf_init(&b);
	metrics_text(&b);
	ck_assert_ptr_nonnull(t = buf_cstr(&b));
#define HAS(l)	ck_assert_msg(strstr(t, "\n" l "\n") != NULL, "no %s", l)
	HAS("bullmq_master_jobs_total{outcome=\"completed\"} 1");
	HAS("bullmq_master_jobs_total{outcome=\"retried\"} 1");
	HAS("bullmq_master_jobs_total{outcome=\"given_back\"} 0");
	HAS("bullmq_master_jobs_total{outcome=\"stalled\"} 2");
	HAS("bullmq_master_job_duration_seconds_bucket{le=\"0.001\"} 0");
	HAS("bullmq_master_job_duration_seconds_bucket{le=\"0.005\"} 1");
	HAS("bullmq_master_job_duration_seconds_bucket{le=\"1\"} 1");
	HAS("bullmq_master_job_duration_seconds_bucket{le=\"2.5\"} 2");
	HAS("bullmq_master_job_duration_seconds_bucket{le=\"+Inf\"} 2");
	HAS("bullmq_master_job_duration_seconds_sum 2.003000");
	HAS("bullmq_master_job_duration_seconds_count 2");
#undef HAS
	buf_free(&b);
}
END_TEST

/* The suite. */
Suite *
make_suite(void)
{
	Suite	*s = suite_create("msg");
	TCase	*tc = tcase_create("codec");

	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_duration);
	tcase_add_test(tc, test_partial);
	tcase_add_test(tc, test_two);
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_send);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
