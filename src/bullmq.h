/*
 * bullmq.h: BullMQ 6 job queues in C.
 *
 * The library never prints, logs or exits.  Every call that can fail returns
 * -1 (or NULL) and leaves a code and a message in the queue handle, read with
 * bullmq_errcode() and bullmq_errstr(), in the manner of hiredis.
 */
#ifndef BULLMQ_H
#define BULLMQ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BULLMQ_VERSION		"0.1.0"
#define BULLMQ_DEFAULT_URL	"redis://127.0.0.1:6379/0"
#define BULLMQ_DEFAULT_PREFIX	"bull"

/* Error codes kept in the queue handle. */
enum bullmq_error {
	BULLMQ_OK = 0,
	BULLMQ_ERR_IO,		/* connection refused, lost or timed out */
	BULLMQ_ERR_PROTOCOL,	/* a reply of an unexpected shape */
	BULLMQ_ERR_REDIS,	/* Redis answered with an error */
	BULLMQ_ERR_ARG,		/* a bad argument: URL, name, id, JSON, option */
	BULLMQ_ERR_NOMEM,
	BULLMQ_ERR_JOB		/* a script refused: see bullmq_script_code() */
};

/* Negative codes returned by the scripts (BULLMQ-PROTOCOL.md 4.0.1). */
#define BULLMQ_JOB_NOT_EXIST		-1
#define BULLMQ_JOB_LOCK_NOT_EXIST	-2
#define BULLMQ_JOB_NOT_IN_STATE		-3
#define BULLMQ_JOB_PENDING_CHILDREN	-4
#define BULLMQ_PARENT_NOT_EXIST		-5
#define BULLMQ_JOB_LOCK_MISMATCH	-6
#define BULLMQ_JOB_HAS_FAILED_CHILDREN	-9
/*
 * Ours: the job's key holds no hash; a field the script counts on is bad; a
 * queue key the script would write holds the wrong type (nothing written).
 */
#define BULLMQ_JOB_NOT_A_HASH		-20
#define BULLMQ_JOB_BAD_FIELD		-21
#define BULLMQ_KEY_WRONG_TYPE		-22

typedef struct bullmq_queue	bullmq_queue;
typedef struct bullmq_job	bullmq_job;
typedef struct bullmq_worker	bullmq_worker;
typedef struct bullmq_tls	bullmq_tls;

/*
 * TLS for rediss:// URLs.  Zeroed fields take their defaults: OpenSSL's
 * default CA paths (which honour SSL_CERT_FILE and SSL_CERT_DIR), no client
 * certificate, the URL's host as the server name, and verification of the
 * server's certificate chain and of its name.
 */
struct bullmq_tls_opts {
	const char	*ca_file;	/* PEM CA certificates */
	const char	*ca_dir;	/* a c_rehash'ed directory of them */
	const char	*cert;		/* client certificate (chain), PEM */
	const char	*key;		/* its private key, PEM, unencrypted */
	const char	*server_name;	/* SNI and the name checked */
	int		 no_verify;	/* 1: accept any certificate */
};

/*
 * Connection settings.  Zeroed fields take their defaults: url
 * BULLMQ_DEFAULT_URL, prefix "bull", connect timeout 5000 ms, no command
 * timeout.  queue is required.
 */
struct bullmq_conn_opts {
	/*
	 * redis[s]://[user:pass@]host[:port][/db] (rediss: TLS),
	 * unix://[[user:]pass@]/path[?db=N]
	 */
	const char	*url;
	const char	*prefix;
	const char	*queue;
	int		 connect_timeout_ms;
	int		 command_timeout_ms;	/* 0: none */
	int		 spin_wait_us;	/* poll for a script's reply this long
					   before sleeping; 0: sleep at once */
	/*
	 * rediss:// only: a context from bullmq_tls_new, shared and not
	 * owned (it must outlive the handle), or NULL: the handle makes its
	 * own from tls_opts, reading the files then.
	 */
	bullmq_tls		*tls;
	struct bullmq_tls_opts	 tls_opts;
};

/* Connections. */
bullmq_queue	*bullmq_queue_new(const struct bullmq_conn_opts *);
int		 bullmq_queue_connect(bullmq_queue *);
void		 bullmq_queue_free(bullmq_queue *);
/* 1 when a connection is open: none yet, or the last one was lost: 0. */
int		 bullmq_queue_connected(const bullmq_queue *);
int		 bullmq_errcode(const bullmq_queue *);
const char	*bullmq_errstr(const bullmq_queue *);
int		 bullmq_script_code(const bullmq_queue *);
const char	*bullmq_queue_name(const bullmq_queue *);
const char	*bullmq_queue_prefix(const bullmq_queue *);
int		 bullmq_set_client_name(bullmq_queue *, const char *);
int		 bullmq_worker_client_name(const bullmq_queue *, const char *,
		    char *, size_t);
int64_t		 bullmq_now(void);
char		*bullmq_url_redact(const char *, char *, size_t);
/* Later commands wait ms for their reply (0: no limit); 0 or -1. */
int		 bullmq_set_command_timeout(bullmq_queue *, int ms);
/* Check a Redis URL as bullmq_queue_new reads it: 0, or -1 and why in err. */
int		 bullmq_url_check(const char *url, char *err, size_t errsize);
/*
 * TLS contexts: the certificates and keys are read here, once (a daemon
 * does it before its children drop privileges).  NULL with why in err;
 * bullmq_tls_available() is 0 when the library was built without TLS.
 */
bullmq_tls	*bullmq_tls_new(const struct bullmq_tls_opts *, char *err,
		    size_t errsize);
void		 bullmq_tls_free(bullmq_tls *);
int		 bullmq_tls_available(void);

/*
 * The next time (ms) strictly after after of a cron pattern, as the
 * cron-parser of bullmq 6.7 computes it, in time zone tz (NULL: UTC), with
 * H drawn from seed (a job scheduler's hashSeed; NULL refuses H).  0, or
 * -1 with a message in err.
 */
int		 bullmq_cron_next(const char *pattern, const char *tz,
		    const char *seed, int64_t after, int64_t *next, char *err,
		    size_t errsize);
/* Monotonic milliseconds, for intervals and deadlines. */
int64_t		 bullmq_mono_ms(void);

/* Retention: removeOnComplete / removeOnFail. */
enum bullmq_keep_mode {
	BULLMQ_KEEP_UNSET = 0,	/* not given: the other level decides */
	BULLMQ_KEEP_ALL,	/* false: keep forever */
	BULLMQ_KEEP_NONE,	/* true: remove at once */
	BULLMQ_KEEP_COUNT,	/* integer: keep the newest count */
	BULLMQ_KEEP_AGE		/* {age, count?, limit?} */
};

struct bullmq_keep {
	enum bullmq_keep_mode	 mode;
	long			 count;		/* COUNT, and AGE (0: none) */
	double			 age;		/* AGE, s; <= 0 all, NaN none */
	long			 limit;		/* AGE; 0: 1000, < 0: none */
};

/*
 * Parse a retention setting given as text: "" (unset), true or yes (remove
 * at once), false or no (keep all), N or count:N (keep the newest N), or
 * age:SECONDS with ,count:N and ,limit:N in any order.  Returns 0, or -1
 * with a message in err.
 */
int	bullmq_keep_parse(const char *text, struct bullmq_keep *k, char *err,
	    size_t errsize);

enum bullmq_backoff_type {
	BULLMQ_BACKOFF_NONE = 0,
	BULLMQ_BACKOFF_FIXED,
	BULLMQ_BACKOFF_EXPONENTIAL,
	BULLMQ_BACKOFF_CUSTOM	/* backoff_custom: a worker's strategy */
};

/* The longest job id, in bytes without the NUL (Node sets no limit). */
#define BULLMQ_MAX_ID		3072

/* Options of one job, as Node's JobsOptions.  Zeroed means "not given". */
struct bullmq_add_opts {
	const char		*job_id;	/* custom id, <= BULLMQ_MAX_ID bytes */
	int64_t			 delay;		/* ms */
	int			 priority;	/* 1 .. 2097151 */
	int			 attempts;
	enum bullmq_backoff_type backoff_type;
	int64_t			 backoff_delay;	/* ms */
	double			 backoff_jitter;	/* 0 .. 1 */
	int			 lifo;
	struct bullmq_keep	 remove_on_complete;
	struct bullmq_keep	 remove_on_fail;
	int			 keep_logs;
	int			 stack_trace_limit;	/* -1 .. : 0 given means keep none */
	int			 has_stack_trace_limit;
	const char		*dedup_id;
	int64_t			 dedup_ttl;	/* ms, 0: none */
	int64_t			 timestamp;	/* 0: now */
	size_t			 job_id_len;	/* 0: strlen(job_id) */
	size_t			 dedup_id_len;	/* 0: strlen(dedup_id) */
	/* given, so stored even when 0 or false, as Node stores them */
	int			 has_delay;
	int			 has_priority;
	int			 has_lifo;
	/* deduplication modes, as Node's deduplication.NAME: true */
	int			 dedup_extend;
	int			 dedup_replace;
	int			 dedup_keep_last;	/* keepLastIfActive */
	int			 dedup_reschedule;
	/* BULLMQ_BACKOFF_CUSTOM: the type's name, letters, digits, "_", "-"
	   and "." (stored as given; the worker's strategy reads it) */
	const char		*backoff_custom;
	size_t			 backoff_custom_len;	/* 0: strlen */
};

/*
 * Parse Node-style job options given as a JSON object (the public names:
 * jobId, delay, priority, attempts, backoff, lifo, removeOnComplete,
 * removeOnFail, keepLogs, stackTraceLimit, deduplication, timestamp) into o.
 * Strings in o point into json, which must outlive o: they are not NUL
 * terminated, their lengths are in job_id_len and dedup_id_len.  Returns 0,
 * or -1 with a message naming the bad option in err.
 */
int	bullmq_add_opts_parse(const char *json, size_t len,
	    struct bullmq_add_opts *o, char *err, size_t errsize);

/* Results of adding one job. */
#define BULLMQ_ADDED		0
#define BULLMQ_DUPLICATE	1	/* custom id exists: not overwritten */
#define BULLMQ_DEDUPLICATED	2	/* dropped by deduplication */

/*
 * Add one job.  data is JSON text (NULL: {}); o may be NULL.  The new or
 * existing job id is written to id (NULL: not wanted); a custom id that does
 * not fit in idsize is refused before anything is added, and 21 bytes hold
 * any automatic id; a deduplicated add writes the owner's id, which may be
 * custom: BULLMQ_MAX_ID + 1 bytes hold every id.  Returns BULLMQ_ADDED,
 * BULLMQ_DUPLICATE, BULLMQ_DEDUPLICATED or -1.
 */
int	bullmq_add(bullmq_queue *, const char *name, const char *data,
	    const struct bullmq_add_opts *o, char *id, size_t idsize);

struct bullmq_add_req {
	const char		*name;
	const char		*data;
	struct bullmq_add_opts	 opts;
	int			 result;	/* out: as bullmq_add, or -1 */
	/* out: the job id, "" when longer than 127 bytes (see libbullmq.3) */
	char			 id[128];
	char			 err[128];	/* out, when result is -1 */
};

/*
 * Add n jobs, pipelined (an add stream).  Returns the number added
 * (including duplicates), or -1 when the connection failed; per-job results
 * are in reqs.
 */
long	bullmq_add_bulk(bullmq_queue *, struct bullmq_add_req *reqs, size_t n);

/*
 * A stream of adds on the queue's connection: each job pushed is sent
 * while the next ones are prepared, and its result is handed to the
 * callback, in the order pushed, as soon as Redis has answered.
 */
typedef struct bullmq_add_stream bullmq_add_stream;

struct bullmq_add_result {
	void		*udata;		/* as given to the push */
	uint64_t	 seq;		/* 0 for the first job pushed */
	int		 result;	/* as bullmq_add, or -1 */
	const char	*id;		/* the job id; "" when result is -1 */
	size_t		 idlen;
	const char	*err;		/* why, when result is -1; else "" */
};

/* Called from push, flush and finish; it must not use the stream or q. */
typedef void	bullmq_add_cb(const struct bullmq_add_result *, void *arg);

bullmq_add_stream
	*bullmq_add_stream_new(bullmq_queue *, bullmq_add_cb *cb, void *arg);
/* 0, or -1 when the connection failed: results not handed over are unknown. */
int	bullmq_add_stream_push(bullmq_add_stream *, const char *name,
	    const char *data, const struct bullmq_add_opts *o, void *udata);
int	bullmq_add_stream_flush(bullmq_add_stream *);
int	bullmq_add_stream_finish(bullmq_add_stream *);
void	bullmq_add_stream_free(bullmq_add_stream *);

/* Operators. */
struct bullmq_counts {
	long	wait, active, delayed, prioritized, completed, failed,
		waiting_children, paused;
	int	is_paused;
};

int	bullmq_pause(bullmq_queue *);
int	bullmq_resume(bullmq_queue *);
int	bullmq_get_counts(bullmq_queue *, struct bullmq_counts *);
/* 1 and *jobp set when found, 0 when missing, -1 on error. */
int	bullmq_get_job(bullmq_queue *, const char *id, bullmq_job **jobp);
/* Write a job's state ("completed", "waiting", ... "unknown"); 0 or -1. */
int	bullmq_get_state(bullmq_queue *, const char *id, char *buf, size_t);
/* 1 removed, 0 locked (not removed), -1 error (missing: BULLMQ_ERR_JOB). */
int	bullmq_remove(bullmq_queue *, const char *id);
/* Move failed (or completed) jobs back to wait; returns how many. */
long	bullmq_retry_jobs(bullmq_queue *, const char *state, long count);
/* Delete jobs of state older than grace ms, at most limit (0: all). */
long	bullmq_clean(bullmq_queue *, const char *state, int64_t grace,
	    long limit);
int	bullmq_drain(bullmq_queue *, int delayed);
/*
 * One job by hand, as Node's Job.promote and Job.retry: 0, or -1 (a job
 * that does not exist: BULLMQ_ERR_JOB and script code BULLMQ_JOB_NOT_EXIST;
 * one not delayed, or not in state: BULLMQ_JOB_NOT_IN_STATE).  state is
 * "failed" (or NULL) or "completed"; flags as Job.retry's options.
 */
#define BULLMQ_RESET_ATTEMPTS_MADE	0x1	/* resetAttemptsMade */
#define BULLMQ_RESET_ATTEMPTS_STARTED	0x2	/* resetAttemptsStarted */
int	bullmq_promote(bullmq_queue *, const char *id);
int	bullmq_retry_job(bullmq_queue *, const char *id, const char *state,
	    int flags);
/*
 * Call cb for a page of the jobs of a state (wait or waiting, active,
 * paused, delayed, prioritized, waiting-children, completed, failed): from
 * start, at most count (0: all), ids whose hash is gone skipped, as
 * Queue.getJobs.  BULLMQ_ORDER_STATE is the order of Node's getter of the
 * state: completed and failed newest first, the others in the order they
 * run.  cb gets the job, its own only during the call, and its score in
 * the state's sorted set (0 for a list): for a delayed job the time it is
 * due times 4096 (plus a sequence), for a finished one finishedOn.
 * Returns how many, or -1.
 */
#define BULLMQ_ORDER_STATE	0
#define BULLMQ_ORDER_ASC	1	/* getJobs(..., asc = true) */
#define BULLMQ_ORDER_DESC	2	/* getJobs(..., asc = false) */
long	bullmq_get_jobs(bullmq_queue *, const char *state, long start,
	    long count, int order, void (*cb)(const bullmq_job *, int64_t,
	    void *), void *arg);
/*
 * Call cb for a job's log lines from start, at most count (0: all), oldest
 * first or, with desc, newest first (Queue.getJobLogs); *total gets the
 * number of lines the job has.  Returns how many cb got, or -1.
 */
long	bullmq_get_logs(bullmq_queue *, const char *id, long start,
	    long count, int desc, void (*cb)(const char *line, size_t len,
	    void *), void *arg, long *total);
/* 1 when the queue has a meta, id or state key, 0 when none, -1 on error. */
int	bullmq_queue_exists(bullmq_queue *);
int	bullmq_obliterate(bullmq_queue *, int force);

/* One worker connection as CLIENT LIST shows it. */
struct bullmq_worker_info {
	char	name[128];	/* worker name, "" if unnamed */
	char	addr[128];
	long	age;		/* seconds */
	long	idle;		/* seconds */
};
/* Call cb for each worker of the queue; returns how many, or -1. */
long	bullmq_workers(bullmq_queue *,
	    void (*cb)(const struct bullmq_worker_info *, void *), void *arg);

/*
 * Read the event stream after last_id ("$" for new ones only), blocking up to
 * block_ms (0: do not block).  cb gets the entry id and its fields as
 * alternating names and values.  last_id is updated in place (size >= 64).
 * Returns the number of entries read, or -1.
 */
long	bullmq_events_read(bullmq_queue *, char *last_id, int block_ms,
	    void (*cb)(const char *id, size_t nfields, const char **fields,
	    const size_t *lens, void *), void *arg);
/* Write the newest entry's id ("0-0": none), size >= 64; 0 or -1. */
int	bullmq_events_last_id(bullmq_queue *, char *buf, size_t size);

/* Jobs. */
const char	*bullmq_job_id(const bullmq_job *);
const char	*bullmq_job_name(const bullmq_job *);
const char	*bullmq_job_data(const bullmq_job *, size_t *len);
const char	*bullmq_job_opts(const bullmq_job *, size_t *len);
const char	*bullmq_job_token(const bullmq_job *);
/* Any field of the job hash as read at fetch, or NULL. */
const char	*bullmq_job_field(const bullmq_job *, const char *name,
		    size_t *len);
long		 bullmq_job_attempts_made(const bullmq_job *);	/* atm */
long		 bullmq_job_attempts_started(const bullmq_job *); /* ats */
long		 bullmq_job_attempts(const bullmq_job *);	/* opts.attempts */
int64_t		 bullmq_job_timestamp(const bullmq_job *);
/* Field names and values in HGETALL order, for display. */
size_t		 bullmq_job_nfields(const bullmq_job *);
int		 bullmq_job_field_at(const bullmq_job *, size_t i,
		    const char **name, const char **value, size_t *len);
void		 bullmq_job_free(bullmq_job *);

/*
 * Result of a processor.  bullmq_job_return sets the return value (JSON text,
 * checked; -1 when not valid JSON).  bullmq_job_error sets the failure reason;
 * unrecoverable means "do not retry".  While a processor runs inside a worker
 * it may report progress (JSON) and add log lines.
 */
int	bullmq_job_return(bullmq_job *, const char *json, size_t len);
int	bullmq_job_error(bullmq_job *, const char *reason, int unrecoverable);
int	bullmq_job_progress(bullmq_job *, const char *json);
int	bullmq_job_log(bullmq_job *, const char *line);
/* What a processor set: NULL when it set no value (null), no reason. */
const char	*bullmq_job_result(const bullmq_job *, size_t *len);
const char	*bullmq_job_reason(const bullmq_job *, int *unrecoverable);

/*
 * A shared-object processor exports this symbol.  Return 0 to complete the
 * job (with the value from bullmq_job_return, null by default), non-zero to
 * fail it (with the reason from bullmq_job_error, "failed" by default).
 */
int	bullmq_process(bullmq_job *);
typedef int (*bullmq_process_fn)(bullmq_job *);

/* Workers. */
struct bullmq_worker_opts {
	const char		*name;		/* pb field and ":w:name" */
	int64_t			 lock_duration;	/* ms, 0: 30000 */
	int64_t			 drain_delay;	/* ms block when idle, 0: 5000 */
	long			 limiter_max;	/* 0: none */
	int64_t			 limiter_duration;
	long			 metrics_max_points;	/* 0: metrics off */
	struct bullmq_keep	 remove_on_complete;	/* worker defaults */
	struct bullmq_keep	 remove_on_fail;
	long			 max_started_attempts;	/* 0: none */
};

/* What became of a job given to bullmq_worker_finish. */
enum bullmq_outcome {
	BULLMQ_COMPLETED = 1,
	BULLMQ_FAILED,		/* finally failed */
	BULLMQ_RETRIED,		/* back to wait */
	BULLMQ_DELAYED,		/* retry after backoff */
	BULLMQ_LOST_LOCK,	/* not ours any more: left to the stalled checker */
	BULLMQ_MOVED		/* moved by its processor: bullmq_job_moved() */
};

/*
 * A processor may move its job out of active itself instead of finishing
 * it, as a Node processor does before it throws DelayedError,
 * WaitingError, RateLimitError or WaitingChildrenError; bullmq_worker_run
 * then leaves the job where it went.  Each returns -1 with the error in
 * the queue handle (script codes as BULLMQ_JOB_*).
 */
enum bullmq_moved {
	BULLMQ_MOVED_DELAYED = 1,	/* DelayedError: no attempt counted */
	BULLMQ_MOVED_WAIT,		/* WaitingError, RateLimitError */
	BULLMQ_MOVED_WAITING_CHILDREN	/* WaitingChildrenError */
};
int		 bullmq_job_move_to_delayed(bullmq_job *, int64_t timestamp);
int		 bullmq_job_move_to_wait(bullmq_job *, int64_t rate_limit_ms,
		    int64_t *pttl);
/* 1 moved, 0 no child pending (the job runs on), -1 error. */
int		 bullmq_job_move_to_waiting_children(bullmq_job *,
		    const char *child_key);
int		 bullmq_job_moved(const bullmq_job *);

/* What a processor may read or change of its job (Node's Job methods). */
struct bullmq_deps_count {
	long long	processed;	/* children completed */
	long long	unprocessed;	/* children pending */
	long long	ignored;	/* children failed, failure ignored */
	long long	failed;		/* children failed */
};
int		 bullmq_job_update_data(bullmq_job *, const char *json,
		    size_t len);
/* JSON objects by child key, malloc'd into *json. */
int		 bullmq_job_children_values(bullmq_job *, char **json);
int		 bullmq_job_ignored_failures(bullmq_job *, char **json);
int		 bullmq_job_dependencies_count(bullmq_job *,
		    struct bullmq_deps_count *);

/* The worker uses the queue's connection and names it for getWorkers(). */
bullmq_worker	*bullmq_worker_new(bullmq_queue *,
		    const struct bullmq_worker_opts *);
void		 bullmq_worker_free(bullmq_worker *);
/*
 * Fetch a job, blocking on the marker up to the drain delay when the queue is
 * empty.  Returns 1 with *jobp set, 0 when nothing came, -1 on error.
 */
int		 bullmq_worker_fetch(bullmq_worker *, bullmq_job **jobp);
/*
 * Make the blocking wait of bullmq_worker_fetch, the current one or the
 * next, end at once: the fetch returns 0.  Safe in a signal handler.
 */
void		 bullmq_worker_wake(bullmq_worker *);
/* Like bullmq_worker_fetch but never blocks. */
int		 bullmq_worker_try_fetch(bullmq_worker *, bullmq_job **jobp);
/*
 * Finish a processed job: complete it with its return value, or fail it (the
 * retry and backoff decision is taken here, from the job's options).  When
 * next is not NULL the next job is fetched in the same call and stored there
 * (NULL if none).  The outcome is stored in *outcome if not NULL.  The job is
 * freed.  Returns 0 or -1.
 */
int		 bullmq_worker_finish(bullmq_worker *, bullmq_job *,
		    int failed, enum bullmq_outcome *outcome,
		    bullmq_job **next);
/* Run fn on a job (defa check, scheduler successor) and finish it. */
int		 bullmq_worker_run(bullmq_worker *, bullmq_job *,
		    bullmq_process_fn fn, enum bullmq_outcome *outcome,
		    bullmq_job **next);
/*
 * The message of the last job scheduler whose next iteration the worker
 * could not make (a pattern it cannot read, a bad time zone) since the
 * previous call, or NULL; *count (if not NULL) is the number of such
 * errors so far.  The message lives until the next call.
 */
const char	*bullmq_worker_sched_error(bullmq_worker *, unsigned long *);
/*
 * A custom backoff strategy (Node's settings.backoffStrategy): for a job
 * whose opts.backoff.type is neither "fixed" nor "exponential" and that is
 * to be retried, the delay of retry number attempts_made in ms: > 0 delays
 * it, 0 retries it at once, -1 fails it for good.  Without one, such a job
 * is retried at once.
 */
typedef int64_t	(*bullmq_backoff_fn)(bullmq_job *job, long attempts_made,
		    const char *type, const char *reason, void *arg);
void		 bullmq_worker_set_backoff(bullmq_worker *, bullmq_backoff_fn,
		    void *arg);
/* While set, bullmq_worker_run fetches no next job; a processor may set it. */
void		 bullmq_worker_no_next(bullmq_worker *, int);
/*
 * Give back to wait the jobs that a fetching call whose reply was lost (no
 * answer in time, a dropped connection) may have left active with nobody to
 * run them; fetching does it first.  Returns how many, or -1.
 */
int		 bullmq_worker_reclaim(bullmq_worker *);

/* The supervisor's calls, on its own connection. */
/*
 * Extend the locks of n jobs; ids of the jobs whose lock was lost are passed
 * to lost.  Returns the number lost, or -1.
 */
long	bullmq_extend_locks(bullmq_queue *, size_t n, const char *const *ids,
	    const char *const *tokens, int64_t duration,
	    void (*lost)(const char *id, void *), void *arg);
/*
 * The stalled check (BULLMQ-PROTOCOL.md 4.6); recovered ids go to cb.
 * Returns the number recovered, or -1.
 */
long	bullmq_check_stalled(bullmq_queue *, long max_stalled,
	    int64_t interval, void (*cb)(const char *id, void *), void *arg);
/*
 * Give back the job of a dead worker at once, as the stalled checker would:
 * 1 when returned to wait, 0 when it was not active under that token.
 */
int	bullmq_give_back(bullmq_queue *, const char *id, const char *token,
	    long max_stalled);
/*
 * Fail the job id held under token with reason, retrying it if its options
 * allow: used for job timeouts.  Returns an outcome, or -1.
 */
int	bullmq_fail_job(bullmq_queue *, const char *id, const char *token,
	    const char *reason);
/* Load every script into Redis once, so that no worker has to; 0 or -1. */
int	bullmq_scripts_load(bullmq_queue *);
/*
 * The Redis client id of the connection open now (CLIENT ID, asked once a
 * connection), for another connection to unblock it; 0 when none is open,
 * -1 on error.
 */
int64_t	bullmq_client_id(bullmq_queue *);
/*
 * Wake client id out of a blocking command as if it had timed out, as a
 * worker's fetch when it should stop: 1 woken, 0 it was not blocked, -1.
 */
int	bullmq_client_unblock(bullmq_queue *, int64_t id);

/*
 * JSON, the form of job data, options and return values.  The text is not
 * copied: a value points into the text it was found in.
 */
enum bullmq_json_type {
	BULLMQ_JSON_NONE = 0,	/* absent */
	BULLMQ_JSON_OBJECT,
	BULLMQ_JSON_ARRAY,
	BULLMQ_JSON_STRING,	/* p and len: between the quotes, escaped */
	BULLMQ_JSON_NUMBER,
	BULLMQ_JSON_TRUE,
	BULLMQ_JSON_FALSE,
	BULLMQ_JSON_NULL
};

struct bullmq_json_value {
	enum bullmq_json_type	 type;
	const char		*p;	/* the value's text */
	size_t			 len;
};

/* 1 when json[0..len) is exactly one valid JSON text (UTF-8), else 0. */
int	bullmq_json_valid(const char *json, size_t len);
/* The value at a dotted path ("backoff.delay"): 1, 0 absent, -1 not JSON. */
int	bullmq_json_get(const char *json, size_t len, const char *path,
	    struct bullmq_json_value *out);
/* Members names[0 .. n) of an object, valid JSON, in one pass; 0 or -1. */
int	bullmq_json_members(const char *json, size_t len,
	    const char *const *names, size_t n, struct bullmq_json_value *out);
int	bullmq_json_int(const struct bullmq_json_value *, int64_t *);
int	bullmq_json_double(const struct bullmq_json_value *, double *);
/* Unescape a string value into buf; its length, or -1. */
int	bullmq_json_string(const struct bullmq_json_value *, char *buf,
	    size_t size);
/* s[0..n) quoted as a JSON string, to free(3); NULL when out of memory. */
char	*bullmq_json_quote(const char *s, size_t n, size_t *lenp);

/*
 * Job schedulers, as Node's Queue.upsertJobScheduler, getJobScheduler(s)
 * and removeJobScheduler make and read them (src/lib/scheduler.c).
 */
struct bullmq_scheduler_opts {
	int64_t		 every;		/* ms between iterations, 0: pattern */
	const char	*pattern;	/* a cron pattern, NULL: every */
	const char	*tz;		/* the pattern's time zone, NULL: UTC */
	const char	*hash_seed;	/* the pattern's H values, NULL: none */
	int64_t		 start_date;	/* ms, 0: none */
	int64_t		 end_date;	/* ms, 0: none */
	long		 limit;		/* iterations, 0: no limit */
	int64_t		 offset;	/* ms, "every" only, 0: none */
	int		 immediately;	/* a pattern's first iteration now */
	const char	*name;		/* the jobs' name, NULL: the id */
	const char	*data;		/* their data (JSON), NULL: {} */
	const char	*opts;		/* their options (JSON), NULL: {} */
};

struct bullmq_scheduler {
	char		*id;
	char		*name;
	int64_t		 next;		/* ms of the current iteration */
	long		 iteration_count;
	long		 limit;		/* 0: none */
	int64_t		 every;		/* 0: a pattern */
	int64_t		 offset;
	int64_t		 start_date;	/* 0: none */
	int64_t		 end_date;	/* 0: none */
	char		*pattern;	/* NULL when none */
	char		*tz;		/* NULL when none */
	char		*data;		/* template data (JSON), NULL: none */
	char		*opts;		/* template options as stored, NULL */
};

/*
 * Create or update scheduler id and put its current iteration in place;
 * its job id goes to jobid.  1, 0 when there is no iteration to make (a
 * pattern with no time before end_date), -1 on error.
 */
int	bullmq_scheduler_upsert(bullmq_queue *, const char *id,
	    const struct bullmq_scheduler_opts *, char *jobid, size_t size);
/* 1 removed, 0 there was none, -1 on error. */
int	bullmq_scheduler_remove(bullmq_queue *, const char *id);
/* 1 with *out (free with bullmq_schedulers_free(*out, 1)), 0 none, -1. */
int	bullmq_scheduler_get(bullmq_queue *, const char *id,
	    struct bullmq_scheduler **out);
/* Schedulers by next time, ranks start..end (-1: the last); count or -1. */
long	bullmq_scheduler_list(bullmq_queue *, long start, long end, int asc,
	    struct bullmq_scheduler **out);
void	bullmq_schedulers_free(struct bullmq_scheduler *, long n);

/*
 * Add a flow, a tree of jobs across queues, as Node's FlowProducer.add:
 * json is the tree as Node takes it, {"name", "queueName", "data", "opts",
 * "children": [...], "prefix"} (the handle's prefix by default; opts may
 * hold failParentOnFailure and its kin, and on the root "parent").  A job
 * with children waits for them in waiting-children.  On success *ids (if
 * ids is not NULL; free(3) it) holds the tree of the jobs added as JSON,
 * {"id", "name", "queueName", "children": [...]}.  0, or -1.
 */
int	bullmq_flow_add(bullmq_queue *, const char *json, size_t len,
	    char **ids);

#ifdef __cplusplus
}
#endif

#endif /* BULLMQ_H */
