/*
 * processor.c: what runs a job: a builtin, a function in a shared object, or
 * a program run once per job.
 *
 * Specs (DESIGN.md "Processors"): builtin:noop, builtin:echo, builtin:sleep,
 * builtin:fail, so:/path/lib.so, exec:/path/prog [args ...], and
 * pipe:/path/prog [args ...] (a long-lived program, pipe.c).  A processor
 * completes a job by returning 0 with a JSON return value set in the job
 * (null when none), and fails it by returning -1 with a reason.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "daemon.h"

#define PROC_MAX_ARGS		64
#define PROC_MAX_OUTPUT		(64 * 1024 * 1024)	/* return value */
#define PROC_ERR_KEEP		(16 * 1024)	/* stderr tail kept */
#define PROC_MAX_REASON		1000		/* bytes of stderr in a reason */
#define PROC_SLEEP_DEFAULT	10
#define PROC_SLEEP_MAX		(24 * 3600 * 1000)

enum proc_kind {
	PROC_NOOP,
	PROC_ECHO,
	PROC_SLEEP,
	PROC_FAIL,
	PROC_SO,
	PROC_EXEC,
	PROC_PIPE
};

struct processor {
	enum proc_kind		 kind;
	void			*dl;		/* so: the dlopen handle */
	bullmq_process_fn	 fn;		/* so: bullmq_process */
	bullmq_backoff_fn	 backoff;	/* so: bullmq_backoff, if any */
	char			*words;		/* exec: the spec, split in place */
	char			*argv[PROC_MAX_ARGS + 1];	/* exec */
};

/* Load a shared object and find its bullmq_process. */
static int
load_so(struct processor *p, const char *path, char *err, size_t errsize)
{
	const char	*e;
	char		 msg[SET_PATH_MAX + 128];
	int		 fd;

	if (*path == '\0') {
		snprintf(err, errsize, "processor so: no path given");
		return -1;
	}
	/* dlopen would wait forever on a fifo, in the master */
	if (strchr(path, '/') != NULL) {
		if ((fd = open_regular(path, O_RDONLY, 0, "", msg,
		    sizeof(msg))) == -1) {
			snprintf(err, errsize, "processor so:%s", msg);
			return -1;
		}
		close(fd);
	}
	if ((p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		e = dlerror();
		snprintf(err, errsize, "processor so:%s: %s", path,
		    e != NULL ? e : "cannot be loaded");
		return -1;
	}
	dlerror();
	*(void **)&p->fn = dlsym(p->dl, "bullmq_process");
	if (p->fn == NULL) {
		snprintf(err, errsize, "processor so:%s: no function "
		    "bullmq_process (export int bullmq_process(bullmq_job *))",
		    path);
		return -1;
	}
	/* a custom backoff strategy is optional */
	*(void **)&p->backoff = dlsym(p->dl, "bullmq_backoff");
	dlerror();
	p->kind = PROC_SO;
	return 0;
}

/*
 * Split an exec spec into words at blanks (no shell, no quoting) and check
 * that the program can be run.
 */
static int
load_exec(struct processor *p, const char *kind, const char *cmd, char *err,
    size_t errsize)
{
	struct stat	 st;
	char		*w, *s;
	int		 n = 0;

	if ((p->words = strdup(cmd)) == NULL) {
		snprintf(err, errsize, "processor %s:%s: out of memory", kind, cmd);
		return -1;
	}
	s = p->words;
	while ((w = strsep(&s, " \t")) != NULL) {
		if (*w == '\0')
			continue;
		if (n == PROC_MAX_ARGS) {
			snprintf(err, errsize, "processor %s:%s: more than "
			    "%d arguments", kind, cmd, PROC_MAX_ARGS);
			return -1;
		}
		p->argv[n++] = w;
	}
	p->argv[n] = NULL;
	if (n == 0) {
		snprintf(err, errsize, "processor %s: no program given", kind);
		return -1;
	}
	if (p->argv[0][0] != '/') {
		snprintf(err, errsize, "processor %s:%s: the program must "
		    "be an absolute path", kind, p->argv[0]);
		return -1;
	}
	if (stat(p->argv[0], &st) == -1) {
		snprintf(err, errsize, "processor %s:%s: %s", kind, p->argv[0],
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || access(p->argv[0], X_OK) == -1) {
		snprintf(err, errsize, "processor %s:%s: not an executable "
		    "file", kind, p->argv[0]);
		return -1;
	}
	p->kind = strcmp(kind, "pipe") == 0 ? PROC_PIPE : PROC_EXEC;
	return 0;
}

/*
 * Make a processor from its spec.  Returns NULL with a message in err when
 * the spec is unknown or what it names cannot be used.
 */
struct processor *
processor_load(const char *spec, char *err, size_t errsize)
{
	static const struct {
		const char	*name;
		enum proc_kind	 kind;
	} builtins[] = {
		{ "builtin:noop", PROC_NOOP },
		{ "builtin:echo", PROC_ECHO },
		{ "builtin:sleep", PROC_SLEEP },
		{ "builtin:fail", PROC_FAIL },
	};
	struct processor	*p;
	size_t			 i;

	if (spec == NULL || *spec == '\0') {
		snprintf(err, errsize, "no processor given");
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(err, errsize, "processor %s: out of memory", spec);
		return NULL;
	}
	for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (strcmp(spec, builtins[i].name) == 0) {
			p->kind = builtins[i].kind;
			return p;
		}
	if (strncmp(spec, "so:", 3) == 0) {
		if (load_so(p, spec + 3, err, errsize) == 0)
			return p;
	} else if (strncmp(spec, "exec:", 5) == 0) {
		if (load_exec(p, "exec", spec + 5, err, errsize) == 0)
			return p;
	} else if (strncmp(spec, "pipe:", 5) == 0) {
		if (load_exec(p, "pipe", spec + 5, err, errsize) == 0)
			return p;
	} else if (strncmp(spec, "builtin:", 8) == 0)
		snprintf(err, errsize, "processor %s: unknown builtin "
		    "(noop, echo, sleep, fail)", spec);
	else
		snprintf(err, errsize, "processor %s: unknown kind (expected "
		    "builtin:NAME, so:/path/lib.so, exec:/path/prog or "
		    "pipe:/path/prog)", spec);
	processor_free(p);
	return NULL;
}

static int	is_pipe;	/* this child runs a pipe: program */

/*
 * Set up p in a new child: slot, its queue, how to reach other queues, and
 * the settings (a pipe: program's abort takes part of kill-timeout; an
 * orphaned child gives its program the job's lock-duration).
 */
void
processor_in_child(struct processor *p, int slot, bullmq_queue *q,
    const struct bullmq_conn_opts *co, const struct settings *set)
{
	if (p != NULL && p->kind == PROC_PIPE) {
		pipe_in_child(p->argv, slot, q, co, set);
		is_pipe = 1;
	}
}

/*
 * Give the child's worker p's custom backoff strategy: a shared object's
 * bullmq_backoff, or the pipe: program's answer.
 */
void
processor_worker(struct processor *p, bullmq_worker *w)
{
	if (p == NULL)
		return;
	if (p->kind == PROC_SO && p->backoff != NULL)
		bullmq_worker_set_backoff(w, p->backoff, NULL);
	else if (p->kind == PROC_PIPE)
		bullmq_worker_set_backoff(w, pipe_backoff, NULL);
}

/* Start what p keeps running across jobs, as the child starts. */
void
processor_prestart(struct processor *p)
{
	if (p != NULL && p->kind == PROC_PIPE)
		pipe_prestart();
}

/* Stop what p keeps running across jobs, as the child exits. */
void
processor_stop(struct processor *p)
{
	if (p != NULL && p->kind == PROC_PIPE)
		pipe_stop();
}

/* Whether the child should exit: 1 p's program keeps dying, 2 never works. */
int
processor_want_exit(const struct processor *p)
{
	return p != NULL && p->kind == PROC_PIPE ? pipe_want_exit() : 0;
}

/* Free a processor; NULL is accepted. */
void
processor_free(struct processor *p)
{
	if (p == NULL)
		return;
	if (p->dl != NULL)
		dlclose(p->dl);
	free(p->words);
	free(p);
}

/* Fail a job with a formatted reason; returns -1 for processor_run. */
int
processor_job_fail(bullmq_job *job, const char *fmt, ...)
{
	char	reason[PROC_MAX_REASON + 64];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	bullmq_job_error(job, reason, 0);
	return -1;
}

#define job_fail	processor_job_fail

/* The job's data, checked; NULL (with the job failed) when not JSON. */
static const char *
job_data(bullmq_job *job, size_t *len)
{
	const char	*d;

	if ((d = bullmq_job_data(job, len)) == NULL) {
		*len = 2;
		return "{}";
	}
	if (!bullmq_json_valid(d, *len))
		return NULL;
	return d;
}

/* builtin:sleep: sleep data.ms milliseconds, then complete with null. */
static int
run_sleep(bullmq_job *job)
{
	struct bullmq_json_value	 v;
	struct timespec	 ts;
	const char	*d;
	size_t		 len;
	int64_t		 ms = PROC_SLEEP_DEFAULT;

	if ((d = job_data(job, &len)) == NULL)
		return job_fail(job, "builtin:sleep: job data is not valid "
		    "JSON");
	if (bullmq_json_get(d, len, "ms", &v) == 1 && (bullmq_json_int(&v,
	    &ms) == -1 || ms < 0 || ms > PROC_SLEEP_MAX))
		return job_fail(job, "builtin:sleep: data.ms must be an "
		    "integer from 0 to %d", PROC_SLEEP_MAX);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	bullmq_job_return(job, NULL, 0);
	return 0;
}

/* builtin:fail: fail with data.reason, "failed" by default. */
static int
run_fail(bullmq_job *job)
{
	struct bullmq_json_value	 v;
	const char	*d;
	char		 reason[PROC_MAX_REASON];
	size_t		 len;

	if ((d = job_data(job, &len)) != NULL &&
	    bullmq_json_get(d, len, "reason", &v) == 1 &&
	    v.type == BULLMQ_JSON_STRING &&
	    bullmq_json_string(&v, reason, sizeof(reason)) > 0) {
		bullmq_job_error(job, reason, 0);
		return -1;
	}
	bullmq_job_error(job, "failed", 0);
	return -1;
}

/* The JSON text an exec program reads on its stdin. */
static int
exec_input(bullmq_job *job, struct buf *in)
{
	const char	*s;
	size_t		 len;

	if ((s = job_data(job, &len)) == NULL)
		return job_fail(job, "job data is not valid JSON");
	buf_adds(in, "{\"id\":");
	buf_add_jstr(in, bullmq_job_id(job), strlen(bullmq_job_id(job)));
	buf_adds(in, ",\"name\":");
	if (bullmq_job_name(job) != NULL)
		buf_add_jstr(in, bullmq_job_name(job),
		    strlen(bullmq_job_name(job)));
	else
		buf_adds(in, "\"\"");
	buf_adds(in, ",\"data\":");
	buf_add(in, s, len);
	buf_adds(in, ",\"opts\":");
	if ((s = bullmq_job_opts(job, &len)) != NULL && bullmq_json_valid(s, len))
		buf_add(in, s, len);
	else
		buf_adds(in, "{}");
	buf_addf(in, ",\"attemptsMade\":%ld}\n",
	    bullmq_job_attempts_made(job));
	if (buf_cstr(in) == NULL)
		return job_fail(job, "out of memory");
	return 0;
}

/*
 * The process group of the exec: program running now, 0 when none: the
 * program leads a group of its own, so that a TERM to the master's group
 * (a graceful stop) leaves its job to finish, and all it started can be
 * killed with it.
 */
static volatile sig_atomic_t exec_group;

/* Who is told of exec_group, for the master to kill it if the child dies. */
static void	(*group_fn)(pid_t);

/* Note the process group of the program now running (0: none). */
void
processor_set_group(pid_t g)
{
	exec_group = g;
	if (group_fn != NULL)
		group_fn(g);
}

/* Have fn told of each exec: program's process group (see daemon.h). */
void
processor_on_group(void (*fn)(pid_t))
{
	group_fn = fn;
}

/*
 * Kill the exec: program running now and every process of its group, as
 * the child is about to die (safe in a signal handler).  The program's own
 * death signal would take the program alone.  A pipe: program in the
 * middle of a job is told first, and given a moment to end (pipe_abort).
 */
void
processor_kill_running(void)
{
	pid_t	g;

	if (is_pipe)
		pipe_abort();
	g = (pid_t)exec_group;
	if (g > 0) {
		(void)kill(-g, SIGKILL);
		if (group_fn != NULL)
			group_fn(0);
	}
}

/*
 * In the program's process, forked by a worker child: set up stdin,
 * stdout, stderr and the exec-error pipe (as fd 3, closed by a successful
 * exec), reset signals, lead a process group, and run argv with env (NULL:
 * the environment as it is), unless parent, the worker child, died before
 * its death signal was set.  For exec: and pipe: alike.
 */
void
processor_exec(char *const *argv, char *const *env, pid_t parent, int in,
    int out, int errfd, int ex)
{
	extern char		**environ;
	struct sigaction	sa;
	sigset_t		all;
	int			fds[4], i, e;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (i = 1; i < NSIG; i++)
		(void)sigaction(i, &sa, NULL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
#ifdef __linux__
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* it would not come: the program would run on, its group unknown */
	if (getppid() != parent)
		_exit(127);
#endif
	(void)setpgid(0, 0);
	/* Move every descriptor out of the way first, then into place. */
	fds[0] = fcntl(in, F_DUPFD, 10);
	fds[1] = fcntl(out, F_DUPFD, 10);
	fds[2] = fcntl(errfd, F_DUPFD, 10);
	fds[3] = fcntl(ex, F_DUPFD, 10);
	for (i = 0; i < 4; i++)
		if (fds[i] == -1 || dup2(fds[i], i) == -1)
			_exit(127);
	if (fcntl(3, F_SETFD, FD_CLOEXEC) == -1)
		_exit(127);
	closefrom(4);
	execve(argv[0], argv, env != NULL ? env : environ);
	e = errno;
	(void)write(3, &e, sizeof(e));
	_exit(127);
}

/* Read what is there from fd into b, keeping at most max bytes. */
static int
drain_fd(int fd, struct buf *b, size_t max, int keep_tail,
    int *overflow)
{
	char	buf[65536];
	ssize_t	n;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 1;
		if (n <= 0)
			return 0;	/* EOF or error: done with it */
		if (b->len + (size_t)n <= max) {
			buf_add(b, buf, (size_t)n);
			continue;
		}
		*overflow = 1;
		if (!keep_tail)
			continue;
		/* Keep the newest half of the window. */
		buf_add(b, buf, (size_t)n);
		if (b->oom || b->len <= max / 2)
			continue;
		memmove(b->b, b->b + b->len - max / 2, max / 2);
		b->len = max / 2;
		b->b[b->len] = '\0';
	}
}

/* SIGCHLD only interrupts the wait in exec_io. */
static void
on_chld(int sig)
{
}

/* Whether process pid has exited, without reaping it. */
static int
has_exited(pid_t pid)
{
	siginfo_t	si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) ==
	    0 && si.si_pid == pid;
}

/*
 * Feed the job to the program and collect its stdout and stderr until the
 * three pipes are done with or the program exits: a program may close its
 * stdout and stderr before it reads its job, and a process it left running
 * in the background may hold the pipes open for long after, and what that
 * writes is not the program's answer.  SIGCHLD is blocked but for the wait,
 * so that the exit cannot slip in between the look and the wait.
 */
static void
exec_io(pid_t pid, int in, int out, int errfd, const struct buf *input,
    struct buf *o, struct buf *e, int *o_over)
{
	struct pollfd	pfd[3];
	sigset_t	waitmask;
	size_t		off = 0;
	ssize_t		n;
	int		e_over = 0, exited = 0;

	sigprocmask(SIG_BLOCK, NULL, &waitmask);
	sigdelset(&waitmask, SIGCHLD);
	fcntl(in, F_SETFL, fcntl(in, F_GETFL) | O_NONBLOCK);
	fcntl(out, F_SETFL, fcntl(out, F_GETFL) | O_NONBLOCK);
	fcntl(errfd, F_SETFL, fcntl(errfd, F_GETFL) | O_NONBLOCK);
	while ((in != -1 || out != -1 || errfd != -1) && !exited) {
		pfd[0].fd = out;
		pfd[0].events = POLLIN;
		pfd[1].fd = errfd;
		pfd[1].events = POLLIN;
		pfd[2].fd = in;
		pfd[2].events = POLLOUT;
		if (has_exited(pid)) {
			/* read what it wrote before, below, and stop */
			exited = 1;
			pfd[0].revents = pfd[1].revents = POLLIN;
			pfd[2].revents = 0;
		} else if (ppoll(pfd, 3, NULL, &waitmask) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (in != -1 && pfd[2].revents != 0) {
			n = write(in, input->b + off, input->len - off);
			if (n > 0)
				off += (size_t)n;
			if ((n == -1 && errno != EAGAIN && errno != EINTR) ||
			    off == input->len) {
				/* Done, or the program will not read. */
				close(in);
				in = -1;
			}
		}
		if (out != -1 && pfd[0].revents != 0 &&
		    drain_fd(out, o, PROC_MAX_OUTPUT, 0, o_over) == 0) {
			close(out);
			out = -1;
		}
		if (errfd != -1 && pfd[1].revents != 0 &&
		    drain_fd(errfd, e, PROC_ERR_KEEP, 1, &e_over) == 0) {
			close(errfd);
			errfd = -1;
		}
	}
	if (in != -1)
		close(in);
	if (out != -1)
		close(out);
	if (errfd != -1)
		close(errfd);
}

/* Trim white space at both ends of b in place; returns the start. */
static char *
trim(struct buf *b, size_t *lenp)
{
	char	*s = b->b != NULL ? b->b : "";
	size_t	 len = b->b != NULL ? b->len : 0;

	while (len > 0 && (*s == ' ' || *s == '\t' || *s == '\n' ||
	    *s == '\r')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
	    s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	*lenp = len;
	return s;
}

/* Turn what the program did into the job's result. */
static int
exec_result(struct processor *p, bullmq_job *job, int status, int exerr,
    struct buf *o, int o_over, struct buf *e)
{
	const char	*prog = p->argv[0];
	char		*s;
	size_t		 len;

	if (exerr != 0)
		return job_fail(job, "exec %s: %s", prog, strerror(exerr));
	s = trim(e, &len);
	if (len > PROC_MAX_REASON) {
		/* Keep the end: that is where programs say what went wrong. */
		s += len - PROC_MAX_REASON;
		len = PROC_MAX_REASON;
	}
	if (WIFSIGNALED(status)) {
		if (len > 0)
			return job_fail(job, "exec %s: killed by signal %d: "
			    "%.*s", prog, WTERMSIG(status), (int)len, s);
		return job_fail(job, "exec %s: killed by signal %d", prog,
		    WTERMSIG(status));
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (len > 0)
			return job_fail(job, "%.*s", (int)len, s);
		return job_fail(job, "exec %s: exited %d", prog,
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	if (o->oom)
		return job_fail(job, "exec %s: out of memory reading its "
		    "output", prog);
	if (o_over)
		return job_fail(job, "exec %s: output larger than %d bytes",
		    prog, PROC_MAX_OUTPUT);
	s = trim(o, &len);
	if (len == 0) {
		bullmq_job_return(job, NULL, 0);
		return 0;
	}
	if (bullmq_job_return(job, s, len) == -1) {
		if (!bullmq_json_valid(s, len))
			return job_fail(job, "exec %s: output is not valid "
			    "JSON: %.60s%s", prog, s, len > 60 ? "..." : "");
		return job_fail(job, "out of memory");
	}
	return 0;
}

/* exec: run the program once for this job. */
static int
run_exec(struct processor *p, bullmq_job *job)
{
	struct buf	 input, o, e;
	struct sigaction dfl, oldchld;
	sigset_t	 block, old, pending, dying;
	struct timespec	 zero = { 0, 0 };
	int		 in[2] = { -1, -1 }, out[2] = { -1, -1 };
	int		 errp[2] = { -1, -1 }, ex[2] = { -1, -1 };
	int		 status = 0, exerr = 0, o_over = 0, rv, had_pipe, werr;
	pid_t		 pid, wpid, parent;
	siginfo_t	 si;
	ssize_t		 n;

	buf_init(&input);
	buf_init(&o);
	buf_init(&e);
	if (exec_input(job, &input) != 0) {
		buf_free(&input);
		return -1;
	}
	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1 ||
	    pipe2(errp, O_CLOEXEC) == -1 || pipe2(ex, O_CLOEXEC) == -1) {
		rv = job_fail(job, "exec %s: pipe: %s", p->argv[0],
		    strerror(errno));
		goto out;
	}

	/*
	 * A program that stops reading must not kill us with SIGPIPE; SIGCHLD
	 * comes only in exec_io's wait.
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGPIPE);
	sigaddset(&block, SIGCHLD);
	sigpending(&pending);
	had_pipe = sigismember(&pending, SIGPIPE);
	sigprocmask(SIG_BLOCK, &block, &old);
	/*
	 * A handler for SIGCHLD, so that the program's exit ends the wait in
	 * exec_io (ignored, it would also reap the program before waitpid).
	 */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = on_chld;
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGCHLD, &dfl, &oldchld);

	/*
	 * No TERM or INT (deaths that kill the group) between the fork and
	 * knowing the program's group and telling the master of it, which
	 * kills the group if this process dies of anything else.
	 */
	sigemptyset(&dying);
	sigaddset(&dying, SIGTERM);
	sigaddset(&dying, SIGINT);
	sigprocmask(SIG_BLOCK, &dying, NULL);
	parent = getpid();
	if ((pid = fork()) == -1) {
		sigaction(SIGCHLD, &oldchld, NULL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		rv = job_fail(job, "exec %s: fork: %s", p->argv[0],
		    strerror(errno));
		goto out;
	}
	if (pid == 0)
		processor_exec(p->argv, NULL, parent, in[0], out[1], errp[1],
		    ex[1]);
	(void)setpgid(pid, pid);	/* either side may be first */
	exec_group = pid;
	if (group_fn != NULL)
		group_fn(pid);
	sigprocmask(SIG_UNBLOCK, &dying, NULL);
	close(in[0]);
	close(out[1]);
	close(errp[1]);
	close(ex[1]);
	in[0] = out[1] = errp[1] = ex[1] = -1;

	exec_io(pid, in[1], out[0], errp[0], &input, &o, &e, &o_over);
	in[1] = out[0] = errp[0] = -1;
	/*
	 * Wait without reaping: until then its pid, the group's id, is kept.
	 * What the program left running is no longer the job's: the master
	 * forgets the group before its id can be freed.
	 */
	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == -1 &&
	    errno == EINTR)
		;
	if (group_fn != NULL)
		group_fn(0);
	exec_group = 0;
	while ((wpid = waitpid(pid, &status, 0)) == -1 && errno == EINTR)
		;
	werr = wpid == -1 ? errno : 0;
	while ((n = read(ex[0], &exerr, sizeof(exerr))) == -1 &&
	    errno == EINTR)
		;
	if (n != (ssize_t)sizeof(exerr))
		exerr = 0;

	sigpending(&pending);
	if (!had_pipe && sigismember(&pending, SIGPIPE)) {
		sigemptyset(&block);
		sigaddset(&block, SIGPIPE);
		(void)sigtimedwait(&block, NULL, &zero);
	}
	sigaction(SIGCHLD, &oldchld, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);

	if (werr != 0)
		rv = job_fail(job, "exec %s: waitpid: %s", p->argv[0],
		    strerror(werr));
	else
		rv = exec_result(p, job, status, exerr, &o, o_over, &e);
out:
	if (in[0] != -1)
		close(in[0]);
	if (in[1] != -1)
		close(in[1]);
	if (out[0] != -1)
		close(out[0]);
	if (out[1] != -1)
		close(out[1]);
	if (errp[0] != -1)
		close(errp[0]);
	if (errp[1] != -1)
		close(errp[1]);
	if (ex[0] != -1)
		close(ex[0]);
	if (ex[1] != -1)
		close(ex[1]);
	buf_free(&input);
	buf_free(&o);
	buf_free(&e);
	return rv;
}

/*
 * Run a job.  Returns 0 when it completed (its return value set in the job),
 * -1 when it failed (its reason set in the job).
 */
int
processor_run(struct processor *p, bullmq_job *job)
{
	const char	*d;
	size_t		 len;

	switch (p->kind) {
	case PROC_NOOP:
		bullmq_job_return(job, NULL, 0);
		return 0;
	case PROC_ECHO:
		if ((d = job_data(job, &len)) == NULL)
			return job_fail(job, "builtin:echo: job data is not "
			    "valid JSON");
		if (bullmq_job_return(job, d, len) == -1)
			return job_fail(job, "out of memory");
		return 0;
	case PROC_SLEEP:
		return run_sleep(job);
	case PROC_FAIL:
		return run_fail(job);
	case PROC_SO:
		return p->fn(job) != 0 ? -1 : 0;
	case PROC_EXEC:
		return run_exec(p, job);
	case PROC_PIPE:
		return pipe_run(job);
	}
	return job_fail(job, "unknown processor");
}
