/*
 * scripts.c: the one way our Lua scripts are run: EVALSHA with the SHA1
 * computed at build time, SCRIPT LOAD and one retry on NOSCRIPT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"

#define ARGV_STACK	64

/* Build "EVALSHA sha numkeys argv..." into v/l (which hold argc + 3). */
static void
build_argv(enum bmq_lua s, int argc, const char **argv, const size_t *lens,
    const char **v, size_t *l, char *nk, size_t nksize)
{
	const struct bmq_lua_script	*sc = &bmq_lua_scripts[s];
	int				 i;

	snprintf(nk, nksize, "%d", sc->numkeys);
	v[0] = "EVALSHA";
	l[0] = 7;
	v[1] = sc->sha;
	l[1] = 40;
	v[2] = nk;
	l[2] = strlen(nk);
	for (i = 0; i < argc; i++) {
		v[i + 3] = argv[i];
		l[i + 3] = lens != NULL ? lens[i] : strlen(argv[i]);
	}
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

/* Is this reply the NOSCRIPT error? */
static int
is_noscript(const redisReply *r)
{
	return r != NULL && r->type == REDIS_REPLY_ERROR && r->len >= 8 &&
	    memcmp(r->str, "NOSCRIPT", 8) == 0;
}

/*
 * Run script s with argv (its keys first, then its arguments).  Returns the
 * reply, which the caller frees, or NULL with the error in the handle (a
 * Redis error reply names the script and keeps Redis's message, whose line
 * numbers point into the .lua file).
 */
redisReply *
bmq_script(bullmq_queue *q, enum bmq_lua s, int argc, const char **argv,
    const size_t *lens)
{
	const char	*sv[ARGV_STACK], **v = sv;
	size_t		 sl[ARGV_STACK], *l = sl;
	char		 nk[16];
	redisReply	*r = NULL;
	int		 tries;

	if (argc + 3 > ARGV_STACK) {
		v = calloc(argc + 3, sizeof(*v));
		l = calloc(argc + 3, sizeof(*l));
		if (v == NULL || l == NULL) {
			bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	build_argv(s, argc, argv, lens, v, l, nk, sizeof(nk));
	for (tries = 0; tries < 2; tries++) {
		if (q->rc == NULL && bullmq_queue_connect(q) == -1)
			goto out;
		r = redisCommandArgv(q->rc, argc + 3, v, l);
		if (!is_noscript(r) || tries == 1)
			break;
		freeReplyObject(r);
		r = NULL;
		if (load_one(q, s) == -1)
			goto out;
	}
	if (r != NULL && r->type == REDIS_REPLY_ERROR) {
		bmq_seterr(q, BULLMQ_ERR_REDIS, "script %s: %.*s",
		    bmq_lua_scripts[s].name, (int)r->len, r->str);
		freeReplyObject(r);
		r = NULL;
	} else if (bmq_reply_error(q, r) == -1)
		r = NULL;
out:
	if (v != sv) {
		free(v);
		free(l);
	}
	return r;
}

/* Queue a script call in the output buffer (pipelining); 0 or -1. */
int
bmq_script_append(bullmq_queue *q, enum bmq_lua s, int argc,
    const char **argv, const size_t *lens)
{
	const char	*sv[ARGV_STACK], **v = sv;
	size_t		 sl[ARGV_STACK], *l = sl;
	char		 nk[16];
	int		 rv = -1;

	if (q->rc == NULL && bullmq_queue_connect(q) == -1)
		return -1;
	if (argc + 3 > ARGV_STACK) {
		v = calloc(argc + 3, sizeof(*v));
		l = calloc(argc + 3, sizeof(*l));
		if (v == NULL || l == NULL) {
			bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	build_argv(s, argc, argv, lens, v, l, nk, sizeof(nk));
	if (redisAppendCommandArgv(q->rc, argc + 3, v, l) != REDIS_OK)
		bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
	else
		rv = 0;
out:
	if (v != sv) {
		free(v);
		free(l);
	}
	return rv;
}

/*
 * Read the next pipelined reply.  Returns 0 with *rp set (an error reply is
 * returned as it is, for the caller to judge per call), or -1 when the
 * connection failed (it is dropped).
 */
int
bmq_script_read(bullmq_queue *q, redisReply **rp)
{
	void	*r = NULL;

	*rp = NULL;
	if (q->rc == NULL) {
		bmq_seterr(q, BULLMQ_ERR_IO, "redis: not connected");
		return -1;
	}
	if (redisGetReply(q->rc, &r) != REDIS_OK || r == NULL) {
		bmq_seterr(q, BULLMQ_ERR_IO, "redis: %s", q->rc->errstr[0] ?
		    q->rc->errstr : "connection lost");
		bmq_drop(q);
		return -1;
	}
	*rp = r;
	return 0;
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
