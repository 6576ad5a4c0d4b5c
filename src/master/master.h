/*
 * master.h: the master process's state, shared by master.c (the loop),
 * children.c (the child table) and msg.c (the children's messages).
 */
#ifndef MASTER_H
#define MASTER_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stdint.h>

#include "daemon.h"

#define PID_BUCKETS	1024
#define MAX_EVENTS	64
#define JOB_ID_SIZE	64	/* room for an id at first; grows */

enum child_state {
	CS_STARTING,
	CS_IDLE,
	CS_BUSY,
	CS_NOREDIS
};

enum stop_mode {
	STOP_NONE,
	STOP_GRACEFUL,
	STOP_FAST
};

/* One child process, from fork to reap. */
struct child {
	pid_t			 pid;
	int			 slot;		/* worker number, from 1 */
	int			 fd;		/* message pipe; -1: closed */
	int			 lifeline;	/* -1 once told to stop */
	enum child_state	 state;
	int			 retiring;	/* its exit is expected */
	int			 timed_out;	/* killed for its job's time */
	int			 dead;		/* reaped, freed soon */
	unsigned		 gen;		/* settings generation */
	int64_t			 started;
	int64_t			 job_since;
	int64_t			 kill_at;	/* SIGKILL due; 0: none */
	int64_t			 client_id;
	pid_t			 group;		/* exec: program's; 0: none */
	pid_t			 program;	/* its program's pid; 0: none */
	int64_t			 idle_since;	/* CS_IDLE since; 0: not */
	unsigned long		 completed;	/* jobs, by MSG_DONE */
	unsigned long		 failed;	/* failed, retried, delayed */
	long			 rss_kb;	/* KB, children_measure */
	int			 over_rss;	/* replaced for its size */
	char			*job;		/* its id, "" when none */
	size_t			 jobsize;	/* bytes at job */
	char			 token[MSG_TOKEN_MAX];
	size_t			 rlen;
	char			*rbuf;		/* a partial message, or NULL */
	struct child		*hnext;		/* pid hash chain */
	TAILQ_ENTRY(child)	 entry;
};
TAILQ_HEAD(childq, child);

/* One worker number: wanted or not, its child, its restart state. */
struct slot {
	struct child	*child;
	int		 wanted;
	int		 fatal;		/* its child exited 2 */
	int		 quick;		/* consecutive quick deaths */
	int64_t		 respawn_at;
	unsigned long	 restarts;	/* its child died, was restarted */
	char		 last_exit[64];	/* how its last child ended */
};

/* The master's counters since it started, for status and metrics. */
#define OUTCOMES	8	/* enum bullmq_outcome; 0: the finish failed */
struct master_stats {
	unsigned long	 completed, failed;	/* jobs, from MSG_DONE */
	unsigned long	 outcome[OUTCOMES];	/* each MSG_DONE's status */
	unsigned long	 given_back;		/* of dead children, unfinished */
	unsigned long	 timed_out;		/* past job-timeout */
	unsigned long	 restarts;		/* unplanned: dead children */
	unsigned long	 rss_replaced;		/* over max-child-rss */
	unsigned long	 scale_up, scale_down;	/* autoscale decisions */
};

/* Everything the master holds: one, M, defined in master.c. */
struct master {
	struct settings		 set;
	const struct cmdline	*cl;
	struct processor	*proc;
	int			 ep;
	struct slot		*slots;
	size_t			 nslots;
	struct childq		 children;
	struct childq		 dead;
	size_t			 nchildren;
	struct child		*pids[PID_BUCKETS];
	struct restart_hist	 hist;
	unsigned		 gen;
	enum stop_mode		 stopping;
	int64_t			 stop_deadline;
	int			 exit_code;
	int64_t			 next_lock, next_stalled, next_tick;
	long			 ncpus;		/* online, for spin-wait */
	int64_t			 quiet_until;	/* pipes not watched before */
	int64_t			 respawn_due;	/* 0: none */
	int64_t			 fork_logged;	/* last fork failure logged */
	const char		**ids, **tokens;
	size_t			 capids;
	int64_t			 next_second;	/* counts, autoscale, sizes */
	int64_t			 backlog_since;	/* jobs wait since; 0: none */
	int64_t			 last_grow, last_scale;	/* autoscale */
	struct master_stats	 stats;
};

/*
 * One row of the status: a child, or a wanted slot without one, as
 * children_info fills it.  The strings point into the master's state and
 * stay valid until the loop runs again.
 */
struct child_info {
	int		 slot;
	pid_t		 pid;		/* 0: no child */
	const char	*state;		/* starting idle busy noredis stopping
					   down fatal */
	const char	*job;		/* "" when none */
	int64_t		 job_ms;	/* running the job so long */
	unsigned long	 completed, failed, restarts;
	long		 rss_kb;	/* -1: unknown; children_measure */
	const char	*last_exit;	/* "" when none */
};

extern struct master	M;

/* master.c */
size_t	 wanted_count(void);
long	 master_scale(long, int, const char *, int64_t);
void	 respawn_at(size_t, int64_t);
void	 drain_pipes(int64_t);
void	 slot_ended(struct child *, int, int64_t);

/* children.c */
void	 child_free(struct child *);
void	 spawn(size_t, int64_t);
void	 close_msgfd(struct child *);
void	 unblock(struct child *);
void	 stop_child(struct child *);
void	 kill_child(struct child *, int64_t);
void	 children_reap(int64_t);
void	 replace_child(struct child *, int64_t);
size_t	 children_info(struct child_info *, size_t, int64_t);
size_t	 children_running(void);
size_t	 children_connected(void);
long	 statm_rss_kb(const char *, long);
void	 children_measure(void);
void	 children_sizes(int64_t);

/* ctl.c, the master's end */
void	 ctl_open(void);
void	 ctl_ready(int64_t);
void	 ctl_tick(int64_t);
void	 ctl_close(void);
extern const char	 ctl_tag;	/* epoll data of the control socket */

/* msg.c, the master's end */
size_t	 read_msgs(struct child *, int64_t);

#endif /* MASTER_H */
