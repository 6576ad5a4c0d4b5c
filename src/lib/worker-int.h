/*
 * worker-int.h: what worker.c (fetching, running) and finish.c (finishing,
 * retries, failure decisions) share: the worker itself and the arguments
 * every fetching script takes.
 */
#ifndef WORKER_INT_H
#define WORKER_INT_H

#include <signal.h>

#define NUMLEN		24

struct bullmq_worker {
	bullmq_queue		*q;
	char			 name[BMQ_MAX_NAME];
	int64_t			 drain_delay;
	long			 metrics_max;
	struct bullmq_keep	 keep_complete;
	struct bullmq_keep	 keep_fail;
	char			 lock_s[NUMLEN];	/* lock duration */
	char			 limmax_s[NUMLEN];	/* "" no limiter */
	char			 limdur_s[NUMLEN];
	char			 metrics_s[NUMLEN];	/* "" metrics off */
	char			 tokbase[40];
	unsigned long long	 tokseq;
	int			 drained;
	int64_t			 block_until;	/* next delayed job, ms */
	int64_t			 limit_until;	/* rate limited until, ms */
	int			 no_next;	/* run: fetch no next job */
	long			 max_started;	/* 0: no limit */
	bullmq_backoff_fn	 backoff_fn;	/* custom backoff types */
	void			*backoff_arg;
	char			 lost[BMQ_MAX_TOKEN]; /* see bmq_lost_reply */
	char			*lost_skip;	/* the job being finished */
	unsigned long		 sched_errors;	/* successors not made */
	char			 sched_err[BMQ_MAX_ERR]; /* "": none new */
	/* bullmq_worker_wake, from a signal handler */
	volatile sig_atomic_t	 blocked_fd;	/* fd + 1 blocked on marker */
	volatile sig_atomic_t	 woken;
};

/* Settings of a failure when no worker is involved (the supervisor). */
extern const struct bullmq_worker	bmq_no_worker;
/* The keys every fetching script starts with, in their order. */
extern const enum bmq_key		bmq_fetch_keys[];
#define BMQ_NFETCH_KEYS		9

void	bmq_args_fetch(struct bmq_args *, const bullmq_worker *, const char *,
	    const char *);
void	bmq_fmt_ms(char *, size_t, int64_t);
void	bmq_lost_reply(bullmq_worker *, const char *, const char *);
int	bmq_take_fetch(bullmq_worker *, redisReply *, const char *, int64_t,
	    bullmq_job **);

#endif /* WORKER_INT_H */
