/*
 * lua-lines.c: map the line numbers Redis gives for a script ("user_script:
 * 123") back to our sources.  lua/lua2c.sh expands "--@include NAME" lines,
 * so a script as sent is made of runs of lines from several files; the
 * generated table bmq_lua_scripts[] holds those runs.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"

#define USER_SCRIPT	"user_script:"
#define USER_SCRIPT_LEN	(sizeof(USER_SCRIPT) - 1)

/*
 * Where line n of script s comes from.  Returns 0 with *file and *line set,
 * or -1 when n is not a line of the script.
 */
int
bmq_lua_where(enum bmq_lua s, long n, const char **file, long *line)
{
	const struct bmq_lua_script	*sc;
	int				 i;

	if ((int)s < 0 || s >= BMQ_LUA__MAX || n < 1)
		return -1;
	sc = &bmq_lua_scripts[s];
	for (i = sc->nspans - 1; i >= 0; i--) {
		if (sc->spans[i].first <= n) {
			*file = sc->spans[i].file;
			*line = sc->spans[i].line + (n - sc->spans[i].first);
			return 0;
		}
	}
	return -1;
}

/* A bounded string being written; the text is cut where it is full. */
struct out {
	char	*buf;
	size_t	 size;
	size_t	 len;
	int	 cut;	/* something did not fit */
};

/* Append len bytes of p. */
static void
put(struct out *o, const char *p, size_t len)
{
	size_t	room;

	if (o->size == 0)
		return;
	room = o->size - 1 - o->len;
	if (len > room) {
		len = room;
		o->cut = 1;
	}
	memcpy(o->buf + o->len, p, len);
	o->len += len;
	o->buf[o->len] = '\0';
}

/* Append "FILE:LINE" for line n of s, or "user_script:N" when unknown. */
static void
put_where(struct out *o, enum bmq_lua s, long n)
{
	const char	*file;
	long		 line;
	char		 tmp[320];
	int		 k;

	if (bmq_lua_where(s, n, &file, &line) == 0)
		k = snprintf(tmp, sizeof(tmp), "%s:%ld", file, line);
	else
		k = snprintf(tmp, sizeof(tmp), USER_SCRIPT "%ld", n);
	if (k > 0)
		put(o, tmp, (size_t)k < sizeof(tmp) ? (size_t)k :
		    sizeof(tmp) - 1);
}

/*
 * Read the line number at p (len bytes), as in "user_script:N".  Returns
 * how many bytes the digits take (0: none) with *n set.
 */
static size_t
digits(const char *p, size_t len, long *n)
{
	size_t	i;

	*n = 0;
	for (i = 0; i < len && isdigit((unsigned char)p[i]); i++) {
		if (*n > 100000000)
			return 0;
		*n = *n * 10 + (p[i] - '0');
	}
	return i;
}

/* Does p (len bytes) start with "user_script:N"?  Its length, or 0. */
static size_t
user_script_at(const char *p, size_t len, long *n)
{
	size_t	k;

	if (len < USER_SCRIPT_LEN || memcmp(p, USER_SCRIPT,
	    USER_SCRIPT_LEN) != 0)
		return 0;
	k = digits(p + USER_SCRIPT_LEN, len - USER_SCRIPT_LEN, n);
	return k == 0 ? 0 : USER_SCRIPT_LEN + k;
}

/*
 * The length of msg without Redis 7's tail " script: SHA1, on
 * @user_script:N." (the line it names goes to *n), or len when it has none.
 */
static size_t
cut_tail(const char *msg, size_t len, long *n)
{
	static const char	 lead[] = " script: ";
	static const char	 on[] = ", on @";
	size_t			 i, j, k;

	*n = 0;
	for (i = len; i-- > 0; ) {
		if (len - i < sizeof(lead) - 1 ||
		    memcmp(msg + i, lead, sizeof(lead) - 1) != 0)
			continue;
		j = i + sizeof(lead) - 1;
		for (k = 0; j + k < len && isxdigit((unsigned char)msg[j + k]);
		    k++)
			;
		if (k != 40)
			return len;
		j += k;
		if (len - j < sizeof(on) - 1 ||
		    memcmp(msg + j, on, sizeof(on) - 1) != 0)
			return len;
		j += sizeof(on) - 1;
		if ((k = user_script_at(msg + j, len - j, n)) == 0)
			return len;
		j += k;
		if (j < len && msg[j] == '.')
			j++;
		return j == len ? i : len;
	}
	return len;
}

/*
 * Rewrite the error reply msg (len bytes) of script s for people, into buf:
 * "user_script:N" becomes the file and line of our sources, Redis 7's
 * tail naming the SHA1 and the line again is dropped, and the location
 * leads: "lua/include/fetch.lua:40: WRONGTYPE Operation against a key ...".
 */
void
bmq_lua_errmsg(enum bmq_lua s, const char *msg, size_t len, char *buf,
    size_t size)
{
	struct out	 o = { buf, size, 0, 0 };
	long		 line, n;
	size_t		 i, k;

	if (size == 0)
		return;
	buf[0] = '\0';
	len = cut_tail(msg, len, &line);
	/* "ERR user_script:N: text": the place is already in front */
	if (len > 4 && memcmp(msg, "ERR ", 4) == 0 &&
	    (k = user_script_at(msg + 4, len - 4, &n)) != 0) {
		msg += 4;
		len -= 4;
	} else if (line > 0) {
		put_where(&o, s, line);
		put(&o, ": ", 2);
	}
	for (i = 0; i < len; ) {
		if ((k = user_script_at(msg + i, len - i, &n)) != 0) {
			put_where(&o, s, n);
			i += k;
		} else
			put(&o, msg + i++, 1);
	}
	/* a message cut short says so */
	if (o.cut && o.len >= 3)
		memcpy(buf + o.len - 3, "...", 3);
}
