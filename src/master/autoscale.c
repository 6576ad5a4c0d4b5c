/*
 * autoscale.c: how many children the autoscaler wants, a pure function of
 * what the master sees: the wanted count and its bounds, the queue's
 * backlog (from the counts the master reads at most once a second) and how
 * long it has lasted, and the children that idle.
 *
 * It grows fast and shrinks slowly, which is its hysteresis: a backlog
 * older than autoscale-wait with no child idle adds children, at most
 * doubling them a step and one step a second; children go only when no job
 * waits, autoscale-idle after the last growth, and only those that idled
 * that long themselves.
 */
#include <stdint.h>

#include "daemon.h"

#define AUTOSCALE_STEP_MS	1000	/* between two growths */

/*
 * The number of children wanted next (in->wanted when nothing changes),
 * always within in->min and in->max; *why says what decided, or NULL.
 */
long
autoscale_decide(const struct autoscale_in *in, const char **why)
{
	long	add, n;

	*why = NULL;
	if (in->wanted < in->min) {
		*why = "below the autoscale minimum";
		return in->min;
	}
	if (in->wanted > in->max) {
		*why = "above the autoscale maximum";
		return in->max;
	}
	if (in->backlog > 0) {
		if (in->backlog_ms < in->wait_ms || in->idle_now > 0 ||
		    in->wanted >= in->max ||
		    in->since_change_ms < AUTOSCALE_STEP_MS)
			return in->wanted;
		add = in->wanted > 0 ? in->wanted : 1;
		if (add > in->backlog)
			add = in->backlog;
		if (add > in->max - in->wanted)
			add = in->max - in->wanted;
		*why = "jobs wait";
		return in->wanted + add;
	}
	if (in->idle_long == 0 || in->wanted <= in->min ||
	    in->since_grow_ms < in->idle_ms)
		return in->wanted;
	n = in->wanted - in->idle_long;
	*why = "children idle";
	return n < in->min ? in->min : n;
}
