/*
 * check_topology.c: redis+sentinel:// URLs and Redis Cluster key slots.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"
#include "suite.h"

START_TEST(sentinel_url)
{
	struct bmq_url	u;
	char		err[512];

	ck_assert_int_eq(bmq_url_parse("redis+sentinel://h1:26380,h2,"
	    "[::1]:5/mymaster/3", &u, err, sizeof(err)), 0);
	ck_assert_int_eq(u.nsentinels, 3);
	ck_assert_str_eq(u.sentinels[0].host, "h1");
	ck_assert_int_eq(u.sentinels[0].port, 26380);
	ck_assert_str_eq(u.sentinels[1].host, "h2");
	ck_assert_int_eq(u.sentinels[1].port, 26379);
	ck_assert_str_eq(u.sentinels[2].host, "::1");
	ck_assert_int_eq(u.sentinels[2].port, 5);
	ck_assert_str_eq(u.master_name, "mymaster");
	ck_assert_int_eq(u.db, 3);
	ck_assert_str_eq(u.pass, "");
	ck_assert_str_eq(u.sentinel_pass, "");
	ck_assert_int_eq(bmq_url_parse("redis+sentinel://app:p%40ss/w@h1/m"
	    "?sentinel_password=s%3Fp", &u, err, sizeof(err)), 0);
	ck_assert_str_eq(u.user, "app");
	ck_assert_str_eq(u.pass, "p@ss/w");
	ck_assert_str_eq(u.sentinel_pass, "s?p");
	ck_assert_int_eq(u.nsentinels, 1);
	ck_assert_str_eq(u.master_name, "m");
	ck_assert_int_eq(u.db, 0);
	/* a password may hold a raw "?" */
	ck_assert_int_eq(bmq_url_parse("redis+sentinel://u:p?w@h1/m", &u, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(u.pass, "p?w");
	/* a lone user part is the password, as in redis:// */
	ck_assert_int_eq(bmq_url_parse("redis+sentinel://pw@h1/m", &u, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(u.user, "");
	ck_assert_str_eq(u.pass, "pw");
	ck_assert_int_eq(bullmq_url_check("redis+sentinel://h1/m/0", err,
	    sizeof(err)), 0);
}
END_TEST

START_TEST(sentinel_url_errors)
{
	static const char *const bad[] = {
		"redis+sentinel://h1:26379",
		"redis+sentinel://h1:26379/",
		"redis+sentinel:///m",
		"redis+sentinel://h1,,h2/m",
		"redis+sentinel://h1:x/m",
		"redis+sentinel://h1:0/m",
		"redis+sentinel://h1/m/x",
		"redis+sentinel://h1/m/1/2",
		"redis+sentinel://a,b,c,d,e,f,g,h,i/m",
		"redis+sentinel://u:%00@h1/m",
		"redis+sentinel://h1/m?db=1",
		"redis+sentinel://h1/m?password=x",
	};
	struct bmq_url	u;
	char		err[512];
	size_t		i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(bmq_url_parse(bad[i], &u, err, sizeof(err)) ==
		    -1, "%s accepted", bad[i]);
		ck_assert_msg(strstr(err, "redis url redis+sentinel://") !=
		    NULL, "%s: %s", bad[i], err);
	}
	/* no password in a message */
	ck_assert_int_eq(bmq_url_parse("redis+sentinel://u:s3cret@h1:x/m"
	    "?sentinel_password=t0p", &u, err, sizeof(err)), -1);
	ck_assert_ptr_null(strstr(err, "s3cret"));
	ck_assert_ptr_null(strstr(err, "t0p"));
	ck_assert_ptr_nonnull(strstr(err, "bad sentinel port"));
}
END_TEST

START_TEST(sentinel_redact)
{
	static const struct {
		const char	*url, *shown;
	} t[] = {
		{ "redis+sentinel://u:pw@h1,h2/m/1",
		    "redis+sentinel://u:***@h1,h2/m/1" },
		{ "redis+sentinel://h1,h2/m?sentinel_password=x@y",
		    "redis+sentinel://h1,h2/m?sentinel_password=***" },
		{ "redis+sentinel://pw@h1/m?sentinel_password=s",
		    "redis+sentinel://***@h1/m?sentinel_password=***" },
		{ "redis+sentinel://h1/m", "redis+sentinel://h1/m" },
	};
	char	buf[128];
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_str_eq(bullmq_url_redact(t[i].url, buf, sizeof(buf)),
		    t[i].shown);
}
END_TEST

/* Slots as CLUSTER KEYSLOT answers them (Redis 7.0). */
START_TEST(keyslots)
{
	ck_assert_uint_eq(bmq_crc16("123456789", 9), 0x31c3);
	ck_assert_uint_eq(bmq_keyslot("foo", 3), 12182);
	ck_assert_uint_eq(bmq_keyslot("somekey", 7), 11058);
	ck_assert_uint_eq(bmq_keyslot("foo{hash_tag}", 13), 2515);
	ck_assert_uint_eq(bmq_keyslot("{bull}:q:wait", 13),
	    bmq_keyslot("bull", 4));
	/* an empty tag hashes the whole key; the first "{" counts */
	ck_assert_uint_eq(bmq_keyslot("{}bull", 6), bmq_keyslot("{}bull", 6));
	ck_assert_uint_ne(bmq_keyslot("{}bull", 6), bmq_keyslot("bull", 4));
	ck_assert_uint_eq(bmq_keyslot("a{b{c}d}", 8), bmq_keyslot("b{c", 3));
}
END_TEST

START_TEST(slot_check)
{
	struct bullmq_conn_opts	 o;
	bullmq_queue		*q;
	char			 err[BMQ_MAX_ERR];

	memset(&o, 0, sizeof(o));
	o.queue = "q";
	o.prefix = "{bull}";
	q = bullmq_queue_new(&o);
	ck_assert_int_eq(bmq_slot_check(q->keys[BMQ_K_BASE], q->keys,
	    q->keylens, BMQ_K__MAX, err, sizeof(err)), 0);
	bullmq_queue_free(q);
	o.prefix = "bull";
	o.queue = "{q}";
	q = bullmq_queue_new(&o);
	ck_assert_int_eq(bmq_slot_check(q->keys[BMQ_K_BASE], q->keys,
	    q->keylens, BMQ_K__MAX, err, sizeof(err)), 0);
	bullmq_queue_free(q);
	o.queue = "q";
	q = bullmq_queue_new(&o);
	ck_assert_int_eq(bmq_slot_check(q->keys[BMQ_K_BASE], q->keys,
	    q->keylens, BMQ_K__MAX, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "bull:q:wait") != NULL &&
	    strstr(err, "hash tag") != NULL, "%s", err);
	bullmq_queue_free(q);
	/* an empty tag is no tag */
	o.prefix = "{}bull";
	q = bullmq_queue_new(&o);
	ck_assert_int_eq(bmq_slot_check(q->keys[BMQ_K_BASE], q->keys,
	    q->keylens, BMQ_K__MAX, err, sizeof(err)), -1);
	bullmq_queue_free(q);
}
END_TEST

/* An error reply as hiredis makes it, without a server. */
static redisReply *
error_reply(const char *msg)
{
	static redisReply	r;

	memset(&r, 0, sizeof(r));
	r.type = REDIS_REPLY_ERROR;
	r.str = (char *)msg;
	r.len = strlen(msg);
	return &r;
}

/* What bmq_redirect makes of each redirection, on a handle not connected. */
START_TEST(redirects)
{
	struct bullmq_conn_opts	 o;
	bullmq_queue		*q;

	memset(&o, 0, sizeof(o));
	o.queue = "q";
	o.prefix = "{bull}";
	o.url = "redis://10.0.0.1:7000";
	q = bullmq_queue_new(&o);
	ck_assert_int_eq(bmq_redirect(q, error_reply("MOVED 9263 "
	    "127.0.0.1:7002"), 0, 0), 1);
	ck_assert_str_eq(q->node.host, "127.0.0.1");
	ck_assert_int_eq(q->node.port, 7002);
	ck_assert_int_eq(bmq_redirect(q, error_reply("MOVED 1 [::1]:7003"),
	    1, 1), 1);
	ck_assert_str_eq(q->node.host, "::1");
	ck_assert_int_eq(q->node.port, 7003);
	/* no host: the node that answered */
	ck_assert_int_eq(bmq_redirect(q, error_reply("MOVED 1 :7004"), 2, 0),
	    1);
	ck_assert_str_eq(q->node.host, "::1");
	ck_assert_int_eq(q->node.port, 7004);
	ck_assert_int_eq(bmq_redirect(q, error_reply("MOVED 1 h"), 0, 0), -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_PROTOCOL);
	/* a script waits where it is on ASK and TRYAGAIN */
	ck_assert_int_eq(bmq_redirect(q, error_reply("ASK 9263 "
	    "127.0.0.1:7005"), 0, 1), 1);
	ck_assert_int_eq(q->node.port, 7004);
	ck_assert_int_eq(bmq_redirect(q, error_reply("TRYAGAIN Multiple keys "
	    "request during rehashing of slot"), 0, 0), 1);
	ck_assert_int_eq(bmq_redirect(q, error_reply("ERR Error running "
	    "script: Script attempted to access a non local key in a cluster "
	    "node"), 0, 1), 1);
	/* others are answers; READONLY too, without sentinels */
	ck_assert_int_eq(bmq_redirect(q, error_reply("ERR wrong number"), 0,
	    0), 0);
	ck_assert_int_eq(bmq_redirect(q, error_reply("MOVEDX 1 h:1"), 0, 0),
	    0);
	ck_assert_int_eq(bmq_redirect(q, error_reply("READONLY You can't "
	    "write against a read only replica."), 0, 0), 0);
	/* and a redirection loop ends */
	ck_assert_int_eq(bmq_redirect(q, error_reply("MOVED 1 h:1"), 1000, 0),
	    0);
	bullmq_queue_free(q);
	o.url = "redis+sentinel://127.0.0.1:1/m";
	q = bullmq_queue_new(&o);
	ck_assert_int_eq(bmq_redirect(q, error_reply("READONLY You can't "
	    "write against a read only replica."), 20, 0), -1);
	ck_assert_int_eq(bullmq_errcode(q), BULLMQ_ERR_IO);
	ck_assert_ptr_nonnull(strstr(bullmq_errstr(q), "READONLY"));
	bullmq_queue_free(q);
}
END_TEST

Suite *
make_suite(void)
{
	Suite	*s = suite_create("topology");
	TCase	*tc = tcase_create("topology");

	tcase_add_test(tc, sentinel_url);
	tcase_add_test(tc, sentinel_url_errors);
	tcase_add_test(tc, sentinel_redact);
	tcase_add_test(tc, keyslots);
	tcase_add_test(tc, slot_check);
	tcase_add_test(tc, redirects);
	suite_add_tcase(s, tc);
	return s;
}
