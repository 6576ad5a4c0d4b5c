/*
 * buf.c: a growable byte buffer for building text (an exec processor's
 * input, its output, the command line's JSON lines).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq.h"
#include "buf.h"

/* Start an empty buffer. */
void
buf_init(struct buf *b)
{
	memset(b, 0, sizeof(*b));
}

/* Free a buffer's memory; it may be used again after buf_init. */
void
buf_free(struct buf *b)
{
	free(b->b);
	memset(b, 0, sizeof(*b));
}

/* Make room for n more bytes and a NUL. */
static int
grow(struct buf *b, size_t n)
{
	size_t	 cap;
	char	*nb;

	if (b->oom)
		return -1;
	if (b->len + n + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	if ((nb = realloc(b->b, cap)) == NULL) {
		b->oom = 1;
		return -1;
	}
	b->b = nb;
	b->cap = cap;
	return 0;
}

/* Append n bytes. */
void
buf_add(struct buf *b, const char *s, size_t n)
{
	if (grow(b, n) == -1)
		return;
	memcpy(b->b + b->len, s, n);
	b->len += n;
	b->b[b->len] = '\0';
}

/* Append a C string. */
void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Append formatted text. */
void
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || grow(b, (size_t)n) == -1)
		return;
	va_start(ap, fmt);
	vsnprintf(b->b + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Append s[0..n) as a quoted JSON string (bullmq_json_quote). */
void
buf_add_jstr(struct buf *b, const char *s, size_t n)
{
	char	*q;
	size_t	 len;

	if (b->oom)
		return;
	if ((q = bullmq_json_quote(s, n, &len)) == NULL) {
		b->oom = 1;
		return;
	}
	buf_add(b, q, len);
	free(q);
}

/* The buffer as a C string ("" when empty), or NULL after a failure. */
char *
buf_cstr(struct buf *b)
{
	if (b->oom)
		return NULL;
	if (b->b == NULL && grow(b, 0) == -1)
		return NULL;
	if (b->len == 0)
		b->b[0] = '\0';
	return b->b;
}
