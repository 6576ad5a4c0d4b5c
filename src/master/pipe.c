/*
 * pipe.c: the pipe: processor, a long-lived program each child starts once
 * and feeds jobs as JSON lines (bullmq-processor(7)): Node's sandboxed
 * processors, as processes.
 *
 * The child writes a hello line, the program answers with its own; then,
 * for each job, the child writes one "job" line and reads the program's
 * lines until one ends the job (done, fail, delay, rate-limit, wait, or a
 * wait-children that moved it).  Meanwhile the program may report
 * progress and log lines, replace the job's data, add jobs, and ask for
 * its children's values, ignored failures and dependency counts.  Its
 * stderr goes to the log, a line at a time, naming the child and the job.
 *
 * A program that dies, writes a line that is not the protocol, closes its
 * stdin or floods its stdout fails the job with the reason and is started
 * again, after a growing pause; one that dies PIPE_MAX_CRASHES times in a
 * row without finishing a job makes its child exit as a crashing child,
 * so that the master's restart limit applies.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bullmq.h"
#include "buf.h"
#include "daemon.h"

#define PIPE_PROTOCOL		1
#define PIPE_MAX_LINE		(64 * 1024 * 1024)	/* a line from it */
#define PIPE_ERR_TAIL		2048	/* stderr kept for a reason */
#define PIPE_START_MS		30000	/* its hello, at the latest */
#define PIPE_STOP_MS		5000	/* to exit on EOF, then KILL */
#define PIPE_MAX_CRASHES	5
#define PIPE_BACKOFF_MAX	10000
#define PIPE_MAX_QUEUES		8	/* other queues it adds jobs to */
#define PIPE_LOG_LINES		1000	/* stderr lines logged a job */
#define PIPE_ABORT_MS		1000	/* to end after an abort, at most */
#define PIPE_ERR_LINE		65536	/* stderr without a newline: logged cut */
#define PIPE_ERR_SHOW		1024	/* of such a line, logged */
#define PIPE_KEEP_BUF		(1024 * 1024)	/* a buffer kept across programs */

/* A growing buffer of bytes read, consumed a line at a time. */
struct inbuf {
	char	*b;
	size_t	 len, cap;
};

/* The one program of this child. */
static struct {
	char *const		*argv;
	int			 slot;
	bullmq_queue		*q;		/* the child's own queue */
	struct bullmq_conn_opts	 co;		/* for other queues */
	bullmq_queue		*other[PIPE_MAX_QUEUES];
	pid_t			 pid;		/* 0: not running */
	pid_t			 group;		/* its group; 0: killed */
	int			 in, out, err;	/* its stdin, stdout, stderr */
	struct inbuf		 obuf, ebuf;
	char			 tail[PIPE_ERR_TAIL];	/* of its stderr */
	size_t			 taillen;
	int			 crashes;	/* in a row */
	int64_t			 not_before;	/* next start, mono ms */
	int			 want_exit;
	const char *volatile	 job_id;	/* for log lines; NULL: idle */
	long			 abort_ms;	/* to end after an abort */
	long			 lock_ms;	/* lock-duration */
	pid_t			 master;	/* the parent at the fork */
	int64_t			 orphan_since;	/* mono ms; 0: the master is */
	long			 logged;	/* stderr lines this job */
	int			 status;	/* of its end, when reaped */
} pg = { .in = -1, .out = -1, .err = -1 };

/*
 * Set up the pipe: processor in a new child; an abort gives the program
 * half of kill-timeout to end, PIPE_ABORT_MS at most.
 */
void
pipe_in_child(char *const *argv, int slot, bullmq_queue *q,
    const struct bullmq_conn_opts *co, const struct settings *set)
{
	pg.argv = argv;
	pg.slot = slot;
	pg.q = q;
	pg.co = *co;
	pg.abort_ms = set->kill_timeout / 2 < PIPE_ABORT_MS ?
	    set->kill_timeout / 2 : PIPE_ABORT_MS;
	pg.lock_ms = set->lock_duration;
	pg.master = getppid();
}

/*
 * Whether the master died (killed; a child outlives it to finish its job)
 * longer than lock-duration ago: nobody extends the job's lock any more,
 * so another worker may run it, and no master enforces job-timeout.
 */
static int
orphan_expired(void)
{
	int64_t	now;

	if (getppid() == pg.master)
		return 0;
	now = bullmq_mono_ms();
	if (pg.orphan_since == 0)
		pg.orphan_since = now;
	return now - pg.orphan_since > pg.lock_ms;
}

/*
 * The job running is cut (past job-timeout: the master's TERM; or an INT)
 * and the child is about to die: write {"type":"abort"} to the program,
 * close its stdin and give it up to pg.abort_ms to end, so that a handler
 * may stop what it started (the Node adapter aborts the job's signal).
 * The caller then kills its process group.  Safe in a signal handler.
 */
void
pipe_abort(void)
{
	static const char	 msg[] = "{\"type\":\"abort\"}\n";
	struct timespec		 ts = { 0, 10 * 1000 * 1000 };
	pid_t			 pid = pg.pid;
	long			 t;

	if (pg.job_id == NULL || pid == 0 || pg.in == -1 || pg.abort_ms <= 0)
		return;
	/* a full pipe (it does not read) takes nothing: no time given */
	if (write(pg.in, msg, sizeof(msg) - 1) != (ssize_t)sizeof(msg) - 1)
		return;
	(void)close(pg.in);
	pg.in = -1;
	for (t = 0; t < pg.abort_ms; t += 10) {
		if (waitpid(pid, NULL, WNOHANG) != 0)
			return;
		(void)nanosleep(&ts, NULL);
	}
}

/*
 * Whether the child should exit: 1 when its program keeps dying, 2 when it
 * can never work (it speaks another protocol).
 */
int
pipe_want_exit(void)
{
	return pg.want_exit;
}

/* Keep the last bytes of the program's stderr for a failure reason. */
static void
tail_add(const char *s, size_t n)
{
	if (n >= sizeof(pg.tail)) {
		s += n - (sizeof(pg.tail) - 1);
		n = sizeof(pg.tail) - 1;
	}
	if (pg.taillen + n >= sizeof(pg.tail)) {
		size_t	drop = pg.taillen + n - (sizeof(pg.tail) - 1);

		memmove(pg.tail, pg.tail + drop, pg.taillen - drop);
		pg.taillen -= drop;
	}
	memcpy(pg.tail + pg.taillen, s, n);
	pg.taillen += n;
	pg.tail[pg.taillen] = '\0';
}

/*
 * Read what fd has into b, up to the end of a line (the caller takes it
 * out before it reads again, so that b holds at most one line and a part).
 * Returns 1 while it is open, 0 at EOF (or an error), -1 when a line grows
 * past PIPE_MAX_LINE.
 */
static int
inbuf_read(int fd, struct inbuf *b)
{
	ssize_t	 n;
	char	*nb;

	for (;;) {
		if (b->len >= PIPE_MAX_LINE)
			return -1;
		if (b->cap - b->len < 65536) {
			if ((nb = realloc(b->b, b->cap * 2 + 65536)) == NULL)
				return -1;
			b->b = nb;
			b->cap = b->cap * 2 + 65536;
		}
		n = read(fd, b->b + b->len, b->cap - b->len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 1;
		if (n <= 0)
			return 0;
		if (fd == pg.err)
			tail_add(b->b + b->len, (size_t)n);
		b->len += (size_t)n;
		if (memchr(b->b + b->len - n, '\n', (size_t)n) != NULL)
			return 1;
	}
}

/* Take the next whole line out of b into *line (NUL for \n); 0 if none. */
static int
inbuf_line(struct inbuf *b, size_t *off, char **line, size_t *len)
{
	char	*nl;

	if (*off >= b->len)
		return 0;
	if ((nl = memchr(b->b + *off, '\n', b->len - *off)) == NULL)
		return 0;
	*nl = '\0';
	*line = b->b + *off;
	*len = (size_t)(nl - *line);
	*off = (size_t)(nl - b->b) + 1;
	return 1;
}

/* Drop the first off bytes of b. */
static void
inbuf_consume(struct inbuf *b, size_t off)
{
	if (off == 0)
		return;
	memmove(b->b, b->b + off, b->len - off);
	b->len -= off;
}

/* Log the whole lines of the program's stderr. */
static void
log_stderr(int flush)
{
	size_t	 off = 0, len;
	char	*line;

	while (inbuf_line(&pg.ebuf, &off, &line, &len)) {
		if (pg.logged++ < PIPE_LOG_LINES) {
			if (pg.job_id != NULL)
				log_info("worker %d: job %s: program: %s",
				    pg.slot, pg.job_id, line);
			else
				log_info("worker %d: program: %s", pg.slot,
				    line);
		} else if (pg.logged == PIPE_LOG_LINES + 1)
			log_warnx("worker %d: program: more than %d stderr "
			    "lines: the rest are not logged", pg.slot,
			    PIPE_LOG_LINES);
	}
	inbuf_consume(&pg.ebuf, off);
	/*
	 * What it writes without a newline is logged cut once it is long, so
	 * that the buffer does not fill (the program would block on its
	 * stderr, and poll would find it readable for ever).
	 */
	if (pg.ebuf.len >= PIPE_ERR_LINE) {
		if (pg.logged++ < PIPE_LOG_LINES)
			log_info("worker %d: program: %.*s... (%zu bytes without "
			    "a newline, cut)", pg.slot, PIPE_ERR_SHOW, pg.ebuf.b,
			    pg.ebuf.len);
		pg.ebuf.len = 0;
	} else if (flush && pg.ebuf.len > 0) {
		pg.ebuf.b[pg.ebuf.len] = '\0';
		log_info("worker %d: program: %s", pg.slot, pg.ebuf.b);
		pg.ebuf.len = 0;
	}
}

/* Whether the environment variable e (NAME=value) may reach the program. */
static int
env_ok(const char *e)
{
	/* the settings, the Redis URL (a password) above all, stay here */
	return strncmp(e, "BULLMQ_", 7) != 0;
}

/*
 * In the program's process: its environment without the master's BULLMQ_
 * variables but BULLMQ_WORKER, then processor_exec; never returns.
 */
static void __attribute__((__noreturn__))
program_exec(pid_t parent, int in, int out, int errfd, int ex)
{
	extern char	**environ;
	char		**env, slot[32];
	size_t		 n = 0, i;

	for (i = 0; environ[i] != NULL; i++)
		n++;
	if ((env = calloc(n + 2, sizeof(*env))) == NULL)
		_exit(127);
	for (i = 0, n = 0; environ[i] != NULL; i++)
		if (env_ok(environ[i]))
			env[n++] = environ[i];
	snprintf(slot, sizeof(slot), "BULLMQ_WORKER=%d", pg.slot);
	env[n++] = slot;
	env[n] = NULL;
	processor_exec(pg.argv, env, parent, in, out, errfd, ex);
}

/* Close our ends of the program's pipes. */
static void
close_fds(void)
{
	if (pg.in != -1)
		close(pg.in);
	if (pg.out != -1)
		close(pg.out);
	if (pg.err != -1)
		close(pg.err);
	pg.in = pg.out = pg.err = -1;
	pg.obuf.len = pg.ebuf.len = 0;
	/* a flood grew a buffer: give the memory back */
	if (pg.obuf.cap > PIPE_KEEP_BUF) {
		free(pg.obuf.b);
		pg.obuf.b = NULL;
		pg.obuf.cap = 0;
	}
	if (pg.ebuf.cap > PIPE_KEEP_BUF) {
		free(pg.ebuf.b);
		pg.ebuf.b = NULL;
		pg.ebuf.cap = 0;
	}
}

/* Describe how the program ended into buf. */
static void
describe_end(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exited with status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, size, "ended");
}

/*
 * Reap the program if it has ended (wait: up to ms for it).  Returns 1
 * when it has (status in pg.status), 0 when it runs on.
 */
static int
reap(int64_t ms)
{
	int64_t	until = bullmq_mono_ms() + ms;
	pid_t	r;

	if (pg.pid == 0)
		return 1;
	for (;;) {
		r = waitpid(pg.pid, &pg.status, WNOHANG);
		if (r == pg.pid || (r == -1 && errno != EINTR)) {
			if (r == -1)
				pg.status = 0;
			pg.pid = 0;
			processor_set_group(0);
			return 1;
		}
		if (bullmq_mono_ms() >= until)
			return 0;
		usleep(10000);
	}
}

/*
 * Stop the program: EOF on its stdin asks it to exit; after wait_ms its
 * group is killed.  Then it is reaped.
 */
static void
stop_program(int64_t wait_ms)
{
	pid_t	g = pg.group;

	pg.group = 0;
	/* what it wrote to stderr last, for the log and the reason */
	if (pg.err != -1 && inbuf_read(pg.err, &pg.ebuf) >= 0)
		log_stderr(0);
	if (pg.pid == 0) {
		/* ended by itself: what it may have left in its group */
		if (g > 0)
			(void)kill(-g, SIGKILL);
		log_stderr(1);
		close_fds();
		return;
	}
	if (pg.in != -1) {
		close(pg.in);
		pg.in = -1;
	}
	if (!reap(wait_ms)) {
		(void)kill(-g, SIGKILL);
		(void)reap(PIPE_STOP_MS);
	} else
		(void)kill(-g, SIGKILL);	/* what it left behind */
	if (pg.pid != 0) {
		/* not reaped after KILL: forget it, it is no longer ours */
		pg.pid = 0;
		processor_set_group(0);
	}
	log_stderr(1);
	close_fds();
}

/* Stop the program before the child exits. */
void
pipe_stop(void)
{
	pg.job_id = NULL;
	stop_program(PIPE_STOP_MS);
}

/* Count a death of the program and set when it may start again. */
static void
crashed(void)
{
	int64_t	pause;

	pg.crashes++;
	pause = 100LL << (pg.crashes > 7 ? 7 : pg.crashes - 1);
	if (pause > PIPE_BACKOFF_MAX)
		pause = PIPE_BACKOFF_MAX;
	pg.not_before = bullmq_mono_ms() + pause;
	if (pg.crashes >= PIPE_MAX_CRASHES && pg.want_exit == 0)
		pg.want_exit = 1;
}

/* Write all of s to the program; -1 when it does not take it. */
static int
put_all(const char *s, size_t n, int64_t until)
{
	struct pollfd	pfd;
	ssize_t		w;

	while (n > 0) {
		w = write(pg.in, s, n);
		if (w > 0) {
			s += w;
			n -= (size_t)w;
			continue;
		}
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && errno != EAGAIN)
			return -1;
		/* full: read its output meanwhile, it may be blocked too */
		pfd.fd = pg.in;
		pfd.events = POLLOUT;
		if (pg.err != -1 && inbuf_read(pg.err, &pg.ebuf) >= 0)
			log_stderr(0);
		if (until > 0 && bullmq_mono_ms() > until)
			return -1;
		(void)poll(&pfd, 1, 100);
	}
	return 0;
}

/*
 * Write one line (s has no newline) to the program, in one write when it
 * is short, so that the program wakes once.
 */
static int
put_line(const char *s, size_t n)
{
	char	line[4096];

	if (n < sizeof(line)) {
		memcpy(line, s, n);
		line[n] = '\n';
		return put_all(line, n + 1, 0);
	}
	if (put_all(s, n, 0) == -1 || put_all("\n", 1, 0) == -1)
		return -1;
	return 0;
}

/*
 * Wait up to ms for a whole line from the program's stdout, logging its
 * stderr meanwhile.  Returns 1 with *line (valid until the next call), 0
 * when it ended (EOF, or exited), -1 when the line is too long, -2 when
 * the time ran out, -3 when the master has been gone for lock-duration.
 */
static int
get_line(int64_t ms, char **line, size_t *len, size_t *used)
{
	struct pollfd	pfd[2];
	int64_t		until = ms >= 0 ? bullmq_mono_ms() + ms : -1;
	int		r, n;

	inbuf_consume(&pg.obuf, *used);
	*used = 0;
	for (;;) {
		if (inbuf_line(&pg.obuf, used, line, len))
			return 1;
		if (pg.out == -1)
			return 0;
		pfd[0].fd = pg.out;
		pfd[0].events = POLLIN;
		pfd[1].fd = pg.err;
		pfd[1].events = POLLIN;
		n = poll(pfd, pg.err != -1 ? 2 : 1, 200);
		if (n == -1 && errno != EINTR)
			return 0;
		if (pg.err != -1 && n > 0 && pfd[1].revents != 0) {
			if (inbuf_read(pg.err, &pg.ebuf) == 0) {
				close(pg.err);
				pg.err = -1;
			}
			log_stderr(0);
		}
		if (n > 0 && pfd[0].revents != 0) {
			r = inbuf_read(pg.out, &pg.obuf);
			if (r == -1)
				return -1;
			if (r == 0) {
				if (inbuf_line(&pg.obuf, used, line, len))
					return 1;
				return 0;
			}
			continue;
		}
		/* it may have exited, leaving its stdout to a descendant */
		if (pg.pid != 0 && waitpid(pg.pid, &pg.status, WNOHANG) ==
		    pg.pid) {
			pg.pid = 0;
			processor_set_group(0);
			return 0;
		}
		if (until >= 0 && bullmq_mono_ms() > until)
			return -2;
		if (n == 0 && orphan_expired())
			return -3;
	}
}

/* The "type" of a protocol line into t; -1 when it is no JSON object. */
static int
line_type(const char *line, size_t len, char *t, size_t size)
{
	struct bullmq_json_value	v;

	if (len == 0 || line[0] != '{' || !bullmq_json_valid(line, len) ||
	    bullmq_json_get(line, len, "type", &v) != 1 ||
	    v.type != BULLMQ_JSON_STRING || bullmq_json_string(&v, t, size) <= 0)
		return -1;
	return 0;
}

/* Start the program and exchange hellos.  0, or -1 with why in err. */
static int
start_program(char *err, size_t errsize)
{
	char	 hello[512], t[32], *line = NULL;
	size_t	 len, used = 0;
	int	 in[2], out[2], er[2], ex[2], e = 0, r;
	pid_t	 pid, parent = getpid();
	ssize_t	 n;
	struct bullmq_json_value v;
	int64_t	 proto;

	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1 ||
	    pipe2(er, O_CLOEXEC) == -1 || pipe2(ex, O_CLOEXEC) == -1) {
		snprintf(err, errsize, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errsize, "fork: %s", strerror(errno));
		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		close(er[0]); close(er[1]); close(ex[0]); close(ex[1]);
		return -1;
	}
	if (pid == 0)
		program_exec(parent, in[0], out[1], er[1], ex[1]);
	(void)setpgid(pid, pid);	/* as it does itself: no race */
	processor_set_group(pid);
	pg.group = pid;
	close(in[0]);
	close(out[1]);
	close(er[1]);
	close(ex[1]);
	pg.pid = pid;
	pg.in = in[1];
	pg.out = out[0];
	pg.err = er[0];
	pg.taillen = 0;
	pg.tail[0] = '\0';
	(void)fcntl(pg.in, F_SETFL, O_NONBLOCK);
	(void)fcntl(pg.out, F_SETFL, O_NONBLOCK);
	(void)fcntl(pg.err, F_SETFL, O_NONBLOCK);
	do
		n = read(ex[0], &e, sizeof(e));
	while (n == -1 && errno == EINTR);
	close(ex[0]);
	if (n == (ssize_t)sizeof(e)) {
		snprintf(err, errsize, "cannot run %s: %s", pg.argv[0],
		    strerror(e));
		(void)reap(1000);
		close_fds();
		return -1;
	}
	snprintf(hello, sizeof(hello), "{\"type\":\"hello\",\"protocol\":%d,"
	    "\"worker\":%d,\"queue\":", PIPE_PROTOCOL, pg.slot);
	{
		struct buf	b;

		buf_init(&b);
		buf_adds(&b, hello);
		buf_add_jstr(&b, bullmq_queue_name(pg.q),
		    strlen(bullmq_queue_name(pg.q)));
		buf_adds(&b, ",\"prefix\":");
		buf_add_jstr(&b, bullmq_queue_prefix(pg.q),
		    strlen(bullmq_queue_prefix(pg.q)));
		buf_adds(&b, "}");
		r = buf_cstr(&b) == NULL ? -1 : put_line(b.b, b.len);
		buf_free(&b);
		if (r == -1) {
			snprintf(err, errsize, "it did not read its hello");
			return -1;
		}
	}
	r = get_line(PIPE_START_MS, &line, &len, &used);
	if (r != 1) {
		snprintf(err, errsize, "%s", r == -2 ? "no hello line within "
		    "30 s" : "it ended before its hello line");
		return -1;
	}
	if (line_type(line, len, t, sizeof(t)) == -1 ||
	    strcmp(t, "hello") != 0 ||
	    bullmq_json_get(line, len, "protocol", &v) != 1 ||
	    bullmq_json_int(&v, &proto) == -1) {
		snprintf(err, errsize, "its first line is not a hello with a "
		    "protocol: %.200s", line);
		return -1;
	}
	if (proto != PIPE_PROTOCOL) {
		snprintf(err, errsize, "it speaks protocol %" PRId64 ", this "
		    "bullmq-master speaks %d", proto, PIPE_PROTOCOL);
		pg.want_exit = 2;
		return -1;
	}
	inbuf_consume(&pg.obuf, used);
	log_info("worker %d: program %s started (pid %ld)", pg.slot,
	    pg.argv[0], (long)pid);
	return 0;
}

/*
 * Start the program as its child starts, so that it is ready for the first
 * job (Node takes about 100 ms to load a processor file).  One that does
 * not start is logged, counted as a crash, and tried again at the first
 * job, which fails with the reason if it still does not start.
 */
void
pipe_prestart(void)
{
	char	err[1024];

	if (pg.pid != 0)
		return;
	if (start_program(err, sizeof(err)) == -1) {
		log_warnx("worker %d: program %s did not start: %s", pg.slot,
		    pg.argv[0], err);
		stop_program(0);
		crashed();
	}
}

/* Fail job with a reason; the program is stopped and counted as crashed. */
static int __attribute__((__format__(__printf__, 2, 3)))
fail_restart(bullmq_job *job, const char *fmt, ...)
{
	char	reason[1024], how[64];
	va_list	ap;
	size_t	n;

	int	ended;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	/* how it ended, unless we are the ones who end it */
	ended = reap(200);
	stop_program(0);
	crashed();
	how[0] = '\0';
	if (ended)
		describe_end(pg.status, how, sizeof(how));
	if (ended || pg.taillen > 0) {
		n = strlen(reason);
		snprintf(reason + n, sizeof(reason) - n, " (program %s%s%.400s)",
		    ended ? how : "stopped", pg.taillen > 0 ? "; stderr: " : "",
		    pg.taillen > 400 ? pg.tail + pg.taillen - 400 : pg.tail);
	}
	log_warnx("worker %d: job %s: %s", pg.slot, bullmq_job_id(job),
	    reason);
	(void)bullmq_job_error(job, reason, 0);
	return -1;
}

/* Append the JSON text of the job's field name (raw when JSON) to b. */
static void
put_field(struct buf *b, const bullmq_job *job, const char *key,
    const char *field, int json, int sep)
{
	const char	*v;
	size_t		 len;

	if ((v = bullmq_job_field(job, field, &len)) == NULL)
		return;
	if (sep)
		buf_adds(b, ",");
	buf_add_jstr(b, key, strlen(key));
	buf_adds(b, ":");
	if (json && bullmq_json_valid(v, len))
		buf_add(b, v, len);
	else if (!json && len > 0 && strspn(v, "0123456789-") == len)
		buf_add(b, v, len);
	else
		buf_add_jstr(b, v, len);
}

/* The "job" line for job into b. */
static void
job_line(struct buf *b, const bullmq_job *job)
{
	const char	*id = bullmq_job_id(job), *tok = bullmq_job_token(job);

	buf_adds(b, "{\"type\":\"job\",\"id\":");
	buf_add_jstr(b, id, strlen(id));
	put_field(b, job, "name", "name", 0, 1);
	if (bullmq_job_field(job, "data", NULL) == NULL)
		buf_adds(b, ",\"data\":null");
	put_field(b, job, "data", "data", 1, 1);
	put_field(b, job, "opts", "opts", 1, 1);
	buf_addf(b, ",\"attemptsMade\":%ld,\"attemptsStarted\":%ld",
	    bullmq_job_attempts_made(job), bullmq_job_attempts_started(job));
	put_field(b, job, "timestamp", "timestamp", 0, 1);
	put_field(b, job, "delay", "delay", 0, 1);
	put_field(b, job, "priority", "priority", 0, 1);
	put_field(b, job, "processedOn", "processedOn", 0, 1);
	put_field(b, job, "progress", "progress", 1, 1);
	put_field(b, job, "parentKey", "parentKey", 0, 1);
	put_field(b, job, "parent", "parent", 1, 1);
	put_field(b, job, "repeatJobKey", "rjk", 0, 1);
	put_field(b, job, "deduplicationId", "deid", 0, 1);
	put_field(b, job, "stacktrace", "stacktrace", 1, 1);
	if (tok != NULL) {
		buf_adds(b, ",\"token\":");
		buf_add_jstr(b, tok, strlen(tok));
	}
	buf_adds(b, ",\"queue\":");
	buf_add_jstr(b, bullmq_queue_name(pg.q),
	    strlen(bullmq_queue_name(pg.q)));
	buf_adds(b, ",\"prefix\":");
	buf_add_jstr(b, bullmq_queue_prefix(pg.q),
	    strlen(bullmq_queue_prefix(pg.q)));
	buf_adds(b, "}");
}

/* A handle on queue name (same Redis and prefix), opened once. */
static bullmq_queue *
queue_for(const char *name, char *err, size_t errsize)
{
	struct bullmq_conn_opts	co = pg.co;
	bullmq_queue		*q;
	int			 i;

	if (strcmp(name, bullmq_queue_name(pg.q)) == 0)
		return pg.q;
	for (i = 0; i < PIPE_MAX_QUEUES && pg.other[i] != NULL; i++)
		if (strcmp(name, bullmq_queue_name(pg.other[i])) == 0)
			return pg.other[i];
	if (i == PIPE_MAX_QUEUES) {
		snprintf(err, errsize, "jobs added to more than %d other "
		    "queues", PIPE_MAX_QUEUES);
		return NULL;
	}
	co.queue = name;
	if ((q = bullmq_queue_new(&co)) == NULL) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	if (bullmq_errcode(q) != BULLMQ_OK) {
		snprintf(err, errsize, "%s", bullmq_errstr(q));
		bullmq_queue_free(q);
		return NULL;
	}
	pg.other[i] = q;
	return q;
}

/* Answer request req with a JSON result, or an error when result is NULL. */
static int
answer(const char *req, size_t reqlen, const char *result, size_t rlen,
    const char *error)
{
	struct buf	b;
	int		r;

	buf_init(&b);
	buf_adds(&b, "{\"type\":\"answer\",\"req\":");
	if (req != NULL)
		buf_add(&b, req, reqlen);
	else
		buf_adds(&b, "null");
	if (result != NULL) {
		buf_adds(&b, ",\"result\":");
		buf_add(&b, result, rlen);
	} else {
		buf_adds(&b, ",\"error\":");
		buf_add_jstr(&b, error, strlen(error));
	}
	buf_adds(&b, "}");
	r = buf_cstr(&b) == NULL ? -1 : put_line(b.b, b.len);
	buf_free(&b);
	return r;
}

/* A member of a line as a NUL-terminated string into buf; -1 if absent. */
static int
member_str(const char *line, size_t len, const char *key, char *buf,
    size_t size)
{
	struct bullmq_json_value	v;

	if (bullmq_json_get(line, len, key, &v) != 1 || v.type != BULLMQ_JSON_STRING ||
	    bullmq_json_string(&v, buf, size) < 0)
		return -1;
	return 0;
}

/* Handle a job added by the program: answer its id or an error. */
static int
req_add(const char *line, size_t len, struct bullmq_json_value *req)
{
	struct bullmq_add_opts	 o;
	struct bullmq_json_value		 v, d;
	bullmq_queue		*q;
	char			 qn[256], name[1024], err[1024], id[BULLMQ_MAX_ID
				     + 1], *data = NULL, *opts = NULL;
	int			 r;

	memset(&o, 0, sizeof(o));
	if (member_str(line, len, "queue", qn, sizeof(qn)) == -1)
		strlcpy(qn, bullmq_queue_name(pg.q), sizeof(qn));
	if (member_str(line, len, "name", name, sizeof(name)) == -1)
		return answer(req->p, req->len, NULL, 0, "add: no name");
	if (bullmq_json_get(line, len, "data", &d) == 1)
		data = strndup(d.p - (d.type == BULLMQ_JSON_STRING),
		    d.len + 2 * (d.type == BULLMQ_JSON_STRING));
	else
		data = strdup("{}");
	if (bullmq_json_get(line, len, "opts", &v) == 1 &&
	    v.type == BULLMQ_JSON_OBJECT) {
		opts = strndup(v.p, v.len);
		if (opts == NULL || bullmq_add_opts_parse(opts, v.len, &o, err,
		    sizeof(err)) == -1) {
			free(data);
			free(opts);
			return answer(req->p, req->len, NULL, 0,
			    opts == NULL ? "out of memory" : err);
		}
	}
	if (data == NULL || (q = queue_for(qn, err, sizeof(err))) == NULL) {
		free(data);
		free(opts);
		return answer(req->p, req->len, NULL, 0, data == NULL ?
		    "out of memory" : err);
	}
	r = bullmq_add(q, name, data, &o, id, sizeof(id));
	free(data);
	free(opts);
	if (r == -1)
		return answer(req->p, req->len, NULL, 0, bullmq_errstr(q));
	{
		struct buf	b;

		buf_init(&b);
		buf_add_jstr(&b, id, strlen(id));
		r = buf_cstr(&b) == NULL ? -1 : answer(req->p, req->len,
		    b.b, b.len, NULL);
		buf_free(&b);
	}
	return r;
}

/*
 * Handle one line of the program while job runs.  Returns 1 when the job
 * has ended (rc in *rc), 0 to read on, -1 when the line is not the
 * protocol (the reason in err).
 */
static int
handle(bullmq_job *job, char *line, size_t len, int *rc, char *err,
    size_t errsize)
{
	struct bullmq_json_value	 v, req;
	char		 t[32], buf[4096], *json;
	int64_t		 n, ttl;
	int		 has_req, r;
	struct bullmq_deps_count c;

	if (line_type(line, len, t, sizeof(t)) == -1) {
		snprintf(err, errsize, "not a JSON object with a type: %.200s",
		    line);
		return -1;
	}
	has_req = bullmq_json_get(line, len, "req", &req) == 1;
	if (!has_req) {
		req.p = NULL;
		req.len = 0;
	}
	if (strcmp(t, "done") == 0) {
		if (bullmq_json_get(line, len, "result", &v) == 1) {
			if (v.type == BULLMQ_JSON_STRING) {
				v.p--;
				v.len += 2;
			}
			if (bullmq_job_return(job, v.p, v.len) == -1) {
				snprintf(err, errsize, "done: %s",
				    bullmq_errstr(pg.q));
				return -1;
			}
		}
		*rc = 0;
		return 1;
	}
	if (strcmp(t, "fail") == 0) {
		if (member_str(line, len, "reason", buf, sizeof(buf)) == -1)
			strlcpy(buf, "failed", sizeof(buf));
		r = bullmq_json_get(line, len, "unrecoverable", &v) == 1 &&
		    v.type == BULLMQ_JSON_TRUE;
		(void)bullmq_job_error(job, buf, r);
		*rc = -1;
		return 1;
	}
	if (strcmp(t, "delay") == 0) {
		if (bullmq_json_get(line, len, "until", &v) != 1 ||
		    bullmq_json_int(&v, &n) == -1) {
			snprintf(err, errsize, "delay without an integer "
			    "\"until\": %.200s", line);
			return -1;
		}
		*rc = bullmq_job_move_to_delayed(job, n) == -1 ? -1 : 0;
		if (*rc == -1)
			(void)bullmq_job_error(job, bullmq_errstr(pg.q), 0);
		return 1;
	}
	if (strcmp(t, "rate-limit") == 0 || strcmp(t, "wait") == 0) {
		n = 0;
		if (t[0] == 'r' && bullmq_json_get(line, len, "ms", &v) == 1 &&
		    (bullmq_json_int(&v, &n) == -1 || n < 0)) {
			snprintf(err, errsize, "rate-limit with a bad \"ms\": "
			    "%.200s", line);
			return -1;
		}
		*rc = bullmq_job_move_to_wait(job, n, &ttl) == -1 ? -1 : 0;
		if (*rc == -1)
			(void)bullmq_job_error(job, bullmq_errstr(pg.q), 0);
		return 1;
	}
	if (strcmp(t, "wait-children") == 0) {
		if (member_str(line, len, "child", buf, sizeof(buf)) == -1)
			buf[0] = '\0';
		r = bullmq_job_move_to_waiting_children(job, buf[0] != '\0' ?
		    buf : NULL);
		if (r == -1) {
			if (answer(req.p, req.len, NULL, 0,
			    bullmq_errstr(pg.q)) == -1)
				goto gone;
			return 0;
		}
		if (answer(req.p, req.len, r == 1 ? "true" : "false",
		    r == 1 ? 4 : 5, NULL) == -1 && r == 0)
			goto gone;
		if (r == 1) {
			*rc = 0;
			return 1;
		}
		return 0;
	}
	if (strcmp(t, "progress") == 0) {
		if (bullmq_json_get(line, len, "progress", &v) != 1) {
			snprintf(err, errsize, "progress without \"progress\"");
			return -1;
		}
		if (v.type == BULLMQ_JSON_STRING) {
			v.p--;
			v.len += 2;
		}
		if ((json = strndup(v.p, v.len)) == NULL ||
		    bullmq_job_progress(job, json) == -1)
			log_warnx("worker %d: job %s: progress: %s", pg.slot,
			    bullmq_job_id(job), json == NULL ?
			    "out of memory" : bullmq_errstr(pg.q));
		free(json);
		return has_req ? (answer(req.p, req.len, "true", 4, NULL) ==
		    -1 ? -1 : 0) : 0;
	}
	if (strcmp(t, "log") == 0) {
		if (bullmq_json_get(line, len, "line", &v) != 1 ||
		    v.type != BULLMQ_JSON_STRING ||
		    (json = malloc(v.len + 1)) == NULL ||
		    bullmq_json_string(&v, json, v.len + 1) < 0) {
			snprintf(err, errsize, "log without a string \"line\"");
			return -1;
		}
		r = bullmq_job_log(job, json);
		free(json);
		if (r == -1) {
			log_warnx("worker %d: job %s: log: %s", pg.slot,
			    bullmq_job_id(job), bullmq_errstr(pg.q));
			/* the program's job.log fails, as Node's does */
			if (has_req)
				return answer(req.p, req.len, NULL, 0,
				    bullmq_errstr(pg.q)) == -1 ? -1 : 0;
		}
		return has_req ? (answer(req.p, req.len, "true", 4, NULL) ==
		    -1 ? -1 : 0) : 0;
	}
	if (strcmp(t, "update") == 0) {
		if (bullmq_json_get(line, len, "data", &v) != 1) {
			snprintf(err, errsize, "update without \"data\"");
			return -1;
		}
		if (v.type == BULLMQ_JSON_STRING) {
			v.p--;
			v.len += 2;
		}
		r = bullmq_job_update_data(job, v.p, v.len);
		if (has_req)
			return (r == -1 ? answer(req.p, req.len, NULL, 0,
			    bullmq_errstr(pg.q)) : answer(req.p, req.len,
			    "true", 4, NULL)) == -1 ? -1 : 0;
		if (r == -1)
			log_warnx("worker %d: job %s: update: %s", pg.slot,
			    bullmq_job_id(job), bullmq_errstr(pg.q));
		return 0;
	}
	if (strcmp(t, "add") == 0)
		return req_add(line, len, &req) == -1 ? -1 : 0;
	if (strcmp(t, "children-values") == 0 ||
	    strcmp(t, "ignored-failures") == 0) {
		r = t[0] == 'c' ? bullmq_job_children_values(job, &json) :
		    bullmq_job_ignored_failures(job, &json);
		r = r == -1 ? answer(req.p, req.len, NULL, 0,
		    bullmq_errstr(pg.q)) : answer(req.p, req.len, json,
		    strlen(json), NULL);
		free(json);
		return r == -1 ? -1 : 0;
	}
	if (strcmp(t, "dependencies-count") == 0) {
		if (bullmq_job_dependencies_count(job, &c) == -1)
			r = answer(req.p, req.len, NULL, 0,
			    bullmq_errstr(pg.q));
		else {
			snprintf(buf, sizeof(buf), "{\"processed\":%lld,"
			    "\"unprocessed\":%lld,\"ignored\":%lld,"
			    "\"failed\":%lld}", c.processed, c.unprocessed,
			    c.ignored, c.failed);
			r = answer(req.p, req.len, buf, strlen(buf), NULL);
		}
		return r == -1 ? -1 : 0;
	}
	snprintf(err, errsize, "unknown type \"%s\"", t);
	return -1;
gone:
	snprintf(err, errsize, "it does not read its answers");
	return -1;
}

/*
 * The delay of a retry of job by a custom backoff type, asked of the
 * program (the worker's bullmq_backoff_fn): its answer in ms, -1 for no
 * retry; 0 (at once) when it cannot answer.
 */
int64_t
pipe_backoff(bullmq_job *job, long attempts_made, const char *type,
    const char *reason, void *arg)
{
	struct buf		 b;
	struct bullmq_json_value v;
	char			*line = NULL, t[32];
	size_t			 len, used = 0;
	int64_t			 ms = 0;
	int			 r;

	if (pg.pid == 0)
		return 0;
	buf_init(&b);
	buf_adds(&b, "{\"type\":\"backoff\",\"req\":0,\"id\":");
	buf_add_jstr(&b, bullmq_job_id(job), strlen(bullmq_job_id(job)));
	buf_adds(&b, ",\"backoffType\":");
	buf_add_jstr(&b, type, strlen(type));
	buf_addf(&b, ",\"attemptsMade\":%ld,\"reason\":", attempts_made);
	buf_add_jstr(&b, reason, strlen(reason));
	buf_adds(&b, ",\"opts\":");
	{
		const char	*o;
		size_t		 ol;

		o = bullmq_job_opts(job, &ol);
		if (o != NULL && bullmq_json_valid(o, ol))
			buf_add(&b, o, ol);
		else
			buf_adds(&b, "{}");
	}
	buf_adds(&b, "}");
	r = buf_cstr(&b) == NULL ? -1 : put_line(b.b, b.len);
	buf_free(&b);
	if (r == -1)
		return 0;
	r = get_line(PIPE_START_MS, &line, &len, &used);
	if (r == 1 && line_type(line, len, t, sizeof(t)) == 0 &&
	    strcmp(t, "answer") == 0 &&
	    bullmq_json_get(line, len, "result", &v) == 1 &&
	    bullmq_json_int(&v, &ms) == 0) {
		inbuf_consume(&pg.obuf, used);
		return ms < 0 ? -1 : ms;
	}
	log_warnx("worker %d: job %s: the program gave no backoff delay for "
	    "type %s: retrying at once", pg.slot, bullmq_job_id(job), type);
	inbuf_consume(&pg.obuf, used);
	return 0;
}

/*
 * Run job on the program: processor_run for pipe:.  0 to complete, -1 to
 * fail (with the reason set), 0 too when the program moved the job.
 */
int
pipe_run(bullmq_job *job)
{
	struct buf	 b;
	char		 err[1024], *line = NULL;
	size_t		 len, used = 0;
	int64_t		 wait;
	int		 r, rc = -1, h;

	pg.job_id = bullmq_job_id(job);
	pg.logged = 0;
	if (pg.pid == 0) {
		if (pg.out != -1)
			stop_program(0);
		if ((wait = pg.not_before - bullmq_mono_ms()) > 0)
			usleep((useconds_t)wait * 1000);
		if (start_program(err, sizeof(err)) == -1) {
			pg.job_id = NULL;
			return fail_restart(job, "program %s did not start: "
			    "%s", pg.argv[0], err);
		}
	}
	buf_init(&b);
	job_line(&b, job);
	buf_adds(&b, "\n");	/* one write: the program wakes once */
	if (buf_cstr(&b) == NULL) {
		buf_free(&b);
		pg.job_id = NULL;
		return processor_job_fail(job, "out of memory");
	}
	r = put_all(b.b, b.len, 0);
	buf_free(&b);
	if (r == -1) {
		rc = fail_restart(job, "the program does not read its input");
		goto out;
	}
	for (;;) {
		r = get_line(-1, &line, &len, &used);
		if (r == 0) {
			rc = fail_restart(job, "the program ended before it "
			    "finished the job");
			goto out;
		}
		if (r == -1) {
			rc = fail_restart(job, "the program wrote a line of "
			    "more than %d bytes", PIPE_MAX_LINE);
			goto out;
		}
		if (r == -3) {
			log_warnx("worker %d: job %s: the master is gone and "
			    "the job's lock expired (lock-duration %ld ms): "
			    "stopping its program", pg.slot, pg.job_id,
			    pg.lock_ms);
			pipe_abort();
			rc = fail_restart(job, "its worker lost its master and "
			    "the job's lock (lock-duration %ld ms)", pg.lock_ms);
			goto out;
		}
		h = handle(job, line, len, &rc, err, sizeof(err));
		if (h == 1)
			break;
		if (h == -1) {
			rc = fail_restart(job, "the program wrote a line that "
			    "is not the protocol: %s", err);
			goto out;
		}
	}
	inbuf_consume(&pg.obuf, used);
	pg.crashes = 0;
out:
	log_stderr(0);
	pg.job_id = NULL;
	return rc;
}
