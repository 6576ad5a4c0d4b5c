/*
 * stalled.c: what the master does for its children on its own
 * connection: batched lock extension, the stalled check and giving back
 * the job of a dead child.
 */
#include <inttypes.h>
#include <limits.h>
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
	struct bmq_args	 a;
	char		 dur[24];
	redisReply	*r;
	size_t		 i;
	long		 nlost = -1;

	if (n == 0)
		return 0;
	if (duration <= 0)
		duration = BMQ_DEFAULT_LOCK;
	bmq_args_init(&a);
	if (n > ((size_t)INT_MAX - 3) / 2 || bmq_args_room(&a, 3 + 2 * n) ==
	    -1) {
		bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
		goto out;
	}
	snprintf(dur, sizeof(dur), "%" PRId64, duration);
	bmq_args_key(&a, q, BMQ_K_STALLED);
	bmq_args_key(&a, q, BMQ_K_BASE);
	bmq_args_adds(&a, dur);
	for (i = 0; i < n; i++) {
		bmq_args_adds(&a, ids[i]);
		bmq_args_adds(&a, tokens[i]);
	}
	if ((r = bmq_script(q, BMQ_LUA_EXTEND_LOCKS, &a)) == NULL)
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
	bmq_args_free(&a);
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
	struct bmq_args	 a;
	char		 maxs[24], now[24], iv[24], buf[BMQ_MAX_ID];
	redisReply	*r;
	size_t		 i;
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
	bmq_args_init(&a);
	bmq_args_keys(&a, q, keys, 8);
	bmq_args_adds(&a, maxs);
	bmq_args_key(&a, q, BMQ_K_BASE);
	bmq_args_adds(&a, now);
	bmq_args_adds(&a, iv);
	if ((r = bmq_script(q, BMQ_LUA_STALLED, &a)) == NULL)
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
	struct bmq_args	 a;
	char		 maxs[24];
	long long	 v;
	static const enum bmq_key keys[] = {
		BMQ_K_STALLED, BMQ_K_WAIT, BMQ_K_ACTIVE, BMQ_K_META,
		BMQ_K_MARKER, BMQ_K_EVENTS, BMQ_K_REPEAT
	};

	snprintf(maxs, sizeof(maxs), "%ld", max_stalled);
	bmq_args_init(&a);
	bmq_args_keys(&a, q, keys, 7);
	bmq_args_key(&a, q, BMQ_K_BASE);
	bmq_args_adds(&a, id);
	bmq_args_adds(&a, token != NULL ? token : "");
	bmq_args_adds(&a, maxs);
	bmq_args_adds(&a, skip != NULL ? skip : "");
	if (bmq_script_int(q, bmq_script(q, BMQ_LUA_GIVE_BACK, &a), &v) ==
	    -1)
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
