/*
 * supervise.c: what the master does for its children on its own
 * connection: batched lock extension, the stalled check and giving back
 * the job of a dead child.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"

/*
 * Extend the locks of n jobs in one script call; ids whose lock was lost
 * go to lost.  Returns how many were lost, or -1.
 */
long
bullmq_extend_locks(bullmq_queue *q, size_t n, const char *const *ids,
    const char *const *tokens, int64_t duration,
    void (*lost)(const char *id, void *), void *arg)
{
	const char	**av;
	size_t		 *al, i, argc;
	char		  dur[24];
	redisReply	 *r;
	long		  nlost = -1;

	if (n == 0)
		return 0;
	if (duration <= 0)
		duration = BMQ_DEFAULT_LOCK;
	argc = 3 + 2 * n;
	av = calloc(argc, sizeof(*av));
	al = calloc(argc, sizeof(*al));
	if (av == NULL || al == NULL) {
		bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
		goto out;
	}
	snprintf(dur, sizeof(dur), "%" PRId64, duration);
	av[0] = q->keys[BMQ_K_STALLED];
	al[0] = q->keylens[BMQ_K_STALLED];
	av[1] = q->keys[BMQ_K_BASE];
	al[1] = q->keylens[BMQ_K_BASE];
	av[2] = dur;
	al[2] = strlen(dur);
	for (i = 0; i < n; i++) {
		av[3 + 2 * i] = ids[i];
		al[3 + 2 * i] = strlen(ids[i]);
		av[4 + 2 * i] = tokens[i];
		al[4 + 2 * i] = strlen(tokens[i]);
	}
	if ((r = bmq_script(q, BMQ_LUA_EXTEND_LOCKS, (int)argc, av, al)) ==
	    NULL)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY) {
		bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "extend locks: reply of "
		    "type %d", r->type);
		freeReplyObject(r);
		goto out;
	}
	nlost = 0;
	for (i = 0; i < r->elements; i++) {
		if (r->element[i]->type != REDIS_REPLY_STRING)
			continue;
		nlost++;
		if (lost != NULL)
			lost(r->element[i]->str, arg);
	}
	freeReplyObject(r);
out:
	free(av);
	free(al);
	return nlost;
}

/*
 * The id of a string reply for a callback: as it is, or, when it holds a
 * NUL byte (which a C string would cut), with each NUL written \x00 in
 * buf, cut to fit.
 */
static const char *
shown_id(const redisReply *e, char *buf, size_t size)
{
	size_t	i, o = 0;

	if (memchr(e->str, '\0', e->len) == NULL)
		return e->str;
	for (i = 0; i < e->len && o + 5 < size; i++) {
		if (e->str[i] == '\0') {
			memcpy(buf + o, "\\x00", 4);
			o += 4;
		} else
			buf[o++] = e->str[i];
	}
	buf[o] = '\0';
	return buf;
}

/*
 * Run the stalled check (at most once per interval across the queue);
 * recovered ids go to cb.  Returns how many were recovered, or -1.
 */
long
bullmq_check_stalled(bullmq_queue *q, long max_stalled, int64_t interval,
    void (*cb)(const char *id, void *), void *arg)
{
	const char	*av[12];
	size_t		 al[12], i;
	char		 maxs[24], now[24], iv[24], buf[BMQ_MAX_ID];
	redisReply	*r;
	long		 n = 0;
	static const enum bmq_key keys[] = {
		BMQ_K_STALLED, BMQ_K_WAIT, BMQ_K_ACTIVE, BMQ_K_STALLED_CHECK,
		BMQ_K_META, BMQ_K_MARKER, BMQ_K_EVENTS, BMQ_K_REPEAT
	};

	if (interval <= 0)
		interval = 30000;
	snprintf(maxs, sizeof(maxs), "%ld", max_stalled);
	snprintf(now, sizeof(now), "%" PRId64, bullmq_now());
	snprintf(iv, sizeof(iv), "%" PRId64, interval);
	for (i = 0; i < 8; i++) {
		av[i] = q->keys[keys[i]];
		al[i] = q->keylens[keys[i]];
	}
	av[8] = maxs;
	al[8] = strlen(maxs);
	av[9] = q->keys[BMQ_K_BASE];
	al[9] = q->keylens[BMQ_K_BASE];
	av[10] = now;
	al[10] = strlen(now);
	av[11] = iv;
	al[11] = strlen(iv);
	if ((r = bmq_script(q, BMQ_LUA_STALLED, 12, av, al)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY) {
		bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "stalled check: reply of "
		    "type %d", r->type);
		freeReplyObject(r);
		return -1;
	}
	for (i = 0; i < r->elements; i++) {
		if (r->element[i]->type != REDIS_REPLY_STRING)
			continue;
		n++;
		if (cb != NULL)
			cb(shown_id(r->element[i], buf, sizeof(buf)), arg);
	}
	freeReplyObject(r);
	return n;
}

/*
 * Run give-back-7.lua: the job id held under token, as a stall, or with id
 * "" every active job held under token but skip, as never started.
 * Returns the number given back, or -1.
 */
int
bmq_give_back(bullmq_queue *q, const char *id, const char *token,
    long max_stalled, const char *skip)
{
	const char	*av[12];
	size_t		 al[12];
	char		 maxs[24];
	long long	 v;
	int		 i;
	static const enum bmq_key keys[] = {
		BMQ_K_STALLED, BMQ_K_WAIT, BMQ_K_ACTIVE, BMQ_K_META,
		BMQ_K_MARKER, BMQ_K_EVENTS, BMQ_K_REPEAT
	};

	snprintf(maxs, sizeof(maxs), "%ld", max_stalled);
	for (i = 0; i < 7; i++) {
		av[i] = q->keys[keys[i]];
		al[i] = q->keylens[keys[i]];
	}
	av[7] = q->keys[BMQ_K_BASE];
	al[7] = q->keylens[BMQ_K_BASE];
	av[8] = id;
	av[9] = token != NULL ? token : "";
	av[10] = maxs;
	av[11] = skip != NULL ? skip : "";
	for (i = 8; i < 12; i++)
		al[i] = strlen(av[i]);
	if (bmq_script_int(q, bmq_script(q, BMQ_LUA_GIVE_BACK, 12, av, al),
	    &v) == -1)
		return -1;
	return (int)v;
}

/*
 * Give back the job of a dead worker at once, as a stall: 1 when it went
 * back to wait, 0 when it was not active under that token, -1 on error.
 */
int
bullmq_give_back(bullmq_queue *q, const char *id, const char *token,
    long max_stalled)
{
	int	n;

	if (id == NULL || id[0] == '\0') {
		bmq_seterr(q, BULLMQ_ERR_ARG, "give back: no job id");
		return -1;
	}
	if ((n = bmq_give_back(q, id, token, max_stalled, NULL)) == -1)
		return -1;
	return n > 0;
}
