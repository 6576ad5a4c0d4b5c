/*
 * moves.c: a processor moves its own job out of active instead of
 * finishing it, as BullMQ's job.moveToDelayed, job.moveToWait (with or
 * without worker.rateLimit) and job.moveToWaitingChildren do, before the
 * processor throws DelayedError, WaitingError, RateLimitError or
 * WaitingChildrenError.  bullmq_worker_run then leaves the job as it is.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bullmq-int.h"
#include "worker-int.h"

/* Run lua/move-10.lua for job j; the script's integer in *v.  0 or -1. */
static int
move_call(bullmq_job *j, const char *where, const char *arg6,
    const char *arg7, long long *v)
{
	static const enum bmq_key keys[] = {
		BMQ_K_ACTIVE, BMQ_K_WAIT, BMQ_K_DELAYED, BMQ_K_PRIORITIZED,
		BMQ_K_WAITING_CHILDREN, BMQ_K_EVENTS, BMQ_K_META,
		BMQ_K_STALLED, BMQ_K_MARKER, BMQ_K_LIMITER
	};
	bullmq_queue	*q = j->q;
	struct bmq_args	 a;
	char		 now_s[NUMLEN];

	if (j->moved) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "job %s: moved already", j->id);
		return -1;
	}
	bmq_fmt_ms(now_s, sizeof(now_s), bullmq_now());
	bmq_args_init(&a);
	bmq_args_keys(&a, q, keys, (int)(sizeof(keys) / sizeof(keys[0])));
	bmq_args_key(&a, q, BMQ_K_BASE);
	bmq_args_adds(&a, now_s);
	bmq_args_adds(&a, j->id);
	bmq_args_adds(&a, j->token[0] != '\0' ? j->token : "0");
	bmq_args_adds(&a, where);
	bmq_args_adds(&a, arg6);
	bmq_args_adds(&a, arg7);
	if (bmq_script_int(q, bmq_script(q, BMQ_LUA_MOVE, &a), v) == -1)
		return -1;
	return 0;
}

/*
 * Move job j, which this worker holds, to delayed until timestamp (ms),
 * counting no attempt (DelayedError).  0, or -1 with the error in the
 * queue handle.
 */
int
bullmq_job_move_to_delayed(bullmq_job *j, int64_t timestamp)
{
	char		due[NUMLEN];
	long long	v;

	bmq_fmt_ms(due, sizeof(due), timestamp < 0 ? 0 : timestamp);
	if (move_call(j, "delayed", due, "", &v) == -1)
		return -1;
	j->moved = BULLMQ_MOVED_DELAYED;
	return 0;
}

/*
 * Move job j back to the front of wait (WaitingError), after limiting the
 * queue for rate_limit_ms when it is > 0 (worker.rateLimit and
 * RateLimitError).  *pttl (if not NULL) is the queue's rate limit left, ms.
 * 0, or -1.
 */
int
bullmq_job_move_to_wait(bullmq_job *j, int64_t rate_limit_ms, int64_t *pttl)
{
	char		lim[NUMLEN];
	long long	v;

	lim[0] = '\0';
	if (rate_limit_ms > 0)
		bmq_fmt_ms(lim, sizeof(lim), rate_limit_ms);
	if (move_call(j, "wait", "", lim, &v) == -1)
		return -1;
	j->moved = BULLMQ_MOVED_WAIT;
	j->limit_ttl = v;
	if (j->w != NULL && v > 0)
		j->w->limit_until = bullmq_now() + v;
	if (pttl != NULL)
		*pttl = v;
	return 0;
}

/*
 * Move job j to waiting-children while a child (child_key, a job key
 * "prefix:queue:id", or any when NULL) is pending.  Returns 1 when moved,
 * 0 when no child is pending (the job stays active and runs on), -1 on
 * error (a failed child: script code BULLMQ_JOB_HAS_FAILED_CHILDREN).
 */
int
bullmq_job_move_to_waiting_children(bullmq_job *j, const char *child_key)
{
	long long	v;

	if (move_call(j, "children", child_key != NULL ? child_key : "", "",
	    &v) == -1)
		return -1;
	if (v == 1)
		return 0;
	j->moved = BULLMQ_MOVED_WAITING_CHILDREN;
	return 1;
}

/* How the processor moved job j (BULLMQ_MOVED_*), or 0 when it did not. */
int
bullmq_job_moved(const bullmq_job *j)
{
	return j->moved;
}
