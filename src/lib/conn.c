/*
 * conn.c: queue handles, Redis URLs, connecting and running commands.
 */
#include <sys/time.h>

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bullmq-int.h"

/*
 * Record an error code and message in the handle; a message too long even
 * for a job id of the longest kind and its context ends in "...".
 */
void
bmq_seterr(bullmq_queue *q, int code, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	q->err = code;
	va_start(ap, fmt);
	n = vsnprintf(q->errstr, sizeof(q->errstr), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(q->errstr))
		memcpy(q->errstr + sizeof(q->errstr) - 4, "...", 4);
}

/* Write a message into err, if there is room for one. */
void
bmq_errf(char *err, size_t errsize, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errsize == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
}

/* Milliseconds since the epoch, from the wall clock as Node's Date.now(). */
int64_t
bullmq_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds of the monotonic clock, for intervals and deadlines. */
int64_t
bullmq_mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Decode the %XX escapes of a URL component into dst: 0, -1 when it does
 * not fit, -2 when it decodes to a NUL byte (which would cut the value
 * short: a password of "%00" would mean no password at all).
 */
static int
url_decode(const char *s, size_t n, char *dst, size_t size)
{
	size_t	i, o = 0;
	char	hex[3];

	for (i = 0; i < n; i++) {
		if (o + 1 >= size)
			return -1;
		if (s[i] == '%' && i + 2 < n &&
		    isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			hex[0] = s[i + 1];
			hex[1] = s[i + 2];
			hex[2] = '\0';
			if ((dst[o++] = (char)strtol(hex, NULL, 16)) == '\0')
				return -2;
			i += 2;
		} else
			dst[o++] = s[i];
	}
	dst[o] = '\0';
	return 0;
}


/* Parse a decimal in [lo, hi] from s[0..n), digits only; -1 if not one. */
static long long
parse_num(const char *s, size_t n, long long lo, long long hi)
{
	char		 buf[32];
	const char	*errstr;
	long long	 v;
	size_t		 i;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	v = strtonum(buf, lo, hi, &errstr);
	if (errstr != NULL)
		return -1;
	return v;
}

/*
 * Copy url into buf with its password replaced by "***": what may be
 * shown in a log, an error or --check.  The user part, before the last
 * "@", keeps its user name; a lone user part, a password as redis-cli
 * reads it, goes whole.  buf is always terminated; returns buf.
 */
char *
bullmq_url_redact(const char *url, char *buf, size_t size)
{
	const char	*p, *at, *colon;
	size_t		 n;

	if (size == 0)
		return buf;
	if (bmq_sentinel_redact(url, buf, size) != NULL)
		return buf;
	if ((p = strstr(url, "://")) == NULL) {
		strlcpy(buf, url, size);
		return buf;
	}
	p += 3;
	if ((at = strrchr(p, '@')) == NULL) {
		strlcpy(buf, url, size);
		return buf;
	}
	colon = memchr(p, ':', at - p);
	n = colon != NULL ? (size_t)(colon + 1 - url) : (size_t)(p - url);
	snprintf(buf, size, "%.*s***%s", (int)n, url, at);
	return buf;
}

/*
 * Write a URL error: "redis url <url without its password>: <msg>".
 * Returns -1.  For every URL form (sentinel.c's too).
 */
int
bmq_url_error(const char *url, char *err, size_t errsize, const char *fmt,
    ...)
{
	char	shown[BMQ_MAX_ERR / 2], msg[256];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errsize, "redis url %s: %s", bullmq_url_redact(url,
	    shown, sizeof(shown)), msg);
	return -1;
}

/* Decode a part of a URL that must hold no NUL; -1 with a message. */
int
bmq_url_part(const char *url, const char *what, const char *s, size_t n,
    char *dst, size_t size, char *err, size_t errsize)
{
	switch (url_decode(s, n, dst, size)) {
	case -1:
		return bmq_url_error(url, err, errsize, "the %s is too long (at "
		    "most %zu bytes)", what, size - 1);
	case -2:
		return bmq_url_error(url, err, errsize, "the %s holds a NUL byte "
		    "(%%00)", what);
	}
	return 0;
}

/*
 * Decode the user part of a URL, from p to at: "user:password", or a
 * password alone, as redis-cli reads redis://password@host.
 */
static int
url_userinfo(const char *url, const char *p, const char *at,
    struct bmq_url *u, char *err, size_t errsize)
{
	const char	*colon;

	if ((colon = memchr(p, ':', at - p)) == NULL)
		return bmq_url_part(url, "password", p, at - p, u->pass,
		    sizeof(u->pass), err, errsize);
	if (bmq_url_part(url, "user", p, colon - p, u->user, sizeof(u->user), err,
	    errsize) == -1)
		return -1;
	return bmq_url_part(url, "password", colon + 1, at - colon - 1, u->pass,
	    sizeof(u->pass), err, errsize);
}

/*
 * Parse redis://[user:pass@]host[:port][/db] (rediss:// for TLS) or
 * unix://[[user:]pass@]/path[?db=N].  The
 * host may be an IPv6 address in brackets, redis://[::1]:6379; a user with
 * no ":" is taken for a password, as redis-cli reads redis://pass@host.
 * The user part ends at the last "@", which no host, port or database
 * holds, so a password may hold a raw "@", "/" or "?".  A decoded NUL byte
 * is refused.  Returns 0, or -1 with a message in err that shows no password.
 */
int
bmq_url_parse(const char *url, struct bmq_url *u, char *err, size_t errsize)
{
	const char	*p, *at, *end, *colon, *slash, *q;
	long long	 v;

	memset(u, 0, sizeof(*u));
	u->port = 6379;
	if (strncmp(url, "unix://", 7) == 0) {
		u->is_unix = 1;
		p = url + 7;
		/* unix://[user:]pass@/path: the last "@/" ends the user part */
		at = NULL;
		if (*p != '/')
			for (q = p; (q = strchr(q, '@')) != NULL; q++)
				if (q[1] == '/')
					at = q;
		if (at != NULL) {
			if (url_userinfo(url, p, at, u, err, errsize) == -1)
				return -1;
			p = at + 1;
		}
		if (*p != '/')
			return bmq_url_error(url, err, errsize, "unix:// needs an "
			    "absolute path (unix:///path or "
			    "unix://[user:]pass@/path)");
		q = strchr(p, '?');
		end = q != NULL ? q : p + strlen(p);
		if ((size_t)(end - p) >= sizeof(u->path))
			return bmq_url_error(url, err, errsize, "the path is too "
			    "long (at most %zu bytes)", sizeof(u->path) - 1);
		memcpy(u->path, p, end - p);
		u->path[end - p] = '\0';
		if (q != NULL) {
			if (strncmp(q, "?db=", 4) != 0 ||
			    (v = parse_num(q + 4, strlen(q + 4), 0, 100000))
			    < 0)
				return bmq_url_error(url, err, errsize, "expected "
				    "?db=N after the path");
			u->db = (int)v;
		}
		return 0;
	}
	if (strncmp(url, "redis+sentinel://", 17) == 0)
		return bmq_sentinel_parse(url, u, err, errsize);
	if (strncmp(url, "rediss://", 9) == 0) {
		u->tls = 1;
		p = url + 9;
	} else if (strncmp(url, "redis://", 8) == 0)
		p = url + 8;
	else
		return bmq_url_error(url, err, errsize, "must start with redis://, "
		    "rediss://, redis+sentinel:// or unix://");
	if ((at = strrchr(p, '@')) != NULL) {
		if (url_userinfo(url, p, at, u, err, errsize) == -1)
			return -1;
		p = at + 1;
	}
	slash = strchr(p, '/');
	end = slash != NULL ? slash : p + strlen(p);
	if (*p == '[') {
		/* an IPv6 address: redis://[::1]:6379 */
		if ((q = memchr(p, ']', end - p)) == NULL || q == p + 1 ||
		    (q + 1 != end && q[1] != ':'))
			return bmq_url_error(url, err, errsize, "expected an IPv6 "
			    "address as [addr] or [addr]:port");
		p++;
		colon = q + 1 != end ? q + 1 : NULL;
	} else {
		colon = memchr(p, ':', end - p);
		q = colon != NULL ? colon : end;
		if (colon != NULL && memchr(colon + 1, ':',
		    end - colon - 1) != NULL)
			return bmq_url_error(url, err, errsize, "an IPv6 address "
			    "goes in brackets: redis://[addr]:port");
	}
	if (colon != NULL) {
		if ((v = parse_num(colon + 1, end - colon - 1, 1, 65535)) < 0)
			return bmq_url_error(url, err, errsize, "bad port");
		u->port = (int)v;
	}
	/* the host is from p to q */
	if (q - p == 0)
		strlcpy(u->host, "127.0.0.1", sizeof(u->host));
	else if ((size_t)(q - p) >= sizeof(u->host))
		return bmq_url_error(url, err, errsize, "the host is too long (at "
		    "most %zu bytes)", sizeof(u->host) - 1);
	else {
		memcpy(u->host, p, q - p);
		u->host[q - p] = '\0';
	}
	if (slash != NULL && slash[1] != '\0') {
		if ((v = parse_num(slash + 1, strlen(slash + 1), 0, 100000))
		    < 0)
			return bmq_url_error(url, err, errsize, "bad database "
			    "number");
		u->db = (int)v;
	}
	return 0;
}

/* Check a queue name as Node does: not empty, no colon. */
static int
check_queue_name(const char *name, char *err, size_t errsize)
{
	if (name == NULL || *name == '\0') {
		snprintf(err, errsize, "queue name is missing");
		return -1;
	}
	if (strchr(name, ':') != NULL) {
		snprintf(err, errsize, "queue name %s: must not contain ':'",
		    name);
		return -1;
	}
	if (strlen(name) >= BMQ_MAX_NAME) {
		snprintf(err, errsize, "queue name %.32s...: too long", name);
		return -1;
	}
	return 0;
}

/*
 * Create a handle.  Returns NULL only when out of memory; a bad URL or name
 * leaves the error in the handle and every later call fails with it.
 */
bullmq_queue *
bullmq_queue_new(const struct bullmq_conn_opts *o)
{
	bullmq_queue	*q;
	const char	*url, *prefix;
	char		 err[BMQ_MAX_ERR];

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	url = o->url != NULL && *o->url != '\0' ? o->url : BULLMQ_DEFAULT_URL;
	prefix = o->prefix != NULL ? o->prefix : BULLMQ_DEFAULT_PREFIX;
	q->connect_timeout_ms = o->connect_timeout_ms > 0 ?
	    o->connect_timeout_ms : 5000;
	q->command_timeout_ms = o->command_timeout_ms;
	q->spin_wait_us = o->spin_wait_us > 0 ? o->spin_wait_us : 0;
	if (bmq_url_parse(url, &q->url, err, sizeof(err)) == -1) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "%s", err);
		return q;
	}
	if (q->url.tls && o->tls != NULL)
		q->tls = o->tls;
	else if (q->url.tls) {
		if ((q->tls = bullmq_tls_new(&o->tls_opts, err,
		    sizeof(err))) == NULL) {
			bmq_seterr(q, BULLMQ_ERR_ARG, "%s", err);
			return q;
		}
		q->tls_owned = 1;
	}
	if (check_queue_name(o->queue, err, sizeof(err)) == -1) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "%s", err);
		return q;
	}
	if (*prefix == '\0' || strlen(prefix) >= sizeof(q->prefix)) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "prefix must be 1 to %zu bytes",
		    sizeof(q->prefix) - 1);
		return q;
	}
	strlcpy(q->name, o->queue, sizeof(q->name));
	strlcpy(q->prefix, prefix, sizeof(q->prefix));
	if (bmq_keys_build(q) == -1)
		bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
	return q;
}

/* Free a handle and close its connection; NULL is accepted. */
void
bullmq_queue_free(bullmq_queue *q)
{
	if (q == NULL)
		return;
	bmq_drop(q);
	bmq_keys_free(q);
	if (q->tls_owned)
		bullmq_tls_free(q->tls);
	free(q);
}

/* Close a dead or unwanted connection; the next command reconnects. */
void
bmq_drop(bullmq_queue *q)
{
	if (q->rc != NULL) {
		redisFree(q->rc);
		q->rc = NULL;
	}
	q->client_id = 0;
}

/*
 * What went wrong on the connection, for a NULL reply: a command timeout
 * comes from hiredis as EAGAIN's text, which does not say so.
 */
static void
io_error(bullmq_queue *q, const char *what)
{
	if (q->rc == NULL || q->rc->errstr[0] == '\0')
		bmq_seterr(q, BULLMQ_ERR_IO, "redis%s%s: connection lost",
		    what[0] ? " " : "", what);
	else if (q->command_timeout_ms > 0 && q->rc->err == REDIS_ERR_IO &&
	    strcmp(q->rc->errstr, strerror(EAGAIN)) == 0)
		bmq_seterr(q, BULLMQ_ERR_IO, "redis%s%s: no answer within %d "
		    "ms", what[0] ? " " : "", what, q->command_timeout_ms);
	else
		bmq_seterr(q, BULLMQ_ERR_IO, "redis%s%s: %s", what[0] ? " " :
		    "", what, q->rc->errstr);
}

/* The address of the handle's server, without a password, into buf. */
static const char *
url_shown(const bullmq_queue *q, char *buf, size_t size)
{
	const struct bmq_url	*u = &q->url;
	int			 v6 = strchr(u->host, ':') != NULL;

	if (u->is_unix)
		snprintf(buf, size, "unix://%s%s%s", u->user,
		    u->user[0] != '\0' ? "@" : "", u->path);
	else if (q->node.host[0] != '\0')
		snprintf(buf, size, "redis://%s%s%s%s%s:%d", u->user,
		    u->user[0] != '\0' ? "@" : "", v6 ? "[" : "",
		    q->node.host, v6 ? "]" : "", q->node.port);
	else
		snprintf(buf, size, "redis%s://%s%s%s%s%s:%d", u->tls ? "s" :
		    "", u->user, u->user[0] != '\0' ? "@" : "", v6 ? "[" : "",
		    u->host, v6 ? "]" : "", u->port);
	return buf;
}

/*
 * Whether a Redis error says that the connection must authenticate first:
 * NOAUTH, or the protocol error Redis answers an unauthenticated client's
 * long command with (more than 10 arguments, or an argument over 16 KB)
 * before closing the connection.
 */
static int
needs_auth(const char *s, size_t len)
{
	return (len >= 6 && strncmp(s, "NOAUTH", 6) == 0) ||
	    memmem(s, len, "Protocol error: unauthenticated", 31) != NULL;
}

/*
 * When the error reply r says that the server wants a password, set the
 * handle's error to say so, naming the URL without a secret, drop the
 * connection and return 1; else 0.
 */
int
bmq_noauth(bullmq_queue *q, const redisReply *r)
{
	char	shown[BMQ_MAX_ERR / 2];

	if (!needs_auth(r->str, r->len))
		return 0;
	bmq_seterr(q, BULLMQ_ERR_REDIS, "redis %s: the server requires a "
	    "password (NOAUTH): give one in the URL, %s", url_shown(q, shown,
	    sizeof(shown)), q->url.is_unix ? "unix://[user:]password@/path" :
	    "redis://[user:]password@host");
	bmq_drop(q);
	return 1;
}

/* Set the error of a Redis error reply r to a command (what, or ""). */
static void
reply_seterr(bullmq_queue *q, const char *what, const redisReply *r)
{
	if (!bmq_noauth(q, r))
		bmq_seterr(q, BULLMQ_ERR_REDIS, "redis%s%s: %.*s",
		    what[0] ? " " : "", what, (int)r->len, r->str);
}

/* Hold SIGPIPE back for a call on a TLS connection (see bullmq-int.h). */
void
bmq_pipe_hold(const bullmq_queue *q, struct bmq_pipeguard *g)
{
	sigset_t	block, pend;

	g->on = q->url.tls;
	if (!g->on)
		return;
	sigemptyset(&block);
	sigaddset(&block, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &block, &g->old);
	g->was_pending = sigpending(&pend) == 0 && sigismember(&pend,
	    SIGPIPE);
}

/* Take a SIGPIPE the call raised, if any, and restore the mask. */
void
bmq_pipe_release(struct bmq_pipeguard *g)
{
	struct timespec	zero = { 0, 0 };
	sigset_t	pend, only;

	if (!g->on)
		return;
	if (!g->was_pending && sigpending(&pend) == 0 &&
	    sigismember(&pend, SIGPIPE)) {
		sigemptyset(&only);
		sigaddset(&only, SIGPIPE);
		while (sigtimedwait(&only, NULL, &zero) == -1 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* Run a command on a fresh connection during setup; 0 if it went well. */
static int
setup_command(bullmq_queue *q, const char *what, int argc, const char **argv)
{
	struct bmq_pipeguard	 g;
	redisReply		*r;
	char			 msg[BMQ_MAX_ERR];

	bmq_pipe_hold(q, &g);
	r = redisCommandArgv(q->rc, argc, argv, NULL);
	bmq_pipe_release(&g);
	if (r == NULL) {
		io_error(q, what);
		if (q->url.tls) {
			strlcpy(msg, q->errstr, sizeof(msg));
			bmq_seterr(q, BULLMQ_ERR_IO, "%s%s", msg,
			    bmq_tls_hint(q));
		}
		bmq_drop(q);
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		reply_seterr(q, what, r);
		freeReplyObject(r);
		bmq_drop(q);
		return -1;
	}
	freeReplyObject(r);
	return 0;
}

/* Connect (or reconnect): AUTH, SELECT and the client name. */
int
bullmq_queue_connect(bullmq_queue *q)
{
	struct timeval	 tv;
	const char	*argv[3];
	char		 db[16];

	if (q->err == BULLMQ_ERR_ARG || q->err == BULLMQ_ERR_NOMEM ||
	    q->keys[BMQ_K_BASE] == NULL)
		return -1;
	bmq_drop(q);
	q->err = BULLMQ_OK;
	q->errstr[0] = '\0';
	tv.tv_sec = q->connect_timeout_ms / 1000;
	tv.tv_usec = (q->connect_timeout_ms % 1000) * 1000;
	if (bmq_sentinel_resolve(q) == -1)
		return -1;
	if (q->url.is_unix)
		q->rc = redisConnectUnixWithTimeout(q->url.path, tv);
	else if (q->node.host[0] != '\0')
		q->rc = redisConnectWithTimeout(q->node.host, q->node.port, tv);
	else
		q->rc = redisConnectWithTimeout(q->url.host, q->url.port, tv);
	if (q->rc == NULL) {
		bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
		return -1;
	}
	if (q->rc->err) {
		if (q->url.is_unix)
			bmq_seterr(q, BULLMQ_ERR_IO, "redis unix:%s: %s",
			    q->url.path, q->rc->errstr);
		else if (q->node.host[0] != '\0')
			bmq_seterr(q, BULLMQ_ERR_IO, "redis %s:%d: %s",
			    q->node.host, q->node.port, q->rc->errstr);
		else
			bmq_seterr(q, BULLMQ_ERR_IO, "redis %s:%d: %s",
			    q->url.host, q->url.port, q->rc->errstr);
		bmq_drop(q);
		/* a redirection's node gone: back to the URL's next time */
		memset(&q->node, 0, sizeof(q->node));
		return -1;
	}
	if (q->url.tls && bmq_tls_start(q) == -1) {
		bmq_drop(q);
		return -1;
	}
	if (q->command_timeout_ms > 0) {
		tv.tv_sec = q->command_timeout_ms / 1000;
		tv.tv_usec = (q->command_timeout_ms % 1000) * 1000;
		redisSetTimeout(q->rc, tv);
	}
	/* a user with an empty password still logs in: AUTH user "" */
	if (q->url.pass[0] != '\0' || q->url.user[0] != '\0') {
		argv[0] = "AUTH";
		if (q->url.user[0] != '\0') {
			argv[1] = q->url.user;
			argv[2] = q->url.pass;
			if (setup_command(q, "AUTH", 3, argv) == -1)
				return -1;
		} else {
			argv[1] = q->url.pass;
			if (setup_command(q, "AUTH", 2, argv) == -1)
				return -1;
		}
	}
	if (q->url.db != 0) {
		snprintf(db, sizeof(db), "%d", q->url.db);
		argv[0] = "SELECT";
		argv[1] = db;
		if (setup_command(q, "SELECT", 2, argv) == -1)
			return -1;
	}
	if (q->client_name[0] != '\0') {
		argv[0] = "CLIENT";
		argv[1] = "SETNAME";
		argv[2] = q->client_name;
		if (setup_command(q, "CLIENT SETNAME", 3, argv) == -1)
			return -1;
	} else if (q->url.pass[0] == '\0' && q->url.user[0] == '\0' &&
	    q->url.db == 0) {
		/*
		 * Without AUTH, find out now whether the server wants one: a
		 * first long command would get only a protocol error.
		 */
		argv[0] = "PING";
		if (setup_command(q, "PING", 1, argv) == -1)
			return -1;
	}
	/* a sentinel's master, a cluster node (sentinel.c, cluster.c) */
	if (bmq_sentinel_verify(q) == -1 || bmq_cluster_verify(q) == -1)
		return -1;
	return 0;
}

/* Name this connection (CLIENT SETNAME), now and after every reconnect. */
int
bullmq_set_client_name(bullmq_queue *q, const char *name)
{
	const char	*argv[3];

	if (strlcpy(q->client_name, name, sizeof(q->client_name)) >=
	    sizeof(q->client_name) || strchr(name, ' ') != NULL) {
		q->client_name[0] = '\0';
		bmq_seterr(q, BULLMQ_ERR_ARG, "client name %s: too long or "
		    "contains a space", name);
		return -1;
	}
	if (q->rc == NULL)
		return 0;
	argv[0] = "CLIENT";
	argv[1] = "SETNAME";
	argv[2] = q->client_name;
	return setup_command(q, "CLIENT SETNAME", 3, argv);
}

/*
 * Turn a reply into an error when it is NULL or a Redis error: sets the
 * handle's error, frees the reply and drops a dead connection.  Returns 0
 * for a usable reply.
 */
int
bmq_reply_error(bullmq_queue *q, redisReply *r)
{
	if (r == NULL) {
		io_error(q, "");
		bmq_drop(q);
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		reply_seterr(q, "", r);
		freeReplyObject(r);
		return -1;
	}
	return 0;
}

/* Ensure a connection, connecting on first use. */
static int
ensure(bullmq_queue *q)
{
	if (q->rc != NULL)
		return 0;
	return bullmq_queue_connect(q);
}

/* Run a formatted command; NULL on any error (set in the handle). */
redisReply *
bmq_command(bullmq_queue *q, const char *fmt, ...)
{
	struct bmq_pipeguard	 g;
	va_list			 ap, aq;
	redisReply		*r;
	int			 tries, rv;

	va_start(ap, fmt);
	for (tries = 0;; tries++) {
		if (ensure(q) == -1) {
			va_end(ap);
			return NULL;
		}
		va_copy(aq, ap);
		bmq_pipe_hold(q, &g);
		r = redisvCommand(q->rc, fmt, aq);
		bmq_pipe_release(&g);
		va_end(aq);
		/* a cluster's redirection, a failover's READONLY */
		if (r == NULL || (rv = bmq_redirect(q, r, tries, 0)) == 0)
			break;
		freeReplyObject(r);
		if (rv == -1) {
			va_end(ap);
			return NULL;
		}
	}
	va_end(ap);
	if (bmq_reply_error(q, r) == -1)
		return NULL;
	return r;
}

/* Run a command given as an argument vector; NULL on any error. */
redisReply *
bmq_commandv(bullmq_queue *q, int argc, const char **argv, const size_t *lens)
{
	struct bmq_pipeguard	 g;
	redisReply		*r;
	int			 tries, rv;

	for (tries = 0;; tries++) {
		if (ensure(q) == -1)
			return NULL;
		bmq_pipe_hold(q, &g);
		r = redisCommandArgv(q->rc, argc, argv, lens);
		bmq_pipe_release(&g);
		/* a cluster's redirection, a failover's READONLY */
		if (r == NULL || (rv = bmq_redirect(q, r, tries, 0)) == 0)
			break;
		freeReplyObject(r);
		if (rv == -1)
			return NULL;
	}
	if (bmq_reply_error(q, r) == -1)
		return NULL;
	return r;
}

/* The error code of the last failed call. */
int
bullmq_errcode(const bullmq_queue *q)
{
	return q->err;
}

/* The message of the last failed call. */
const char *
bullmq_errstr(const bullmq_queue *q)
{
	return q->errstr;
}

/* The negative code of the last script refusal, or 0. */
int
bullmq_script_code(const bullmq_queue *q)
{
	return q->script_code;
}

/* 1 when the handle holds an open connection, else 0. */
int
bullmq_queue_connected(const bullmq_queue *q)
{
	return q->rc != NULL;
}

/* The queue's name. */
const char *
bullmq_queue_name(const bullmq_queue *q)
{
	return q->name;
}

/* The queue's key prefix. */
const char *
bullmq_queue_prefix(const bullmq_queue *q)
{
	return q->prefix;
}

/* Apply the handle's command timeout to its connection. */
static void
apply_timeout(bullmq_queue *q)
{
	struct timeval	tv;

	tv.tv_sec = q->command_timeout_ms / 1000;
	tv.tv_usec = (q->command_timeout_ms % 1000) * 1000;
	redisSetTimeout(q->rc, tv);
}

/* Set the command timeout, for the connection open now and later ones. */
int
bullmq_set_command_timeout(bullmq_queue *q, int ms)
{
	if (ms < 0) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "command timeout %d ms: must "
		    "not be negative", ms);
		return -1;
	}
	if (ms == q->command_timeout_ms)
		return 0;
	q->command_timeout_ms = ms;
	if (q->rc != NULL)
		apply_timeout(q);
	return 0;
}

/*
 * The Redis client id of the connection open now (CLIENT ID, asked once a
 * connection): 0 when there is none, -1 on error.
 */
int64_t
bullmq_client_id(bullmq_queue *q)
{
	redisReply	*r;

	if (q->rc == NULL)
		return 0;
	if (q->client_id > 0)
		return q->client_id;
	if ((r = bmq_command(q, "CLIENT ID")) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_INTEGER || r->integer <= 0) {
		bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "CLIENT ID: unexpected "
		    "reply");
		freeReplyObject(r);
		return -1;
	}
	q->client_id = r->integer;
	freeReplyObject(r);
	return q->client_id;
}

/*
 * Wake the connection of another client blocked in a command, as if its
 * block had timed out (CLIENT UNBLOCK id TIMEOUT).  Returns 1 when it was
 * blocked, 0 when not (no client has an id below 1), -1 on error.
 */
int
bullmq_client_unblock(bullmq_queue *q, int64_t id)
{
	redisReply	*r;
	int		 rv;

	if (id <= 0)
		return 0;
	if ((r = bmq_command(q, "CLIENT UNBLOCK %lld TIMEOUT",
	    (long long)id)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_INTEGER) {
		bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "CLIENT UNBLOCK: "
		    "unexpected reply");
		freeReplyObject(r);
		return -1;
	}
	rv = r->integer == 1;
	freeReplyObject(r);
	return rv;
}

/* Check a Redis URL as bullmq_queue_new reads it; -1 with why in err. */
int
bullmq_url_check(const char *url, char *err, size_t errsize)
{
	struct bmq_url	u;

	if (bmq_url_parse(url, &u, err, errsize) == -1)
		return -1;
	if (u.tls && !bullmq_tls_available())
		return bmq_url_error(url, err, errsize, "%s", BMQ_NO_TLS);
	return 0;
}
