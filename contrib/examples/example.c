/*
 * example.c: a small processor for bullmq-master, loaded with
 *
 *	bullmq-master -q sums -x so:/path/to/libexample.so
 *
 * It sums the array "numbers" of the job's data, so the job
 *
 *	bullmq add sums sum '{"numbers":[1,2,3.5]}'
 *
 * completes with the return value {"sum":6.5,"count":3}.  On the way it
 * reports its progress (0 to 100) and adds one log line to the job.  Data
 * without a "numbers" array of numbers fails the job with a reason that says
 * so, marked unrecoverable because a retry cannot fix the input.
 *
 * It uses only the public API of <bullmq.h>.  Build it with
 *
 *	cc -shared -fPIC -o libexample.so example.c $(pkg-config --cflags bullmq)
 *
 * The JSON reading below is deliberately simple: it finds the first
 * "numbers" key of the data object and reads a flat array of numbers.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* memmem */
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq.h"

#define MAX_NUMBERS	1000000

/* Skip JSON white space. */
static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
	    *p == '\r'))
		p++;
	return p;
}

/*
 * Find the array after the key "numbers" in s[0..len).  Returns a pointer
 * to its '[', or NULL.
 */
static const char *
find_numbers(const char *s, size_t len)
{
	const char	*end = s + len, *p = s, *k;
	static const char key[] = "\"numbers\"";

	while ((k = memmem(p, (size_t)(end - p), key, sizeof(key) - 1)) !=
	    NULL) {
		p = skip_ws(k + sizeof(key) - 1, end);
		if (p < end && *p == ':') {
			p = skip_ws(p + 1, end);
			return p < end && *p == '[' ? p : NULL;
		}
	}
	return NULL;
}

/* Fail the job with reason; returns the failure value of bullmq_process. */
static int
fail(bullmq_job *job, const char *reason)
{
	bullmq_job_log(job, reason);
	bullmq_job_error(job, reason, 1);
	return 1;
}

/*
 * Walk the array at p (its '['), adding its numbers to *sum and counting
 * them.  When total is not 0, report progress each quarter of the way.
 * Returns 0, or -1 when the array is not a flat array of numbers.
 */
static int
walk(bullmq_job *job, const char *p, const char *end, long total,
    double *sum, long *count)
{
	char	*next, progress[16];
	double	 v;
	long	 quarter = 0;

	*sum = 0.0;
	*count = 0;
	p = skip_ws(p + 1, end);
	while (p < end && *p != ']') {
		if (*p != '-' && (*p < '0' || *p > '9'))
			return -1;
		v = strtod(p, &next);
		if (next == p || next > end || !isfinite(v))
			return -1;
		*sum += v;
		if (++*count > MAX_NUMBERS)
			return -1;
		p = skip_ws(next, end);
		if (p < end && *p == ',')
			p = skip_ws(p + 1, end);
		else if (p < end && *p != ']')
			return -1;
		if (total > 0 && *count * 4 / total > quarter) {
			quarter = *count * 4 / total;
			snprintf(progress, sizeof(progress), "%ld",
			    quarter * 25);
			bullmq_job_progress(job, progress);
		}
	}
	return p < end ? 0 : -1;
}

/* Sum data.numbers and return {"sum":S,"count":N}. */
int
bullmq_process(bullmq_job *job)
{
	const char	*data, *p;
	char		 buf[256];
	double		 sum;
	size_t		 len;
	long		 count;
	int		 n;

	if ((data = bullmq_job_data(job, &len)) == NULL)
		return fail(job, "example: the job has no data");
	/* Check and count first, then sum with progress reports. */
	if ((p = find_numbers(data, len)) == NULL ||
	    walk(job, p, data + len, 0, &sum, &count) == -1)
		return fail(job, "example: data.numbers must be an array of "
		    "numbers");
	bullmq_job_progress(job, "0");
	walk(job, p, data + len, count, &sum, &count);
	if (!isfinite(sum))
		return fail(job, "example: the sum is too large");
	snprintf(buf, sizeof(buf), "summed %ld numbers", count);
	bullmq_job_log(job, buf);
	n = snprintf(buf, sizeof(buf), "{\"sum\":%.17g,\"count\":%ld}", sum,
	    count);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return fail(job, "example: result too long");
	if (bullmq_job_return(job, buf, (size_t)n) == -1)
		return fail(job, "example: cannot set the return value");
	return 0;
}
