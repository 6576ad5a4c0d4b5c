/*
 * queue.c: the producer side of a queue: adding one job (BULLMQ-PROTOCOL.md
 * 4.1), the arguments of add-9.lua and the judging of its reply, which the
 * add stream (bulk.c) shares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"

static const struct bullmq_add_opts	no_opts;

/*
 * Fill c with the arguments of one add.  c->opts must be initialised; it is
 * emptied first, so one call structure serves many jobs.  Returns 0, or a
 * BULLMQ_ERR_* code with a message in err (nothing is sent).
 */
int
bmq_add_prepare(bullmq_queue *q, const char *name, const char *data,
    const struct bullmq_add_opts *o, int64_t now, struct bmq_add_call *c,
    char *err, size_t errsize)
{
	static const enum bmq_key keys[BMQ_ADD_NKEYS] = { BMQ_K_WAIT,
	    BMQ_K_META, BMQ_K_ID, BMQ_K_DELAYED, BMQ_K_PRIORITIZED, BMQ_K_PC,
	    BMQ_K_ACTIVE, BMQ_K_EVENTS, BMQ_K_MARKER };
	const char		*jid, *did;
	size_t			 jidlen, didlen, datalen;

	if (o == NULL)
		o = &no_opts;
	if (name == NULL) {
		bmq_errf(err, errsize, "job name is missing");
		return BULLMQ_ERR_ARG;
	}
	if (data == NULL)
		data = "{}";
	datalen = strlen(data);
	if (!bmq_json_valid(data, datalen)) {
		bmq_errf(err, errsize, "job data is not valid JSON");
		return BULLMQ_ERR_ARG;
	}
	if (bmq_add_opts_check(o, &jid, &jidlen, &did, &didlen, err,
	    errsize) == -1)
		return BULLMQ_ERR_ARG;
	c->opts.len = 0;
	bmq_add_opts_write(&c->opts, o, jid, jidlen, did, didlen);
	if (bmq_buf_cstr(&c->opts) == NULL) {
		bmq_errf(err, errsize, "out of memory");
		return BULLMQ_ERR_NOMEM;
	}
	snprintf(c->ts, sizeof(c->ts), "%lld",
	    (long long)(o->timestamp > 0 ? o->timestamp : now));
	snprintf(c->delay, sizeof(c->delay), "%lld", (long long)o->delay);
	snprintf(c->prio, sizeof(c->prio), "%d", o->priority);
	snprintf(c->ttl, sizeof(c->ttl), "%lld", (long long)o->dedup_ttl);
	c->script = o->dedup_extend || o->dedup_replace || o->dedup_keep_last ||
	    o->dedup_reschedule ? BMQ_LUA_ADD_DEDUP : BMQ_LUA_ADD;
	bmq_args_init(&c->a);
	bmq_args_keys(&c->a, q, keys, BMQ_ADD_NKEYS);
	bmq_args_key(&c->a, q, BMQ_K_BASE);
	bmq_args_add(&c->a, jid, jidlen);
	bmq_args_adds(&c->a, name);
	bmq_args_adds(&c->a, c->ts);
	bmq_args_add(&c->a, data, datalen);
	bmq_args_add(&c->a, c->opts.b, c->opts.len);
	bmq_args_adds(&c->a, c->delay);
	bmq_args_adds(&c->a, c->prio);
	bmq_args_adds(&c->a, o->lifo ? "1" : "0");
	bmq_args_add(&c->a, did, didlen);
	bmq_args_adds(&c->a, c->ttl);
	return 0;
}

/*
 * Judge the reply {status, id} of add-9.lua.  Returns the status with *idp
 * set to the id's reply, or -1 with a message in err.
 */
int
bmq_add_reply(const redisReply *r, const redisReply **idp, char *err,
    size_t errsize)
{
	const redisReply	*st;

	if (r->type == REDIS_REPLY_ERROR) {
		bmq_errf(err, errsize, "script add: %.*s", (int)r->len, r->str);
		return -1;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    (st = r->element[0])->type != REDIS_REPLY_INTEGER ||
	    st->integer < BULLMQ_ADDED || st->integer > BULLMQ_DEDUPLICATED ||
	    (*idp = r->element[1])->type != REDIS_REPLY_STRING) {
		bmq_errf(err, errsize, "script add: unexpected reply");
		return -1;
	}
	return (int)st->integer;
}

/*
 * Read the reply of add-9.lua into id.  Returns the status, or -1 with a
 * message in err, also when the id does not fit.
 */
static int
add_result(const redisReply *r, char *id, size_t idsize, char *err,
    size_t errsize)
{
	const redisReply	*ri;
	int			 rv;

	if ((rv = bmq_add_reply(r, &ri, err, errsize)) == -1)
		return -1;
	if (id != NULL && idsize > 0) {
		if (ri->len >= idsize) {
			bmq_errf(err, errsize, "job id %.*s...: %zu bytes do "
			    "not fit in the id buffer of %zu",
			    (int)(ri->len > 32 ? 32 : ri->len), ri->str,
			    ri->len, idsize);
			return -1;
		}
		memcpy(id, ri->str, ri->len);
		id[ri->len] = '\0';
	}
	return rv;
}

/* Add one job; see bullmq.h. */
int
bullmq_add(bullmq_queue *q, const char *name, const char *data,
    const struct bullmq_add_opts *o, char *id, size_t idsize)
{
	struct bmq_add_call	 c;
	redisReply		*r;
	char			 err[256];
	int			 code, rv;

	bmq_buf_init(&c.opts);
	code = bmq_add_prepare(q, name, data, o, bullmq_now(), &c, err,
	    sizeof(err));
	if (code != 0) {
		bmq_buf_free(&c.opts);
		bmq_seterr(q, code, "%s", err);
		return -1;
	}
	/* the custom id comes back: refuse it now, not after the add */
	if (id != NULL && idsize > 0 && c.a.l[BMQ_ADD_JID] >= idsize) {
		bmq_buf_free(&c.opts);
		bmq_seterr(q, BULLMQ_ERR_ARG, "job id %.*s...: %zu bytes do "
		    "not fit in the id buffer of %zu", c.a.l[BMQ_ADD_JID] > 32 ?
		    32 : (int)c.a.l[BMQ_ADD_JID], c.a.v[BMQ_ADD_JID],
		    c.a.l[BMQ_ADD_JID], idsize);
		return -1;
	}
	r = bmq_script(q, c.script, &c.a);
	bmq_buf_free(&c.opts);
	if (r == NULL)
		return -1;
	rv = add_result(r, id, idsize, err, sizeof(err));
	freeReplyObject(r);
	if (rv == -1)
		bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "%s", err);
	return rv;
}
