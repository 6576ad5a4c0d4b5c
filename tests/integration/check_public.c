/*
 * check_public.c: the calls a supervisor such as bullmq-master makes,
 * through the public header alone (this file does not see the library's
 * private one): client ids and unblocking, the command timeout, loading
 * the scripts, the event stream's newest id, a processor's verdict, URL
 * checks and the JSON helpers.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bullmq.h"
#include "harness.h"
#include "suite.h"

static bullmq_queue	*q;

/* Checked fixture: an empty server and a fresh handle on queue "q". */
static void
setup(void)
{
	harness_flush();
	q = harness_queue("q");
}

/* Free the handle. */
static void
teardown(void)
{
	bullmq_queue_free(q);
	q = NULL;
}

/* A handle on queue "q" that is not connected yet. */
static bullmq_queue *
new_queue(int command_timeout_ms)
{
	struct bullmq_conn_opts	 co;
	bullmq_queue		*q2;

	memset(&co, 0, sizeof(co));
	co.url = harness_url;
	co.queue = "q";
	co.command_timeout_ms = command_timeout_ms;
	q2 = bullmq_queue_new(&co);
	ck_assert_ptr_ne(q2, NULL);
	return q2;
}

START_TEST(client_id)
{
	bullmq_queue	*q2;
	struct bullmq_counts c;
	int64_t		 id, id2;

	q2 = new_queue(0);
	ck_assert_int_eq(bullmq_queue_connected(q2), 0);
	ck_assert_int_eq(bullmq_client_id(q2), 0);
	ck_assert_int_eq(bullmq_queue_connect(q2), 0);
	ck_assert_int_eq(bullmq_queue_connected(q2), 1);
	id = bullmq_client_id(q2);
	ck_assert_int_gt(id, 0);
	/* asked once a connection */
	ck_assert_int_eq(bullmq_client_id(q2), id);
	/* it is the id Redis knows the connection by */
	ck_assert_int_eq(harness_int("CLIENT KILL ID %lld", (long long)id),
	    1);
	/* a connection idle for a while that Redis closed is found closed
	   before a call goes out on it: the call takes a new one */
	usleep(200000);
	ck_assert_int_eq(bullmq_get_counts(q2, &c), 0);
	ck_assert_int_eq(bullmq_queue_connected(q2), 1);
	/* a new connection, a new id */
	id2 = bullmq_client_id(q2);
	ck_assert_int_gt(id2, id);
	bullmq_queue_free(q2);
}
END_TEST

START_TEST(client_unblock)
{
	struct bullmq_worker_opts	 wo;
	bullmq_queue			*q2;
	bullmq_worker			*w;
	bullmq_job			*j;
	struct timespec			 ts = { 0, 20000000L };
	int64_t				 id, t0;
	pid_t				 pid;
	int				 fds[2], st, i, r;
	char				 res;

	ck_assert_int_eq(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		/* a worker blocked on an empty queue for 10 s */
		close(fds[0]);
		q2 = new_queue(0);
		memset(&wo, 0, sizeof(wo));
		wo.drain_delay = 10000;
		if (bullmq_queue_connect(q2) == -1 ||
		    (w = bullmq_worker_new(q2, &wo)) == NULL ||
		    (id = bullmq_client_id(q2)) <= 0 ||
		    write(fds[1], &id, sizeof(id)) != sizeof(id))
			_exit(2);
		t0 = bullmq_now();
		/* the verdict goes on the pipe: under valgrind the exit
		 * status also counts leaks of Check's own */
		res = bullmq_worker_fetch(w, &j) != 0 ? 3 :
		    bullmq_now() - t0 < 5000 ? 0 : 4;
		if (write(fds[1], &res, 1) != 1)
			_exit(5);
		bullmq_worker_free(w);
		bullmq_queue_free(q2);
		_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &id, sizeof(id)), sizeof(id));
	/* 0 until the worker is in its blocking call, then 1 */
	for (i = 0; i < 250; i++) {
		if ((r = bullmq_client_unblock(q, id)) != 0)
			break;
		nanosleep(&ts, NULL);
	}
	ck_assert_int_eq(r, 1);
	/* the worker's fetch returned 0 at once, not after its 10 s */
	ck_assert_int_eq(read(fds[0], &res, 1), 1);
	ck_assert_int_eq(res, 0);
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(bullmq_client_unblock(q, id), 0);
	/* no client has such an id: none is blocked, and nothing is asked */
	ck_assert_int_eq(bullmq_client_unblock(q, 0), 0);
	ck_assert_int_eq(bullmq_client_unblock(q, -1), 0);
}
END_TEST

START_TEST(command_timeout)
{
	bullmq_queue		*q2;
	struct bullmq_counts	 c;

	q2 = new_queue(0);
	ck_assert_int_eq(bullmq_queue_connect(q2), 0);
	/* applies to the connection open now */
	ck_assert_int_eq(bullmq_set_command_timeout(q2, 100), 0);
	freeReplyObject(harness_cmd("CLIENT PAUSE 600"));
	ck_assert_int_eq(bullmq_get_counts(q2, &c), -1);
	ck_assert_int_eq(bullmq_errcode(q2), BULLMQ_ERR_IO);
	ck_assert_ptr_ne(strstr(bullmq_errstr(q2), "within 100 ms"), NULL);
	/* and back to none: a pause is waited out */
	ck_assert_int_eq(bullmq_set_command_timeout(q2, 0), 0);
	if (bullmq_queue_connect(q2) == -1)
		ck_abort_msg("connect: %s", bullmq_errstr(q2));
	freeReplyObject(harness_cmd("CLIENT PAUSE 300"));
	ck_assert_int_eq(bullmq_get_counts(q2, &c), 0);
	ck_assert_int_eq(bullmq_set_command_timeout(q2, -1), -1);
	ck_assert_int_eq(bullmq_errcode(q2), BULLMQ_ERR_ARG);
	bullmq_queue_free(q2);
}
END_TEST

START_TEST(scripts_load)
{
	const char	*info;

	freeReplyObject(harness_cmd("SCRIPT FLUSH"));
	info = harness_str("INFO memory");
	ck_assert_ptr_ne(strstr(info, "number_of_cached_scripts:0\r"), NULL);
	ck_assert_int_eq(bullmq_scripts_load(q), 0);
	info = harness_str("INFO memory");
	ck_assert_ptr_eq(strstr(info, "number_of_cached_scripts:0\r"), NULL);
	ck_assert_ptr_ne(strstr(info, "number_of_cached_scripts:"), NULL);
}
END_TEST

START_TEST(events_last_id)
{
	redisReply	*r;
	char		 last[64], small[16];

	ck_assert_int_eq(bullmq_events_last_id(q, last, sizeof(last)), 0);
	ck_assert_str_eq(last, "0-0");
	ck_assert_int_eq(bullmq_add(q, "e", NULL, NULL, NULL, 0), 0);
	ck_assert_int_eq(bullmq_add(q, "f", NULL, NULL, NULL, 0), 0);
	ck_assert_int_ge(harness_int("XLEN bull:q:events"), 2);
	ck_assert_int_eq(bullmq_events_last_id(q, last, sizeof(last)), 0);
	r = harness_cmd("XREVRANGE bull:q:events + - COUNT 1");
	ck_assert_int_eq(r->elements, 1);
	ck_assert_str_eq(last, r->element[0]->element[0]->str);
	freeReplyObject(r);
	ck_assert_int_eq(bullmq_events_last_id(q, small, sizeof(small)), -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_ARG);
}
END_TEST

START_TEST(job_verdict)
{
	bullmq_worker	*w;
	bullmq_job	*j;
	size_t		 len;
	int		 unrec = -1;

	ck_assert_int_eq(bullmq_add(q, "v", NULL, NULL, NULL, 0), 0);
	w = bullmq_worker_new(q, NULL);
	ck_assert_ptr_ne(w, NULL);
	ck_assert_int_eq(bullmq_worker_try_fetch(w, &j), 1);
	ck_assert_ptr_eq(bullmq_job_result(j, &len), NULL);
	ck_assert_ptr_eq(bullmq_job_reason(j, &unrec), NULL);
	ck_assert_int_eq(unrec, 0);
	ck_assert_int_eq(bullmq_job_return(j, "[1,2]", 5), 0);
	ck_assert_str_eq(bullmq_job_result(j, &len), "[1,2]");
	ck_assert_uint_eq(len, 5);
	ck_assert_int_eq(bullmq_job_error(j, "bad input", 1), 0);
	ck_assert_str_eq(bullmq_job_reason(j, &unrec), "bad input");
	ck_assert_int_eq(unrec, 1);
	bullmq_job_free(j);
	bullmq_worker_free(w);
}
END_TEST

START_TEST(url_check)
{
	char	err[256];

	ck_assert_int_eq(bullmq_url_check("redis://127.0.0.1:6379/2", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(bullmq_url_check("unix:///tmp/r.sock?db=1", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(bullmq_url_check("redis://h:99999", err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "redis url redis://h:99999: bad port");
	ck_assert_int_eq(bullmq_url_check("http://h", err, sizeof(err)), -1);
}
END_TEST

START_TEST(json)
{
	const char			*t = "{\"a\":{\"b\":12},\"s\":\"x\\ny\","
					    "\"d\":1.5,\"n\":null}";
	const char *const		 names[] = { "s", "zz", "n" };
	struct bullmq_json_value	 v, m[3];
	char				 buf[16], *qs;
	int64_t				 i;
	double				 d;
	size_t				 len;

	ck_assert_int_eq(bullmq_json_valid(t, strlen(t)), 1);
	ck_assert_int_eq(bullmq_json_valid("{\"a\":", 5), 0);
	ck_assert_int_eq(bullmq_json_get(t, strlen(t), "a.b", &v), 1);
	ck_assert_int_eq(v.type, BULLMQ_JSON_NUMBER);
	ck_assert_int_eq(bullmq_json_int(&v, &i), 0);
	ck_assert_int_eq(i, 12);
	ck_assert_int_eq(bullmq_json_get(t, strlen(t), "a.c", &v), 0);
	ck_assert_int_eq(v.type, BULLMQ_JSON_NONE);
	ck_assert_int_eq(bullmq_json_get("[", 1, "a", &v), -1);
	ck_assert_int_eq(bullmq_json_get(t, strlen(t), "d", &v), 1);
	ck_assert_int_eq(bullmq_json_int(&v, &i), -1);
	ck_assert_int_eq(bullmq_json_double(&v, &d), 0);
	ck_assert(d == 1.5);
	ck_assert_int_eq(bullmq_json_members(t, strlen(t), names, 3, m), 0);
	ck_assert_int_eq(m[0].type, BULLMQ_JSON_STRING);
	ck_assert_int_eq(m[1].type, BULLMQ_JSON_NONE);
	ck_assert_int_eq(m[2].type, BULLMQ_JSON_NULL);
	ck_assert_int_eq(bullmq_json_string(&m[0], buf, sizeof(buf)), 3);
	ck_assert_str_eq(buf, "x\ny");
	ck_assert_int_eq(bullmq_json_string(&m[2], buf, sizeof(buf)), -1);
	ck_assert_int_eq(bullmq_json_members("[1]", 3, names, 3, m), -1);
	qs = bullmq_json_quote("a\"b\n\xff", 5, &len);
	ck_assert_ptr_ne(qs, NULL);
	ck_assert_str_eq(qs, "\"a\\\"b\\n\xef\xbf\xbd\"");
	ck_assert_uint_eq(len, strlen(qs));
	ck_assert_int_eq(bullmq_json_valid(qs, len), 1);
	free(qs);
}
END_TEST

/* The suite. */
Suite *
make_suite(void)
{
	Suite	*s = suite_create("public");
	TCase	*tc = tcase_create("redis");
	TCase	*pure = tcase_create("pure");

	tcase_add_unchecked_fixture(tc, harness_start, harness_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, client_id);
	tcase_add_test(tc, client_unblock);
	tcase_add_test(tc, command_timeout);
	tcase_add_test(tc, scripts_load);
	tcase_add_test(tc, events_last_id);
	tcase_add_test(tc, job_verdict);
	suite_add_tcase(s, tc);
	tcase_add_test(pure, url_check);
	tcase_add_test(pure, json);
	suite_add_tcase(s, pure);
	return s;
}
