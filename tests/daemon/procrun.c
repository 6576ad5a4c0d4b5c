/*
 * procrun.c: run processors on real jobs for tests/daemon/cli-processor.sh.
 *
 *	procrun SPEC				load SPEC only
 *	procrun SPEC URL QUEUE ID		run SPEC on job ID, write nothing
 *	procrun -w SPEC URL QUEUE		fetch one job as a worker, run
 *						SPEC on it and finish it
 *
 * Prints one JSON line: {"status":"completed","returnvalue":...} or
 * {"status":"failed","reason":"..."}, and with -w a second line
 * {"outcome":"..."} saying what bullmq_worker_finish made of it.  Exits 0
 * when the processor ran, 1 on a Redis error, 2 when SPEC does not load
 * (with the message on stderr), 3 when there was no job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "daemon.h"

/* Print the verdict of the processor on job as one JSON line. */
static void
print_verdict(bullmq_job *job, int rv)
{
	struct buf	 b;
	const char	*s;
	size_t		 len;

	buf_init(&b);
	if (rv == 0) {
		buf_adds(&b, "{\"status\":\"completed\",\"returnvalue\":");
		if ((s = bullmq_job_result(job, &len)) != NULL)
			buf_add(&b, s, len);
		else
			buf_adds(&b, "null");
	} else {
		buf_adds(&b, "{\"status\":\"failed\",\"reason\":");
		if ((s = bullmq_job_reason(job, NULL)) == NULL)
			s = "failed";
		buf_add_jstr(&b, s, strlen(s));
	}
	buf_adds(&b, "}");
	if ((s = buf_cstr(&b)) != NULL)
		puts(s);
	buf_free(&b);
}

/* Name an outcome of bullmq_worker_finish. */
static const char *
outcome_name(enum bullmq_outcome o)
{
	switch (o) {
	case BULLMQ_COMPLETED:
		return "completed";
	case BULLMQ_FAILED:
		return "failed";
	case BULLMQ_RETRIED:
		return "retried";
	case BULLMQ_DELAYED:
		return "delayed";
	case BULLMQ_LOST_LOCK:
		return "lost-lock";
	case BULLMQ_MOVED:
		return "moved";
	}
	return "unknown";
}

int
main(int argc, char *argv[])
{
	struct bullmq_conn_opts		 co;
	struct bullmq_worker_opts	 wo;
	struct processor		*p;
	bullmq_queue			*q = NULL;
	bullmq_worker			*w = NULL;
	bullmq_job			*job = NULL;
	enum bullmq_outcome		 outcome = 0;
	char				 err[512];
	int				 worker = 0, r, rv;

	if (argc > 1 && strcmp(argv[1], "-w") == 0) {
		worker = 1;
		argc--;
		argv++;
	}
	if (argc != 2 && !(argc == 5 && !worker) && !(argc == 4 && worker)) {
		fprintf(stderr, "usage: procrun SPEC [URL QUEUE ID]\n"
		    "       procrun -w SPEC URL QUEUE\n");
		return 64;
	}
	if ((p = processor_load(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "procrun: %s\n", err);
		return 2;
	}
	if (argc == 2) {
		processor_free(p);
		return 0;
	}
	memset(&co, 0, sizeof(co));
	co.url = argv[2];
	co.queue = argv[3];
	rv = 1;
	if ((q = bullmq_queue_new(&co)) == NULL ||
	    bullmq_queue_connect(q) == -1) {
		fprintf(stderr, "procrun: %s\n", q != NULL ?
		    bullmq_errstr(q) : "out of memory");
		goto out;
	}
	if (worker) {
		memset(&wo, 0, sizeof(wo));
		wo.name = "procrun";
		if ((w = bullmq_worker_new(q, &wo)) == NULL ||
		    (r = bullmq_worker_try_fetch(w, &job)) == -1) {
			fprintf(stderr, "procrun: %s\n", bullmq_errstr(q));
			goto out;
		}
	} else if ((r = bullmq_get_job(q, argv[4], &job)) == -1) {
		fprintf(stderr, "procrun: %s\n", bullmq_errstr(q));
		goto out;
	}
	if (r == 0) {
		fprintf(stderr, "procrun: no job\n");
		rv = 3;
		goto out;
	}
	r = processor_run(p, job);
	print_verdict(job, r);
	if (worker) {
		fflush(stdout);
		if (bullmq_worker_finish(w, job, r != 0, &outcome,
		    NULL) == -1) {
			fprintf(stderr, "procrun: finish: %s\n",
			    bullmq_errstr(q));
			goto out;
		}
		printf("{\"outcome\":\"%s\"}\n", outcome_name(outcome));
	} else
		bullmq_job_free(job);
	rv = 0;
out:
	bullmq_worker_free(w);
	processor_free(p);
	bullmq_queue_free(q);
	return rv;
}
