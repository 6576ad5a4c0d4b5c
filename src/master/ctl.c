/*
 * ctl.c: the master's control socket and its client.
 *
 * A unix stream socket, mode 0600 in a directory of the master's user; a
 * peer of another uid (but root) is refused even so.  A client sends one
 * line (status, status json, health live, health ready, scale N|+N|-N),
 * the master answers and closes.  The answers come from the master's state
 * alone: never a Redis call, so that a hung Redis leaves them as quick as
 * ever.  Every descriptor is non-blocking, a line is at most CTL_LINE_MAX
 * bytes, at most CTL_MAX_CONNS clients are served at once (more are told
 * so and closed), and one that takes longer than CTL_TIMEOUT_MS is closed.
 *
 * The client is bullmq-master itself (status, health, scale): it finds
 * the socket from the same settings the master read.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "master.h"
#include "buf.h"

#define CTL_MAX_CONNS	16
#define CTL_LINE_MAX	128
#define CTL_TIMEOUT_MS	5000
#define CTL_ACCEPTS	64	/* accepted in one wake-up at most */
#define CTL_JOB_SHOWN	24	/* bytes of a job id in the table */

/* One client: its line, then the answer being written. */
struct conn {
	int		 fd;		/* -1: free */
	int64_t		 deadline;
	char		 in[CTL_LINE_MAX];
	size_t		 inlen;
	struct buf	 out;
	size_t		 off;		/* written of out */
	int		 writing;
};

static struct {
	int		 lfd;
	int		 ep;		/* the listener and the clients */
	char		 path[CTL_PATH_MAX];
	dev_t		 dev;
	ino_t		 ino;
	struct conn	 conns[CTL_MAX_CONNS];
	size_t		 nconns;
	int64_t		 refused_logged;
	int64_t		 measured;	/* children's sizes read */
} C = { .lfd = -1, .ep = -1 };

const char	ctl_tag;

/*
 * Parse a request line (without its newline) of len bytes into *r.
 * Returns 0, or -1 when it is no request (r->cmd is CTL_BAD).
 */
int
ctl_parse(const char *line, size_t len, struct ctl_req *r)
{
	char		 buf[CTL_LINE_MAX], *arg;
	const char	*errstr;
	long long	 n;

	memset(r, 0, sizeof(*r));
	r->cmd = CTL_BAD;
	if (len >= sizeof(buf) || memchr(line, '\0', len) != NULL)
		return -1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (len > 0 && buf[len - 1] == '\r')
		buf[len - 1] = '\0';
	if ((arg = strchr(buf, ' ')) != NULL)
		*arg++ = '\0';
	if (strcmp(buf, "status") == 0) {
		if (arg == NULL)
			r->cmd = CTL_STATUS;
		else if (strcmp(arg, "json") == 0)
			r->cmd = CTL_STATUS_JSON;
	} else if (strcmp(buf, "health") == 0) {
		if (arg == NULL || strcmp(arg, "ready") == 0)
			r->cmd = CTL_READY;
		else if (strcmp(arg, "live") == 0)
			r->cmd = CTL_LIVE;
	} else if (strcmp(buf, "scale") == 0 && arg != NULL) {
		if (*arg == '+' || *arg == '-')
			r->relative = 1;
		if (*arg == '+' && (arg[1] < '0' || arg[1] > '9'))
			return -1;
		n = strtonum(arg + (*arg == '+'), -4096, 4096, &errstr);
		if (errstr == NULL && (r->relative || n >= 0)) {
			r->cmd = CTL_SCALE;
			r->n = (long)n;
		}
	}
	return r->cmd == CTL_BAD ? -1 : 0;
}

/*
 * The socket's path for settings s into buf: the setting, or for auto
 * /run/bullmq-master/QUEUE.sock as root, else
 * $XDG_RUNTIME_DIR/bullmq-master/QUEUE.sock or /tmp/bullmq-master-UID/
 * QUEUE.sock.  Returns 0, or -1 with a message in buf (none, too long).
 */
int
ctl_path(const struct settings *s, char *buf, size_t size)
{
	const char	*xdg;
	int		 n;

	if (strcmp(s->control_socket, "none") == 0) {
		snprintf(buf, size, "control-socket is none");
		return -1;
	}
	if (strcmp(s->control_socket, "auto") != 0)
		n = snprintf(buf, size, "%s", s->control_socket);
	else if (geteuid() == 0)
		n = snprintf(buf, size, "/run/bullmq-master/%s.sock",
		    s->queue);
	else if ((xdg = getenv("XDG_RUNTIME_DIR")) != NULL && xdg[0] == '/')
		n = snprintf(buf, size, "%s/bullmq-master/%s.sock", xdg,
		    s->queue);
	else
		n = snprintf(buf, size, "/tmp/bullmq-master-%ld/%s.sock",
		    (long)geteuid(), s->queue);
	if (n < 0 || (size_t)n >= size || (size_t)n >= CTL_PATH_MAX) {
		snprintf(buf, size, "control socket path of queue %.64s... is "
		    "longer than %d bytes: set control-socket", s->queue,
		    CTL_PATH_MAX - 1);
		return -1;
	}
	return 0;
}

/* Fill a unix socket address for path. */
static void
ctl_addr(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	strlcpy(sun->sun_path, path, sizeof(sun->sun_path));
}

/*
 * Make the directory of an auto path, the master's alone: created 0700,
 * or one that exists, is no link, is ours and no one else may write.
 */
static int
ctl_dir(const char *path)
{
	char		 dir[CTL_PATH_MAX], *sl;
	struct stat	 sb;

	strlcpy(dir, path, sizeof(dir));
	if ((sl = strrchr(dir, '/')) == NULL || sl == dir)
		return 0;
	*sl = '\0';
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		log_warn("control socket directory %s", dir);
		return -1;
	}
	if (lstat(dir, &sb) == -1) {
		log_warn("control socket directory %s", dir);
		return -1;
	}
	if (!S_ISDIR(sb.st_mode) || sb.st_uid != geteuid() ||
	    (sb.st_mode & 022) != 0) {
		log_warnx("control socket directory %s is not a directory of "
		    "uid %ld that only it may write: no control socket", dir,
		    (long)geteuid());
		return -1;
	}
	return 0;
}

/*
 * Whether a master answers on path: a socket there that refuses is a
 * leftover, removed.  1: one answers; 0: the path is free; -1: error.
 */
static int
ctl_taken(const char *path)
{
	struct sockaddr_un	 sun;
	struct stat		 sb;
	int			 fd, r;

	if (lstat(path, &sb) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(sb.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	ctl_addr(&sun, path);
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (r == 0)
		return 1;
	if (errno != ECONNREFUSED)
		return -1;
	return unlink(path) == -1 && errno != ENOENT ? -1 : 0;
}

/* Open the control socket of the master's settings; logs and goes on. */
void
ctl_open(void)
{
	struct sockaddr_un	 sun;
	struct epoll_event	 ev;
	struct stat		 sb;
	char			 path[SET_PATH_MAX];
	mode_t			 old;
	size_t			 i;
	int			 fd = -1, r;

	for (i = 0; i < CTL_MAX_CONNS; i++)
		C.conns[i].fd = -1;
	if (ctl_path(&M.set, path, sizeof(path)) == -1) {
		if (strcmp(M.set.control_socket, "none") != 0)
			log_warnx("%s", path);
		return;
	}
	if (strcmp(M.set.control_socket, "auto") == 0 && ctl_dir(path) == -1)
		return;
	if ((r = ctl_taken(path)) != 0) {
		if (r == 1)
			log_warnx("control socket %s: another master listens "
			    "there: no control socket (set control-socket)",
			    path);
		else
			log_warn("control socket %s", path);
		return;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		goto fail;
	ctl_addr(&sun, path);
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r == -1 || chmod(path, 0600) == -1 || listen(fd, 64) == -1 ||
	    stat(path, &sb) == -1)
		goto fail;
	if ((C.ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(C.ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		goto fail;
	ev.data.ptr = (void *)&ctl_tag;
	if (epoll_ctl(M.ep, EPOLL_CTL_ADD, C.ep, &ev) == -1)
		goto fail;
	C.lfd = fd;
	C.dev = sb.st_dev;
	C.ino = sb.st_ino;
	strlcpy(C.path, path, sizeof(C.path));
	log_info("control socket %s", path);
	return;
fail:
	log_warn("control socket %s", path);
	if (fd != -1) {
		close(fd);
		unlink(path);
	}
	if (C.ep != -1)
		close(C.ep);
	C.ep = -1;
}

/* Close a client. */
static void
conn_close(struct conn *k)
{
	if (k->fd == -1)
		return;
	/* explicitly: a child forked meanwhile may hold a copy */
	epoll_ctl(C.ep, EPOLL_CTL_DEL, k->fd, NULL);
	close(k->fd);
	k->fd = -1;
	buf_free(&k->out);
	C.nconns--;
}

/* Close the socket and remove it, if it is still ours. */
void
ctl_close(void)
{
	struct stat	sb;
	size_t		i;

	if (C.lfd == -1)
		return;
	for (i = 0; i < CTL_MAX_CONNS; i++)
		conn_close(&C.conns[i]);
	close(C.lfd);
	C.lfd = -1;
	if (stat(C.path, &sb) == 0 && sb.st_dev == C.dev &&
	    sb.st_ino == C.ino)
		unlink(C.path);
	if (C.ep != -1)
		close(C.ep);
	C.ep = -1;
}

/* Write what can be written now of a short answer, then close fd. */
static void
say_close(int fd, const char *msg)
{
	ssize_t	w;

	w = write(fd, msg, strlen(msg));
	(void)w;
	close(fd);
}

/* A job id for the table: at most CTL_JOB_SHOWN bytes, printable. */
static void
shown_id(const char *id, char *buf, size_t size)
{
	size_t	i;

	for (i = 0; id[i] != '\0' && i + 1 < size; i++)
		buf[i] = id[i] > ' ' && id[i] < 0x7f ? id[i] : '?';
	buf[i] = '\0';
	if (id[i] != '\0' && i >= 3)
		memcpy(buf + i - 3, "...", 3);
}

/* Format a size in KB the short way. */
static void
shown_size(long kb, char *buf, size_t size)
{
	if (kb < 0)
		snprintf(buf, size, "-");
	else if (kb < 10240)
		snprintf(buf, size, "%ldK", kb);
	else if (kb < 10240 * 1024)
		snprintf(buf, size, "%ldM", kb / 1024);
	else
		snprintf(buf, size, "%ldG", kb / (1024 * 1024));
}

/* The status as a table. */
static void
status_text(struct buf *b, const struct child_info *rows, size_t n,
    int64_t now)
{
	struct bullmq_counts	 k;
	int64_t			 at;
	char			 id[CTL_JOB_SHOWN + 1], rss[16], dur[24];
	size_t			 i, busy = 0;

	for (i = 0; i < n; i++)
		if (rows[i].job[0] != '\0')
			busy++;
	buf_addf(b, "queue %s: %zu workers wanted, %zu running, %zu "
	    "connected, %zu busy%s\n", M.set.queue, wanted_count(),
	    children_running(), children_connected(), busy,
	    M.stopping != STOP_NONE ? " (stopping)" : "");
	buf_addf(b, "redis: %s", keeper_up() ? "up" : "down");
	if (keeper_counts(&k, &at) == 0)
		buf_addf(b, "; jobs: %ld waiting, %ld prioritized, %ld active, "
		    "%ld delayed, %ld completed, %ld failed%s (%.1f s ago)\n",
		    k.wait + k.paused, k.prioritized, k.active, k.delayed,
		    k.completed, k.failed, k.is_paused ? ", paused" : "",
		    (double)(now - at) / 1000);
	else
		buf_adds(b, "; jobs: not read yet\n");
	buf_addf(b, "children: %lu completed, %lu failed, %lu restarts, "
	    "%lu replaced for size", M.stats.completed, M.stats.failed,
	    M.stats.restarts, M.stats.rss_replaced);
	if (M.set.autoscale_max > 0)
		buf_addf(b, "; autoscale %ld..%ld: %lu up, %lu down",
		    M.set.autoscale_min, M.set.autoscale_max,
		    M.stats.scale_up, M.stats.scale_down);
	buf_adds(b, "\n");
	buf_addf(b, "%-4s %-7s %-8s %-24s %7s %8s %6s %8s %6s %s\n", "SLOT",
	    "PID", "STATE", "JOB", "FOR", "DONE", "FAILED", "RESTARTS", "RSS",
	    "LAST EXIT");
	for (i = 0; i < n; i++) {
		shown_id(rows[i].job[0] != '\0' ? rows[i].job : "-", id,
		    sizeof(id));
		shown_size(rows[i].rss_kb, rss, sizeof(rss));
		if (rows[i].job[0] != '\0')
			snprintf(dur, sizeof(dur), "%.1fs",
			    (double)rows[i].job_ms / 1000);
		else
			snprintf(dur, sizeof(dur), "-");
		buf_addf(b, "%-4d %-7ld %-8s %-24s %7s %8lu %6lu %8lu %6s %s\n",
		    rows[i].slot, (long)rows[i].pid, rows[i].state, id, dur,
		    rows[i].completed, rows[i].failed, rows[i].restarts, rss,
		    rows[i].last_exit[0] != '\0' ? rows[i].last_exit : "-");
	}
}

/* The status as one JSON object. */
static void
status_json(struct buf *b, const struct child_info *rows, size_t n,
    int64_t now)
{
	struct bullmq_counts	 k;
	int64_t			 at;
	size_t			 i, busy = 0;

	for (i = 0; i < n; i++)
		if (rows[i].job[0] != '\0')
			busy++;
	buf_adds(b, "{\"queue\":");
	buf_add_jstr(b, M.set.queue, strlen(M.set.queue));
	buf_addf(b, ",\"pid\":%ld,\"wanted\":%zu,\"running\":%zu,"
	    "\"connected\":%zu,\"busy\":%zu,\"stopping\":%s,\"redis\":%s,",
	    (long)getpid(), wanted_count(), children_running(),
	    children_connected(), busy, M.stopping != STOP_NONE ? "true" :
	    "false", keeper_up() ? "true" : "false");
	if (keeper_counts(&k, &at) == 0)
		buf_addf(b, "\"counts\":{\"wait\":%ld,\"paused\":%ld,"
		    "\"prioritized\":%ld,\"active\":%ld,\"delayed\":%ld,"
		    "\"completed\":%ld,\"failed\":%ld,\"waiting_children\":%ld,"
		    "\"is_paused\":%s,\"age_ms\":%" PRId64 "},", k.wait,
		    k.paused, k.prioritized, k.active, k.delayed, k.completed,
		    k.failed, k.waiting_children, k.is_paused ? "true" :
		    "false", now - at);
	else
		buf_adds(b, "\"counts\":null,");
	buf_addf(b, "\"completed\":%lu,\"failed\":%lu,\"restarts\":%lu,"
	    "\"rss_replaced\":%lu,\"given_back\":%lu,\"timed_out\":%lu,",
	    M.stats.completed, M.stats.failed, M.stats.restarts,
	    M.stats.rss_replaced, M.stats.given_back, M.stats.timed_out);
	if (M.set.autoscale_max > 0)
		buf_addf(b, "\"autoscale\":{\"min\":%ld,\"max\":%ld,\"up\":%lu,"
		    "\"down\":%lu},", M.set.autoscale_min, M.set.autoscale_max,
		    M.stats.scale_up, M.stats.scale_down);
	else
		buf_adds(b, "\"autoscale\":null,");
	buf_adds(b, "\"children\":[");
	for (i = 0; i < n; i++) {
		buf_addf(b, "%s{\"slot\":%d,\"pid\":%ld,\"state\":\"%s\","
		    "\"job\":", i > 0 ? "," : "", rows[i].slot,
		    (long)rows[i].pid, rows[i].state);
		if (rows[i].job[0] != '\0') {
			buf_add_jstr(b, rows[i].job, strlen(rows[i].job));
			buf_addf(b, ",\"job_ms\":%" PRId64, rows[i].job_ms);
		} else
			buf_adds(b, "null,\"job_ms\":null");
		buf_addf(b, ",\"completed\":%lu,\"failed\":%lu,"
		    "\"restarts\":%lu,\"rss_kb\":", rows[i].completed,
		    rows[i].failed, rows[i].restarts);
		if (rows[i].rss_kb >= 0)
			buf_addf(b, "%ld", rows[i].rss_kb);
		else
			buf_adds(b, "null");
		buf_adds(b, ",\"last_exit\":");
		if (rows[i].last_exit[0] != '\0')
			buf_add_jstr(b, rows[i].last_exit,
			    strlen(rows[i].last_exit));
		else
			buf_adds(b, "null");
		buf_adds(b, "}");
	}
	buf_adds(b, "]}\n");
}

/* Answer a status request into b. */
static void
status(struct buf *b, int json, int64_t now)
{
	struct child_info	*rows;
	size_t			 n, max;

	max = M.nslots + M.nchildren;
	if ((rows = calloc(max > 0 ? max : 1, sizeof(*rows))) == NULL) {
		buf_adds(b, "error: out of memory\n");
		return;
	}
	/* at most once a second, whoever asks how often */
	if (now - C.measured >= 1000 || C.measured == 0) {
		children_measure();
		C.measured = now;
	}
	n = children_info(rows, max, now);
	if (n > max)
		n = max;
	if (json)
		status_json(b, rows, n, now);
	else
		status_text(b, rows, n, now);
	free(rows);
}

/* Answer the request line of k into its out buffer. */
static void
answer(struct conn *k, int64_t now)
{
	struct ctl_req	 r;
	char		*nl;
	size_t		 len, want, conn;
	long		 n;

	nl = memchr(k->in, '\n', k->inlen);
	len = nl != NULL ? (size_t)(nl - k->in) : k->inlen;
	if (ctl_parse(k->in, len, &r) == -1) {
		buf_adds(&k->out, "error: unknown request (status [json], "
		    "health [live|ready], scale N|+N|-N)\n");
		return;
	}
	switch (r.cmd) {
	case CTL_STATUS:
	case CTL_STATUS_JSON:
		status(&k->out, r.cmd == CTL_STATUS_JSON, now);
		break;
	case CTL_LIVE:
		buf_adds(&k->out, "ok: the master's loop answers\n");
		break;
	case CTL_READY:
		want = wanted_count();
		conn = children_connected();
		if (M.stopping != STOP_NONE)
			buf_adds(&k->out, "fail: the master is stopping\n");
		else if (!keeper_up())
			buf_adds(&k->out, "fail: redis does not answer\n");
		else if (conn < want)
			buf_addf(&k->out, "fail: %zu of %zu children "
			    "connected\n", conn, want);
		else
			buf_addf(&k->out, "ok: redis answers, %zu of %zu "
			    "children connected\n", conn, want);
		break;
	case CTL_SCALE:
		if (M.stopping != STOP_NONE) {
			buf_adds(&k->out, "error: the master is stopping\n");
			break;
		}
		n = master_scale(r.n, r.relative, "control socket", now);
		buf_addf(&k->out, "ok: %ld workers\n", n);
		break;
	case CTL_BAD:
		break;
	}
}

/* Whether a client may talk to us: our own uid, or root. */
static int
peer_allowed(int fd)
{
	struct ucred	uc;
	socklen_t	len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1)
		return 0;
	return uc.uid == 0 || uc.uid == geteuid();
}

/* Take the clients that wait to connect. */
static void
accept_clients(int64_t now)
{
	struct epoll_event	 ev;
	struct conn		*k = NULL;
	size_t			 i, n;
	int			 fd;

	for (n = 0; n < CTL_ACCEPTS; n++) {
		fd = accept4(C.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED && now - C.refused_logged >=
			    10000) {
				log_warn("control socket: accept");
				C.refused_logged = now;
			}
			return;
		}
		if (!peer_allowed(fd)) {
			if (now - C.refused_logged >= 10000) {
				log_warnx("control socket: a client of another "
				    "user refused");
				C.refused_logged = now;
			}
			say_close(fd, "error: permission denied\n");
			continue;
		}
		if (C.nconns == CTL_MAX_CONNS) {
			say_close(fd, "error: busy, try again\n");
			continue;
		}
		for (i = 0; i < CTL_MAX_CONNS; i++)
			if (C.conns[i].fd == -1) {
				k = &C.conns[i];
				break;
			}
		memset(k, 0, sizeof(*k));
		buf_init(&k->out);
		k->fd = fd;
		k->deadline = now + CTL_TIMEOUT_MS;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = k;
		if (epoll_ctl(C.ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
			close(fd);
			k->fd = -1;
			continue;
		}
		C.nconns++;
	}
}

/* Write what the client takes of its answer; close it when all is. */
static void
conn_write(struct conn *k)
{
	ssize_t	w;

	while (k->off < k->out.len) {
		w = write(k->fd, k->out.b + k->off, k->out.len - k->off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && errno == EAGAIN)
			return;
		if (w <= 0) {
			conn_close(k);
			return;
		}
		k->off += (size_t)w;
	}
	conn_close(k);
}

/* Read a client's line; answer once it is whole. */
static void
conn_read(struct conn *k, int64_t now)
{
	struct epoll_event	ev;
	ssize_t			r;

	for (;;) {
		r = read(k->fd, k->in + k->inlen, sizeof(k->in) - k->inlen);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && errno == EAGAIN)
			return;
		if (r == -1) {
			conn_close(k);
			return;
		}
		k->inlen += (size_t)r;
		if (r == 0 || memchr(k->in, '\n', k->inlen) != NULL ||
		    k->inlen == sizeof(k->in))
			break;
	}
	if (k->inlen == 0) {
		conn_close(k);
		return;
	}
	answer(k, now);
	if (k->out.oom) {
		conn_close(k);
		return;
	}
	k->writing = 1;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLOUT;
	ev.data.ptr = k;
	if (epoll_ctl(C.ep, EPOLL_CTL_MOD, k->fd, &ev) == -1) {
		conn_close(k);
		return;
	}
	conn_write(k);
}

/* Serve the control socket: its epoll set reported ready. */
void
ctl_ready(int64_t now)
{
	struct epoll_event	 evs[CTL_MAX_CONNS + 1];
	struct conn		*k;
	int			 i, n;

	if (C.ep == -1 || (n = epoll_wait(C.ep, evs, CTL_MAX_CONNS + 1,
	    0)) <= 0)
		return;
	for (i = 0; i < n; i++) {
		if ((k = evs[i].data.ptr) == NULL) {
			accept_clients(now);
			continue;
		}
		if (k->fd == -1)
			continue;
		if (k->writing)
			conn_write(k);
		else
			conn_read(k, now);
	}
}

/* Close the clients past their time. */
void
ctl_tick(int64_t now)
{
	size_t	i;

	for (i = 0; i < CTL_MAX_CONNS; i++)
		if (C.conns[i].fd != -1 && now >= C.conns[i].deadline)
			conn_close(&C.conns[i]);
}

/*
 * The client: send line to the master at path, copy its answer to out.
 * Returns 0 when the answer starts with "ok" or is a status, 1 when it
 * says fail or error, 2 when the master cannot be reached.
 */
int
ctl_request(const char *path, const char *line, FILE *out)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv;
	char			 buf[8192];
	ssize_t			 n;
	size_t			 total = 0;
	int			 fd, rv = 0, sent_errno = 0;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		fprintf(stderr, "%s: socket: %s\n", PROGNAME, strerror(errno));
		return 2;
	}
	tv.tv_sec = CTL_TIMEOUT_MS / 1000;
	tv.tv_usec = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ctl_addr(&sun, path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "%s: %s: %s (is the master running, as this "
		    "user?)\n", PROGNAME, path, strerror(errno));
		close(fd);
		return 2;
	}
	/* a master that refuses may have answered and closed already */
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) != (ssize_t)strlen(line)
	    || send(fd, "\n", 1, MSG_NOSIGNAL) != 1)
		sent_errno = errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (total == 0 && (strncmp(buf, "fail", 4) == 0 ||
		    strncmp(buf, "error", 5) == 0))
			rv = 1;
		fwrite(buf, 1, (size_t)n, out);
		total += (size_t)n;
	}
	/* a reset after the answer: the master did not read our line */
	if (n == -1 && !(errno == ECONNRESET && total > 0)) {
		fprintf(stderr, "%s: %s: %s\n", PROGNAME, path,
		    strerror(errno));
		rv = 2;
	} else if (total == 0) {
		fprintf(stderr, "%s: %s: %s\n", PROGNAME, path,
		    sent_errno != 0 ? strerror(sent_errno) : "no answer");
		rv = 2;
	}
	close(fd);
	return rv;
}
