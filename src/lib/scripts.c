/*
 * scripts.c: the one way our Lua scripts are run: EVALSHA with the SHA1
 * computed at build time, SCRIPT LOAD and one retry on NOSCRIPT.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bullmq-int.h"

#define CMD_STACK	4096
#define IDLE_LOOK_MS	100	/* a pause after which a call looks first */

/*
 * The RESP text of "EVALSHA sha numkeys argv...", formatted here rather
 * than by hiredis's redisCommandArgv: its sdscatfmt and the reallocations
 * that go with it were a third of a worker child's instructions per job.
 */
struct cmdbuf {
	char	 stack[CMD_STACK];
	char	*p;
	size_t	 len;
};

/* Decimal digits of v, written backwards from end; returns the start. */
static char *
put_dec(char *end, size_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return end;
}

/* Append "<c><v>\r\n" at p; returns the end. */
static char *
put_head(char *p, char c, size_t v)
{
	char	 num[24], *s = put_dec(num + sizeof(num), v);
	size_t	 n = (size_t)(num + sizeof(num) - s);

	*p++ = c;
	memcpy(p, s, n);
	p += n;
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

/* Append one bulk string at p; returns the end. */
static char *
put_bulk(char *p, const char *s, size_t len)
{
	p = put_head(p, '$', len);
	memcpy(p, s, len);
	p += len;
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

/* An upper bound of the length of the call's text. */
static size_t
call_size(int argc, const char **argv, const size_t *lens)
{
	size_t	need;
	int	i;

	/* "*N\r\n", then "$L\r\n" + data + "\r\n" per argument */
	need = 1 + 20 + 2 + (7 + 40 + 24 + 3 * (20 + 5));
	for (i = 0; i < argc; i++)
		need += (lens != NULL ? lens[i] : strlen(argv[i])) + 20 + 5;
	return need;
}

/* Write the text of the call at p, which has room for it; returns the end. */
static char *
call_write(char *p, enum bmq_lua s, int argc, const char **argv,
    const size_t *lens)
{
	const struct bmq_lua_script	*sc = &bmq_lua_scripts[s];
	char				 nk[24], *nks;
	int				 i;

	nks = put_dec(nk + sizeof(nk), (size_t)sc->numkeys);
	p = put_head(p, '*', (size_t)argc + 3);
	p = put_bulk(p, "EVALSHA", 7);
	p = put_bulk(p, sc->sha, 40);
	p = put_bulk(p, nks, (size_t)(nk + sizeof(nk) - nks));
	for (i = 0; i < argc; i++)
		p = put_bulk(p, argv[i], lens != NULL ? lens[i] :
		    strlen(argv[i]));
	return p;
}

/* Format the call into b; 0, or -1 when out of memory. */
static int
format_call(struct cmdbuf *b, enum bmq_lua s, int argc, const char **argv,
    const size_t *lens)
{
	size_t	need;

	need = call_size(argc, argv, lens);
	b->p = b->stack;
	if (need > sizeof(b->stack) && (b->p = malloc(need)) == NULL)
		return -1;
	b->len = (size_t)(call_write(b->p, s, argc, argv, lens) - b->p);
	return 0;
}

/*
 * Append the text of a call of script s to b, for a caller that writes
 * its own pipeline; 0, or -1 when out of memory.
 */
int
bmq_script_format(struct bmq_buf *b, enum bmq_lua s, const struct bmq_args *a)
{
	char	*p;

	if (a->over)
		return -1;
	if ((p = bmq_buf_reserve(b, call_size(a->n, a->v, a->l))) == NULL)
		return -1;
	b->len = (size_t)(call_write(p, s, a->n, a->v, a->l) - b->b);
	return 0;
}

/* Start an empty argument list with room for BMQ_ARGS_MAX. */
void
bmq_args_init(struct bmq_args *a)
{
	a->v = a->sv;
	a->l = a->sl;
	a->n = a->over = 0;
	a->cap = BMQ_ARGS_MAX;
}

/* Make room for n arguments in all; 0, or -1 when out of memory. */
int
bmq_args_room(struct bmq_args *a, size_t n)
{
	const char	**v;
	size_t		 *l;

	if (n <= (size_t)a->cap)
		return 0;
	if (n > INT_MAX || (v = calloc(n, sizeof(*v))) == NULL)
		return -1;
	if ((l = calloc(n, sizeof(*l))) == NULL) {
		free(v);
		return -1;
	}
	memcpy(v, a->v, (size_t)a->n * sizeof(*v));
	memcpy(l, a->l, (size_t)a->n * sizeof(*l));
	if (a->v != a->sv) {
		free(a->v);
		free(a->l);
	}
	a->v = v;
	a->l = l;
	a->cap = (int)n;
	return 0;
}

/* Free what bmq_args_room took; the list stays usable, empty. */
void
bmq_args_free(struct bmq_args *a)
{
	if (a->v != a->sv) {
		free(a->v);
		free(a->l);
	}
	bmq_args_init(a);
}

/* Add an argument of len bytes. */
void
bmq_args_add(struct bmq_args *a, const char *s, size_t len)
{
	if (a->n >= a->cap) {
		a->over = 1;
		return;
	}
	a->v[a->n] = s;
	a->l[a->n++] = len;
}

/* Add a NUL-terminated argument. */
void
bmq_args_adds(struct bmq_args *a, const char *s)
{
	bmq_args_add(a, s, strlen(s));
}

/* Add the queue's key k. */
void
bmq_args_key(struct bmq_args *a, const bullmq_queue *q, enum bmq_key k)
{
	bmq_args_add(a, q->keys[k], q->keylens[k]);
}

/* Add the queue's keys ks[0 .. n). */
void
bmq_args_keys(struct bmq_args *a, const bullmq_queue *q,
    const enum bmq_key *ks, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		bmq_args_add(a, q->keys[ks[i]], q->keylens[ks[i]]);
}

/* Microseconds of the monotonic clock. */
static int64_t
mono_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Poll without sleeping for up to spin_wait_us for the reply: 1 when it is
 * there.  A task that sleeps must be woken, and on a virtual machine waking
 * one on an idle CPU is dear for both sides: with a CPU to spare, one child
 * and Redis went from about 7,400 to 11,000 jobs a second.  Each look
 * yields the CPU to whatever else can run there (Redis, a sibling): with
 * two children on two CPUs a spin that did not yield ran a third fewer
 * jobs than none, one that yields about 7 % more, and Redis sent almost
 * no wake-ups between the CPUs.
 */
static int
spin_readable(bullmq_queue *q, struct pollfd *pfd)
{
	int64_t	end;

	end = mono_us() + q->spin_wait_us;
	do {
		if (poll(pfd, 1, 0) == 1)
			return 1;
		sched_yield();
	} while (mono_us() < end);
	return 0;
}

/*
 * Wait in poll() for the reply rather than in hiredis's read(): Linux wakes
 * a task sleeping in read() on a unix socket each time the peer reads what
 * it wrote (write space), so a worker waiting for Redis was woken once for
 * nothing per call, and Redis paid for waking it.  A poll for POLLIN only
 * is not.  Returns 0, or -1 with the context's error set.
 */
static int
wait_readable(bullmq_queue *q)
{
	redisContext	*c = q->rc;
	struct pollfd	 pfd;
	int		 n;

	if (c->reader->pos < c->reader->len)
		return 0;	/* a reply may be buffered already */
	pfd.fd = c->fd;
	pfd.events = POLLIN;
	if (q->spin_wait_us > 0 && spin_readable(q, &pfd))
		return 0;
	do
		n = poll(&pfd, 1, q->command_timeout_ms > 0 ?
		    q->command_timeout_ms : -1);
	while (n == -1 && errno == EINTR);
	if (n == 1)
		return 0;
	if (n == 0)
		snprintf(c->errstr, sizeof(c->errstr), "no answer within %d ms",
		    q->command_timeout_ms);
	else
		snprintf(c->errstr, sizeof(c->errstr), "%s", strerror(errno));
	c->err = REDIS_ERR_IO;
	return -1;
}

/*
 * Send a formatted call and wait for its reply (NULL on a broken
 * connection, as redisCommandArgv answers).  With nothing else queued the
 * text goes straight to the socket: hiredis would copy it into a fresh
 * output buffer and free that again for every call.  Over TLS hiredis
 * writes it (the socket carries records, not the text) and reads the
 * reply, waiting in read() bounded by the command timeout.
 */
static redisReply *
call(bullmq_queue *q, const struct cmdbuf *b)
{
	struct bmq_pipeguard	 g;
	redisContext		*c = q->rc;
	const char		*p = b->p;
	size_t			 left = b->len;
	ssize_t			 n;
	void			*r = NULL;

	if (q->url.tls) {
		if (redisAppendFormattedCommand(c, b->p, b->len) != REDIS_OK)
			return NULL;
		bmq_pipe_hold(q, &g);
		if (redisGetReply(c, &r) != REDIS_OK)
			r = NULL;
		bmq_pipe_release(&g);
		return r;
	}
	if (sdslen(c->obuf) != 0 || c->err != 0) {
		if (redisAppendFormattedCommand(c, b->p, b->len) != REDIS_OK)
			return NULL;
	} else {
		while (left > 0) {
			n = write(c->fd, p, left);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				snprintf(c->errstr, sizeof(c->errstr), "%s",
				    n == -1 && errno == EAGAIN ? "write "
				    "timed out" : strerror(errno));
				c->err = REDIS_ERR_IO;
				return NULL;
			}
			p += n;
			left -= (size_t)n;
		}
	}
	if (wait_readable(q) == -1 || redisGetReply(c, &r) != REDIS_OK)
		return NULL;
	return r;
}

/*
 * Whether the server closed the connection while it sat idle (CLIENT KILL,
 * its timeout, a restart, all the while a job ran): between two calls
 * nothing is due from it, so anything readable is its EOF or its last
 * words.  Nothing was sent on it since, so a fresh connection can take the
 * call with no doubt about whether it ran.  After a short pause the look
 * is not worth its system call.
 */
static int
closed_while_idle(bullmq_queue *q)
{
	redisContext	*c = q->rc;
	struct pollfd	 pfd;
	int64_t		 now, idle;

	now = bullmq_now();
	idle = now - q->used_at;
	q->used_at = now;
	if (idle < IDLE_LOOK_MS || c->err != 0 || sdslen(c->obuf) != 0 ||
	    c->reader->pos < c->reader->len)
		return 0;
	pfd.fd = c->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) == 1;
}

static void
cmdbuf_free(struct cmdbuf *b)
{
	if (b->p != b->stack)
		free(b->p);
	b->p = NULL;
}

/* Load one script; 0 on success. */
static int
load_one(bullmq_queue *q, enum bmq_lua s)
{
	const struct bmq_lua_script	*sc = &bmq_lua_scripts[s];
	const char			*v[3];
	size_t				 l[3];
	redisReply			*r;

	v[0] = "SCRIPT";
	l[0] = 6;
	v[1] = "LOAD";
	l[1] = 4;
	v[2] = (const char *)sc->src;
	l[2] = sc->len;
	if ((r = bmq_commandv(q, 3, v, l)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_STRING || r->len != 40 ||
	    memcmp(r->str, sc->sha, 40) != 0) {
		bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "script %s: SCRIPT LOAD "
		    "answered another SHA1", sc->name);
		freeReplyObject(r);
		return -1;
	}
	freeReplyObject(r);
	return 0;
}

/* Load every script, before pipelining calls to them. */
int
bmq_scripts_load(bullmq_queue *q)
{
	int	s;

	for (s = 0; s < BMQ_LUA__MAX; s++)
		if (load_one(q, (enum bmq_lua)s) == -1)
			return -1;
	return 0;
}

/*
 * Load every script into Redis's cache, so that a later call finds it
 * there: a supervisor does it once for all its workers.
 */
int
bullmq_scripts_load(bullmq_queue *q)
{
	return bmq_scripts_load(q);
}

/* Is this reply the NOSCRIPT error (the script cache was flushed)? */
int
bmq_is_noscript(const redisReply *r)
{
	return r != NULL && r->type == REDIS_REPLY_ERROR && r->len >= 8 &&
	    memcmp(r->str, "NOSCRIPT", 8) == 0;
}

/*
 * A script's refusal "BULLMQ-22 WANT GOT KEY" (lua/include/key-types.lua),
 * with whatever Redis appends (" script: SHA, on @user_script:N."): a key
 * the script would write holds the wrong type, and nothing was written.
 * Leaves BULLMQ_KEY_WRONG_TYPE in q.  Returns 0, or -1 for another error.
 */
static int
wrong_type(bullmq_queue *q, enum bmq_lua s, const char *e, size_t len)
{
	static const char	 tag[] = "BULLMQ-22 ";
	const char		*want, *got, *key, *end, *p;
	int			 wl, gl;

	if (len < sizeof(tag) - 1 || memcmp(e, tag, sizeof(tag) - 1) != 0)
		return -1;
	end = e + len;
	want = e + sizeof(tag) - 1;
	if ((p = memchr(want, ' ', end - want)) == NULL)
		return -1;
	wl = (int)(p - want);
	got = p + 1;
	if ((p = memchr(got, ' ', end - got)) == NULL)
		return -1;
	gl = (int)(p - got);
	key = p + 1;
	/* the key may hold spaces: cut at the last " script: " */
	for (p = end - 9; p > key; p--)
		if (memcmp(p, " script: ", 9) == 0) {
			end = p;
			break;
		}
	q->script_code = BULLMQ_KEY_WRONG_TYPE;
	bmq_seterr(q, BULLMQ_ERR_JOB, "script %s: key %.*s holds a %.*s, not a "
	    "%.*s: nothing was written", bmq_lua_scripts[s].name,
	    (int)(end - key), key, gl, got, wl, want);
	return 0;
}

/*
 * Run script s with argv (its keys first, then its arguments).  Returns the
 * reply, which the caller frees, or NULL with the error in the handle (a
 * Redis error reply names the script and keeps Redis's message, its line
 * numbers mapped back to the .lua files by bmq_lua_errmsg).
 */
redisReply *
bmq_script(bullmq_queue *q, enum bmq_lua s, const struct bmq_args *a)
{
	struct cmdbuf	 b;
	redisReply	*r = NULL;
	int		 tries, moves, rv;

	if (a->over) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "script %s: more than %d "
		    "arguments", bmq_lua_scripts[s].name, a->cap);
		return NULL;
	}
	if (format_call(&b, s, a->n, a->v, a->l) == -1) {
		bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
		return NULL;
	}
	for (tries = 0, moves = 0; tries < 2; tries++) {
		if (q->rc != NULL && closed_while_idle(q))
			bmq_drop(q);
		/* a master the sentinels replaced (sentinel.c) */
		bmq_sentinel_recheck(q);
		if (q->rc == NULL && bullmq_queue_connect(q) == -1)
			goto out;
		r = call(q, &b);
		/* a cluster's redirection, a failover's READONLY (cluster.c) */
		if (r != NULL && !bmq_is_noscript(r) &&
		    (rv = bmq_redirect(q, r, moves, 1)) != 0) {
			freeReplyObject(r);
			r = NULL;
			if (rv == -1)
				goto out;
			moves++;
			tries = -1;	/* another node may need a load */
			continue;
		}
		if (!bmq_is_noscript(r) || tries == 1)
			break;
		freeReplyObject(r);
		r = NULL;
		if (load_one(q, s) == -1)
			goto out;
	}
	if (r != NULL && r->type == REDIS_REPLY_ERROR && bmq_noauth(q, r)) {
		freeReplyObject(r);
		r = NULL;
	} else if (r != NULL && r->type == REDIS_REPLY_ERROR &&
	    wrong_type(q, s, r->str, r->len) == 0) {
		freeReplyObject(r);
		r = NULL;
	} else if (r != NULL && r->type == REDIS_REPLY_ERROR) {
		char	msg[1024];

		/* "user_script:N" back to lua/FILE.lua:LINE (includes) */
		bmq_lua_errmsg(s, r->str, r->len, msg, sizeof(msg));
		bmq_seterr(q, BULLMQ_ERR_REDIS, "script %s: %s",
		    bmq_lua_scripts[s].name, msg);
		freeReplyObject(r);
		r = NULL;
	} else if (bmq_reply_error(q, r) == -1)
		r = NULL;
out:
	cmdbuf_free(&b);
	return r;
}

/*
 * Read an integer reply of a script: negative values are the scripts'
 * refusals, kept as BULLMQ_ERR_JOB with the code.  Frees r.  Returns 0 with
 * *v set, or -1.
 */
int
bmq_script_int(bullmq_queue *q, redisReply *r, long long *v)
{
	if (r == NULL)
		return -1;
	if (r->type != REDIS_REPLY_INTEGER) {
		bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "script answered type %d, "
		    "expected an integer", r->type);
		freeReplyObject(r);
		return -1;
	}
	*v = r->integer;
	freeReplyObject(r);
	q->script_code = 0;
	if (*v < 0) {
		q->script_code = (int)*v;
		bmq_seterr(q, BULLMQ_ERR_JOB, "%s", *v == -1 ? "job does not "
		    "exist" : *v == -2 ? "job lock does not exist" : *v == -3 ?
		    "job is not in the expected state" : *v == -4 ?
		    "job has pending children" : *v == -5 ?
		    "parent job does not exist" : *v == -6 ?
		    "job lock is held by another worker" : *v == -9 ?
		    "job has failed children" : "script refused");
		return -1;
	}
	return 0;
}
