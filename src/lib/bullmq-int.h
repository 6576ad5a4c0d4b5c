/*
 * bullmq-int.h: private declarations shared by the library's files.
 */
#ifndef BULLMQ_INT_H
#define BULLMQ_INT_H

#include <sys/types.h>

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "bullmq.h"
#include "lua-scripts.h"	/* generated: enum bmq_lua, bmq_lua_scripts[] */

#define BMQ_MAX_NAME		256
#define BMQ_MAX_PREFIX		128
#define BMQ_MAX_BASE		(BMQ_MAX_PREFIX + BMQ_MAX_NAME + 2)
#define BMQ_MAX_ID		(BULLMQ_MAX_ID + 1)	/* with the NUL */
#define BMQ_MAX_TOKEN		96
#define BMQ_MAX_ERR		(BMQ_MAX_ID + 1024)	/* an id and context */
#define BMQ_DEFAULT_LOCK	30000
#define BMQ_DEFAULT_DRAIN	5000
#define BMQ_MAX_BLOCK_MS	10000
#define BMQ_MIN_BLOCK_MS	2

#define BMQ_MAX_SENTINELS	8

/* A server's address: a sentinel, or the node a handle talks to now. */
struct bmq_node {
	char	 host[256];
	int	 port;
};
#define BMQ_NO_TLS	"rediss:// (TLS): this build of libbullmq has no TLS " \
			"(it was built against a hiredis without hiredis_ssl)"

/* A parsed Redis URL. */
struct bmq_url {
	int	 is_unix;
	int	 tls;		/* rediss:// */
	char	 host[256];
	int	 port;
	char	 path[512];
	int	 db;
	char	 user[128];
	char	 pass[256];
	/* redis+sentinel:// (sentinel.c): the master is asked of these */
	int		 nsentinels;
	struct bmq_node	 sentinels[BMQ_MAX_SENTINELS];
	char		 master_name[128];
	char		 sentinel_pass[256];
};

/* Queue keys, prebuilt once per handle: Q:<suffix>. */
enum bmq_key {
	BMQ_K_BASE = 0,		/* Q: (the job key prefix, with its colon) */
	BMQ_K_WAIT,
	BMQ_K_ACTIVE,
	BMQ_K_PRIORITIZED,
	BMQ_K_DELAYED,
	BMQ_K_COMPLETED,
	BMQ_K_FAILED,
	BMQ_K_PAUSED,
	BMQ_K_WAITING_CHILDREN,
	BMQ_K_META,
	BMQ_K_EVENTS,
	BMQ_K_STALLED,
	BMQ_K_STALLED_CHECK,
	BMQ_K_MARKER,
	BMQ_K_ID,
	BMQ_K_PC,
	BMQ_K_LIMITER,
	BMQ_K_REPEAT,
	BMQ_K_METRICS_COMPLETED,
	BMQ_K_METRICS_FAILED,
	BMQ_K__MAX
};

struct bullmq_queue {
	redisContext	*rc;
	struct bmq_url	 url;
	char		 prefix[BMQ_MAX_PREFIX];
	char		 name[BMQ_MAX_NAME];
	char		*keys[BMQ_K__MAX];	/* owned */
	size_t		 keylens[BMQ_K__MAX];
	int		 connect_timeout_ms;
	int		 command_timeout_ms;
	int		 spin_wait_us;
	int64_t		 used_at;	/* bullmq_now() of the last script call */
	char		 client_name[BMQ_MAX_BASE + 160];
	int		 err;
	int		 script_code;
	char		 errstr[BMQ_MAX_ERR];
	int64_t		 client_id;	/* CLIENT ID of rc, 0: not asked yet */
	/* the node talked to now, when not the URL's: the master the
	 * sentinels named, a cluster's MOVED or ASK (sentinel.c, cluster.c) */
	struct bmq_node	 node;
	int		 cluster;	/* 1 a cluster node, -1 not, 0 not asked */
	int64_t		 redirect_t0;	/* bullmq_mono_ms() of a first redirect */
	int64_t		 sentinel_checked; /* bullmq_mono_ms() of the last ask */
	struct bullmq_tls *tls;		/* rediss://: owned if tls_owned */
	int		 tls_owned;
};

/* A growable byte buffer; on allocation failure oom is set and it stays. */
struct bmq_buf {
	char	*b;
	size_t	 len;
	size_t	 cap;
	int	 oom;
};

/* One JSON value found by bmq_json_get. */
enum bmq_jtype {
	BMQ_J_NONE = BULLMQ_JSON_NONE,
	BMQ_J_OBJECT = BULLMQ_JSON_OBJECT,
	BMQ_J_ARRAY = BULLMQ_JSON_ARRAY,
	BMQ_J_STRING = BULLMQ_JSON_STRING,
	BMQ_J_NUMBER = BULLMQ_JSON_NUMBER,
	BMQ_J_TRUE = BULLMQ_JSON_TRUE,
	BMQ_J_FALSE = BULLMQ_JSON_FALSE,
	BMQ_J_NULL = BULLMQ_JSON_NULL
};

struct bmq_jval {
	enum bmq_jtype	 type;
	const char	*p;	/* raw text; for strings, without the quotes */
	size_t		 len;
};

/* One member of a JSON object, as bmq_json_next reads it. */
struct bmq_jmember {
	const char	*k;	/* the raw key, without the quotes */
	size_t		 klen;
	struct bmq_jval	 v;
};

/* conn.c */
void		 bmq_seterr(bullmq_queue *, int, const char *, ...)
		    __attribute__((__format__(__printf__, 3, 4)));
void		 bmq_errf(char *, size_t, const char *, ...)
		    __attribute__((__format__(__printf__, 3, 4)));
int		 bmq_url_parse(const char *, struct bmq_url *, char *, size_t);
redisReply	*bmq_command(bullmq_queue *, const char *, ...);
redisReply	*bmq_commandv(bullmq_queue *, int, const char **,
		    const size_t *);
void		 bmq_drop(bullmq_queue *);
/*
 * Over TLS, OpenSSL writes with write(2): SIGPIPE is held back around a
 * call that may write, so that a vanished server is an error, not the
 * end of the caller.  No-ops on other connections.
 */
struct bmq_pipeguard {
	sigset_t	old;
	int		on;
	int		was_pending;
};
void		 bmq_pipe_hold(const bullmq_queue *, struct bmq_pipeguard *);
void		 bmq_pipe_release(struct bmq_pipeguard *);
int		 bmq_tls_start(bullmq_queue *);
const char	*bmq_tls_hint(const bullmq_queue *);
int		 bmq_reply_error(bullmq_queue *, redisReply *);
int		 bmq_noauth(bullmq_queue *, const redisReply *);

/* sentinel.c */
int		 bmq_sentinel_parse(const char *, struct bmq_url *, char *,
		    size_t);
const char	*bmq_sentinel_redact(const char *, char *, size_t);
int		 bmq_sentinel_resolve(bullmq_queue *);
int		 bmq_sentinel_verify(bullmq_queue *);
int		 bmq_sentinel_recheck(bullmq_queue *);
int		 bmq_url_error(const char *, char *, size_t, const char *, ...)
		    __attribute__((__format__(__printf__, 4, 5)));
int		 bmq_url_part(const char *, const char *, const char *, size_t,
		    char *, size_t, char *, size_t);

/* cluster.c */
unsigned int	 bmq_crc16(const char *, size_t);
unsigned int	 bmq_keyslot(const char *, size_t);
int		 bmq_slot_check(const char *, char *const *, const size_t *, int,
		    char *, size_t);
int		 bmq_redirect(bullmq_queue *, const redisReply *, int, int);
int		 bmq_cluster_verify(bullmq_queue *);

/* scripts.c */
#define BMQ_ARGS_MAX	40	/* arguments a struct bmq_args holds */

/*
 * The arguments of one script call, keys first, added in order.  It points
 * into itself and into what the caller passes: not to be copied, and the
 * strings must outlive the call.  More than BMQ_ARGS_MAX arguments need
 * bmq_args_room (and bmq_args_free); an argument past the room sets over,
 * and the call is then refused.
 */
struct bmq_args {
	const char	**v;
	size_t		 *l;
	int		  n;
	int		  cap;
	int		  over;
	const char	 *sv[BMQ_ARGS_MAX];
	size_t		  sl[BMQ_ARGS_MAX];
};

void		 bmq_args_init(struct bmq_args *);
int		 bmq_args_room(struct bmq_args *, size_t);
void		 bmq_args_free(struct bmq_args *);
void		 bmq_args_add(struct bmq_args *, const char *, size_t);
void		 bmq_args_adds(struct bmq_args *, const char *);
void		 bmq_args_key(struct bmq_args *, const bullmq_queue *,
		    enum bmq_key);
void		 bmq_args_keys(struct bmq_args *, const bullmq_queue *,
		    const enum bmq_key *, int);
redisReply	*bmq_script(bullmq_queue *, enum bmq_lua,
		    const struct bmq_args *);
int		 bmq_script_format(struct bmq_buf *, enum bmq_lua,
		    const struct bmq_args *);
int		 bmq_scripts_load(bullmq_queue *);
int		 bmq_is_noscript(const redisReply *);
int		 bmq_script_int(bullmq_queue *, redisReply *, long long *);

/* json.c */
int		 bmq_json_valid(const char *, size_t);
int		 bmq_json_get(const char *, size_t, const char *,
		    struct bmq_jval *);
int		 bmq_json_members(const char *, size_t, const char *const *,
		    size_t, struct bmq_jval *);
enum bmq_jtype	 bmq_json_type(const char *, size_t);
int		 bmq_json_next(const char **, const char *,
		    struct bmq_jmember *);
int		 bmq_json_elem_next(const char **, const char *,
		    struct bmq_jval *);
size_t		 bmq_json_array_elems(const char *, size_t, size_t,
		    struct bmq_buf *);
int		 bmq_jval_int(const struct bmq_jval *, int64_t *);
int		 bmq_jval_double(const struct bmq_jval *, double *);
double		 bmq_jval_jsnum(const struct bmq_jval *);
int		 bmq_jval_truthy(const struct bmq_jval *);
void		 bmq_fmt_jsnum(char *, size_t, double);
int		 bmq_jval_string(const struct bmq_jval *, char *, size_t);
void		 bmq_buf_init(struct bmq_buf *);
void		 bmq_buf_free(struct bmq_buf *);
void		 bmq_buf_add(struct bmq_buf *, const char *, size_t);
char		*bmq_buf_reserve(struct bmq_buf *, size_t);
void		 bmq_buf_adds(struct bmq_buf *, const char *);
void		 bmq_buf_addf(struct bmq_buf *, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3)));
void		 bmq_buf_add_jstr(struct bmq_buf *, const char *, size_t);
char		*bmq_buf_cstr(struct bmq_buf *);

/* keys.c */
int		 bmq_keys_build(bullmq_queue *);
void		 bmq_keys_free(bullmq_queue *);
int		 bmq_job_key(const bullmq_queue *, const char *, char *,
		    size_t);
int		 bmq_base64(const char *, size_t, char *, size_t);
int		 bmq_check_job_id(const char *, char *, size_t);

/* opts.c */
int		 bmq_add_opts_check(const struct bullmq_add_opts *,
		    const char **, size_t *, const char **, size_t *, char *,
		    size_t);
void		 bmq_add_opts_write(struct bmq_buf *,
		    const struct bullmq_add_opts *, const char *, size_t,
		    const char *, size_t);
int		 bmq_add_opts_encode(const struct bullmq_add_opts *,
		    struct bmq_buf *, char *, size_t);
int		 bmq_keep_from_json(const struct bmq_jval *, const char *, int,
		    struct bullmq_keep *, char *, size_t);
int		 bmq_keep_encode(const struct bullmq_keep *, struct bmq_buf *);

/* queue.c */
#define BMQ_ADD_NKEYS	9
#define BMQ_ADD_JID	(BMQ_ADD_NKEYS + 1)	/* the argument: custom id */

/* The arguments of one add-9.lua call and the storage they point into. */
struct bmq_add_call {
	enum bmq_lua	 script;	/* add, or add-dedup for the modes */
	struct bmq_args	 a;
	char		 ts[24];
	char		 delay[24];
	char		 prio[24];
	char		 ttl[24];
	struct bmq_buf	 opts;
};

int		 bmq_add_prepare(bullmq_queue *, const char *, const char *,
		    const struct bullmq_add_opts *, int64_t,
		    struct bmq_add_call *, char *, size_t);
int		 bmq_add_reply(const redisReply *, const redisReply **, char *,
		    size_t);

/* job.c */
/*
 * What the library reads of a job's stored options, read once when the
 * job is made, as Node's Worker reads them: JavaScript's arithmetic,
 * comparisons and truthiness on whatever JSON value a producer stored
 * (tests/interop/README has the table); absent or unreadable options take
 * the values of {}.
 */
struct bmq_job_opts {
	long			 attempts;	/* ceil(Number()), 0 .. 1e9 */
	int			 attempts_lua;	/* Lua's tonumber reads it */
	enum bullmq_backoff_type backoff_type;	/* NONE: retry at once */
	struct bmq_jval		 backoff_delay;	/* as stored, into the text */
	double			 backoff_jitter;	/* Number(), NaN: 0 */
	struct bmq_jval		 backoff_custom;	/* a type of neither kind */
	struct bullmq_keep	 keep_complete;	/* UNSET: the worker's */
	struct bullmq_keep	 keep_fail;
	double			 keep_logs;	/* kl, 0: every line */
	int64_t			 stack_trace_limit;	/* -1: every entry */
	int64_t			 stack_trace_drop;	/* drop the oldest N */
	int			 lifo;
	/* a scheduler's iteration: repeat.* and prevMillis */
	struct bmq_jval		 repeat_pattern;	/* into the job's opts */
	struct bmq_jval		 repeat_tz;
	struct bmq_jval		 repeat_seed;		/* hashSeed, for H */
	int64_t			 repeat_count;		/* 0 */
	int64_t			 repeat_limit;		/* -1: none */
	int64_t			 repeat_start;		/* 0: none */
	int64_t			 repeat_end;		/* 0: none */
	int64_t			 prev_millis;		/* 0 */
};

struct bullmq_job {
	bullmq_queue	*q;
	bullmq_worker	*w;		/* set while a worker holds it */
	char		*id;
	size_t		 nf;
	char		**fk;		/* field names */
	char		**fv;		/* field values, NUL terminated */
	size_t		*fvlen;		/* one block holding all four */
	struct bmq_job_opts o;		/* the "opts" field, read */
	char		 token[BMQ_MAX_TOKEN];
	int64_t		 fetched_at;
	/* the processor's verdict */
	char		*result;	/* JSON, NULL: null */
	size_t		 resultlen;
	char		*reason;	/* NULL: "failed" */
	int		 unrecoverable;
	int		 moved;		/* BULLMQ_MOVED_*: moved by the processor */
	int64_t		 limit_ttl;	/* after a move to wait: the limiter's */
};

bullmq_job	*bmq_job_from_hash(bullmq_queue *, const char *, size_t,
		    const redisReply *);
bullmq_job	*bmq_job_from_packed(bullmq_queue *, const char *, size_t,
		    const char *, size_t, long long, int *);
void		 bmq_job_opts_read(const char *, size_t,
		    struct bmq_job_opts *);
long		 bmq_job_long(const bullmq_job *, const char *, long);
double		 bmq_backoff_delay(enum bullmq_backoff_type, double, double,
		    long, double);
int		 bmq_retry_delay(const struct bmq_job_opts *, long, double,
		    char *, size_t);

/* admin.c */
int		 bmq_check_id(bullmq_queue *, const char *);

/* stalled.c */
int		 bmq_give_back(bullmq_queue *, const char *, const char *,
		    long, const char *);

/* cron.c */
int		 bmq_cron_next(const char *, const char *, int64_t, int64_t *,
		    char *, size_t);

#endif /* BULLMQ_INT_H */
