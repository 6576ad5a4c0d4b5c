/*
 * metrics.c: the master's counters and gauges, served as Prometheus text
 * (httpd.c) and sent as StatsD lines over UDP.  The children report each
 * job's outcome and duration in the message they send for it anyway
 * (MSG_DONE, MSG_NEXT); the master counts, and reads the queue's counts
 * from Redis every COUNTS_MS at most, never for a scrape.  StatsD lines
 * are batched into datagrams sent once a second or when one is full.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "master.h"
#include "buf.h"

#define COUNTS_MS	5000	/* the queue's counts are this old at most */
#define FLUSH_MS	1000	/* StatsD: counters sent so often */
#define DGRAM_MAX	1400	/* StatsD: bytes in one datagram */

/* The bounds of the job duration histogram, in microseconds. */
static const int64_t	bounds_us[] = {
	1000, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
	2500000, 5000000, 10000000, 30000000, 60000000, 300000000
};
#define NBOUNDS	(sizeof(bounds_us) / sizeof(bounds_us[0]))

static const char *const outcome_names[] = {
	"completed", "failed", "retried", "stalled", "given_back",
	"timed_out", "lost_lock", "moved"
};
static const char *const exit_names[] = {
	"recycled", "exit", "signal", "timeout"
};

static struct {
	uint64_t	 jobs[MO_COUNT];
	uint64_t	 exits[ME_COUNT];
	uint64_t	 hist[NBOUNDS + 1];	/* by bucket, not cumulative */
	uint64_t	 hist_n;
	int64_t		 hist_sum_us;
	uint64_t	 redis_errors, redis_reconnects;
	/* StatsD */
	int		 fd;		/* -1: off */
	uint64_t	 sent[MO_COUNT];	/* jobs[] at the last flush */
	uint64_t	 sent_exits;
	char		 dgram[DGRAM_MAX];
	size_t		 dlen;
	int64_t		 next_flush, next_counts;
} MT = { .fd = -1 };

_Static_assert(sizeof(outcome_names) / sizeof(outcome_names[0]) == MO_COUNT,
    "a name for each outcome");
_Static_assert(sizeof(exit_names) / sizeof(exit_names[0]) == ME_COUNT,
    "a name for each exit");

/* Send the lines gathered for StatsD. */
static void
statsd_send(void)
{
	if (MT.fd != -1 && MT.dlen > 0)
		(void)send(MT.fd, MT.dgram, MT.dlen, MSG_DONTWAIT);
	MT.dlen = 0;
}

/* Add one StatsD line, sending the datagram first when it is full. */
static void
statsd_line(const char *name, long long v, const char *type)
{
	char	l[128];
	int	n;

	if (MT.fd == -1)
		return;
	n = snprintf(l, sizeof(l), "%s:%lld|%s\n", name, v, type);
	if (n < 0 || (size_t)n >= sizeof(l))
		return;
	if (MT.dlen + (size_t)n > sizeof(MT.dgram))
		statsd_send();
	memcpy(MT.dgram + MT.dlen, l, (size_t)n);
	MT.dlen += (size_t)n;
}

/*
 * Count a job of a child's MSG_DONE or MSG_NEXT: status is its outcome
 * (-1: it could not be finished, the master gives it back), took_us how
 * long its processor ran.
 */
void
metrics_job(int status, int64_t took_us)
{
	size_t	i;

	switch (status) {
	case BULLMQ_COMPLETED:
		MT.jobs[MO_COMPLETED]++;
		break;
	case BULLMQ_FAILED:
		MT.jobs[MO_FAILED]++;
		break;
	case BULLMQ_RETRIED:
	case BULLMQ_DELAYED:
		MT.jobs[MO_RETRIED]++;
		break;
	case BULLMQ_LOST_LOCK:
		MT.jobs[MO_LOST_LOCK]++;
		break;
	case BULLMQ_MOVED:
		MT.jobs[MO_MOVED]++;
		break;
	default:
		return;
	}
	if (took_us <= 0)
		return;
	for (i = 0; i < NBOUNDS && took_us > bounds_us[i]; i++)
		;
	MT.hist[i]++;
	MT.hist_n++;
	MT.hist_sum_us += took_us;
	statsd_line("bullmq.job.duration", (took_us + 500) / 1000, "ms");
}

/* Count n jobs of outcome o the master itself saw. */
void
metrics_outcome(enum metrics_outcome o, unsigned long n)
{
	MT.jobs[o] += n;
}

/* Count a child that ended and will be replaced, for reason e. */
void
metrics_exit(enum metrics_exit e)
{
	MT.exits[e]++;
}

/* Count a failed call to Redis (ok 0) or a call that worked after one. */
void
metrics_redis(int ok)
{
	if (ok)
		MT.redis_reconnects++;
	else
		MT.redis_errors++;
}

/* One Prometheus metric's HELP and TYPE lines. */
static void
head(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The job duration histogram, in seconds. */
static void
histogram(struct buf *b)
{
	uint64_t	sum = 0;
	size_t		i;

	head(b, "bullmq_master_job_duration_seconds", "histogram",
	    "How long the processors ran the jobs.");
	for (i = 0; i < NBOUNDS; i++) {
		sum += MT.hist[i];
		buf_addf(b, "bullmq_master_job_duration_seconds_bucket"
		    "{le=\"%g\"} %llu\n", (double)bounds_us[i] / 1e6,
		    (unsigned long long)sum);
	}
	buf_addf(b, "bullmq_master_job_duration_seconds_bucket{le=\"+Inf\"} "
	    "%llu\n", (unsigned long long)MT.hist_n);
	buf_addf(b, "bullmq_master_job_duration_seconds_sum %.6f\n",
	    (double)MT.hist_sum_us / 1e6);
	buf_addf(b, "bullmq_master_job_duration_seconds_count %llu\n",
	    (unsigned long long)MT.hist_n);
}

/* Write every metric in Prometheus's text format into b. */
void
metrics_text(struct buf *b)
{
	struct bullmq_counts	 k;
	struct child		*c;
	int64_t			 at;
	size_t			 i, busy = 0;

	head(b, "bullmq_master_jobs_total", "counter",
	    "Jobs the workers finished, by outcome.");
	for (i = 0; i < MO_COUNT; i++)
		buf_addf(b, "bullmq_master_jobs_total{outcome=\"%s\"} %llu\n",
		    outcome_names[i], (unsigned long long)MT.jobs[i]);
	histogram(b);
	TAILQ_FOREACH(c, &M.children, entry)
		if (c->state == CS_BUSY)
			busy++;
	head(b, "bullmq_master_workers_wanted", "gauge",
	    "Worker children wanted.");
	buf_addf(b, "bullmq_master_workers_wanted %zu\n", wanted_count());
	head(b, "bullmq_master_workers_running", "gauge",
	    "Worker children running.");
	buf_addf(b, "bullmq_master_workers_running %zu\n", M.nchildren);
	head(b, "bullmq_master_workers_busy", "gauge",
	    "Worker children running a job.");
	buf_addf(b, "bullmq_master_workers_busy %zu\n", busy);
	head(b, "bullmq_master_restarts_total", "counter",
	    "Children that ended and were replaced, by reason.");
	for (i = 0; i < ME_COUNT; i++)
		buf_addf(b, "bullmq_master_restarts_total{reason=\"%s\"} "
		    "%llu\n", exit_names[i], (unsigned long long)MT.exits[i]);
	head(b, "bullmq_master_redis_errors_total", "counter",
	    "Calls to Redis that failed, the master's and the children's.");
	buf_addf(b, "bullmq_master_redis_errors_total %llu\n",
	    (unsigned long long)MT.redis_errors);
	head(b, "bullmq_master_redis_reconnects_total", "counter",
	    "Times Redis answered again after a failure.");
	buf_addf(b, "bullmq_master_redis_reconnects_total %llu\n",
	    (unsigned long long)MT.redis_reconnects);
	head(b, "bullmq_master_redis_up", "gauge",
	    "Whether Redis answered the master's last call.");
	buf_addf(b, "bullmq_master_redis_up %d\n", keeper_up());
	if (keeper_counts(&k, &at) == -1)
		return;
	head(b, "bullmq_master_queue_jobs", "gauge",
	    "Jobs of the queue by state, read every few seconds.");
	buf_addf(b, "bullmq_master_queue_jobs{state=\"wait\"} %ld\n"
	    "bullmq_master_queue_jobs{state=\"active\"} %ld\n"
	    "bullmq_master_queue_jobs{state=\"delayed\"} %ld\n"
	    "bullmq_master_queue_jobs{state=\"prioritized\"} %ld\n"
	    "bullmq_master_queue_jobs{state=\"completed\"} %ld\n"
	    "bullmq_master_queue_jobs{state=\"failed\"} %ld\n"
	    "bullmq_master_queue_jobs{state=\"waiting_children\"} %ld\n"
	    "bullmq_master_queue_jobs{state=\"paused\"} %ld\n",
	    k.wait, k.active, k.delayed, k.prioritized, k.completed, k.failed,
	    k.waiting_children, k.paused);
	head(b, "bullmq_master_queue_counts_age_seconds", "gauge",
	    "How old the queue's job counts are.");
	buf_addf(b, "bullmq_master_queue_counts_age_seconds %.3f\n",
	    (double)(bullmq_mono_ms() - at) / 1000);
}

/* Send StatsD where the settings say ("": nowhere); -1 when impossible. */
int
metrics_statsd(const struct settings *s)
{
	struct sockaddr_storage	sa;
	socklen_t		len;
	char			err[256];
	int			fd;

	if (MT.fd != -1)
		close(MT.fd);
	MT.fd = -1;
	MT.dlen = 0;
	if (s->statsd[0] == '\0')
		return 0;
	if (addr_parse(s->statsd, 0, &sa, &len, err, sizeof(err)) == -1) {
		log_warnx("statsd: %s", err);
		return -1;
	}
	if ((fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sa, len) == -1) {
		log_warn("statsd %s", s->statsd);
		if (fd != -1)
			close(fd);
		return -1;
	}
	MT.fd = fd;
	memcpy(MT.sent, MT.jobs, sizeof(MT.sent));
	return 0;
}

/* The counters that changed since the last flush, and the gauges. */
static void
statsd_flush(void)
{
	static const char *const names[] = {
		"bullmq.job.completed", "bullmq.job.failed",
		"bullmq.job.retried", "bullmq.worker.stalled",
		"bullmq.job.given_back", "bullmq.job.timed_out",
		"bullmq.job.lost_lock", "bullmq.job.moved"
	};
	struct child	*c;
	uint64_t	 exits = 0;
	size_t		 i, busy = 0;

	for (i = 0; i < MO_COUNT; i++) {
		if (MT.jobs[i] != MT.sent[i])
			statsd_line(names[i], (long long)(MT.jobs[i] -
			    MT.sent[i]), "c");
		MT.sent[i] = MT.jobs[i];
	}
	for (i = 0; i < ME_COUNT; i++)
		exits += MT.exits[i];
	if (exits != MT.sent_exits)
		statsd_line("bullmq.worker.restarted",
		    (long long)(exits - MT.sent_exits), "c");
	MT.sent_exits = exits;
	TAILQ_FOREACH(c, &M.children, entry)
		if (c->state == CS_BUSY)
			busy++;
	statsd_line("bullmq.workers.running", (long long)M.nchildren, "g");
	statsd_line("bullmq.workers.busy", (long long)busy, "g");
	statsd_send();
}

/*
 * The timer of the metrics: StatsD each FLUSH_MS, and the queue's counts
 * each COUNTS_MS while anyone reads metrics.
 */
void
metrics_tick(int64_t now)
{
	if (MT.fd != -1 && now >= MT.next_flush) {
		MT.next_flush = now + FLUSH_MS;
		statsd_flush();
	}
	if ((MT.fd != -1 || M.set.metrics_listen[0] != '\0') &&
	    now >= MT.next_counts && M.stopping == STOP_NONE) {
		MT.next_counts = now + COUNTS_MS;
		keeper_refresh(now);
	}
}

/* Send what is left and close the socket. */
void
metrics_close(void)
{
	if (MT.fd == -1)
		return;
	statsd_flush();
	close(MT.fd);
	MT.fd = -1;
}
