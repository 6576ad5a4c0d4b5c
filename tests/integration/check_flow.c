/*
 * check_flow.c: bullmq_flow_add and add-flow-0.lua against a private
 * redis-server (tests/interop/15-flows.mjs holds the same against Node's
 * FlowProducer).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"
#include "harness.h"
#include "suite.h"

static bullmq_queue	*q;

/* The string member name of the JSON object text js, in buf. */
static const char *
member(const char *js, const char *path, char *buf, size_t size)
{
	struct bullmq_json_value	v;

	ck_assert_int_eq(bullmq_json_get(js, strlen(js), path, &v), 1);
	ck_assert_int_ge(bullmq_json_string(&v, buf, size), 0);
	return buf;
}

START_TEST(tree)
{
	static const char	*t = "{\"name\":\"p\",\"queueName\":\"q\","
	    "\"data\":{\"x\":1},\"children\":[{\"name\":\"c\",\"queueName\":"
	    "\"o\",\"opts\":{\"failParentOnFailure\":true,\"keepLogs\":2}},"
	    "{\"name\":\"d\",\"queueName\":\"q\",\"data\":\"s\",\"opts\":"
	    "{\"jobId\":\"mine\",\"delay\":500}}]}";
	char			*ids, p[64], c[64], key[128];

	ck_assert_int_eq(bullmq_flow_add(q, t, strlen(t), &ids), 0);
	member(ids, "id", p, sizeof(p));
	ck_assert_int_eq(strlen(p), 36);	/* a UUID */
	ck_assert_ptr_ne(strstr(ids, "\"id\":\"mine\""), NULL);
	ck_assert_str_ne(harness_str("ZSCORE bull:q:waiting-children %s", p),
	    "(nil)");
	ck_assert_int_eq(harness_int("ZCARD bull:q:waiting-children"), 1);
	ck_assert_int_eq(harness_int("SCARD bull:q:%s:dependencies", p), 2);
	ck_assert_int_eq(harness_int("SISMEMBER bull:q:%s:dependencies "
	    "bull:q:mine", p), 1);
	ck_assert_int_eq(harness_int("ZCARD bull:q:delayed"), 1);
	ck_assert_str_eq(harness_str("HGET bull:q:mine data"), "\"s\"");
	snprintf(key, sizeof(key), "bull:q:%s", p);
	ck_assert_str_eq(harness_str("HGET bull:q:mine parentKey"), key);
	/* the child in the other queue, with its flag */
	ck_assert_int_eq(harness_int("LLEN bull:o:wait"), 1);
	snprintf(c, sizeof(c), "%s", harness_str("LINDEX bull:o:wait 0"));
	ck_assert_ptr_ne(strstr(harness_str("HGET bull:o:%s parent", c),
	    "\"fpof\":true"), NULL);
	ck_assert_ptr_ne(strstr(harness_str("HGET bull:o:%s opts", c),
	    "\"kl\":2"), NULL);
	ck_assert_str_eq(harness_str("GET bull:q:id"), "2");
	ck_assert_str_eq(harness_str("GET bull:o:id"), "1");
	free(ids);
}
END_TEST

START_TEST(refusals)
{
	static const char	*bad[] = {
		"[]", "{\"name\":\"x\"}", "{\"queueName\":\"q\"}",
		"{\"name\":\"x\",\"queueName\":\"a:b\"}",
		"{\"name\":\"x\",\"queueName\":\"q\",\"opts\":{\"nope\":1}}",
		"{\"name\":\"x\",\"queueName\":\"q\",\"opts\":"
		    "{\"deduplication\":{\"id\":\"d\"}}}",
		"{\"name\":\"x\",\"queueName\":\"q\",\"opts\":"
		    "{\"failParentOnFailure\":true,"
		    "\"continueParentOnFailure\":true}}",
		"{\"name\":\"x\",\"queueName\":\"q\",\"children\":{}}",
		"{\"name\":\"x\",\"queueName\":\"q\",\"opts\":{\"parent\":"
		    "{\"id\":\"nope\",\"queue\":\"bull:q\"}}}",
		"{\"name\":\"x\",\"queueName\":\"q\",\"children\":[{\"name\":"
		    "\"y\",\"queueName\":\"q\",\"opts\":{\"jobId\":\"taken\"}}]}",
		"{\"name\":\"x\",\"queueName\":\"q\",\"children\":[{\"name\":"
		    "\"y\",\"queueName\":\"q\",\"opts\":{\"jobId\":\"two\"}},"
		    "{\"name\":\"z\",\"queueName\":\"q\",\"opts\":"
		    "{\"jobId\":\"two\"}}]}",
		"{nope",
	};
	static const char	*ok_tree = "{\"name\":\"p\",\"queueName\":"
	    "\"q\",\"children\":[{\"name\":\"c\",\"queueName\":\"o\"}]}";
	size_t			 i;

	freeReplyObject(harness_cmd("HSET bull:q:taken name t"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(bullmq_flow_add(q, bad[i], strlen(bad[i]),
		    NULL) == -1, "%s accepted", bad[i]);
	/* nothing written but the hand-made job */
	ck_assert_int_eq(harness_int("DBSIZE"), 1);
	/* a wrong-typed list of the last queue: nothing written either */
	freeReplyObject(harness_cmd("SET bull:o:wait x"));
	ck_assert_int_eq(bullmq_flow_add(q, ok_tree, strlen(ok_tree), NULL),
	    -1);
	ck_assert_ptr_ne(strstr(bullmq_errstr(q), "bull:o:wait"), NULL);
	ck_assert_int_eq(harness_int("DBSIZE"), 2);
}
END_TEST

Suite *
make_suite(void)
{
	Suite	*s = suite_create("flow");
	TCase	*tc = harness_tcase(s, "flow", "q", &q, 60);

	tcase_add_test(tc, tree);
	tcase_add_test(tc, refusals);
	return s;
}
