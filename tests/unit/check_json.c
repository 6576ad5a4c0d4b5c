/*
 * check_json.c: JSON checking, reading and writing.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"
#include "suite.h"

#define VALID(s)	bmq_json_valid((s), strlen(s))

START_TEST(valid_documents)
{
	ck_assert(VALID("null"));
	ck_assert(VALID("{}"));
	ck_assert(VALID("[]"));
	ck_assert(VALID(" {\"a\" : [1, -2.5e+3, true, false, null]} "));
	ck_assert(VALID("\"str\""));
	ck_assert(VALID("0"));
	ck_assert(VALID("-0.0e-1"));
	ck_assert(VALID("\"\\u00e9\\n\\t\\\\\\\"\\/\""));
	ck_assert(VALID("\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\""));
	ck_assert(VALID("{\"a\":{\"b\":{\"c\":[[[]]]}}}"));
}
END_TEST

START_TEST(invalid_documents)
{
	ck_assert(!VALID(""));
	ck_assert(!VALID("   "));
	ck_assert(!VALID("{"));
	ck_assert(!VALID("{\"a\":1,}"));
	ck_assert(!VALID("[1,]"));
	ck_assert(!VALID("{a:1}"));
	ck_assert(!VALID("'x'"));
	ck_assert(!VALID("01"));
	ck_assert(!VALID("1."));
	ck_assert(!VALID(".5"));
	ck_assert(!VALID("+1"));
	ck_assert(!VALID("1e"));
	ck_assert(!VALID("tru"));
	ck_assert(!VALID("nulll"));
	ck_assert(!VALID("NaN"));
	ck_assert(!VALID("undefined"));
	ck_assert(!VALID("{} {}"));
	ck_assert(!VALID("\"a\nb\""));		/* raw control char */
	ck_assert(!VALID("\"\\x\""));		/* bad escape */
	ck_assert(!VALID("\"\\u12\""));		/* short \u */
	ck_assert(!VALID("\"\xff\""));		/* not UTF-8 */
	ck_assert(!VALID("\"\xc0\xaf\""));	/* overlong */
	ck_assert(!VALID("\"\xed\xa0\x80\""));	/* surrogate */
	ck_assert(!VALID("\"abc"));
	ck_assert(!bmq_json_valid("1\0", 2));	/* embedded NUL */
}
END_TEST

START_TEST(deep_nesting_is_bounded)
{
	char	*s;
	size_t	 i, n = 100000;

	s = malloc(2 * n + 1);
	for (i = 0; i < n; i++) {
		s[i] = '[';
		s[n + i] = ']';
	}
	s[2 * n] = '\0';
	ck_assert(!VALID(s));		/* refused, not a stack overflow */
	free(s);
}
END_TEST

START_TEST(get_paths)
{
	const char	*js = "{\"attempts\":3,\"backoff\":{\"type\":"
	    "\"exponential\",\"delay\":1000},\"x\":[1,{\"attempts\":9}],"
	    "\"big\":1e+15,\"s\":\"a\\u00e9\\ud83d\\ude00\",\"f\":false}";
	struct bmq_jval	 v;
	int64_t		 n;
	char		 buf[32];

	ck_assert_int_eq(bmq_json_get(js, strlen(js), "attempts", &v), 1);
	ck_assert_int_eq(v.type, BMQ_J_NUMBER);
	ck_assert_int_eq(bmq_jval_int(&v, &n), 0);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(bmq_json_get(js, strlen(js), "backoff.delay", &v), 1);
	ck_assert_int_eq(bmq_jval_int(&v, &n), 0);
	ck_assert_int_eq(n, 1000);
	ck_assert_int_eq(bmq_json_get(js, strlen(js), "backoff.type", &v), 1);
	ck_assert_int_eq(bmq_jval_string(&v, buf, sizeof(buf)), 11);
	ck_assert_str_eq(buf, "exponential");
	ck_assert_int_eq(bmq_json_get(js, strlen(js), "backoff", &v), 1);
	ck_assert_int_eq(v.type, BMQ_J_OBJECT);
	ck_assert_int_eq(bmq_json_get(js, strlen(js), "big", &v), 1);
	ck_assert_int_eq(bmq_jval_int(&v, &n), 0);
	ck_assert(n == 1000000000000000LL);
	ck_assert_int_eq(bmq_json_get(js, strlen(js), "s", &v), 1);
	ck_assert_int_eq(bmq_jval_string(&v, buf, sizeof(buf)), 7);
	ck_assert_str_eq(buf, "a\xc3\xa9\xf0\x9f\x98\x80");
	ck_assert_int_eq(bmq_jval_string(&v, buf, 4), -1);	/* too small */
	ck_assert_int_eq(bmq_json_get(js, strlen(js), "f", &v), 1);
	ck_assert_int_eq(v.type, BMQ_J_FALSE);
	/* nested objects inside arrays are not top-level keys */
	ck_assert_int_eq(bmq_json_get(js, strlen(js), "missing", &v), 0);
	ck_assert_int_eq(bmq_json_get(js, strlen(js), "attempts.x", &v), 0);
	ck_assert_int_eq(bmq_json_get(js, strlen(js), "", &v), 1);
	ck_assert_int_eq(v.type, BMQ_J_OBJECT);
	ck_assert_int_eq(bmq_json_get("{\"a\":", 5, "a", &v), -1);
	ck_assert_int_eq(bmq_json_get("[1,2]", 5, "a", &v), 0);
	ck_assert_int_eq(bmq_json_get("{\"ms\":2.5}", 10, "ms", &v), 1);
	ck_assert_int_eq(bmq_jval_int(&v, &n), -1);
	/* a key that is absent from the text: still -1 for bad JSON, 0 for
	 * good; a key text found only as a value is not a key */
	ck_assert_int_eq(bmq_json_get("{\"a\":1,", 7, "zz", &v), -1);
	ck_assert_int_eq(bmq_json_get("{\"a\":1}", 7, "zz.y", &v), 0);
	ck_assert_int_eq(bmq_json_get("{\"a\":\"zz\"}", 10, "zz", &v), 0);
	ck_assert_int_eq(bmq_json_get(js, strlen(js), "backoff.zz", &v), 0);
}
END_TEST

/* fuzz_json: jsmn in strict mode refuses a bare number or word */
START_TEST(get_bare_values)
{
	struct bmq_jval	 v;
	int64_t		 n;

	ck_assert_int_eq(bmq_json_get("5", 1, "", &v), 1);
	ck_assert_int_eq(v.type, BMQ_J_NUMBER);
	ck_assert_int_eq(bmq_jval_int(&v, &n), 0);
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(bmq_json_get(" -2.5e3 ", 8, "", &v), 1);
	ck_assert_int_eq(v.len, 6);
	ck_assert_int_eq(bmq_json_get("true", 4, "", &v), 1);
	ck_assert_int_eq(v.type, BMQ_J_TRUE);
	ck_assert_int_eq(bmq_json_get("null", 4, "", &v), 1);
	ck_assert_int_eq(v.type, BMQ_J_NULL);
	/* valid, and not an object: no member, rather than bad JSON */
	ck_assert_int_eq(bmq_json_get("true", 4, "t", &v), 0);
	ck_assert_int_eq(bmq_json_get("null", 4, "u.l", &v), 0);
	ck_assert_int_eq(bmq_json_get("125", 3, "2", &v), 0);
}
END_TEST

START_TEST(members_in_one_pass)
{
	static const char *const keys[] = { "name", "data", "opts", "none" };
	const char	*js = "{\"data\":{\"name\":1,\"opts\":2},\"name\":\"n\","
	    "\"x\":[\"opts\",{\"opts\":3}],\"opts\":{\"a\":1},\"name\":\"last\"}";
	struct bmq_jval	 m[4];
	char		 buf[16];

	ck_assert_int_eq(bmq_json_members(js, strlen(js), keys, 4, m), 0);
	/* top-level members only, the last of a repeated key */
	ck_assert_int_eq(m[0].type, BMQ_J_STRING);
	ck_assert_int_eq(bmq_jval_string(&m[0], buf, sizeof(buf)), 4);
	ck_assert_str_eq(buf, "last");
	ck_assert_int_eq(m[1].type, BMQ_J_OBJECT);
	ck_assert_uint_eq(m[1].len, 19);
	ck_assert_int_eq(m[2].type, BMQ_J_OBJECT);
	ck_assert_int_eq(strncmp(m[2].p, "{\"a\":1}", m[2].len), 0);
	ck_assert_int_eq(m[3].type, BMQ_J_NONE);
	ck_assert_int_eq(bmq_json_members("{}", 2, keys, 4, m), 0);
	ck_assert_int_eq(m[0].type, BMQ_J_NONE);
	ck_assert_int_eq(bmq_json_members("[1]", 3, keys, 4, m), -1);
	ck_assert_int_eq(bmq_json_members("{\"name\":null}", 13, keys, 1,
	    m), 0);
	ck_assert_int_eq(m[0].type, BMQ_J_NULL);
}
END_TEST

/* Integers: plain digits read directly, the other forms by strtod. */
START_TEST(integers)
{
	static const struct {
		const char	*text;
		int		 rv;
		int64_t		 n;
	} t[] = {
		{ "0", 0, 0 }, { "7", 0, 7 }, { "3600", 0, 3600 },
		{ "123456789012345", 0, INT64_C(123456789012345) },
		{ "1234567890123456", 0, INT64_C(1234567890123456) },
		{ "9007199254740992", 0, INT64_C(9007199254740992) },
		{ "90071992547409930", -1, 0 }, { "-5", 0, -5 },
		{ "1e3", 0, 1000 }, { "2.0", 0, 2 }, { "2.5", -1, 0 },
		{ "-0", 0, 0 }
	};
	struct bmq_jval	 v;
	int64_t		 n;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v.type = BMQ_J_NUMBER;
		v.p = t[i].text;
		v.len = strlen(t[i].text);
		n = -42;
		ck_assert_msg(bmq_jval_int(&v, &n) == t[i].rv, "%s", t[i].text);
		if (t[i].rv == 0)
			ck_assert_msg(n == t[i].n, "%s: %lld", t[i].text,
			    (long long)n);
	}
	v.type = BMQ_J_STRING;
	v.p = "12";
	v.len = 2;
	ck_assert_int_eq(bmq_jval_int(&v, &n), -1);
}
END_TEST

START_TEST(walk_members)
{
	const char		*js = " { \"a\" : \"x\\\"y\" , "
	    "\"b\":{\"c\":[1,{}]},\"n\":-1.5e2,\"t\":true , \"z\":null}";
	const char		*p = js;
	struct bmq_jmember	 m;

	ck_assert_int_eq(bmq_json_type(js, strlen(js)), BMQ_J_OBJECT);
	ck_assert_int_eq(bmq_json_type(" [1]", 4), BMQ_J_ARRAY);
	ck_assert_int_eq(bmq_json_type("  ", 2), BMQ_J_NONE);
	ck_assert_int_eq(bmq_json_next(&p, js + strlen(js), &m), 1);
	ck_assert(m.klen == 1 && m.k[0] == 'a');
	ck_assert_int_eq(m.v.type, BMQ_J_STRING);
	ck_assert_int_eq(strncmp(m.v.p, "x\\\"y", m.v.len), 0);
	ck_assert_uint_eq(m.v.len, 4);
	ck_assert_int_eq(bmq_json_next(&p, js + strlen(js), &m), 1);
	ck_assert_int_eq(m.v.type, BMQ_J_OBJECT);
	ck_assert_uint_eq(m.v.len, 12);
	ck_assert_int_eq(bmq_json_next(&p, js + strlen(js), &m), 1);
	ck_assert_int_eq(m.v.type, BMQ_J_NUMBER);
	ck_assert_uint_eq(m.v.len, 6);
	ck_assert_int_eq(bmq_json_next(&p, js + strlen(js), &m), 1);
	ck_assert_int_eq(m.v.type, BMQ_J_TRUE);
	ck_assert_int_eq(bmq_json_next(&p, js + strlen(js), &m), 1);
	ck_assert(m.klen == 1 && m.k[0] == 'z' && m.v.type == BMQ_J_NULL);
	ck_assert_int_eq(bmq_json_next(&p, js + strlen(js), &m), 0);
	p = "{}";
	ck_assert_int_eq(bmq_json_next(&p, p + 2, &m), 0);
}
END_TEST

START_TEST(array_elements)
{
	const char	*a = "[ \"x,]\" , {\"a\":[1,2]},3 ,[] ]";
	struct bmq_buf	 b;

	ck_assert_uint_eq(bmq_json_array_elems(a, strlen(a), 0, NULL), 4);
	ck_assert_uint_eq(bmq_json_array_elems("[]", 2, 0, NULL), 0);
	ck_assert_uint_eq(bmq_json_array_elems(" [ ] ", 5, 0, NULL), 0);
	bmq_buf_init(&b);
	bmq_buf_adds(&b, "[");
	ck_assert_uint_eq(bmq_json_array_elems(a, strlen(a), 1, &b), 4);
	ck_assert_str_eq(bmq_buf_cstr(&b), "[{\"a\":[1,2]},3,[]");
	b.len = 1;
	bmq_buf_adds(&b, "0");
	bmq_json_array_elems(a, strlen(a), 3, &b);
	ck_assert_str_eq(bmq_buf_cstr(&b), "[0,[]");
	bmq_buf_free(&b);
}
END_TEST

START_TEST(get_many_tokens)
{
	struct bmq_buf	b;
	struct bmq_jval	v;
	int64_t		n;
	int		i;

	bmq_buf_init(&b);
	bmq_buf_adds(&b, "{");
	for (i = 0; i < 5000; i++)
		bmq_buf_addf(&b, "\"k%d\":[%d,%d],", i, i, i);
	bmq_buf_adds(&b, "\"last\":42}");
	ck_assert_int_eq(bmq_json_get(b.b, b.len, "last", &v), 1);
	ck_assert_int_eq(bmq_jval_int(&v, &n), 0);
	ck_assert_int_eq(n, 42);
	ck_assert_int_eq(bmq_json_get(b.b, b.len, "k4999", &v), 1);
	ck_assert_int_eq(v.type, BMQ_J_ARRAY);
	ck_assert_int_eq(bmq_json_get(b.b, b.len, "k5000", &v), 0);
	bmq_buf_add(&b, "]", 1);	/* no longer valid */
	ck_assert_int_eq(bmq_json_get(b.b, b.len, "last", &v), -1);
	bmq_buf_free(&b);
}
END_TEST

START_TEST(write_strings)
{
	struct bmq_buf	b;

	bmq_buf_init(&b);
	bmq_buf_add_jstr(&b, "a\"b\\c\n\t\x01", 8);
	ck_assert_str_eq(bmq_buf_cstr(&b), "\"a\\\"b\\\\c\\n\\t\\u0001\"");
	ck_assert(bmq_json_valid(b.b, b.len));
	bmq_buf_free(&b);

	bmq_buf_init(&b);
	bmq_buf_add_jstr(&b, "ok \xff\xc3\xa9", 6);	/* bad byte replaced */
	ck_assert_str_eq(bmq_buf_cstr(&b), "\"ok \xef\xbf\xbd\xc3\xa9\"");
	ck_assert(bmq_json_valid(b.b, b.len));
	bmq_buf_free(&b);

	bmq_buf_init(&b);
	ck_assert_str_eq(bmq_buf_cstr(&b), "");
	bmq_buf_addf(&b, "%d-%s", 7, "x");
	ck_assert_str_eq(bmq_buf_cstr(&b), "7-x");
	ck_assert_uint_eq(b.len, 3);
	bmq_buf_free(&b);
}
END_TEST

/* The JSON suite. */
Suite *
make_suite(void)
{
	Suite	*s = suite_create("json");
	TCase	*tc = tcase_create("json");

	tcase_add_test(tc, valid_documents);
	tcase_add_test(tc, invalid_documents);
	tcase_add_test(tc, deep_nesting_is_bounded);
	tcase_add_test(tc, get_paths);
	tcase_add_test(tc, get_bare_values);
	tcase_add_test(tc, members_in_one_pass);
	tcase_add_test(tc, integers);
	tcase_add_test(tc, walk_members);
	tcase_add_test(tc, array_elements);
	tcase_add_test(tc, get_many_tokens);
	tcase_add_test(tc, write_strings);
	suite_add_tcase(s, tc);
	return s;
}
