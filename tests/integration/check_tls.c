/*
 * check_tls.c: the library over TLS (rediss://), through the public API
 * only, against a private redis-server with a TLS port that requires a
 * client certificate, with certificates made by openssl for the run.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "suite.h"

static char	url[128];
static char	ca[400], other_ca[400], cert[400], key[400];

static void
setup(void)
{
	harness_tls_start();
	snprintf(url, sizeof(url), "rediss://127.0.0.1:%d", harness_tls_port);
	snprintf(ca, sizeof(ca), "%s/ca.crt", harness_tls_dir);
	snprintf(other_ca, sizeof(other_ca), "%s/other-ca.crt",
	    harness_tls_dir);
	snprintf(cert, sizeof(cert), "%s/client.crt", harness_tls_dir);
	snprintf(key, sizeof(key), "%s/client.key", harness_tls_dir);
}

static void
serve(const char *file)
{
	freeReplyObject(harness_cmd("CONFIG SET tls-cert-file %s/%s",
	    harness_tls_dir, file));
}

/* Options for queue name on u (NULL: the TLS URL) with the client files. */
static void
opts(struct bullmq_conn_opts *o, const char *name, const char *u)
{
	memset(o, 0, sizeof(*o));
	o->url = u != NULL ? u : url;
	o->queue = name;
	o->connect_timeout_ms = 1000;
	o->tls_opts.ca_file = ca;
	o->tls_opts.cert = cert;
	o->tls_opts.key = key;
}

/* Connect with o: NULL when it worked, else the error (static). */
static const char *
try_connect(const struct bullmq_conn_opts *o)
{
	static char	 err[2048];
	bullmq_queue	*q;
	const char	*rv = NULL;

	q = bullmq_queue_new(o);
	ck_assert_ptr_nonnull(q);
	if (bullmq_queue_connect(q) == -1) {
		snprintf(err, sizeof(err), "%s", bullmq_errstr(q));
		rv = err;
	}
	bullmq_queue_free(q);
	return rv;
}

static void
ends_with(const char *err, const char *want)
{
	ck_assert_msg(err != NULL, "connected, expected: %s", want);
	ck_assert_msg(strstr(err, want) != NULL, "got \"%s\", expected \"%s\"",
	    err, want);
}

/* Jobs added one by one, by an add stream, fetched and finished over TLS. */
START_TEST(jobs)
{
	struct bullmq_conn_opts		 o;
	struct bullmq_worker_opts	 wo;
	struct bullmq_add_req		 reqs[300];
	struct bullmq_counts		 ct;
	bullmq_queue			*q;
	bullmq_worker			*w;
	bullmq_job			*j = NULL, *next;
	char				 id[32];
	size_t				 i;
	int				 n = 0;

	serve("server.crt");
	opts(&o, "tq", NULL);
	q = bullmq_queue_new(&o);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_OK);
	ck_assert_int_eq(bullmq_add(q, "one", "{\"x\":1}", NULL, id,
	    sizeof(id)), BULLMQ_ADDED);
	ck_assert_str_eq(id, "1");
	/* a stream large enough to take several TLS records each way */
	memset(reqs, 0, sizeof(reqs));
	for (i = 0; i < 300; i++) {
		reqs[i].name = "bulk";
		reqs[i].data = "{\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}";
	}
	ck_assert_int_eq(bullmq_add_bulk(q, reqs, 300), 300);
	for (i = 0; i < 300; i++)
		ck_assert_int_eq(reqs[i].result, BULLMQ_ADDED);
	ck_assert_str_eq(reqs[299].id, "301");
	ck_assert_int_eq(harness_int("LLEN bull:tq:wait"), 301);
	memset(&wo, 0, sizeof(wo));
	w = bullmq_worker_new(q, &wo);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(bullmq_worker_try_fetch(w, &j), 1);
	while (j != NULL) {
		n++;
		ck_assert_int_eq(bullmq_worker_finish(w, j, 0, NULL, &next),
		    0);
		j = next;
	}
	ck_assert_int_eq(n, 301);
	ck_assert_int_eq(bullmq_get_counts(q, &ct), 0);
	ck_assert_int_eq(ct.completed, 301);
	/* every connection cut: the next calls connect again, over TLS */
	freeReplyObject(harness_cmd("CLIENT KILL TYPE normal"));
	if (bullmq_add(q, "two", NULL, NULL, id, sizeof(id)) == -1)
		ck_assert_int_eq(bullmq_add(q, "two", NULL, NULL, id,
		    sizeof(id)), BULLMQ_ADDED);
	ck_assert_str_eq(id, "302");
	ck_assert_int_eq(bullmq_worker_try_fetch(w, &j), 1);
	ck_assert_str_eq(bullmq_job_id(j), "302");
	ck_assert_int_eq(bullmq_worker_finish(w, j, 0, NULL, NULL), 0);
	bullmq_worker_free(w);
	bullmq_queue_free(q);
}
END_TEST

/* A server that does not answer: the command timeout holds over TLS. */
START_TEST(command_timeout)
{
	struct bullmq_conn_opts	 o;
	struct bullmq_counts	 ct;
	bullmq_queue		*q;

	serve("server.crt");
	opts(&o, "cq", NULL);
	o.command_timeout_ms = 300;
	q = bullmq_queue_new(&o);
	ck_assert_int_eq(bullmq_queue_connect(q), 0);
	freeReplyObject(harness_cmd("CLIENT PAUSE 1500 ALL"));
	ck_assert_int_eq(bullmq_get_counts(q, &ct), -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_IO);
	ck_assert_msg(strstr(bullmq_errstr(q), "no answer within 300 ms") !=
	    NULL, "%s", bullmq_errstr(q));
	freeReplyObject(harness_cmd("CLIENT UNPAUSE"));
	ck_assert_int_eq(bullmq_get_counts(q, &ct), 0);
	bullmq_queue_free(q);
}
END_TEST

static void
count_cb(const struct bullmq_add_result *res, void *arg)
{
	(*(int *)arg)++;
}

/*
 * A server gone while an add stream writes: the stream fails, and the
 * caller, who does not ignore SIGPIPE, lives (OpenSSL writes with write).
 */
START_TEST(vanished_server)
{
	struct bullmq_conn_opts	 o;
	bullmq_add_stream	*st;
	bullmq_queue		*q;
	char			*big;
	int			 i, got = 0, rv = 0;

	serve("server.crt");
	signal(SIGPIPE, SIG_DFL);
	big = malloc(64 * 1024);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 64 * 1024 - 3);
	memcpy(big, "\"", 1);
	memcpy(big + 64 * 1024 - 3, "\"", 2);
	opts(&o, "vq", NULL);
	q = bullmq_queue_new(&o);
	ck_assert_int_eq(bullmq_queue_connect(q), 0);
	st = bullmq_add_stream_new(q, count_cb, &got);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(bullmq_add_stream_push(st, "j", "{}", NULL, NULL), 0);
	ck_assert_int_eq(bullmq_add_stream_flush(st), 0);
	freeReplyObject(harness_cmd("CLIENT KILL TYPE normal"));
	usleep(100000);
	for (i = 0; i < 64 && rv == 0; i++)
		if ((rv = bullmq_add_stream_push(st, "j", big, NULL, NULL)) ==
		    0)
			rv = bullmq_add_stream_flush(st);
	ck_assert_int_eq(rv, -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_IO);
	bullmq_add_stream_free(st);
	bullmq_queue_free(q);
	free(big);
}
END_TEST

/* One context, read once, shared by several handles. */
START_TEST(shared_context)
{
	struct bullmq_tls_opts	 to;
	struct bullmq_conn_opts	 o;
	bullmq_tls		*t;
	bullmq_queue		*a, *b;
	char			 err[512];

	serve("server.crt");
	memset(&to, 0, sizeof(to));
	to.ca_file = ca;
	to.cert = cert;
	to.key = key;
	t = bullmq_tls_new(&to, err, sizeof(err));
	ck_assert_msg(t != NULL, "%s", err);
	memset(&o, 0, sizeof(o));
	o.url = url;
	o.queue = "sq";
	o.tls = t;
	a = bullmq_queue_new(&o);
	b = bullmq_queue_new(&o);
	ck_assert_int_eq(bullmq_queue_connect(a), 0);
	ck_assert_int_eq(bullmq_queue_connect(b), 0);
	ck_assert_int_eq(bullmq_add(a, "j", NULL, NULL, NULL, 0),
	    BULLMQ_ADDED);
	ck_assert_int_eq(bullmq_add(b, "j", NULL, NULL, NULL, 0),
	    BULLMQ_ADDED);
	bullmq_queue_free(a);
	bullmq_queue_free(b);
	bullmq_tls_free(t);
	ck_assert_int_eq(harness_int("LLEN bull:sq:wait"), 2);
}
END_TEST

/* What is wrong is said: the CA, the expiry, the name, the port, the cert. */
START_TEST(errors)
{
	struct bullmq_conn_opts	o;
	char			plain[128], host[128];

	serve("server.crt");
	opts(&o, "eq", NULL);
	o.tls_opts.ca_file = other_ca;
	ends_with(try_connect(&o), "certificate is not signed by a CA "
	    "trusted here");
	opts(&o, "eq", NULL);
	o.tls_opts.server_name = "redis.example";
	ends_with(try_connect(&o), "the server's certificate is not for "
	    "\"redis.example\" (hostname mismatch");
	o.tls_opts.no_verify = 1;
	ck_assert_ptr_null(try_connect(&o));
	opts(&o, "eq", NULL);
	o.tls_opts.cert = o.tls_opts.key = NULL;
	ends_with(try_connect(&o), "does the server require a client "
	    "certificate? none is set");
	snprintf(plain, sizeof(plain), "rediss://127.0.0.1:%d",
	    harness_plain_port);
	opts(&o, "eq", plain);
	ends_with(try_connect(&o), "no handshake answer within 1000 ms: is "
	    "this a plain-TCP port?");
	/* by name: localhost is in the certificate */
	snprintf(host, sizeof(host), "rediss://localhost:%d",
	    harness_tls_port);
	opts(&o, "eq", host);
	ck_assert_ptr_null(try_connect(&o));
	serve("expired.crt");
	opts(&o, "eq", NULL);
	ends_with(try_connect(&o), "certificate was refused: certificate has "
	    "expired");
	serve("wrong.crt");
	ends_with(try_connect(&o), "not for \"127.0.0.1\" (IP address "
	    "mismatch");
	o.tls_opts.server_name = "wrong.example";
	ck_assert_ptr_null(try_connect(&o));
	serve("server.crt");
	/* a context that cannot be made is the handle's error */
	opts(&o, "eq", NULL);
	o.tls_opts.key = "/nonexistent.key";
	ends_with(try_connect(&o), "TLS key /nonexistent.key: No such file or "
	    "directory");
}
END_TEST

/*
 * The suite; a build without TLS has none to run: the program exits 77,
 * which the test driver counts as skipped.
 */
Suite *
make_suite(void)
{
	Suite	*s = suite_create("tls");
	TCase	*tc = tcase_create("tls");

	if (!bullmq_tls_available()) {
		printf("check_tls: this build has no TLS: skipped\n");
		exit(77);
	}
	tcase_add_unchecked_fixture(tc, setup, harness_stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, jobs);
	tcase_add_test(tc, shared_context);
	tcase_add_test(tc, command_timeout);
	tcase_add_test(tc, vanished_server);
	tcase_add_test(tc, errors);
	suite_add_tcase(s, tc);
	return s;
}
