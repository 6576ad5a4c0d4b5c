/*
 * msg.c: the messages of a child to the master on its pipe, both ends.
 * msg_encode and msg_send are the child's; msg_parse, a pure function of
 * the bytes read, and read_msgs are the master's, which keeps each child's
 * state from them: idle, or busy with a job under a token whose lock it
 * extends.
 */
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "master.h"

/*
 * Lay out a message in buf: the header m, then m->idlen bytes of id and
 * m->toklen of token.  Returns its size, at most MSG_MAX when the lengths
 * are within MSG_ID_LEN and MSG_TOKEN_MAX - 1.
 */
size_t
msg_encode(char *buf, const struct msg *m, const char *id, const char *token)
{
	memcpy(buf, m, sizeof(*m));
	if (m->idlen > 0)
		memcpy(buf + sizeof(*m), id, m->idlen);
	if (m->toklen > 0)
		memcpy(buf + sizeof(*m) + m->idlen, token, m->toklen);
	return sizeof(*m) + m->idlen + m->toklen;
}

/*
 * Write one message in one write, which the pipe keeps whole; a gone
 * master is noticed elsewhere.  Safe in a signal handler: errno is kept.
 */
void
msg_send(int fd, const char *buf, size_t n)
{
	ssize_t	w;
	int	saved = errno;

	do
		w = write(fd, buf, n);
	while (w == -1 && errno == EINTR);
	errno = saved;
}

/*
 * Decode the message at the start of buf[0..len): its header goes to *m,
 * its id and token follow the header in buf.  Returns the message's size
 * when buf holds all of it, 0 when only its start, and -1 when its header
 * announces more than MSG_MAX bytes (*m then says how many).  It reads buf
 * and nothing else.
 */
ssize_t
msg_parse(const char *buf, size_t len, struct msg *m)
{
	size_t	need;

	if (len < sizeof(*m))
		return 0;
	memcpy(m, buf, sizeof(*m));
	need = sizeof(*m) + m->idlen + m->toklen;
	if (need > MSG_MAX)
		return -1;
	return len < need ? 0 : (ssize_t)need;
}

/*
 * Note the job a child took: the id and token after the header m.  No id
 * means one too long, which the child fails at once: it is busy, with no
 * lock to keep.
 */
static void
job_taken(struct child *c, const struct msg *m, const char *p, int64_t now)
{
	size_t	 il, tl;
	char	*np;

	il = m->idlen;
	tl = m->toklen < MSG_TOKEN_MAX ? m->toklen : MSG_TOKEN_MAX - 1;
	if (il >= c->jobsize) {
		if ((np = realloc(c->job, il + 1)) == NULL) {
			log_warnx("child %d (pid %ld): job %.64s...: out of "
			    "memory; its lock is not kept", c->slot,
			    (long)c->pid, p);
			il = 0;
		} else {
			c->job = np;
			c->jobsize = il + 1;
		}
	}
	memcpy(c->job, p, il);
	c->job[il] = '\0';
	memcpy(c->token, p + m->idlen, tl);
	c->token[tl] = '\0';
	/* the child's clock: the message may have waited in the pipe */
	c->job_since = m->at > 0 && m->at <= now ? m->at : now;
	c->state = CS_BUSY;
}

/* Note that a child finished its job; give it back if that failed. */
static void
job_done(struct child *c, const struct msg *m, int64_t now)
{
	char	who[64];

	metrics_job(m->status, m->took_us);
	M.stats.outcome[m->status > 0 && m->status < OUTCOMES ?
	    m->status : 0]++;
	switch (m->status) {
	case BULLMQ_COMPLETED:
		c->completed++;
		M.stats.completed++;
		break;
	case BULLMQ_FAILED:
	case BULLMQ_RETRIED:
	case BULLMQ_DELAYED:
		c->failed++;
		M.stats.failed++;
		break;
	default:
		break;
	}
	c->idle_since = now;

	if (m->status == -1 && c->job[0] != '\0') {
		snprintf(who, sizeof(who), "child %d (pid %ld)", c->slot,
		    (long)c->pid);
		M.stats.given_back++;
		keeper_give_back(who, c->job, c->token);
	}
	c->job[0] = '\0';
	c->state = CS_IDLE;
}

/* Act on one message of a child: the header m, then p. */
static void
handle_msg(struct child *c, const struct msg *m, const char *p, int64_t now)
{
	switch (m->type) {
	case MSG_READY:
	case MSG_IDLE:
		c->client_id = m->client_id;
		if (c->state == CS_NOREDIS)
			metrics_redis(1);
		if (c->state != CS_BUSY || m->type == MSG_READY) {
			if (c->state != CS_IDLE)
				c->idle_since = now;
			c->state = CS_IDLE;
		}
		if (c->retiring && m->type == MSG_READY)
			unblock(c);
		break;
	/*
	 * A child past job-timeout has no job left to the master (it is
	 * failed); one it took after all, telling before it died, is given
	 * back when it is reaped.
	 */
	case MSG_START:
		job_taken(c, m, p, now);
		break;
	case MSG_DONE:
		c->group = 0;
		job_done(c, m, now);
		break;
	case MSG_NEXT:
		c->group = 0;
		job_done(c, m, now);
		job_taken(c, m, p, now);
		break;
	case MSG_REDIS_DOWN:
		metrics_redis(0);
		c->state = CS_NOREDIS;
		break;
	case MSG_GROUP:
		/* a group of its own, never ours: not 0, 1 or negative */
		c->group = m->group > 1 && m->group <= INT32_MAX ?
		    (pid_t)m->group : 0;
		/* its program leads the group: its pid, for its size */
		c->program = c->group;
		break;
	default:
		log_warnx("child %d (pid %ld): unknown message %d", c->slot,
		    (long)c->pid, (int)m->type);
		break;
	}
}

/*
 * Keep the n bytes at p, the start of a message cut off by the end of a
 * read, for the next read; 0, or -1 when out of memory.
 */
static int
keep_partial(struct child *c, const char *p, size_t n)
{
	if (n > 0 && c->rbuf == NULL && (c->rbuf = malloc(MSG_MAX)) == NULL)
		return -1;
	memcpy(c->rbuf, p, n);
	c->rlen = n;
	return 0;
}

/*
 * Read what a child wrote, up to what is in the pipe now; closes the pipe
 * at its end.  Returns how many bytes were read.  A message is one write
 * the pipe keeps whole, so that a read that empties the pipe ends on a
 * message's end, and the start of one cut off by a full buffer waits at the
 * front of it for the next read.
 */
size_t
read_msgs(struct child *c, int64_t now)
{
	static char	 buf[16 * 1024 + MSG_MAX];
	struct msg	 m;
	size_t		 have, off, want, part, total = 0;
	ssize_t		 n, got = 0;

	part = c->rlen;
	if (part > 0)
		memcpy(buf, c->rbuf, part);
	c->rlen = 0;
	while (c->fd != -1) {
		want = sizeof(buf) - part;
		n = read(c->fd, buf + part, want);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n <= 0) {
			close_msgfd(c);
			part = 0;
			break;
		}
		total += (size_t)n;
		have = part + (size_t)n;
		for (off = 0; (got = msg_parse(buf + off, have - off, &m)) > 0;
		    off += (size_t)got)
			handle_msg(c, &m, buf + off + sizeof(m), now);
		if (got == -1) {
			log_warnx("child %d (pid %ld): message of %zu bytes; "
			    "closing its pipe", c->slot, (long)c->pid,
			    sizeof(m) + m.idlen + m.toklen);
			close_msgfd(c);
			part = 0;
			break;
		}
		part = have - off;
		memmove(buf, buf + off, part);
		/* less than asked for: the pipe was empty */
		if ((size_t)n < want)
			break;
	}
	if (part > 0 && keep_partial(c, buf, part) == -1) {
		log_warnx("child %d (pid %ld): out of memory for its messages; "
		    "closing its pipe", c->slot, (long)c->pid);
		close_msgfd(c);
	}
	return total;
}
