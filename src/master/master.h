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
};

extern struct master	M;

/* master.c */
size_t	 wanted_count(void);
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

/* msg.c, the master's end */
size_t	 read_msgs(struct child *, int64_t);

#endif /* MASTER_H */
