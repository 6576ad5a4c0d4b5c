/*
 * cluster.c: Redis Cluster's key slots, and following its redirections.
 *
 * This is no cluster client: a handle keeps one connection, to the node
 * that serves its queue's slot, and moves it when a node says MOVED or ASK.
 * Every key of a queue must hash to one slot, which a hash tag in the
 * prefix or the queue name ensures ("{bull}"); the check is made when the
 * server first says it is a cluster node.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bullmq-int.h"

#define CLUSTER_SLOTS		16384
#define REDIRECT_TRIES		1000	/* per command, then the error stands */
#define REDIRECT_MS		20000	/* and no longer than this */
#define RETRY_PAUSE_MS		20	/* TRYAGAIN: a slot migrating */
#define FAILOVER_PAUSE_MS	100	/* READONLY: a master demoted */
#define FAILOVER_TRIES		20	/* that many pauses, then an error */

/*
 * CRC16 as Redis Cluster defines it (XMODEM: polynomial 0x1021, initial
 * value 0, no reflection), bit by bit: keys are short.
 */
unsigned int
bmq_crc16(const char *s, size_t n)
{
	unsigned int	crc = 0;
	size_t		i;
	int		b;

	for (i = 0; i < n; i++) {
		crc ^= (unsigned int)(unsigned char)s[i] << 8;
		for (b = 0; b < 8; b++)
			crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
		crc &= 0xffff;
	}
	return crc;
}

/*
 * Where the part of key k that is hashed starts and how long it is: the
 * text between the first "{" and the first "}" after it, when not empty;
 * else the whole key.
 */
static const char *
hash_part(const char *k, size_t n, size_t *len)
{
	const char	*open, *close;

	if ((open = memchr(k, '{', n)) != NULL &&
	    (close = memchr(open + 1, '}', n - (open + 1 - k))) != NULL &&
	    close > open + 1) {
		*len = close - open - 1;
		return open + 1;
	}
	*len = n;
	return k;
}

/* The cluster slot of a key, 0 to 16383. */
unsigned int
bmq_keyslot(const char *k, size_t n)
{
	const char	*p;
	size_t		 len;

	p = hash_part(k, n, &len);
	return bmq_crc16(p, len) % CLUSTER_SLOTS;
}

/*
 * Check that every key of a queue hashes to one slot: its n keys, and the
 * job keys, which all start with base ("prefix:name:") and end with a job
 * id, so base must hold the hash tag.  Returns 0, or -1 with a message
 * naming the keys in err.
 */
int
bmq_slot_check(const char *base, char *const *keys, const size_t *lens,
    int n, char *err, size_t errsize)
{
	size_t		 blen = strlen(base), len;
	const char	*p;
	unsigned int	 s0, s;
	int		 i;

	p = hash_part(base, blen, &len);
	if (p == base) {
		/* no tag: name two keys of different slots */
		s0 = bmq_keyslot(keys[0], lens[0]);
		for (i = 1; i < n; i++)
			if ((s = bmq_keyslot(keys[i], lens[i])) != s0)
				break;
		if (i < n)
			bmq_errf(err, errsize, "redis cluster: the keys of "
			    "queue %s hash to different slots (%s in slot "
			    "%u, %s in slot %u, and each job's key by its "
			    "id): put a hash tag in the prefix, as {bull}, "
			    "or in the queue name", base, keys[0], s0,
			    keys[i], s);
		else
			bmq_errf(err, errsize, "redis cluster: the job keys "
			    "of queue %s (%sID) hash by their id, to other "
			    "slots than %s (slot %u): put a hash tag in the "
			    "prefix, as {bull}, or in the queue name", base,
			    base, keys[0], s0);
		return -1;
	}
	s0 = bmq_crc16(p, len) % CLUSTER_SLOTS;
	for (i = 0; i < n; i++)
		if (strncmp(keys[i], base, blen) != 0 ||
		    (s = bmq_keyslot(keys[i], lens[i])) != s0) {
			bmq_errf(err, errsize, "redis cluster: key %s is not "
			    "in slot %u of queue %s", keys[i], s0, base);
			return -1;
		}
	return 0;
}

/* Sleep ms milliseconds. */
static void
pause_ms(int ms)
{
	struct timespec	ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Whether error reply r starts with word w (a whole word). */
static int
is_error(const redisReply *r, const char *w)
{
	size_t	n = strlen(w);

	return r->len > n && strncmp(r->str, w, n) == 0 && r->str[n] == ' ';
}

/*
 * Read "MOVED 3999 127.0.0.1:6381" (or ASK) into node; 0, or -1 when the
 * address cannot be read.  An empty host means the node that answered,
 * as a node without a known address says it.
 */
static int
redirect_node(bullmq_queue *q, const redisReply *r, struct bmq_node *node)
{
	const char	*p, *end = r->str + r->len, *colon, *errstr;
	char		 port[8];
	size_t		 n;

	if ((p = memchr(r->str, ' ', r->len)) == NULL ||
	    (p = memchr(p + 1, ' ', end - p - 1)) == NULL)
		return -1;
	p++;
	for (colon = end; colon > p && colon[-1] != ':'; colon--)
		;
	if (colon == p || (n = end - colon) == 0 || n >= sizeof(port))
		return -1;
	memcpy(port, colon, n);
	port[n] = '\0';
	node->port = (int)strtonum(port, 1, 65535, &errstr);
	if (errstr != NULL)
		return -1;
	n = colon - 1 - p;
	if (n >= sizeof(node->host))
		return -1;
	if (n == 0) {
		if (q->node.host[0] != '\0')
			strlcpy(node->host, q->node.host, sizeof(node->host));
		else
			strlcpy(node->host, q->url.host, sizeof(node->host));
		return 0;
	}
	/* an IPv6 address may come in brackets */
	if (p[0] == '[' && n >= 2 && p[n - 1] == ']') {
		p++;
		n -= 2;
	}
	memcpy(node->host, p, n);
	node->host[n] = '\0';
	return 0;
}

/*
 * After the error reply r to a command on try number tries (0 first):
 * whether to send it again.  MOVED (a cluster's slot served elsewhere)
 * moves the handle's connection to the node named.  ASK (the slot
 * migrating, the command's keys gone to the node named) does so too, with
 * ASKING first, for a command whose keys Redis checks; a script reads keys
 * it does not declare, which on the importing node may not have arrived
 * yet and would read as missing, so a script waits on the migrating node
 * instead, as for TRYAGAIN and a script's "non local key" (the command did
 * not run, or the script stopped at its first read of a key gone, before
 * any write).  READONLY from the master of a sentinel URL (demoted by a
 * failover), or UNBLOCKED (a blocking command such as BZPOPMIN let go
 * without an answer because its server became a replica), drops the
 * connection, so that the next one asks the sentinels again.  None of these ran the command, so sending it again is safe; a
 * migration may take a while, so this goes on for up to 20 s.  Returns 1
 * to send it again (on a connection the caller makes when there is none),
 * 0 when r is an answer for the caller, -1 when the handle's error is set
 * and the caller gives up.
 */
int
bmq_redirect(bullmq_queue *q, const redisReply *r, int tries, int script)
{
	struct bmq_node	 node;
	redisReply	*a;
	int		 ask;

	if (r->type != REDIS_REPLY_ERROR)
		return 0;
	if (tries == 0)
		q->redirect_t0 = bullmq_mono_ms();
	/* a replica named in a redis:// URL stays an error of its own */
	if (q->url.nsentinels > 0 && (is_error(r, "READONLY") ||
	    is_error(r, "UNBLOCKED") ||
	    memmem(r->str, r->len, "READONLY You can't write", 24) != NULL)) {
		bmq_seterr(q, BULLMQ_ERR_IO, "redis: %.*s (a master demoted: "
		    "a failover)", (int)r->len, r->str);
		bmq_drop(q);
		memset(&q->node, 0, sizeof(q->node));
		if (tries >= FAILOVER_TRIES)
			return -1;
		pause_ms(FAILOVER_PAUSE_MS);
		return 1;
	}
	if (tries >= REDIRECT_TRIES ||
	    bullmq_mono_ms() - q->redirect_t0 > REDIRECT_MS)
		return 0;
	ask = is_error(r, "ASK");
	if (is_error(r, "TRYAGAIN") || (ask && script) || memmem(r->str,
	    r->len, "non local key in a cluster node", 31) != NULL) {
		pause_ms(RETRY_PAUSE_MS);
		return 1;
	}
	if (is_error(r, "CLUSTERDOWN")) {
		pause_ms(FAILOVER_PAUSE_MS);
		return 1;
	}
	if (!ask && !is_error(r, "MOVED"))
		return 0;
	if (redirect_node(q, r, &node) == -1) {
		bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "redis cluster: cannot "
		    "read the redirection %.*s", (int)r->len, r->str);
		return -1;
	}
	bmq_drop(q);
	q->node = node;
	if (!ask)
		return 1;
	if (bullmq_queue_connect(q) == -1)
		return -1;
	if ((a = redisCommand(q->rc, "ASKING")) == NULL) {
		bmq_seterr(q, BULLMQ_ERR_IO, "redis %s:%d: ASKING: %s",
		    q->node.host, q->node.port, q->rc->errstr);
		bmq_drop(q);
		return -1;
	}
	freeReplyObject(a);
	return 1;
}

/*
 * Once a handle, on a fresh connection: ask the server whether it is a
 * cluster node (INFO cluster) and, when it is, check that the queue's keys
 * share one slot.  A user whose ACL denies INFO is taken for no cluster
 * and asked again on the next connection.  Returns 0, or -1 with the error set (BULLMQ_ERR_ARG for
 * keys across slots: no connection can mend that).
 */
int
bmq_cluster_verify(bullmq_queue *q)
{
	redisReply	*r;
	char		 err[BMQ_MAX_ERR];

	if (q->cluster != 0)
		return 0;
	if ((r = redisCommand(q->rc, "INFO cluster")) == NULL) {
		bmq_seterr(q, BULLMQ_ERR_IO, "redis INFO cluster: %s",
		    q->rc->errstr);
		bmq_drop(q);
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR && r->len >= 6 &&
	    strncmp(r->str, "NOPERM", 6) == 0) {
		/* an ACL user without INFO: taken for no cluster */
		freeReplyObject(r);
		return 0;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		if (!bmq_noauth(q, r))
			bmq_seterr(q, BULLMQ_ERR_REDIS, "redis INFO cluster: "
			    "%.*s", (int)r->len, r->str);
		freeReplyObject(r);
		bmq_drop(q);
		return -1;
	}
	q->cluster = r->type == REDIS_REPLY_STRING && memmem(r->str, r->len,
	    "cluster_enabled:1", 17) != NULL ? 1 : -1;
	freeReplyObject(r);
	if (q->cluster == 1 && bmq_slot_check(q->keys[BMQ_K_BASE], q->keys,
	    q->keylens, BMQ_K__MAX, err, sizeof(err)) == -1) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "%s", err);
		bmq_drop(q);
		return -1;
	}
	return 0;
}
