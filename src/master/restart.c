/*
 * restart.c: the restart policy.  A history of recent restart times and one
 * pure function decide, when a child dies unexpectedly, whether to restart
 * it now, after a back-off, or to give up (more than max-restarts restarts
 * within max-seconds, the OTP supervisor rule).
 */
#include <stdint.h>
#include <stdlib.h>

#include "daemon.h"

/* Make an empty history that remembers max_restarts + 1 restarts. */
int
restart_hist_init(struct restart_hist *h, long max_restarts)
{
	h->cap = (size_t)(max_restarts < 0 ? 0 : max_restarts) + 1;
	h->n = h->head = 0;
	if ((h->times = calloc(h->cap, sizeof(*h->times))) == NULL) {
		h->cap = 0;
		return -1;
	}
	return 0;
}

/* Free a history; its struct may be reused with restart_hist_init. */
void
restart_hist_free(struct restart_hist *h)
{
	free(h->times);
	h->times = NULL;
	h->cap = h->n = h->head = 0;
}

/* Remember a restart at time now (ms); the oldest is forgotten when full. */
void
restart_record(struct restart_hist *h, int64_t now)
{
	if (h->cap == 0)
		return;
	h->times[h->head] = now;
	h->head = (h->head + 1) % h->cap;
	if (h->n < h->cap)
		h->n++;
}

/* How many remembered restarts happened in (now - window, now]. */
size_t
restart_count(const struct restart_hist *h, int64_t now, int64_t window)
{
	size_t	i, c = 0;

	for (i = 0; i < h->n; i++)
		if (h->times[i] > now - window && h->times[i] <= now)
			c++;
	return c;
}

/*
 * Decide about a child that died unexpectedly at now, after `quick`
 * consecutive quick deaths in its slot (this one included; 0 when it had
 * lived long).  Gives up when max_restarts restarts already happened within
 * window ms; otherwise restarts at once, or after a back-off doubling from
 * RESTART_BACKOFF_MIN up to RESTART_BACKOFF_MAX from the second quick death
 * on, stored in *delay.  Changes nothing.
 */
enum restart_action
restart_decide(const struct restart_hist *h, long max_restarts,
    int64_t window, int quick, int64_t now, int64_t *delay)
{
	int64_t	d;
	int	i;

	*delay = 0;
	if ((long)restart_count(h, now, window) >= max_restarts)
		return RESTART_GIVE_UP;
	if (quick <= 1)
		return RESTART_NOW;
	d = RESTART_BACKOFF_MIN;
	for (i = 2; i < quick && d < RESTART_BACKOFF_MAX; i++)
		d *= 2;
	*delay = d > RESTART_BACKOFF_MAX ? RESTART_BACKOFF_MAX : d;
	return RESTART_LATER;
}
