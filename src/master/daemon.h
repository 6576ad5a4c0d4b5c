/*
 * daemon.h: declarations shared by the files of bullmq-master: settings,
 * logging, the restart policy, processors, the children's messages, the
 * worker child and the master's Redis side.
 */
#ifndef DAEMON_H
#define DAEMON_H

#include <sys/types.h>
#include <sys/socket.h>

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bullmq.h"

#define PROGNAME		"bullmq-master"

/* Exit statuses of the master. */
#define EXIT_SETTINGS		1	/* bad settings, cannot start */
#define EXIT_GAVE_UP		3	/* restart limit reached */
/* Exit statuses of a child. */
#define CHILD_EXIT_ERROR	1
#define CHILD_EXIT_FATAL	2	/* fatal configuration: no restart */

/* Sizes of the string settings. */
#define SET_PATH_MAX		1024
#define SET_NAME_MAX		256
/* The longest control socket path, with its NUL (sun_path). */
#define CTL_PATH_MAX		108
/* An error about the settings or the processor: up to three paths. */
#define SET_ERR_MAX		(3 * SET_PATH_MAX + 1024)

/* Every setting, filled from the table in config.c. */
struct settings {
	char	 config[SET_PATH_MAX];
	char	 redis[SET_PATH_MAX];
	char	 tls_ca_file[SET_PATH_MAX];
	char	 tls_ca_dir[SET_PATH_MAX];
	char	 tls_cert[SET_PATH_MAX];
	char	 tls_key[SET_PATH_MAX];
	char	 tls_server_name[256];
	char	 tls_verify[8];	/* yes or no */
	char	 queue[SET_NAME_MAX];
	char	 prefix[128];
	long	 workers;
	char	 processor[SET_PATH_MAX];
	long	 lock_duration;
	long	 stalled_interval;
	long	 max_stalled_count;
	long	 job_timeout;
	long	 kill_timeout;
	long	 graceful_timeout;
	long	 max_restarts;
	long	 max_seconds;
	long	 max_jobs_per_child;
	long	 drain_delay;
	long	 spin_wait;	/* us; SET_AUTO_VALUE: auto */
	long	 redis_timeout;	/* ms a call waits for its reply */
	char	 remove_on_complete[64];	/* text; keep_complete */
	char	 remove_on_fail[64];		/* text; keep_fail */
	long	 metrics;	/* data points kept; 0: off */
	char	 limiter[64];	/* "MAX/MS" or ""; limiter_max, _ms */
	long	 max_started_attempts;	/* 0: none */
	char	 worker_name[128];
	long	 nice;		/* children: this much nicer than the master */
	char	 user[64];
	char	 group[64];
	char	 pidfile[SET_PATH_MAX];
	char	 log_file[SET_PATH_MAX];
	int	 daemon;
	int	 check;
	char	 log_format[16];	/* text, logfmt, json */
	char	 log_level[16];		/* debug, info, warning, error */
	int	 access_log;		/* a line for every finished job */
	char	 metrics_listen[128];	/* ADDR:PORT of /metrics; "": off */
	char	 statsd[128];		/* HOST:PORT of StatsD; "": off */
	char	 control_socket[SET_PATH_MAX];	/* "auto", "none" or a path */
	long	 master_redis_timeout;	/* ms: the master's own calls */
	char	 autoscale[32];		/* "MIN,MAX" or "" */
	long	 autoscale_idle;	/* s a child idles before it goes */
	long	 autoscale_wait;	/* ms jobs wait before a child more */
	char	 max_child_rss[32];	/* "0" or N[KMG] */
	/* Derived by config_load. */
	struct bullmq_keep keep_complete;
	struct bullmq_keep keep_fail;
	long	 limiter_max;
	long	 limiter_ms;
	long	 autoscale_min;		/* autoscale_max 0: off */
	long	 autoscale_max;
	long	 max_rss_kb;		/* 0: no limit */
	uid_t	 uid;
	gid_t	 gid;
	int	 drop_user;	/* uid is set */
	int	 drop_group;	/* gid is set */
	int	 log_fmt;	/* enum log_format */
	int	 log_pri;	/* syslog priority of log_level */
};

enum setting_type {
	SET_STR,
	SET_INT,
	SET_BOOL
};

/* Setting flags. */
#define SET_RELOAD	0x01	/* HUP can change it */
#define SET_ROLL	0x02	/* children are replaced when it changes */
#define SET_NOFILE	0x04	/* not allowed in a config file */
#define SET_AUTO	0x08	/* an int that accepts "auto" */
#define SET_REQUIRED	0x10	/* must not be empty */
#define SET_SECRET	0x20	/* a URL: shown without its password */

#define SET_AUTO_VALUE	(-1L)	/* "auto" of a SET_AUTO int decided later */
#define SPIN_AUTO_US	200	/* spin-wait auto, a CPU a child or more */
#define SPIN_AUTO_TEXT	"200"

/* One row of the settings table. */
struct setting {
	const char		*name;		/* config key; --name */
	int			 flag;		/* short option, or 0 */
	const char		*arg;		/* argument name for --help */
	enum setting_type	 type;
	size_t			 off;		/* offset in struct settings */
	size_t			 size;		/* SET_STR: buffer size */
	long long		 min, max;	/* SET_INT bounds */
	const char		*def;		/* default value as text */
	int			 flags;
	const char		*help;
};

extern const struct setting	settings_table[];
extern const size_t		settings_count;

/* Values given on the command line, applied last. */
#define SET_MAX		96	/* rows of the settings table, at most */
struct cmdline {
	char	*val[SET_MAX];	/* by table index; owned */
};

/* Results of config_args besides 0 and -1. */
#define CONFIG_HELP	1
#define CONFIG_VERSION	2

int	 config_args(struct cmdline *, int, char **, char *, size_t);
void	 config_cmdline_free(struct cmdline *);
int	 config_load(struct settings *, const struct cmdline *, char *,
	    size_t);
int	 config_set(struct settings *, const struct setting *, const char *,
	    char *, size_t);
const struct setting *config_find(const char *);
void	 config_value(const struct settings *, const struct setting *,
	    char *, size_t);
int	 config_differs(const struct settings *, const struct settings *,
	    const struct setting *);
void	 config_print(FILE *, const struct settings *);
int	 config_tls(const struct settings *, bullmq_tls **, char *, size_t);
/* The TLS context of a rediss:// URL, made before the first fork; or NULL. */
extern bullmq_tls	*daemon_tls;
void	 config_usage(FILE *);
void	 config_env_name(const struct setting *, char *, size_t);
void	 config_scrub_env(void);
long	 online_cpus(void);
long	 spin_wait_for(long, long, long);
long	 nice_for(long, long);

/*
 * log.c: stderr, a log file or syslog; one write per line, of at most
 * LOG_LINE_MAX bytes with its newline (to syslog: the message, without
 * syslog's header).  That holds two job ids of the longest kind and their
 * context; a longer line ends in "...[cut]".  Main thread only, never in a
 * signal handler.
 */
#define LOG_LINE_MAX	8192
_Static_assert(LOG_LINE_MAX >= 2 * BULLMQ_MAX_ID + 1024,
    "a log line holds two ids of the longest kind");

enum log_target {
	LOG_TO_STDERR,
	LOG_TO_FILE,
	LOG_TO_SYSLOG
};

enum log_format {
	LOG_FMT_TEXT,
	LOG_FMT_LOGFMT,
	LOG_FMT_JSON
};

int	 log_init(enum log_target, const char *, char *, size_t);
int	 log_format_parse(const char *);
int	 log_level_parse(const char *);
void	 log_set_format(enum log_format);
void	 log_set_level(int);
int	 log_reopen(void);
void	 log_close(void);
void	 log_child(int);
int	 log_fd(void);
int	 open_regular(const char *, int, mode_t, const char *, char *,
	    size_t);
void	 log_set_ident(const char *);
void	 log_info(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	 log_warn(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	 log_warnx(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	 log_errx(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	 log_debug(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	 log_vmsg(int, const char *, va_list)
	    __attribute__((__format__(__printf__, 2, 0)));

/* addr.c: the addresses of metrics-listen and statsd. */
int	 addr_parse(const char *, int, struct sockaddr_storage *,
	    socklen_t *, char *, size_t);
int	 obs_check(const struct settings *, const char **, char *, size_t);

/* restart.c: the restart policy, one pure function and its history. */
struct restart_hist {
	int64_t	*times;		/* ring of the latest restarts; owned */
	size_t	 cap;
	size_t	 n;
	size_t	 head;		/* next slot to write */
};

enum restart_action {
	RESTART_NOW,
	RESTART_LATER,
	RESTART_GIVE_UP
};

#define RESTART_QUICK_MS	1000	/* lived less: died quickly */
#define RESTART_BACKOFF_MIN	100
#define RESTART_BACKOFF_MAX	10000

int	 restart_hist_init(struct restart_hist *, long);
void	 restart_hist_free(struct restart_hist *);
void	 restart_record(struct restart_hist *, int64_t);
size_t	 restart_count(const struct restart_hist *, int64_t, int64_t);
enum restart_action restart_decide(const struct restart_hist *, long,
	    int64_t, int, int64_t, int64_t *);

/* processor.c (its own engineer): how a child runs a job. */
struct processor;
/* Load a processor spec (builtin:noop|echo|sleep|fail, so:PATH,
 * exec:PROG ARGS); NULL with a message in err on failure.  Called in
 * the master before fork. */
struct processor *processor_load(const char *spec, char *err, size_t);
/* Run one job; returns 0 to complete, -1 to fail, having called
 * bullmq_job_return / bullmq_job_error on the job. */
int processor_run(struct processor *, bullmq_job *);
void processor_kill_running(void);
/* Have fn told of the process group of each exec: program: its id once
 * the program leads it, 0 once the program has ended (before it is
 * reaped) or the group was killed.  fn is called in handlers too. */
void processor_on_group(void (*fn)(pid_t));
void processor_set_group(pid_t);
void processor_exec(char *const *, char *const *, pid_t, int, int, int, int)
    __attribute__((__noreturn__));
void processor_free(struct processor *);
int processor_job_fail(bullmq_job *, const char *, ...)
    __attribute__((__format__(__printf__, 2, 3)));
/* In a new child: what a pipe: program needs; before exit, stop it. */
void processor_in_child(struct processor *, int, bullmq_queue *,
    const struct bullmq_conn_opts *, const struct settings *);
void processor_stop(struct processor *);
void processor_prestart(struct processor *);
void processor_worker(struct processor *, bullmq_worker *);
int processor_want_exit(const struct processor *);

/* pipe.c: the pipe: processor (a long-lived program per child). */
void pipe_in_child(char *const *, int, bullmq_queue *,
    const struct bullmq_conn_opts *, const struct settings *);
void pipe_abort(void);
void pipe_prestart(void);
int pipe_run(bullmq_job *);
int64_t pipe_backoff(bullmq_job *, long, const char *, const char *, void *);
void pipe_stop(void);
int pipe_want_exit(void);

/*
 * Messages from a child to the master: a header, then the job id and its
 * token (idlen and toklen bytes, no NUL), in one write of at most PIPE_BUF
 * bytes, which the pipe keeps whole.  In the steady state a child sends one
 * message per job, MSG_NEXT; one with an exec: processor two more, MSG_GROUP
 * as the program starts and as it ends.
 */
enum msg_type {
	MSG_READY = 1,		/* connected; client_id set */
	MSG_IDLE,		/* heartbeat: fetched nothing */
	MSG_START,		/* job id under token, taken at "at" */
	MSG_DONE,		/* the job finished; status = outcome or -1 */
	MSG_REDIS_DOWN,		/* cannot reach Redis, retrying */
	MSG_NEXT,		/* MSG_DONE, then MSG_START of the next job */
	MSG_GROUP		/* exec: program's process group; 0: none */
};

/*
 * The longest job id the master keeps a lock for, without the NUL: the
 * library's limit.  A child fails a job with a longer id at once,
 * unrecoverably, and sends no id.
 */
#define MSG_ID_LEN	BULLMQ_MAX_ID
#define MSG_TOKEN_MAX	96	/* with the NUL */

struct msg {
	uint8_t		 type;
	int8_t		 status;	/* MSG_DONE, MSG_NEXT */
	uint16_t	 idlen;		/* MSG_START, MSG_NEXT */
	uint8_t		 toklen;
	uint8_t		 unused[3];
	union {
		int64_t	 client_id;	/* MSG_READY, MSG_IDLE */
		int64_t	 group;		/* MSG_GROUP */
		int64_t	 took_us;	/* MSG_DONE, MSG_NEXT: how long the
					   finished job's processor ran */
	};
	int64_t		 at;		/* monotonic ms the job was taken */
};

/* The longest message: header, id and token. */
#define MSG_MAX		(sizeof(struct msg) + MSG_ID_LEN + MSG_TOKEN_MAX - 1)
_Static_assert(MSG_MAX <= PIPE_BUF, "a message must fit in one pipe write");
_Static_assert(MSG_ID_LEN <= UINT16_MAX, "idlen holds an id length");

/* msg.c: both ends of the pipe. */
size_t	 msg_encode(char *, const struct msg *, const char *, const char *);
void	 msg_send(int, const char *, size_t);
ssize_t	 msg_parse(const char *, size_t, struct msg *);

/* What a new child needs; filled by the master, read in the child. */
struct child_spec {
	int			 slot;		/* worker number */
	int			 lifeline;	/* read end: EOF = stop */
	int			 msgfd;		/* message pipe, write end */
	long			 max_jobs;	/* with jitter; 0: never */
	long			 spin_wait;	/* us, decided at fork */
	pid_t			 master;	/* its TERM kills at once */
	const struct settings	*set;
	struct processor	*proc;
};

/* child.c: a worker child, from its fork to its exit. */
void	 child_limits(void);
pid_t	 child_fork(struct child_spec *, int *, int *);

/* keeper.c: the master's Redis side. */
int	 keeper_open(const struct settings *);
void	 keeper_close(void);
void	 keeper_settings(const struct settings *);
void	 keeper_give_back(const char *, const char *, const char *);
void	 keeper_fail(const char *, const char *, const char *);
void	 keeper_retry(int64_t, int);
size_t	 keeper_pending(void);
void	 keeper_unblock(int64_t);
void	 keeper_extend(size_t, const char *const *, const char *const *,
	    int64_t, void (*)(const char *, void *));
void	 keeper_stalled(int64_t);
void	 keeper_refresh(int64_t);
int	 keeper_counts(struct bullmq_counts *, int64_t *);
int	 keeper_up(void);
int64_t	 keeper_quiet_left(void);

/*
 * ctl.c: the control socket.  A client sends one line and reads the answer
 * until the master closes the connection.
 */
enum ctl_cmd {
	CTL_BAD,
	CTL_STATUS,
	CTL_STATUS_JSON,
	CTL_LIVE,
	CTL_READY,
	CTL_SCALE
};

struct ctl_req {
	enum ctl_cmd	 cmd;
	int		 relative;	/* CTL_SCALE: n is added */
	long		 n;
};

int	 ctl_parse(const char *, size_t, struct ctl_req *);
int	 ctl_path(const struct settings *, char *, size_t);
int	 ctl_request(const char *, const char *, FILE *);

/* autoscale.c: the autoscaler's decision, a pure function. */
struct autoscale_in {
	long	 wanted;
	long	 min, max;
	long	 backlog;		/* jobs waiting */
	int64_t	 backlog_ms;		/* for this long */
	long	 idle_now;		/* children idle or starting */
	long	 idle_long;		/* idle for idle_ms or more */
	int64_t	 since_grow_ms;		/* since the last growth */
	int64_t	 since_change_ms;	/* since the last decision */
	int64_t	 wait_ms;		/* autoscale-wait */
	int64_t	 idle_ms;		/* autoscale-idle */
};

long	 autoscale_decide(const struct autoscale_in *, const char **);

void	 keeper_refresh(int64_t);
int	 keeper_counts(struct bullmq_counts *, int64_t *);
int	 keeper_up(void);

/* metrics.c: the master's counters, for Prometheus and StatsD. */
enum metrics_outcome {
	MO_COMPLETED,
	MO_FAILED,
	MO_RETRIED,
	MO_STALLED,
	MO_GIVEN_BACK,
	MO_TIMED_OUT,
	MO_LOST_LOCK,
	MO_MOVED,
	MO_COUNT
};

/* Why a child that is replaced ended. */
enum metrics_exit {
	ME_RECYCLED,		/* exit 0: max-jobs-per-child, its own TERM */
	ME_EXIT,		/* another exit status */
	ME_SIGNAL,		/* killed by a signal */
	ME_TIMEOUT,		/* killed for job-timeout */
	ME_COUNT
};

struct buf;
void	 metrics_job(int, int64_t);
void	 metrics_outcome(enum metrics_outcome, unsigned long);
void	 metrics_exit(enum metrics_exit);
void	 metrics_redis(int);
void	 metrics_text(struct buf *);
int	 metrics_statsd(const struct settings *);
void	 metrics_tick(int64_t);
void	 metrics_close(void);

/* httpd.c: metrics-listen, libmicrohttpd driven from the master's wait. */
extern const char	 httpd_tag;	/* epoll data of its descriptor */
int	 httpd_open(const char *, int);
void	 httpd_run(void);
void	 httpd_close(void);

/* notify.c: systemd's sd_notify, when the master runs under it. */
void	 notify_init(void);
void	 notify_tick(int64_t);
void	 notify_reloading(void);
void	 notify_stopping(void);
void	 notify_forget(void);

/* master.c */
int	 master_run(struct settings *, const struct cmdline *,
	    struct processor *);

#endif /* DAEMON_H */
