/*
 * bulk.c: adding many jobs on one connection.  An add stream formats each
 * job's add-9.lua call into its own buffer, writes every BULK_FLUSH calls
 * and reads the replies that have come meanwhile, so that Redis runs the
 * first jobs while the caller prepares the next ones; bullmq_add_bulk is a
 * stream over an array.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"

#define BULK_FLUSH	64		/* calls formatted before a write */
#define MAX_PENDING	4096		/* results outstanding before a push waits */
#define MAX_BYTES	(8 << 20)	/* bytes of calls kept before it waits */
#define READ_CHUNK	65536

/* Where a job stands. */
enum entry_state {
	E_SENT,		/* its call is formatted (and maybe written) */
	E_RETRY,	/* its call met NOSCRIPT: sent again after a load */
	E_DONE		/* its result is known and kept until its turn */
};

/* One job pushed whose result has not been handed over yet. */
struct entry {
	void		*udata;
	uint64_t	 off;	/* its call: stream bytes [off, off + len) */
	size_t		 len;	/* 0: refused before anything was sent */
	enum entry_state state;
	int		 retried;
	int		 result;	/* E_DONE: the result, */
	char		*id;		/* the id and */
	size_t		 idlen;
	char		*err;		/* the error, owned */
};

struct bullmq_add_stream {
	bullmq_queue		*q;
	bullmq_add_cb		*cb;
	void			*arg;
	struct bmq_add_call	 call;	/* the arguments of the push */
	struct entry		*e;	/* e[first .. n): outstanding, in order */
	size_t			 first, n, cap;
	size_t			 next;	/* the first entry that may await a reply */
	uint64_t		 seq;	/* the sequence number of e[first] */
	size_t			 inflight;	/* entries E_SENT with a call */
	struct bmq_buf		 out;	/* the calls from stream byte base on */
	uint64_t		 base;
	uint64_t		 wpos;	/* written up to this stream byte */
	uint64_t		 rpos;	/* replies read for the calls before it */
	int			 unflushed;	/* calls formatted, not written */
	int			 reload;	/* a call met NOSCRIPT */
	int			 dead;		/* the connection failed */
	char			*rbuf;		/* READ_CHUNK bytes */
};

/*
 * The stream cannot go on: what was sent and not answered may or may not
 * have been added, so the connection is closed rather than read further.
 * The error is already in the handle.  Returns -1.
 */
static int
stream_fail(struct bullmq_add_stream *s)
{
	s->dead = 1;
	bmq_drop(s->q);
	return -1;
}

/* Hand the result of the first outstanding job to the callback. */
static void
hand_over(struct bullmq_add_stream *s, int result, const char *id,
    size_t idlen, const char *err)
{
	struct bullmq_add_result	 r;
	struct entry			*e = &s->e[s->first];

	r.udata = e->udata;
	r.seq = s->seq;
	r.result = result;
	r.id = result == -1 ? "" : id;
	r.idlen = result == -1 ? 0 : idlen;
	r.err = result == -1 ? err : "";
	s->cb(&r, s->arg);
	free(e->id);
	free(e->err);
	e->id = e->err = NULL;
	s->first++;
	s->seq++;
}

/*
 * Settle entry i: hand its result over now when it is the first
 * outstanding one (and then the kept results behind it), else keep a copy
 * until its turn.  Returns 0, or -1 when out of memory.
 */
static int
settle(struct bullmq_add_stream *s, size_t i, int result, const char *id,
    size_t idlen, const char *err)
{
	struct entry	*e = &s->e[i];

	if (i != s->first) {
		e->state = E_DONE;
		e->result = result;
		e->idlen = idlen;
		if ((e->id = malloc(idlen + 1)) == NULL ||
		    (e->err = strdup(err)) == NULL) {
			bmq_seterr(s->q, BULLMQ_ERR_NOMEM, "out of memory");
			return -1;
		}
		memcpy(e->id, id, idlen);
		e->id[idlen] = '\0';
		return 0;
	}
	hand_over(s, result, id, idlen, err);
	while (s->first < s->n && s->e[s->first].state == E_DONE) {
		e = &s->e[s->first];
		hand_over(s, e->result, e->id, e->idlen, e->err);
	}
	return 0;
}

/* Match a reply to the next job awaiting one; 0, or -1 on failure. */
static int
got_reply(struct bullmq_add_stream *s, redisReply *r)
{
	const redisReply	*ri = NULL;
	struct entry		*e;
	char			 err[128];
	size_t			 i;
	int			 rv;

	if (s->next < s->first)
		s->next = s->first;
	while (s->next < s->n && (s->e[s->next].state != E_SENT ||
	    s->e[s->next].len == 0))
		s->next++;
	if (s->next == s->n) {
		bmq_seterr(s->q, BULLMQ_ERR_PROTOCOL, "redis: a reply to no "
		    "call");
		return -1;
	}
	i = s->next++;
	e = &s->e[i];
	s->inflight--;
	s->rpos = e->off + e->len;
	if (bmq_is_noscript(r) && !e->retried) {
		e->state = E_RETRY;
		s->reload = 1;
		return 0;
	}
	err[0] = '\0';
	rv = bmq_add_reply(r, &ri, err, sizeof(err));
	return settle(s, i, rv, rv == -1 ? "" : ri->str, rv == -1 ? 0 :
	    ri->len, err);
}

/*
 * Over TLS the calls go through hiredis's output buffer and its TLS
 * layer; 0, or -1 when the connection failed.
 */
static int
write_tls(struct bullmq_add_stream *s)
{
	struct bmq_pipeguard	 g;
	bullmq_queue		*q = s->q;
	int			 done = 0, rv = REDIS_OK;

	if (redisAppendFormattedCommand(q->rc, s->out.b + (s->wpos - s->base),
	    (size_t)(s->base + s->out.len - s->wpos)) != REDIS_OK) {
		bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
		return stream_fail(s);
	}
	s->wpos = s->base + s->out.len;
	bmq_pipe_hold(q, &g);
	while (!done && rv == REDIS_OK)
		rv = redisBufferWrite(q->rc, &done);
	bmq_pipe_release(&g);
	if (rv != REDIS_OK) {
		bmq_seterr(q, BULLMQ_ERR_IO, "redis: %s",
		    q->rc->errstr[0] != '\0' ? q->rc->errstr :
		    "connection lost");
		return stream_fail(s);
	}
	return 0;
}

/*
 * Over TLS, read what has come (ready: something has) through hiredis
 * into its reader: each read takes a whole record, so poll() sees whether
 * more waits.  0, or -1 when the connection failed.
 */
static int
read_tls(struct bullmq_add_stream *s, int ready)
{
	bullmq_queue	*q = s->q;
	struct pollfd	 pfd;
	int		 i, k;

	pfd.fd = q->rc->fd;
	pfd.events = POLLIN;
	for (i = 0; i < 64; i++, ready = 0) {
		if (!ready) {
			do
				k = poll(&pfd, 1, 0);
			while (k == -1 && errno == EINTR);
			if (k != 1)
				break;
		}
		if (redisBufferRead(q->rc) != REDIS_OK) {
			bmq_seterr(q, BULLMQ_ERR_IO, "redis: %s",
			    q->rc->errstr[0] != '\0' ? q->rc->errstr :
			    "connection lost");
			return stream_fail(s);
		}
	}
	return 0;
}

/* Read what has come on the socket into the reader; 0, or -1. */
static int
read_plain(struct bullmq_add_stream *s)
{
	bullmq_queue	*q = s->q;
	ssize_t		 n;

	for (;;) {
		n = recv(q->rc->fd, s->rbuf, READ_CHUNK, MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			bmq_seterr(q, BULLMQ_ERR_IO, "redis: %s", n == 0 ?
			    "connection lost" : strerror(errno));
			return stream_fail(s);
		}
		if (redisReaderFeed(q->rc->reader, s->rbuf, (size_t)n) !=
		    REDIS_OK) {
			bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
			return stream_fail(s);
		}
		if (n < READ_CHUNK)
			return 0;
	}
}

/* Write every formatted call; 0, or -1 when the connection failed. */
static int
write_out(struct bullmq_add_stream *s)
{
	bullmq_queue	*q = s->q;
	ssize_t		 n;

	s->unflushed = 0;
	if (s->wpos == s->base + s->out.len)
		return 0;
	if (q->rc == NULL && bullmq_queue_connect(q) == -1)
		return stream_fail(s);
	if (q->url.tls)
		return write_tls(s);
	while (s->wpos < s->base + s->out.len) {
		/* a peer gone must not end the caller by SIGPIPE */
		n = send(q->rc->fd, s->out.b + (s->wpos - s->base),
		    (size_t)(s->base + s->out.len - s->wpos), MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			bmq_seterr(q, BULLMQ_ERR_IO, "redis: %s", n == -1 &&
			    errno == EAGAIN ? "write timed out" : n == -1 ?
			    strerror(errno) : "connection lost");
			return stream_fail(s);
		}
		s->wpos += (uint64_t)n;
	}
	return 0;
}

/*
 * Read the replies that have come, waiting for some first when wait is
 * set (something must be in flight); 0, or -1 when the connection failed.
 */
static int
read_replies(struct bullmq_add_stream *s, int wait)
{
	bullmq_queue	*q = s->q;
	struct pollfd	 pfd;
	void		*r;
	int		 k;

	if (q->rc == NULL)
		return 0;	/* not connected: nothing was written */
	if (wait) {
		pfd.fd = q->rc->fd;
		pfd.events = POLLIN;
		do
			k = poll(&pfd, 1, q->command_timeout_ms > 0 ?
			    q->command_timeout_ms : -1);
		while (k == -1 && errno == EINTR);
		if (k == 0) {
			bmq_seterr(q, BULLMQ_ERR_IO, "redis: no answer within "
			    "%d ms", q->command_timeout_ms);
			return stream_fail(s);
		}
		if (k == -1) {
			bmq_seterr(q, BULLMQ_ERR_IO, "redis: %s",
			    strerror(errno));
			return stream_fail(s);
		}
	}
	if ((q->url.tls ? read_tls(s, wait) : read_plain(s)) == -1)
		return -1;
	for (;;) {
		if (redisReaderGetReply(q->rc->reader, &r) != REDIS_OK) {
			bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "redis: %s",
			    q->rc->reader->errstr);
			return stream_fail(s);
		}
		if (r == NULL)
			return 0;
		k = got_reply(s, r);
		freeReplyObject(r);
		if (k == -1)
			return stream_fail(s);
	}
}

/*
 * After a NOSCRIPT: read every reply (the calls after that one met it
 * too, unless the script came back meanwhile), load the scripts and send
 * the calls that met it again, in their order.  0, or -1 on failure.
 */
static int
reload(struct bullmq_add_stream *s)
{
	struct bmq_buf	 nb;
	struct entry	*e;
	uint64_t	 pos;
	size_t		 i;

	while (s->inflight > 0)
		if (write_out(s) == -1 || read_replies(s, 1) == -1)
			return -1;
	if (bmq_scripts_load(s->q) == -1)
		return stream_fail(s);
	bmq_buf_init(&nb);
	pos = s->base + s->out.len;
	for (i = s->first; i < s->n; i++) {
		e = &s->e[i];
		if (e->state != E_RETRY)
			continue;
		bmq_buf_add(&nb, s->out.b + (e->off - s->base), e->len);
		e->off = pos + nb.len - e->len;
		e->state = E_SENT;
		e->retried = 1;
		s->inflight++;
	}
	if (nb.oom) {
		bmq_buf_free(&nb);
		bmq_seterr(s->q, BULLMQ_ERR_NOMEM, "out of memory");
		return stream_fail(s);
	}
	bmq_buf_free(&s->out);
	s->out = nb;
	s->base = s->wpos = s->rpos = pos;
	s->next = s->first;
	s->reload = 0;
	return write_out(s);
}

/* Make room for one more entry, dropping the handed over ones. */
static int
grow(struct bullmq_add_stream *s)
{
	struct entry	*ne;
	size_t		 cap;

	if (s->n < s->cap)
		return 0;
	if (s->first > 0 && s->first >= s->cap / 2) {
		memmove(s->e, s->e + s->first, (s->n - s->first) *
		    sizeof(*s->e));
		s->n -= s->first;
		s->next = s->next > s->first ? s->next - s->first : 0;
		s->first = 0;
		return 0;
	}
	cap = s->cap ? s->cap * 2 : 256;
	if ((ne = reallocarray(s->e, cap, sizeof(*ne))) == NULL)
		return -1;
	s->e = ne;
	s->cap = cap;
	return 0;
}

/* Drop the text of the calls already answered, once it is worth a move. */
static void
trim(struct bullmq_add_stream *s)
{
	size_t	d = (size_t)(s->rpos - s->base);

	if (d < 65536 || d < s->out.len / 2)
		return;
	memmove(s->out.b, s->out.b + d, s->out.len - d);
	s->out.len -= d;
	s->base += d;
}

/* Start a stream of adds on q; NULL when out of memory. */
bullmq_add_stream *
bullmq_add_stream_new(bullmq_queue *q, bullmq_add_cb *cb, void *arg)
{
	bullmq_add_stream	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->rbuf = malloc(READ_CHUNK)) == NULL) {
		free(s);
		bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
		return NULL;
	}
	s->q = q;
	s->cb = cb;
	s->arg = arg;
	bmq_buf_init(&s->call.opts);
	bmq_buf_init(&s->out);
	return s;
}

/* Add one job to the stream; see bullmq.h. */
int
bullmq_add_stream_push(bullmq_add_stream *s, const char *name,
    const char *data, const struct bullmq_add_opts *o, void *udata)
{
	struct entry	*e;
	char		 err[128];
	size_t		 end;
	int		 code;

	if (s->dead)
		return -1;
	if (s->reload && reload(s) == -1)
		return -1;
	/* Bounded: wait for answers while too many are outstanding. */
	while (s->inflight > 0 && (s->n - s->first >= MAX_PENDING ||
	    s->base + s->out.len - s->rpos >= MAX_BYTES)) {
		if (write_out(s) == -1 || read_replies(s, 1) == -1)
			return -1;
		if (s->reload && reload(s) == -1)
			return -1;
	}
	trim(s);
	if (grow(s) == -1) {
		bmq_seterr(s->q, BULLMQ_ERR_NOMEM, "out of memory");
		return -1;
	}
	e = &s->e[s->n++];
	memset(e, 0, sizeof(*e));
	e->udata = udata;
	e->state = E_SENT;
	code = bmq_add_prepare(s->q, name, data, o, bullmq_now(), &s->call,
	    err, sizeof(err));
	if (code != 0)
		return settle(s, s->n - 1, -1, "", 0, err) == -1 ?
		    stream_fail(s) : 0;
	end = s->out.len;
	if (bmq_script_format(&s->out, s->call.script, &s->call.a) == -1) {
		s->n--;
		bmq_seterr(s->q, BULLMQ_ERR_NOMEM, "out of memory");
		return stream_fail(s);
	}
	e->off = s->base + end;
	e->len = s->out.len - end;
	s->inflight++;
	if (++s->unflushed >= BULK_FLUSH)
		return bullmq_add_stream_flush(s);
	return 0;
}

/* Write the calls pushed and take the results that have come; see bullmq.h. */
int
bullmq_add_stream_flush(bullmq_add_stream *s)
{
	if (s->dead)
		return -1;
	if (s->reload && reload(s) == -1)
		return -1;
	if (write_out(s) == -1 || read_replies(s, 0) == -1)
		return -1;
	return 0;
}

/* Wait for the result of every job pushed; see bullmq.h. */
int
bullmq_add_stream_finish(bullmq_add_stream *s)
{
	if (s->dead)
		return -1;
	for (;;) {
		if (s->reload && reload(s) == -1)
			return -1;
		if (s->inflight == 0)
			return 0;
		if (write_out(s) == -1 || read_replies(s, 1) == -1)
			return -1;
	}
}

/*
 * Free a stream; results not handed over are dropped, and so is the
 * connection if replies are still due on it.  NULL is accepted.
 */
void
bullmq_add_stream_free(bullmq_add_stream *s)
{
	size_t	i;

	if (s == NULL)
		return;
	if (!s->dead && s->wpos > s->rpos)
		bmq_drop(s->q);
	for (i = s->first; i < s->n; i++) {
		free(s->e[i].id);
		free(s->e[i].err);
	}
	free(s->e);
	bmq_buf_free(&s->call.opts);
	bmq_buf_free(&s->out);
	free(s->rbuf);
	free(s);
}

/* Copy a result of the stream into its request. */
static void
bulk_result(const struct bullmq_add_result *r, void *arg)
{
	struct bullmq_add_req	*req = r->udata;
	long			*added = arg;

	req->result = r->result;
	req->id[0] = '\0';
	strlcpy(req->err, r->err, sizeof(req->err));
	if (r->result == -1)
		return;
	(*added)++;
	/* too long for the request: left "", the job is in */
	if (r->idlen < sizeof(req->id)) {
		memcpy(req->id, r->id, r->idlen);
		req->id[r->idlen] = '\0';
	}
}

/* Add n jobs, pipelined; see bullmq.h. */
long
bullmq_add_bulk(bullmq_queue *q, struct bullmq_add_req *reqs, size_t n)
{
	bullmq_add_stream	*s;
	size_t			 i;
	long			 added = 0, rv = -1;

	for (i = 0; i < n; i++) {
		reqs[i].result = -1;
		reqs[i].id[0] = '\0';
		snprintf(reqs[i].err, sizeof(reqs[i].err), "not sent");
	}
	if (n == 0)
		return 0;
	if ((s = bullmq_add_stream_new(q, bulk_result, &added)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (bullmq_add_stream_push(s, reqs[i].name, reqs[i].data,
		    &reqs[i].opts, &reqs[i]) == -1)
			goto out;
	if (bullmq_add_stream_finish(s) == 0)
		rv = added;
out:
	bullmq_add_stream_free(s);
	return rv;
}
