/*
 * fuzz_json.c: libFuzzer target for json.c, the reader of every job's data
 * and options: the checker, the lookups and the string unescaper, and the
 * writer, whose output must always be valid JSON.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Read a value the ways the library does; strings must unescape. */
static void
use_value(const struct bmq_jval *v)
{
	char	*buf;
	int64_t	 i;
	double	 d;

	(void)bmq_jval_int(v, &i);
	(void)bmq_jval_double(v, &d);
	if (v->type != BMQ_J_STRING)
		return;
	/* unescaped, a string is never longer than its text */
	if ((buf = malloc(v->len + 1)) == NULL)
		return;
	if (bmq_jval_string(v, buf, v->len + 1) == -1)
		abort();
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = {
		"", "delay", "backoff.delay", "repeat.pattern", "a.b.c"
	};
	static const char *const keys[] = { "name", "data", "opts", "" };
	const char	*js = (const char *)data;
	struct bmq_jval	 v, m[4];
	struct bmq_buf	 b;
	size_t		 i;
	int		 valid, rc;

	valid = bmq_json_valid(js, size);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		rc = bmq_json_get(js, size, paths[i], &v);
		if (rc == -1 && valid)
			abort();	/* checked valid, then refused */
		if (rc == 1)
			use_value(&v);
	}
	if (valid && bmq_json_members(js, size, keys, 4, m) == 0)
		for (i = 0; i < 4; i++)
			use_value(&m[i]);

	/* whatever the bytes, the writer makes one valid JSON string */
	bmq_buf_init(&b);
	bmq_buf_add_jstr(&b, js, size);
	if (bmq_buf_cstr(&b) != NULL && !bmq_json_valid(b.b, b.len))
		abort();
	bmq_buf_free(&b);
	return 0;
}
