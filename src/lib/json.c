/*
 * json.c: checking, reading and writing JSON text.  The only file that
 * includes jsmn.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>

#include "bullmq-int.h"

#define JSON_MAX_DEPTH	512

struct vstate {
	const char	*s;
	size_t		 n;
	size_t		 i;
};

static int	v_value(struct vstate *, int);

/* Skip white space as RFC 8259 defines it. */
static void
v_ws(struct vstate *v)
{
	while (v->i < v->n && (v->s[v->i] == ' ' || v->s[v->i] == '\t' ||
	    v->s[v->i] == '\n' || v->s[v->i] == '\r'))
		v->i++;
}

/* Is c a hexadecimal digit? */
static int
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* Check one UTF-8 sequence at v->i; advance past it. */
static int
v_utf8(struct vstate *v)
{
	const unsigned char	*p = (const unsigned char *)v->s + v->i;
	size_t			 left = v->n - v->i, need, k;
	unsigned int		 cp;

	if (p[0] < 0x80) {
		v->i++;
		return 0;
	} else if ((p[0] & 0xe0) == 0xc0) {
		need = 1;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		need = 2;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		need = 3;
		cp = p[0] & 0x07;
	} else
		return -1;
	if (left <= need)
		return -1;
	for (k = 1; k <= need; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (p[k] & 0x3f);
	}
	if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
	    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	v->i += need + 1;
	return 0;
}

/* Check a string starting at the opening quote. */
static int
v_string(struct vstate *v)
{
	int	k;

	v->i++;
	while (v->i < v->n) {
		unsigned char c = (unsigned char)v->s[v->i];

		if (c == '"') {
			v->i++;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			if (++v->i >= v->n)
				return -1;
			switch (v->s[v->i]) {
			case '"': case '\\': case '/': case 'b': case 'f':
			case 'n': case 'r': case 't':
				v->i++;
				break;
			case 'u':
				for (k = 1; k <= 4; k++)
					if (v->i + k >= v->n ||
					    !is_hex(v->s[v->i + k]))
						return -1;
				v->i += 5;
				break;
			default:
				return -1;
			}
			continue;
		}
		if (v_utf8(v) == -1)
			return -1;
	}
	return -1;
}

/* Check a number as the JSON grammar has it. */
static int
v_number(struct vstate *v)
{
	size_t	start;

	if (v->i < v->n && v->s[v->i] == '-')
		v->i++;
	if (v->i >= v->n)
		return -1;
	if (v->s[v->i] == '0')
		v->i++;
	else if (v->s[v->i] >= '1' && v->s[v->i] <= '9')
		while (v->i < v->n && v->s[v->i] >= '0' && v->s[v->i] <= '9')
			v->i++;
	else
		return -1;
	if (v->i < v->n && v->s[v->i] == '.') {
		start = ++v->i;
		while (v->i < v->n && v->s[v->i] >= '0' && v->s[v->i] <= '9')
			v->i++;
		if (v->i == start)
			return -1;
	}
	if (v->i < v->n && (v->s[v->i] == 'e' || v->s[v->i] == 'E')) {
		v->i++;
		if (v->i < v->n && (v->s[v->i] == '+' || v->s[v->i] == '-'))
			v->i++;
		start = v->i;
		while (v->i < v->n && v->s[v->i] >= '0' && v->s[v->i] <= '9')
			v->i++;
		if (v->i == start)
			return -1;
	}
	return 0;
}

/* Check a literal word. */
static int
v_word(struct vstate *v, const char *w)
{
	size_t	len = strlen(w);

	if (v->n - v->i < len || memcmp(v->s + v->i, w, len) != 0)
		return -1;
	v->i += len;
	return 0;
}

/* Check an object or array body after its opening bracket. */
static int
v_container(struct vstate *v, int depth, int is_object)
{
	char	close = is_object ? '}' : ']';

	v->i++;
	v_ws(v);
	if (v->i < v->n && v->s[v->i] == close) {
		v->i++;
		return 0;
	}
	for (;;) {
		if (is_object) {
			v_ws(v);
			if (v->i >= v->n || v->s[v->i] != '"' ||
			    v_string(v) == -1)
				return -1;
			v_ws(v);
			if (v->i >= v->n || v->s[v->i] != ':')
				return -1;
			v->i++;
		}
		if (v_value(v, depth + 1) == -1)
			return -1;
		v_ws(v);
		if (v->i >= v->n)
			return -1;
		if (v->s[v->i] == ',') {
			v->i++;
			continue;
		}
		if (v->s[v->i] == close) {
			v->i++;
			return 0;
		}
		return -1;
	}
}

/* Check any value. */
static int
v_value(struct vstate *v, int depth)
{
	if (depth > JSON_MAX_DEPTH)
		return -1;
	v_ws(v);
	if (v->i >= v->n)
		return -1;
	switch (v->s[v->i]) {
	case '{':
		return v_container(v, depth, 1);
	case '[':
		return v_container(v, depth, 0);
	case '"':
		return v_string(v);
	case 't':
		return v_word(v, "true");
	case 'f':
		return v_word(v, "false");
	case 'n':
		return v_word(v, "null");
	default:
		return v_number(v);
	}
}

/* Is s[0..n) exactly one valid JSON text (RFC 8259, UTF-8)? */
int
bmq_json_valid(const char *s, size_t n)
{
	struct vstate	v = { s, n, 0 };

	if (v_value(&v, 0) == -1)
		return 0;
	v_ws(&v);
	return v.i == n;
}

/* Index of the token after the subtree starting at token i. */
static int
skip_token(const jsmntok_t *t, int i, int count)
{
	int	left = 1;

	while (left > 0 && i < count) {
		left += t[i].size;
		left--;
		i++;
	}
	return i;
}

/* Fill a value from token t. */
static void
set_val(const char *js, const jsmntok_t *t, struct bmq_jval *out)
{
	out->p = js + t->start;
	out->len = (size_t)(t->end - t->start);
	switch (t->type) {
	case JSMN_OBJECT:
		out->type = BMQ_J_OBJECT;
		break;
	case JSMN_ARRAY:
		out->type = BMQ_J_ARRAY;
		break;
	case JSMN_STRING:
		out->type = BMQ_J_STRING;
		break;
	default:
		if (js[t->start] == 't')
			out->type = BMQ_J_TRUE;
		else if (js[t->start] == 'f')
			out->type = BMQ_J_FALSE;
		else if (js[t->start] == 'n')
			out->type = BMQ_J_NULL;
		else
			out->type = BMQ_J_NUMBER;
		break;
	}
}

/*
 * Split js into tokens, in stack when they fit, else in *tp allocated
 * (freed by the caller when not stack).  Returns the count, or -1.
 */
static int
tokenize(const char *js, size_t len, jsmntok_t *stack, size_t nstack,
    jsmntok_t **tp)
{
	jsmn_parser	 p;
	jsmntok_t	*t;
	int		 count;

	*tp = stack;
	jsmn_init(&p);
	count = jsmn_parse(&p, js, len, stack, (unsigned int)nstack);
	if (count != JSMN_ERROR_NOMEM)
		return count < 0 ? -1 : count;
	jsmn_init(&p);
	if ((count = jsmn_parse(&p, js, len, NULL, 0)) < 0 ||
	    (t = calloc(count, sizeof(*t))) == NULL)
		return -1;
	jsmn_init(&p);
	if ((count = jsmn_parse(&p, js, len, t, count)) < 0) {
		free(t);
		return -1;
	}
	*tp = t;
	return count;
}

/*
 * Find the members named keys[0 .. n) of the object js, text the caller
 * has checked with bmq_json_valid, with one pass over it: out[i] is the
 * value (the last one of a repeated key), or of type BMQ_J_NONE when
 * absent.  Returns 0, or -1 when js is not an object or out of memory.
 */
int
bmq_json_members(const char *js, size_t len, const char *const *keys,
    size_t n, struct bmq_jval *out)
{
	jsmntok_t	 stack[64], *t;
	size_t		 i, klen;
	int		 count, k, rv = -1;

	memset(out, 0, n * sizeof(*out));
	count = tokenize(js, len, stack, sizeof(stack) / sizeof(stack[0]), &t);
	if (count < 0)
		return -1;
	if (count == 0 || t[0].type != JSMN_OBJECT)
		goto out;
	for (k = 1; k < count; k = skip_token(t, k + 1, count)) {
		klen = (size_t)(t[k].end - t[k].start);
		for (i = 0; i < n; i++)
			if (t[k].type == JSMN_STRING && k + 1 < count &&
			    strlen(keys[i]) == klen &&
			    memcmp(js + t[k].start, keys[i], klen) == 0)
				set_val(js, &t[k + 1], &out[i]);
	}
	rv = 0;
out:
	if (t != stack)
		free(t);
	return rv;
}

/*
 * Find the value at a dotted path of object keys ("backoff.delay"; "" is
 * the whole text) in the JSON text js.  Returns 1 with *out set, 0 when the
 * path is absent, -1 when js is not valid JSON.
 */
int
bmq_json_get(const char *js, size_t len, const char *path,
    struct bmq_jval *out)
{
	jsmntok_t	 stack[64], *t, bare;
	struct vstate	 v = { js, len, 0 };
	const char	*seg, *dot;
	size_t		 seglen;
	int		 count, i, end, k, rv = 0;

	memset(out, 0, sizeof(*out));
	if (!bmq_json_valid(js, len))
		return -1;
	/* jsmn in strict mode refuses a bare number, true, false or null */
	v_ws(&v);
	if (js[v.i] != '{' && js[v.i] != '[' && js[v.i] != '"') {
		if (*path != '\0')
			return 0;
		memset(&bare, 0, sizeof(bare));
		bare.type = JSMN_PRIMITIVE;
		bare.start = (int)v.i;
		(void)v_value(&v, 0);
		bare.end = (int)v.i;
		set_val(js, &bare, out);
		return 1;
	}
	/* keys are compared byte for byte: one absent from the text is
	 * absent from the object, and a job's opts rarely hold the key */
	seglen = strcspn(path, ".");
	if (seglen > 0 && memmem(js, len, path, seglen) == NULL)
		return 0;
	count = tokenize(js, len, stack, sizeof(stack) / sizeof(stack[0]), &t);
	if (count < 0)
		return -1;
	i = 0;
	seg = path;
	while (*seg != '\0') {
		dot = strchr(seg, '.');
		seglen = dot != NULL ? (size_t)(dot - seg) : strlen(seg);
		if (t[i].type != JSMN_OBJECT)
			goto out;
		end = skip_token(t, i, count);
		k = i + 1;
		i = -1;
		while (k < end) {
			if (t[k].type == JSMN_STRING &&
			    (size_t)(t[k].end - t[k].start) == seglen &&
			    memcmp(js + t[k].start, seg, seglen) == 0)
				i = k + 1;
			k = skip_token(t, k + 1, count);
		}
		if (i == -1)
			goto out;
		seg += seglen;
		if (*seg == '.')
			seg++;
	}
	set_val(js, &t[i], out);
	rv = 1;
out:
	if (t != stack)
		free(t);
	return rv;
}

/* Skip JSON white space. */
static const char *
skip_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* The end of the string whose opening quote is at p. */
static const char *
skip_string(const char *p, const char *e)
{
	for (p++; p < e && *p != '"'; p++)
		if (*p == '\\')
			p++;
	return p < e ? p + 1 : e;
}

/* The end of the value starting at p, in text already known to be valid. */
static const char *
skip_value(const char *p, const char *e)
{
	int	depth = 0;

	if (p < e && *p == '"')
		return skip_string(p, e);
	if (p < e && (*p == '{' || *p == '[')) {
		while (p < e) {
			if (*p == '"') {
				p = skip_string(p, e);
				continue;
			}
			if (*p == '{' || *p == '[')
				depth++;
			else if ((*p == '}' || *p == ']') && --depth == 0)
				return p + 1;
			p++;
		}
		return e;
	}
	while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' &&
	    *p != '\t' && *p != '\n' && *p != '\r')
		p++;
	return p;
}

/* The type of the value whose text starts with c. */
static enum bmq_jtype
type_of(char c)
{
	switch (c) {
	case '{':
		return BMQ_J_OBJECT;
	case '[':
		return BMQ_J_ARRAY;
	case '"':
		return BMQ_J_STRING;
	case 't':
		return BMQ_J_TRUE;
	case 'f':
		return BMQ_J_FALSE;
	case 'n':
		return BMQ_J_NULL;
	default:
		return BMQ_J_NUMBER;
	}
}

/* The type of the JSON text js, checked with bmq_json_valid. */
enum bmq_jtype
bmq_json_type(const char *js, size_t len)
{
	const char	*p;

	if (len > 0 && *js == '{')
		return BMQ_J_OBJECT;	/* as a job's opts always start */
	p = skip_ws(js, js + len);
	return p < js + len ? type_of(*p) : BMQ_J_NONE;
}

/*
 * Read the next member of the object whose text starts at *pp (at or
 * before its '{' on the first call), in text checked with bmq_json_valid,
 * with no copy and no tokens.  Returns 1 with m set, 0 at the end of the
 * object.
 */
int
bmq_json_next(const char **pp, const char *e, struct bmq_jmember *m)
{
	const char	*p, *kend;

	p = skip_ws(*pp, e);
	if (p < e && (*p == '{' || *p == ','))
		p = skip_ws(p + 1, e);
	if (p >= e || *p != '"')
		return 0;
	kend = skip_string(p, e);
	m->k = p + 1;
	m->klen = (size_t)(kend - p) - 2;
	p = skip_ws(kend, e);
	if (p < e && *p == ':')
		p = skip_ws(p + 1, e);
	*pp = skip_value(p, e);
	m->v.type = p < e ? type_of(*p) : BMQ_J_NONE;
	m->v.p = p;
	m->v.len = (size_t)(*pp - p);
	if (m->v.type == BMQ_J_STRING && m->v.len >= 2) {
		m->v.p++;
		m->v.len -= 2;
	}
	return 1;
}

/*
 * Append the elements of the JSON array s[0..n) (checked with
 * bmq_json_valid) from index skip on to b, each after a comma when b holds
 * more than its opening bracket.  b may be NULL.  Returns the number of
 * elements.
 */
size_t
bmq_json_array_elems(const char *s, size_t n, size_t skip, struct bmq_buf *b)
{
	const char	*p = s, *e = s + n, *end;
	size_t		 count = 0;

	p = skip_ws(p, e);
	if (p >= e || *p != '[')
		return 0;
	for (p = skip_ws(p + 1, e); p < e && *p != ']';
	    p = skip_ws(p, e)) {
		end = skip_value(p, e);
		if (b != NULL && count >= skip) {
			if (b->len > 1)
				bmq_buf_add(b, ",", 1);
			bmq_buf_add(b, p, (size_t)(end - p));
		}
		count++;
		p = skip_ws(end, e);
		if (p < e && *p == ',')
			p++;
	}
	return count;
}

/* An integer value (numbers in exponent form included); -1 if not one. */
int
bmq_jval_int(const struct bmq_jval *v, int64_t *out)
{
	char	buf[64], *end;
	double	d;
	int64_t	n;
	size_t	i;

	if (v->type != BMQ_J_NUMBER || v->len >= sizeof(buf))
		return -1;
	/* plain digits, below 2^53: what strtod would give, without it */
	for (i = 0, n = 0; i < v->len && i < 15 && v->p[i] >= '0' &&
	    v->p[i] <= '9'; i++)
		n = n * 10 + (v->p[i] - '0');
	if (i == v->len && i > 0) {
		*out = n;
		return 0;
	}
	memcpy(buf, v->p, v->len);
	buf[v->len] = '\0';
	errno = 0;
	d = strtod(buf, &end);
	if (errno != 0 || *end != '\0' || d != floor(d) ||
	    d > 9007199254740992.0 || d < -9007199254740992.0)
		return -1;
	*out = (int64_t)d;
	return 0;
}

/* A number value as a double; -1 if not a number. */
int
bmq_jval_double(const struct bmq_jval *v, double *out)
{
	char	buf[64], *end;

	if (v->type != BMQ_J_NUMBER || v->len >= sizeof(buf))
		return -1;
	memcpy(buf, v->p, v->len);
	buf[v->len] = '\0';
	*out = strtod(buf, &end);
	return *end == '\0' ? 0 : -1;
}

/*
 * A value as JavaScript's Number() reads it: numbers as they are, strings
 * holding a decimal or 0x number (white space around, "" is 0), true 1,
 * false and null 0; NaN for anything else (objects, arrays, escapes).
 */
double
bmq_jval_jsnum(const struct bmq_jval *v)
{
	char		 buf[64], *b, *end;
	size_t		 n, i;
	double		 d;

	switch (v->type) {
	case BMQ_J_NUMBER:
		return bmq_jval_double(v, &d) == 0 ? d : NAN;
	case BMQ_J_TRUE:
		return 1;
	case BMQ_J_FALSE:
	case BMQ_J_NULL:
		return 0;
	case BMQ_J_STRING:
		break;
	default:
		return NAN;
	}
	if (v->len >= sizeof(buf))
		return NAN;
	memcpy(buf, v->p, v->len);
	buf[v->len] = '\0';
	for (b = buf; *b == ' ' || (*b >= '\t' && *b <= '\r'); b++)
		;
	for (n = strlen(b); n > 0 && (b[n - 1] == ' ' ||
	    (b[n - 1] >= '\t' && b[n - 1] <= '\r')); n--)
		b[n - 1] = '\0';
	if (n == 0)
		return 0;
	if (strcmp(b, "Infinity") == 0 || strcmp(b, "+Infinity") == 0)
		return INFINITY;
	if (strcmp(b, "-Infinity") == 0)
		return -INFINITY;
	if (n > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X')) {
		if (strspn(b + 2, "0123456789abcdefABCDEF") != n - 2)
			return NAN;
		return strtod(b, NULL);
	}
	/* strtod reads more than JavaScript: inf, nan, hex floats */
	for (i = 0; i < n; i++)
		if (strchr("0123456789+-.eE", b[i]) == NULL)
			return NAN;
	errno = 0;
	d = strtod(b, &end);
	return *end == '\0' && end != b ? d : NAN;
}

/* Whether a value is truthy as JavaScript reads it. */
int
bmq_jval_truthy(const struct bmq_jval *v)
{
	double	d;

	switch (v->type) {
	case BMQ_J_NONE:
	case BMQ_J_FALSE:
	case BMQ_J_NULL:
		return 0;
	case BMQ_J_NUMBER:
		return bmq_jval_double(v, &d) == 0 && d != 0 && !isnan(d);
	case BMQ_J_STRING:
		return v->len > 0;
	default:
		return 1;
	}
}

/*
 * Format a number as JavaScript's String() does for the values options
 * hold: integers in full below 1e21, else the shortest text that reads
 * back as the same number.
 */
void
bmq_fmt_jsnum(char *buf, size_t size, double d)
{
	int	prec;

	if (isnan(d)) {
		snprintf(buf, size, "NaN");
		return;
	}
	if (isinf(d)) {
		snprintf(buf, size, "%sInfinity", d < 0 ? "-" : "");
		return;
	}
	if (d == floor(d) && fabs(d) < 1e21) {
		snprintf(buf, size, "%.0f", d == 0 ? 0.0 : d);
		return;
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, size, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return;
	}
	snprintf(buf, size, "%.17g", d);
}

/* Append code point cp as UTF-8; -1 when it does not fit. */
static int
put_utf8(char *buf, size_t size, size_t *o, unsigned int cp)
{
	unsigned char	u[4];
	size_t		n, k;

	if (cp < 0x80) {
		u[0] = cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = 0xc0 | cp >> 6;
		u[1] = 0x80 | (cp & 0x3f);
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = 0xe0 | cp >> 12;
		u[1] = 0x80 | (cp >> 6 & 0x3f);
		u[2] = 0x80 | (cp & 0x3f);
		n = 3;
	} else {
		u[0] = 0xf0 | cp >> 18;
		u[1] = 0x80 | (cp >> 12 & 0x3f);
		u[2] = 0x80 | (cp >> 6 & 0x3f);
		u[3] = 0x80 | (cp & 0x3f);
		n = 4;
	}
	if (*o + n >= size)
		return -1;
	for (k = 0; k < n; k++)
		buf[(*o)++] = (char)u[k];
	return 0;
}

/* Read four hex digits. */
static unsigned int
hex4(const char *p)
{
	char	h[5];

	memcpy(h, p, 4);
	h[4] = '\0';
	return (unsigned int)strtoul(h, NULL, 16);
}

/*
 * Unescape a string value into buf (NUL terminated).  Returns the length, or
 * -1 if v is not a string or buf is too small.
 */
int
bmq_jval_string(const struct bmq_jval *v, char *buf, size_t size)
{
	size_t		i, o = 0;
	unsigned int	cp, lo;

	if (v->type != BMQ_J_STRING || size == 0)
		return -1;
	for (i = 0; i < v->len; i++) {
		if (v->p[i] != '\\') {
			if (o + 1 >= size)
				return -1;
			buf[o++] = v->p[i];
			continue;
		}
		i++;
		switch (v->p[i]) {
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			cp = hex4(v->p + i + 1);
			i += 4;
			if (cp >= 0xd800 && cp <= 0xdbff && i + 6 < v->len &&
			    v->p[i + 1] == '\\' && v->p[i + 2] == 'u') {
				lo = hex4(v->p + i + 3);
				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					    (lo - 0xdc00);
					i += 6;
				}
			}
			break;
		default:
			cp = (unsigned char)v->p[i];
			break;
		}
		if (put_utf8(buf, size, &o, cp) == -1)
			return -1;
	}
	buf[o] = '\0';
	return (int)o;
}

/* Start an empty buffer. */
void
bmq_buf_init(struct bmq_buf *b)
{
	memset(b, 0, sizeof(*b));
}

/* Free a buffer's memory; it may be used again after bmq_buf_init. */
void
bmq_buf_free(struct bmq_buf *b)
{
	free(b->b);
	memset(b, 0, sizeof(*b));
}

/* Make room for n more bytes and a NUL. */
static int
buf_grow(struct bmq_buf *b, size_t n)
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
bmq_buf_add(struct bmq_buf *b, const char *s, size_t n)
{
	if (buf_grow(b, n) == -1)
		return;
	memcpy(b->b + b->len, s, n);
	b->len += n;
	b->b[b->len] = '\0';
}

/*
 * Make room for n more bytes; returns where they go (the caller writes them
 * and adds to len), or NULL when out of memory.
 */
char *
bmq_buf_reserve(struct bmq_buf *b, size_t n)
{
	if (buf_grow(b, n) == -1)
		return NULL;
	return b->b + b->len;
}

/* Append a C string. */
void
bmq_buf_adds(struct bmq_buf *b, const char *s)
{
	bmq_buf_add(b, s, strlen(s));
}

/* Append formatted text. */
void
bmq_buf_addf(struct bmq_buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_grow(b, (size_t)n) == -1)
		return;
	va_start(ap, fmt);
	vsnprintf(b->b + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/*
 * Append s[0..n) as a quoted JSON string.  Bytes that are not valid UTF-8
 * are written as U+FFFD so the result is always valid JSON.
 */
void
bmq_buf_add_jstr(struct bmq_buf *b, const char *s, size_t n)
{
	struct vstate	 v = { s, n, 0 };
	size_t		 start;
	unsigned char	 c;
	char		 esc[8];

	bmq_buf_add(b, "\"", 1);
	while (v.i < n) {
		c = (unsigned char)s[v.i];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			bmq_buf_add(b, esc, 2);
			v.i++;
		} else if (c < 0x20) {
			switch (c) {
			case '\n': bmq_buf_add(b, "\\n", 2); break;
			case '\r': bmq_buf_add(b, "\\r", 2); break;
			case '\t': bmq_buf_add(b, "\\t", 2); break;
			case '\b': bmq_buf_add(b, "\\b", 2); break;
			case '\f': bmq_buf_add(b, "\\f", 2); break;
			default:
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				bmq_buf_add(b, esc, 6);
			}
			v.i++;
		} else {
			start = v.i;
			if (v_utf8(&v) == -1) {
				bmq_buf_add(b, "\xef\xbf\xbd", 3);
				v.i = start + 1;
			} else
				bmq_buf_add(b, s + start, v.i - start);
		}
	}
	bmq_buf_add(b, "\"", 1);
}

/* The buffer as a C string ("" when empty), or NULL after a failure. */
char *
bmq_buf_cstr(struct bmq_buf *b)
{
	if (b->oom)
		return NULL;
	if (b->b == NULL && buf_grow(b, 0) == -1)
		return NULL;
	if (b->len == 0)
		b->b[0] = '\0';
	return b->b;
}

/* A public value from a private one: the types share their numbers. */
static void
to_public(const struct bmq_jval *in, struct bullmq_json_value *out)
{
	out->type = (enum bullmq_json_type)in->type;
	out->p = in->p;
	out->len = in->len;
}

/* A private value from a public one. */
static void
from_public(const struct bullmq_json_value *in, struct bmq_jval *out)
{
	out->type = (enum bmq_jtype)in->type;
	out->p = in->p;
	out->len = in->len;
}

/* Is json[0..len) exactly one valid JSON text? 1 or 0. */
int
bullmq_json_valid(const char *json, size_t len)
{
	return bmq_json_valid(json, len);
}

/* The value at a dotted path of keys: 1 found, 0 absent, -1 not JSON. */
int
bullmq_json_get(const char *json, size_t len, const char *path,
    struct bullmq_json_value *out)
{
	struct bmq_jval	v;
	int		rv;

	rv = bmq_json_get(json, len, path, &v);
	to_public(&v, out);
	return rv;
}

/* The members named names[0 .. n) of an object, in one pass. */
int
bullmq_json_members(const char *json, size_t len, const char *const *names,
    size_t n, struct bullmq_json_value *out)
{
	struct bmq_jval	 stack[8], *v;
	size_t		 i;
	int		 rv;

	if (n <= sizeof(stack) / sizeof(stack[0]))
		v = stack;
	else if ((v = reallocarray(NULL, n, sizeof(*v))) == NULL)
		return -1;
	rv = bmq_json_members(json, len, names, n, v);
	for (i = 0; i < n; i++)
		to_public(&v[i], &out[i]);
	if (v != stack)
		free(v);
	return rv;
}

/* A number value that is an integer; -1 if not one. */
int
bullmq_json_int(const struct bullmq_json_value *pv, int64_t *out)
{
	struct bmq_jval	v;

	from_public(pv, &v);
	return bmq_jval_int(&v, out);
}

/* A number value as a double; -1 if not a number. */
int
bullmq_json_double(const struct bullmq_json_value *pv, double *out)
{
	struct bmq_jval	v;

	from_public(pv, &v);
	return bmq_jval_double(&v, out);
}

/* A string value unescaped into buf; its length, or -1. */
int
bullmq_json_string(const struct bullmq_json_value *pv, char *buf,
    size_t size)
{
	struct bmq_jval	v;

	from_public(pv, &v);
	return bmq_jval_string(&v, buf, size);
}

/*
 * s[0..n) as a quoted JSON string, NUL terminated, in memory the caller
 * frees; its length in *lenp when not NULL.  NULL when out of memory.
 */
char *
bullmq_json_quote(const char *s, size_t n, size_t *lenp)
{
	struct bmq_buf	b;

	bmq_buf_init(&b);
	bmq_buf_add_jstr(&b, s, n);
	if (bmq_buf_cstr(&b) == NULL) {
		bmq_buf_free(&b);
		return NULL;
	}
	if (lenp != NULL)
		*lenp = b.len;
	return b.b;
}
