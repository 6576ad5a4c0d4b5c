/*
 * check_keys.c: URL parsing, key names, connection names, job id rules.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bullmq-int.h"
#include "suite.h"

START_TEST(url_tcp)
{
	struct bmq_url	u;
	char		err[256];

	ck_assert_int_eq(bmq_url_parse("redis://127.0.0.1:6380/3", &u, err,
	    sizeof(err)), 0);
	ck_assert(!u.is_unix);
	ck_assert_str_eq(u.host, "127.0.0.1");
	ck_assert_int_eq(u.port, 6380);
	ck_assert_int_eq(u.db, 3);
	ck_assert_str_eq(u.user, "");
	ck_assert_int_eq(bmq_url_parse("redis://localhost", &u, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(u.host, "localhost");
	ck_assert_int_eq(u.port, 6379);
	ck_assert_int_eq(u.db, 0);
	ck_assert_int_eq(bmq_url_parse("redis://app:s%40cret@h:1/", &u, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(u.user, "app");
	ck_assert_str_eq(u.pass, "s@cret");
	ck_assert_str_eq(u.host, "h");
	ck_assert_int_eq(u.port, 1);
	ck_assert_int_eq(bmq_url_parse("redis://:pw@h", &u, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(u.user, "");
	ck_assert_str_eq(u.pass, "pw");
	/* a lone user part is a password, as redis-cli reads it */
	ck_assert_int_eq(bmq_url_parse("redis://secret@h", &u, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(u.user, "");
	ck_assert_str_eq(u.pass, "secret");
	ck_assert_int_eq(bmq_url_parse("redis://[::1]:6380/2", &u, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(u.host, "::1");
	ck_assert_int_eq(u.port, 6380);
	ck_assert_int_eq(u.db, 2);
	ck_assert_int_eq(bmq_url_parse("redis://u:p@[2001:db8::5]", &u,
	    err, sizeof(err)), 0);
	ck_assert_str_eq(u.host, "2001:db8::5");
	ck_assert_int_eq(u.port, 6379);
	ck_assert_str_eq(u.pass, "p");
}
END_TEST

/* rediss:// parses as redis:// with tls set; a build without TLS says so. */
START_TEST(url_tls)
{
	struct bullmq_tls_opts	 to;
	struct bmq_url		 u;
	bullmq_tls		*t;
	char			 err[512];

	ck_assert_int_eq(bmq_url_parse("rediss://u:p%40w@cache.example:6380/4",
	    &u, err, sizeof(err)), 0);
	ck_assert(u.tls);
	ck_assert(!u.is_unix);
	ck_assert_str_eq(u.host, "cache.example");
	ck_assert_int_eq(u.port, 6380);
	ck_assert_int_eq(u.db, 4);
	ck_assert_str_eq(u.user, "u");
	ck_assert_str_eq(u.pass, "p@w");
	ck_assert_int_eq(bmq_url_parse("rediss://[::1]", &u, err,
	    sizeof(err)), 0);
	ck_assert(u.tls);
	ck_assert_str_eq(u.host, "::1");
	ck_assert_int_eq(u.port, 6379);
	ck_assert_int_eq(bmq_url_parse("redis://h", &u, err, sizeof(err)), 0);
	ck_assert(!u.tls);
	ck_assert_int_eq(bmq_url_parse("redisss://h", &u, err, sizeof(err)),
	    -1);
	memset(&to, 0, sizeof(to));
	if (bullmq_tls_available()) {
		ck_assert_int_eq(bullmq_url_check("rediss://h", err,
		    sizeof(err)), 0);
		to.cert = "/nonexistent/client.crt";
		ck_assert_ptr_null(bullmq_tls_new(&to, err, sizeof(err)));
		ck_assert_ptr_nonnull(strstr(err, "needs its key"));
		to.key = "/nonexistent/client.key";
		ck_assert_ptr_null(bullmq_tls_new(&to, err, sizeof(err)));
		ck_assert_str_eq(err, "TLS certificate /nonexistent/client.crt: "
		    "No such file or directory");
		memset(&to, 0, sizeof(to));
		to.ca_dir = "/etc/passwd";
		ck_assert_ptr_null(bullmq_tls_new(&to, err, sizeof(err)));
		ck_assert_str_eq(err, "TLS CA directory /etc/passwd: not a "
		    "directory");
		to.ca_dir = NULL;
		ck_assert_ptr_nonnull(t = bullmq_tls_new(&to, err,
		    sizeof(err)));
		bullmq_tls_free(t);
	} else {
		ck_assert_int_eq(bullmq_url_check("rediss://h", err,
		    sizeof(err)), -1);
		ck_assert_ptr_nonnull(strstr(err, "this build of libbullmq has "
		    "no TLS"));
		ck_assert_ptr_null(bullmq_tls_new(&to, err, sizeof(err)));
	}
	bullmq_tls_free(NULL);
}
END_TEST

START_TEST(url_unix)
{
	struct bmq_url	u;
	char		err[256];

	ck_assert_int_eq(bmq_url_parse("unix:///run/redis.sock?db=2", &u, err,
	    sizeof(err)), 0);
	ck_assert(u.is_unix);
	ck_assert_str_eq(u.path, "/run/redis.sock");
	ck_assert_int_eq(u.db, 2);
	ck_assert_int_eq(bmq_url_parse("unix:///tmp/r.sock", &u, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(u.db, 0);
	/* a password, or a user and a password, before the path */
	ck_assert_int_eq(bmq_url_parse("unix://pw@/run/r.sock", &u, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(u.user, "");
	ck_assert_str_eq(u.pass, "pw");
	ck_assert_str_eq(u.path, "/run/r.sock");
	ck_assert_int_eq(bmq_url_parse("unix://app:p@/w%40@/run/r.sock?db=3",
	    &u, err, sizeof(err)), 0);
	ck_assert_str_eq(u.user, "app");
	ck_assert_str_eq(u.pass, "p@/w@");
	ck_assert_str_eq(u.path, "/run/r.sock");
	ck_assert_int_eq(u.db, 3);
	/* an @ in the path alone is the path's */
	ck_assert_int_eq(bmq_url_parse("unix:///run/a@/r.sock", &u, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(u.pass, "");
	ck_assert_str_eq(u.path, "/run/a@/r.sock");
	ck_assert_int_eq(bmq_url_parse("unix://app:s3cret@run/r.sock", &u,
	    err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "cret") == NULL, "%s", err);
	ck_assert_int_eq(bmq_url_parse("unix://%00@/r.sock", &u, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "the password holds a NUL byte") != NULL,
	    "%s", err);
}
END_TEST

START_TEST(url_errors)
{
	struct bmq_url	u;
	char		err[256];

	/* each bad URL, and a word its message must hold ("" any) */
	static const struct {
		const char	*url, *says;
	} bad[] = {
		{ "http://x", "redis://" },
		{ "redis://h:0", "port" },
		{ "redis://h:99999", "" },
		{ "redis://h:12x", "" },
		{ "redis://h/x", "database" },
		{ "redis://::1:6379", "brackets" },
		{ "redis://[::1", "IPv6" },
		{ "redis://[]:1", "" },
		{ "redis://[::1]x", "" },
		{ "redis://[::1]:", "port" },
		{ "unix://relative", "" },
		{ "unix:///s?dbx=1", "" },
		{ "redis://h:+80", "port" },
		{ "redis://h: 80", "port" },
		{ "redis://h/+1", "database" },
		{ "redis://h/ 1", "database" },
		{ "redis://%00@h", "the password holds a NUL byte (%00)" },
		{ "redis://u:%00@h", "the password holds a NUL byte" },
		{ "redis://u:ab%00cd@h", "the password holds a NUL byte" },
		{ "redis://%00:pw@h", "the user holds a NUL byte" },
		{ "redis://u%00x:pw@h", "the user holds a NUL byte" },
	};
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(bmq_url_parse(bad[i].url, &u, err, sizeof(err)) ==
		    -1, "%s is taken", bad[i].url);
		ck_assert_msg(strstr(err, bad[i].says) != NULL,
		    "%s: \"%s\" does not say %s", bad[i].url, err,
		    bad[i].says);
	}
}
END_TEST

/* A bad URL's message never shows its password. */
START_TEST(url_errors_secret)
{
	static const char	*bad[] = {
		"redis://u:s3cret@h:99999",
		"redis://s3cret@h/x",
		"redis://u:s3cret@h@:0",
		"redis://u:s3cret%00@h",
		"redis://u:s3cret@::1:6379",
		"redis://u:s3/cret@h:x",
	};
	struct bmq_url	u;
	char		err[256];
	size_t		i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(bmq_url_parse(bad[i], &u, err, sizeof(err)),
		    -1);
		ck_assert_msg(strstr(err, "cret") == NULL, "%s", err);
		ck_assert_msg(strstr(err, "***@") != NULL, "%s", err);
	}
	/* the user part ends at the last @ */
	ck_assert_int_eq(bmq_url_parse("redis://u:p@ss@h:7", &u, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(u.user, "u");
	ck_assert_str_eq(u.pass, "p@ss");
	ck_assert_str_eq(u.host, "h");
	ck_assert_int_eq(u.port, 7);
	ck_assert_int_eq(bmq_url_parse("redis://u:p/w?x@h/3", &u, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(u.pass, "p/w?x");
	ck_assert_str_eq(u.host, "h");
	ck_assert_int_eq(u.db, 3);
	/* an empty password with a user is kept: AUTH user "" */
	ck_assert_int_eq(bmq_url_parse("redis://u:@h", &u, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(u.user, "u");
	ck_assert_str_eq(u.pass, "");
}
END_TEST

/* bullmq_url_redact shows all but the password. */
START_TEST(url_redact)
{
	static const struct {
		const char	*url, *shown;
	} t[] = {
		{ "redis://u:pw@h:1/2", "redis://u:***@h:1/2" },
		{ "redis://pw@h", "redis://***@h" },
		{ "redis://:pw@h", "redis://:***@h" },
		{ "redis://u:p@w@h/0", "redis://u:***@h/0" },
		{ "redis://h:1/2", "redis://h:1/2" },
		{ "redis://u:pa/ss@h", "redis://u:***@h" },
		{ "redis://h/a@b", "redis://***@b" },
		{ "unix:///run/r.sock?db=1", "unix:///run/r.sock?db=1" },
		{ "unix://u:pw@/run/r.sock", "unix://u:***@/run/r.sock" },
		{ "nonsense", "nonsense" },
	};
	char	buf[64];
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_str_eq(bullmq_url_redact(t[i].url, buf, sizeof(buf)),
		    t[i].shown);
	ck_assert_str_eq(bullmq_url_redact("redis://u:pw@h", buf, 10),
	    "redis://u");
}
END_TEST

START_TEST(queue_keys)
{
	struct bullmq_conn_opts	 o;
	bullmq_queue		*q;
	char			 buf[256];

	memset(&o, 0, sizeof(o));
	o.queue = "emails";
	q = bullmq_queue_new(&o);
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(bullmq_errcode(q), 0);
	ck_assert_str_eq(q->keys[BMQ_K_BASE], "bull:emails:");
	ck_assert_str_eq(q->keys[BMQ_K_WAIT], "bull:emails:wait");
	ck_assert_str_eq(q->keys[BMQ_K_WAITING_CHILDREN],
	    "bull:emails:waiting-children");
	ck_assert_str_eq(q->keys[BMQ_K_METRICS_FAILED],
	    "bull:emails:metrics:failed");
	ck_assert_uint_eq(q->keylens[BMQ_K_MARKER], strlen("bull:emails:marker"));
	ck_assert_int_eq(bmq_job_key(q, "42", buf, sizeof(buf)), 14);
	ck_assert_str_eq(buf, "bull:emails:42");
	ck_assert_int_eq(bmq_job_key(q, "42", buf, 5), -1);
	ck_assert_int_eq(bullmq_worker_client_name(q, NULL, buf, sizeof(buf)),
	    0);
	ck_assert_str_eq(buf, "bull:ZW1haWxz");
	ck_assert_int_eq(bullmq_worker_client_name(q, "w1", buf, sizeof(buf)),
	    0);
	ck_assert_str_eq(buf, "bull:ZW1haWxz:w:w1");
	bullmq_queue_free(q);

	o.queue = "q2";
	o.prefix = "{app}";
	q = bullmq_queue_new(&o);
	ck_assert_str_eq(q->keys[BMQ_K_ID], "{app}:q2:id");
	ck_assert_int_eq(bullmq_worker_client_name(q, NULL, buf, sizeof(buf)),
	    0);
	ck_assert_str_eq(buf, "{app}:cTI=");
	bullmq_queue_free(q);
}
END_TEST

/* A script's arguments: keys and strings in order, room past the stack. */
START_TEST(script_args)
{
	static const enum bmq_key keys[] = { BMQ_K_WAIT, BMQ_K_META };
	struct bullmq_conn_opts	 o;
	struct bmq_args		 a;
	struct bmq_buf		 b;
	bullmq_queue		*q;
	int			 i;

	memset(&o, 0, sizeof(o));
	o.queue = "q";
	q = bullmq_queue_new(&o);
	ck_assert_ptr_nonnull(q);
	bmq_args_init(&a);
	bmq_args_keys(&a, q, keys, 2);
	bmq_args_key(&a, q, BMQ_K_BASE);
	bmq_args_adds(&a, "x");
	bmq_args_add(&a, "a\0b", 3);
	ck_assert_int_eq(a.n, 5);
	ck_assert_str_eq(a.v[1], "bull:q:meta");
	ck_assert_uint_eq(a.l[2], strlen("bull:q:"));
	ck_assert_uint_eq(a.l[4], 3);
	for (i = a.n; i < BMQ_ARGS_MAX; i++)
		bmq_args_adds(&a, "y");
	ck_assert_int_eq(a.over, 0);
	bmq_buf_init(&b);
	ck_assert_int_eq(bmq_script_format(&b, BMQ_LUA_ADD, &a), 0);
	/* one more than the room: the call is refused, not cut short */
	bmq_args_adds(&a, "z");
	ck_assert_int_eq(a.over, 1);
	ck_assert_int_eq(a.n, BMQ_ARGS_MAX);
	ck_assert_int_eq(bmq_script_format(&b, BMQ_LUA_ADD, &a), -1);
	ck_assert_ptr_null(bmq_script(q, BMQ_LUA_ADD, &a));
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_ARG);
	/* room made beforehand keeps what was added */
	bmq_args_init(&a);
	bmq_args_adds(&a, "first");
	ck_assert_int_eq(bmq_args_room(&a, 3 * BMQ_ARGS_MAX), 0);
	for (i = 1; i < 3 * BMQ_ARGS_MAX; i++)
		bmq_args_adds(&a, "n");
	ck_assert_int_eq(a.over, 0);
	ck_assert_str_eq(a.v[0], "first");
	ck_assert_int_eq(bmq_args_room(&a, 2), 0);
	ck_assert_int_eq(a.n, 3 * BMQ_ARGS_MAX);
	bmq_args_free(&a);
	ck_assert_int_eq(a.n, 0);
	ck_assert_ptr_eq(a.v, a.sv);
	bmq_buf_free(&b);
	bullmq_queue_free(q);
}
END_TEST

/* The two clocks: the wall's in ms since 1970, the monotonic one. */
START_TEST(clocks)
{
	struct timespec	 ts = { 0, 20 * 1000000L };
	int64_t		 m0, m1, w;

	w = bullmq_now();
	ck_assert(w > INT64_C(1600000000000));
	m0 = bullmq_mono_ms();
	nanosleep(&ts, NULL);
	m1 = bullmq_mono_ms();
	ck_assert(m1 - m0 >= 20);
	ck_assert(m1 - m0 < 5000);
}
END_TEST

START_TEST(queue_errors)
{
	static char		 url[1024];
	struct bullmq_conn_opts	 o;
	bullmq_queue		*q;

	memset(&o, 0, sizeof(o));
	o.queue = "a:b";
	q = bullmq_queue_new(&o);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_ARG);
	ck_assert_ptr_nonnull(strstr(bullmq_errstr(q), "a:b"));
	ck_assert_int_eq(bullmq_queue_connect(q), -1);
	bullmq_queue_free(q);
	o.queue = "ok";
	o.url = "redis://h:bad";
	q = bullmq_queue_new(&o);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_ARG);
	ck_assert_ptr_nonnull(strstr(bullmq_errstr(q), "port"));
	bullmq_queue_free(q);
	/* a long URL: the message still says what is wrong with it */
	memset(url, 'x', sizeof(url) - 1);
	memcpy(url, "http://", 7);
	o.url = url;
	q = bullmq_queue_new(&o);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_ARG);
	ck_assert_ptr_nonnull(strstr(bullmq_errstr(q), "xx: must start with "
	    "redis://, rediss://, redis+sentinel:// or unix://"));
	bullmq_queue_free(q);
	o.url = NULL;
	o.queue = NULL;
	q = bullmq_queue_new(&o);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_ARG);
	bullmq_queue_free(q);
	bullmq_queue_free(NULL);
}
END_TEST

/* An error message holds the longest id; a longer one ends in "...". */
START_TEST(error_length)
{
	static char		 id[BULLMQ_MAX_ID + 1], big[2 * BMQ_MAX_ERR];
	struct bullmq_conn_opts	 o;
	bullmq_queue		*q;
	const char		*e;

	memset(&o, 0, sizeof(o));
	o.queue = "ok";
	q = bullmq_queue_new(&o);
	ck_assert_ptr_nonnull(q);
	memset(id, 'i', BULLMQ_MAX_ID);
	bmq_seterr(q, BULLMQ_ERR_JOB, "complete job %s: %s", id,
	    "lock does not exist");
	e = bullmq_errstr(q);
	ck_assert_uint_eq(strlen(e), BULLMQ_MAX_ID + 34);
	ck_assert_str_eq(e + BULLMQ_MAX_ID + 13, ": lock does not exist");
	memset(big, 'x', sizeof(big) - 1);
	bmq_seterr(q, BULLMQ_ERR_REDIS, "redis: %s", big);
	e = bullmq_errstr(q);
	ck_assert_uint_eq(strlen(e), BMQ_MAX_ERR - 1);
	ck_assert_str_eq(e + BMQ_MAX_ERR - 5, "x...");
	bullmq_queue_free(q);
}
END_TEST

START_TEST(base64)
{
	char	out[32];

	ck_assert_int_eq(bmq_base64("", 0, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
	bmq_base64("f", 1, out, sizeof(out));
	ck_assert_str_eq(out, "Zg==");
	bmq_base64("fo", 2, out, sizeof(out));
	ck_assert_str_eq(out, "Zm8=");
	bmq_base64("foo", 3, out, sizeof(out));
	ck_assert_str_eq(out, "Zm9v");
	bmq_base64("foobar", 6, out, sizeof(out));
	ck_assert_str_eq(out, "Zm9vYmFy");
	ck_assert_int_eq(bmq_base64("foobar", 6, out, 8), -1);
}
END_TEST

START_TEST(job_ids)
{
	char	err[256];

	ck_assert_int_eq(bmq_check_job_id("my-id", err, sizeof(err)), 0);
	ck_assert_int_eq(bmq_check_job_id("repeat:abc:1700000000000", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(bmq_check_job_id("12a", err, sizeof(err)), 0);
	ck_assert_int_eq(bmq_check_job_id("007", err, sizeof(err)), 0);
	ck_assert_int_eq(bmq_check_job_id("42", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "integer"));
	ck_assert_int_eq(bmq_check_job_id("-3", err, sizeof(err)), -1);
	ck_assert_int_eq(bmq_check_job_id("0", err, sizeof(err)), -1);
	ck_assert_int_eq(bmq_check_job_id("0:x", err, sizeof(err)), -1);
	ck_assert_int_eq(bmq_check_job_id("a:b", err, sizeof(err)), -1);
	ck_assert_int_eq(bmq_check_job_id("a:b:c:d", err, sizeof(err)), -1);
	ck_assert_int_eq(bmq_check_job_id("", err, sizeof(err)), -1);
}
END_TEST

/* The keys suite. */
Suite *
make_suite(void)
{
	Suite	*s = suite_create("keys");
	TCase	*tc = tcase_create("keys");

	tcase_add_test(tc, url_tcp);
	tcase_add_test(tc, url_unix);
	tcase_add_test(tc, url_tls);
	tcase_add_test(tc, url_errors);
	tcase_add_test(tc, url_errors_secret);
	tcase_add_test(tc, url_redact);
	tcase_add_test(tc, queue_keys);
	tcase_add_test(tc, queue_errors);
	tcase_add_test(tc, script_args);
	tcase_add_test(tc, clocks);
	tcase_add_test(tc, error_length);
	tcase_add_test(tc, base64);
	tcase_add_test(tc, job_ids);
	suite_add_tcase(s, tc);
	return s;
}
