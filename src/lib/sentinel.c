/*
 * sentinel.c: redis+sentinel:// URLs, and finding the master through the
 * sentinels.
 *
 * A handle with a sentinel URL asks the sentinels, one after the other,
 * for the master's address before every connection, and checks with ROLE
 * that the server it reached is a master: after a failover a lost
 * connection or a READONLY reply (cluster.c) makes the next connection
 * find the new one.
 */
#include <sys/time.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"

#define SENTINEL_SCHEME		"redis+sentinel://"
#define SENTINEL_PORT		26379
#define SENTINEL_QUERY		"?sentinel_password="
#define RECHECK_MS		1000	/* ask again at most this often */
#define RECHECK_TIMEOUT_MS	250	/* each sentinel, then the next */
#define RECHECK_IDLE_MS		9000	/* more when none answered */

/* Where the sentinel password's query starts in url (the last), or NULL. */
static const char *
query_start(const char *url)
{
	const char	*p, *last = NULL;

	for (p = url; (p = strstr(p, SENTINEL_QUERY)) != NULL; p++)
		last = p;
	return last;
}

/*
 * Copy a sentinel URL into buf with its passwords replaced by "***";
 * returns buf, or NULL when url is no sentinel URL with a query.
 */
const char *
bmq_sentinel_redact(const char *url, char *buf, size_t size)
{
	const char	*qs;
	char		*head;

	if (strncmp(url, SENTINEL_SCHEME, strlen(SENTINEL_SCHEME)) != 0 ||
	    (qs = query_start(url)) == NULL || size == 0)
		return NULL;
	if ((head = strndup(url, qs - url)) == NULL) {
		strlcpy(buf, SENTINEL_SCHEME "***", size);
		return buf;
	}
	bullmq_url_redact(head, buf, size);
	free(head);
	strlcat(buf, SENTINEL_QUERY "***", size);
	return buf;
}

/* Parse one "host[:port]" or "[v6]:port" of the sentinel list. */
static int
parse_sentinel(const char *url, const char *p, const char *end,
    struct bmq_node *n, char *err, size_t errsize)
{
	const char	*colon, *hend, *errstr;
	char		 port[8];

	n->port = SENTINEL_PORT;
	if (*p == '[') {
		if ((hend = memchr(p, ']', end - p)) == NULL || hend == p + 1)
			return bmq_url_error(url, err, errsize, "expected a "
			    "sentinel's IPv6 address as [addr]:port");
		p++;
		colon = hend + 1 < end ? hend + 1 : NULL;
		if (colon != NULL && *colon != ':')
			return bmq_url_error(url, err, errsize, "bad sentinel "
			    "address");
	} else {
		colon = memchr(p, ':', end - p);
		hend = colon != NULL ? colon : end;
	}
	if (hend == p)
		return bmq_url_error(url, err, errsize, "a sentinel's host is "
		    "missing");
	if ((size_t)(hend - p) >= sizeof(n->host))
		return bmq_url_error(url, err, errsize, "a sentinel's host is too "
		    "long");
	memcpy(n->host, p, hend - p);
	n->host[hend - p] = '\0';
	if (colon != NULL) {
		if ((size_t)(end - colon - 1) >= sizeof(port) ||
		    end - colon - 1 == 0)
			return bmq_url_error(url, err, errsize, "bad sentinel port");
		memcpy(port, colon + 1, end - colon - 1);
		port[end - colon - 1] = '\0';
		n->port = (int)strtonum(port, 1, 65535, &errstr);
		if (errstr != NULL || !isdigit((unsigned char)port[0]))
			return bmq_url_error(url, err, errsize, "bad sentinel "
			    "port");
	}
	return 0;
}

/*
 * Parse redis+sentinel://[[user:]pass@]host[:port][,host[:port]...]
 * /master-name[/db][?sentinel_password=P].  The user part is for the data
 * nodes (the master), as in a redis:// URL; the sentinels' own password,
 * when they have one, is the query's, %-encoded.  A sentinel's port is
 * 26379 unless given.  Returns 0, or -1 with a message that shows no
 * password in err.
 */
int
bmq_sentinel_parse(const char *url, struct bmq_url *u, char *err,
    size_t errsize)
{
	const char	*p, *end, *at, *slash, *comma, *name_end, *colon, *qs;
	const char	*errstr;
	char		 db[16];

	memset(u, 0, sizeof(*u));
	p = url + strlen(SENTINEL_SCHEME);
	end = p + strlen(p);
	if ((qs = query_start(url)) != NULL) {
		if (bmq_url_part(url, "sentinel password", qs +
		    strlen(SENTINEL_QUERY), strlen(qs + strlen(SENTINEL_QUERY)),
		    u->sentinel_pass, sizeof(u->sentinel_pass), err,
		    errsize) == -1)
			return -1;
		end = qs;
	}
	at = NULL;
	for (slash = p; slash < end; slash++)
		if (*slash == '@')
			at = slash;
	if (at != NULL) {
		if ((colon = memchr(p, ':', at - p)) == NULL) {
			if (bmq_url_part(url, "password", p, at - p, u->pass,
			    sizeof(u->pass), err, errsize) == -1)
				return -1;
		} else if (bmq_url_part(url, "user", p, colon - p, u->user,
		    sizeof(u->user), err, errsize) == -1 ||
		    bmq_url_part(url, "password", colon + 1, at - colon - 1,
		    u->pass, sizeof(u->pass), err, errsize) == -1)
			return -1;
		p = at + 1;
	}
	if (memchr(p, '?', end - p) != NULL)
		return bmq_url_error(url, err, errsize, "the only query read is "
		    "?sentinel_password=");
	if ((slash = memchr(p, '/', end - p)) == NULL || slash + 1 == end ||
	    slash[1] == '/')
		return bmq_url_error(url, err, errsize, "expected the master's "
		    "name after the sentinels: "
		    "redis+sentinel://host:port,host:port/name[/db]");
	while (p < slash) {
		if (u->nsentinels == BMQ_MAX_SENTINELS)
			return bmq_url_error(url, err, errsize, "more than %d "
			    "sentinels", BMQ_MAX_SENTINELS);
		comma = memchr(p, ',', slash - p);
		if (comma == NULL)
			comma = slash;
		if (parse_sentinel(url, p, comma, &u->sentinels[u->nsentinels],
		    err, errsize) == -1)
			return -1;
		u->nsentinels++;
		p = comma + 1;
	}
	if (u->nsentinels == 0)
		return bmq_url_error(url, err, errsize, "no sentinel given");
	p = slash + 1;
	if ((name_end = memchr(p, '/', end - p)) == NULL)
		name_end = end;
	if (bmq_url_part(url, "master name", p, name_end - p, u->master_name,
	    sizeof(u->master_name), err, errsize) == -1)
		return -1;
	if (name_end < end) {
		if ((size_t)(end - name_end - 1) >= sizeof(db) ||
		    end - name_end - 1 == 0 ||
		    !isdigit((unsigned char)name_end[1]))
			return bmq_url_error(url, err, errsize, "bad database "
			    "number");
		memcpy(db, name_end + 1, end - name_end - 1);
		db[end - name_end - 1] = '\0';
		u->db = (int)strtonum(db, 0, 100000, &errstr);
		if (errstr != NULL)
			return bmq_url_error(url, err, errsize, "bad database "
			    "number");
	}
	u->port = u->sentinels[0].port;
	strlcpy(u->host, u->sentinels[0].host, sizeof(u->host));
	return 0;
}

/*
 * Ask one sentinel for the master's address; 0 with it in node, or -1 with
 * why in msg.
 */
static int
ask_sentinel(bullmq_queue *q, const struct bmq_node *s, int timeout_ms,
    struct bmq_node *node, char *msg, size_t msgsize)
{
	redisContext	*c;
	redisReply	*r;
	struct timeval	 tv;
	const char	*errstr;
	int		 rv = -1;

	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if ((c = redisConnectWithTimeout(s->host, s->port, tv)) == NULL) {
		snprintf(msg, msgsize, "out of memory");
		return -1;
	}
	if (c->err) {
		snprintf(msg, msgsize, "sentinel %s:%d: %s", s->host, s->port,
		    c->errstr);
		redisFree(c);
		return -1;
	}
	redisSetTimeout(c, tv);
	if (q->url.sentinel_pass[0] != '\0') {
		r = redisCommand(c, "AUTH %s", q->url.sentinel_pass);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			snprintf(msg, msgsize, "sentinel %s:%d: AUTH: %.*s",
			    s->host, s->port, r != NULL ? (int)r->len :
			    (int)strlen(c->errstr), r != NULL ? r->str :
			    c->errstr);
			goto out;
		}
		freeReplyObject(r);
	}
	r = redisCommand(c, "SENTINEL get-master-addr-by-name %s",
	    q->url.master_name);
	if (r == NULL)
		snprintf(msg, msgsize, "sentinel %s:%d: %s", s->host, s->port,
		    c->errstr);
	else if (r->type == REDIS_REPLY_ERROR)
		snprintf(msg, msgsize, "sentinel %s:%d: %.*s", s->host,
		    s->port, (int)r->len, r->str);
	else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING ||
	    r->element[0]->len >= sizeof(node->host))
		snprintf(msg, msgsize, "sentinel %s:%d: knows no master %s",
		    s->host, s->port, q->url.master_name);
	else {
		memcpy(node->host, r->element[0]->str, r->element[0]->len);
		node->host[r->element[0]->len] = '\0';
		node->port = (int)strtonum(r->element[1]->str, 1, 65535,
		    &errstr);
		if (errstr == NULL)
			rv = 0;
		else
			snprintf(msg, msgsize, "sentinel %s:%d: bad port %s",
			    s->host, s->port, r->element[1]->str);
	}
out:
	freeReplyObject(r);
	redisFree(c);
	return rv;
}

/*
 * For a sentinel URL, set the handle's node to the master the sentinels
 * name, asking each in turn until one answers.  Returns 0 (also for any
 * other URL), or -1 with the error set.
 */
int
bmq_sentinel_resolve(bullmq_queue *q)
{
	struct bmq_node	 node;
	char		 msg[512];
	int		 i;

	if (q->url.nsentinels == 0)
		return 0;
	msg[0] = '\0';
	for (i = 0; i < q->url.nsentinels; i++)
		if (ask_sentinel(q, &q->url.sentinels[i],
		    q->connect_timeout_ms, &node, msg, sizeof(msg)) == 0) {
			q->node = node;
			q->sentinel_checked = bullmq_mono_ms();
			return 0;
		}
	bmq_seterr(q, BULLMQ_ERR_IO, "redis sentinel: no sentinel named "
	    "master %s (%d asked; the last: %s)", q->url.master_name,
	    q->url.nsentinels, msg);
	return -1;
}

/*
 * On a fresh connection to the master the sentinels named: check with ROLE
 * that it is one (not a replica that a sentinel has not yet seen demoted).
 * Returns 0, or -1 with the error set and the connection dropped.
 */
int
bmq_sentinel_verify(bullmq_queue *q)
{
	redisReply	*r;
	int		 ok;

	if (q->url.nsentinels == 0)
		return 0;
	if ((r = redisCommand(q->rc, "ROLE")) == NULL) {
		bmq_seterr(q, BULLMQ_ERR_IO, "redis %s:%d: ROLE: %s",
		    q->node.host, q->node.port, q->rc->errstr);
		bmq_drop(q);
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		if (!bmq_noauth(q, r))
			bmq_seterr(q, BULLMQ_ERR_REDIS, "redis %s:%d: ROLE: "
			    "%.*s", q->node.host, q->node.port, (int)r->len,
			    r->str);
		freeReplyObject(r);
		bmq_drop(q);
		return -1;
	}
	ok = r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    strcmp(r->element[0]->str, "master") == 0;
	if (!ok)
		bmq_seterr(q, BULLMQ_ERR_IO, "redis %s:%d: named by the "
		    "sentinels as master %s, but its ROLE is %s", q->node.host,
		    q->node.port, q->url.master_name, r->type ==
		    REDIS_REPLY_ARRAY && r->elements > 0 &&
		    r->element[0]->type == REDIS_REPLY_STRING ?
		    r->element[0]->str : "unknown");
	freeReplyObject(r);
	if (!ok)
		bmq_drop(q);
	return ok ? 0 : -1;
}

/*
 * Before a call on an open connection of a sentinel URL, at most once a
 * second: ask the sentinels again, and drop the connection when they name
 * another master.  A master the sentinels replaced is not told so until
 * they reconfigure it as a replica, seconds later, and writes to it in
 * the meantime are lost (a planned SENTINEL FAILOVER, a partition): this
 * bounds that to a second or so after they switch.  No sentinel answering
 * within 250 ms keeps the connection, and the next ask is 10 s later.
 * Returns 1 when the connection was dropped, else 0.
 */
int
bmq_sentinel_recheck(bullmq_queue *q)
{
	struct bmq_node	 node;
	char		 msg[512];
	int64_t		 now;
	int		 i;

	if (q->url.nsentinels == 0 || q->rc == NULL)
		return 0;
	now = bullmq_mono_ms();
	if (now - q->sentinel_checked < RECHECK_MS)
		return 0;
	q->sentinel_checked = now;
	for (i = 0; i < q->url.nsentinels; i++)
		if (ask_sentinel(q, &q->url.sentinels[i], RECHECK_TIMEOUT_MS,
		    &node, msg, sizeof(msg)) == 0)
			break;
	if (i == q->url.nsentinels) {
		/* none answers: the connection stands; ask less often */
		q->sentinel_checked = now + RECHECK_IDLE_MS;
		return 0;
	}
	if (strcmp(node.host, q->node.host) == 0 &&
	    node.port == q->node.port)
		return 0;
	bmq_drop(q);
	return 1;
}
