/*
 * scheduler.c: "bullmq scheduler upsert|list|get|remove", job schedulers
 * as Node's Queue.upsertJobScheduler, getJobSchedulers, getJobScheduler
 * and removeJobScheduler make and read them.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq.h"
#include "cli.h"

static int	sched_upsert(struct cli *, int, char **);
static int	sched_list(struct cli *, int, char **);
static int	sched_get(struct cli *, int, char **);
static int	sched_remove(struct cli *, int, char **);

static const struct command subs[] = {
	{ "scheduler upsert", sched_upsert, 2, 2, "QUEUE ID",
	    "QUEUE ID --every MS | --pattern P [--tz TZ] [--hash-seed S]\n\t"
	    "[--name N] "
	    "[--data JSON] [--opts JSON] [--limit N] [--offset MS]\n\t"
	    "[--start-date MS] [--end-date MS] [--immediately]" },
	{ "scheduler list", sched_list, 1, 1, "QUEUE",
	    "QUEUE [--start N] [--end N] [--asc]" },
	{ "scheduler get", sched_get, 2, 2, "QUEUE ID", "QUEUE ID" },
	{ "scheduler remove", sched_remove, 2, 2, "QUEUE ID", "QUEUE ID" },
	{ NULL, NULL, 0, 0, NULL, NULL }
};

/* bullmq scheduler SUB ...: run the subcommand SUB. */
int
cmd_scheduler(struct cli *cli, int argc, char **argv)
{
	const struct command	*c;
	size_t			 len = strlen("scheduler ");

	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
		    strcmp(argv[1], "--help") == 0)) {
			for (c = subs; c->name != NULL; c++)
				usage_to(stdout, c);
			return 0;
		}
		return usage_error(cli->cmd, "expected upsert, list, get or "
		    "remove");
	}
	for (c = subs; c->name != NULL; c++)
		if (strcmp(c->name + len, argv[1]) == 0)
			break;
	if (c->name == NULL)
		return usage_error(cli->cmd, "unknown subcommand: %s",
		    argv[1]);
	cli->cmd = c;
	return c->fn(cli, argc - 1, argv + 1);
}

/* Print a millisecond time field of a JSON object when set. */
static void
put_ms(const char *name, int64_t v)
{
	if (v != 0)
		printf(",\"%s\":%" PRId64, name, v);
}

/* Print a scheduler as Node's getJobScheduler answers it (JSON). */
static void
put_json(const struct bullmq_scheduler *s)
{
	fputs("{\"key\":", stdout);
	put_jstr(s->id, strlen(s->id));
	fputs(",\"name\":", stdout);
	if (s->name != NULL)
		put_jstr(s->name, strlen(s->name));
	else
		fputs("null", stdout);
	printf(",\"next\":%" PRId64 ",\"iterationCount\":%ld", s->next,
	    s->iteration_count);
	if (s->limit != 0)
		printf(",\"limit\":%ld", s->limit);
	put_ms("startDate", s->start_date);
	put_ms("endDate", s->end_date);
	if (s->tz != NULL) {
		fputs(",\"tz\":", stdout);
		put_jstr(s->tz, strlen(s->tz));
	}
	if (s->pattern != NULL) {
		fputs(",\"pattern\":", stdout);
		put_jstr(s->pattern, strlen(s->pattern));
	}
	put_ms("every", s->every);
	put_ms("offset", s->offset);
	if (s->data != NULL || s->opts != NULL) {
		fputs(",\"template\":{", stdout);
		if (s->data != NULL)
			printf("\"data\":%s", s->data);
		if (s->opts != NULL)
			printf("%s\"opts\":%s", s->data != NULL ? "," : "",
			    s->opts);
		fputs("}", stdout);
	}
	fputs("}", stdout);
}

/* Print a scheduler as one line of text. */
static void
put_text(const struct bullmq_scheduler *s)
{
	printf("%s\tnext %" PRId64 "\t", s->id, s->next);
	if (s->pattern != NULL)
		printf("pattern %s%s%s", s->pattern, s->tz != NULL ? " tz " :
		    "", s->tz != NULL ? s->tz : "");
	else
		printf("every %" PRId64, s->every);
	printf("\tname %s\titerations %ld", s->name != NULL ? s->name : "",
	    s->iteration_count);
	if (s->limit != 0)
		printf("/%ld", s->limit);
	putchar('\n');
}

/*
 * bullmq scheduler upsert QUEUE ID --every MS | --pattern P ...: create or
 * update the scheduler and print its current iteration's job id.
 */
static int
sched_upsert(struct cli *cli, int argc, char **argv)
{
	struct bullmq_scheduler_opts	 so;
	const char			*pattern = NULL, *tz = NULL;
	const char			*seed = NULL;
	const char			*name = NULL, *data = NULL, *opts = NULL;
	long long			 every = 0, limit = 0, offset = 0;
	long long			 start = 0, end = 0;
	int				 immediately = 0, r;
	struct cli_opt			 o[] = {
		OPT_NUM("every", 0, &every, 1, INT64_C(1) << 40),
		OPT_STR("pattern", 0, &pattern),
		OPT_STR("tz", 0, &tz),
		OPT_STR("hash-seed", 0, &seed),
		OPT_STR("name", 0, &name),
		OPT_STR("data", 0, &data),
		OPT_STR("opts", 0, &opts),
		OPT_NUM("limit", 0, &limit, 1, INT32_MAX),
		OPT_NUM("offset", 0, &offset, 0, INT64_C(1) << 40),
		OPT_NUM("start-date", 0, &start, 1, INT64_C(1) << 50),
		OPT_NUM("end-date", 0, &end, 1, INT64_C(1) << 50),
		OPT_FLAG("immediately", 0, &immediately),
		OPT_END
	};
	char				 jobid[BULLMQ_MAX_ID + 64];

	if ((r = cli_args(cli, o, &argc, &argv)) != CLI_GO)
		return r;
	if ((every != 0) == (pattern != NULL))
		return usage_error(cli->cmd, "give either --every or "
		    "--pattern");
	if (open_queue(cli, argv[0]) == -1)
		return 1;
	memset(&so, 0, sizeof(so));
	so.every = every;
	so.pattern = pattern;
	so.tz = tz;
	so.hash_seed = seed;
	so.start_date = start;
	so.end_date = end;
	so.limit = (long)limit;
	so.offset = offset;
	so.immediately = immediately;
	so.name = name;
	so.data = data;
	so.opts = opts;
	if ((r = bullmq_scheduler_upsert(cli->q, argv[1], &so, jobid,
	    sizeof(jobid))) == -1)
		return queue_fail(cli, "scheduler upsert");
	if (r == 0) {
		warnmsg("scheduler %s: the pattern has no time before the end "
		    "date: nothing created", argv[1]);
		return 1;
	}
	if (cli->json) {
		fputs("{\"key\":", stdout);
		put_jstr(argv[1], strlen(argv[1]));
		fputs(",\"jobId\":", stdout);
		put_jstr(jobid, strlen(jobid));
		puts("}");
	} else
		printf("queue %s scheduler %s: job %s\n", argv[0], argv[1],
		    jobid);
	return 0;
}

/* bullmq scheduler list QUEUE: the schedulers, latest next time first. */
static int
sched_list(struct cli *cli, int argc, char **argv)
{
	struct bullmq_scheduler	*s;
	long long		 start = 0, end = -1;
	int			 asc = 0, r;
	long			 n, i;
	struct cli_opt		 o[] = {
		OPT_NUM("start", 0, &start, 0, INT32_MAX),
		OPT_NUM("end", 0, &end, -1, INT32_MAX),
		OPT_FLAG("asc", 0, &asc),
		OPT_END
	};

	if ((r = cli_open(cli, o, &argc, &argv)) != CLI_GO)
		return r;
	if ((n = bullmq_scheduler_list(cli->q, (long)start, (long)end, asc,
	    &s)) == -1)
		return queue_fail(cli, "scheduler list");
	if (cli->json)
		fputs("[", stdout);
	for (i = 0; i < n; i++) {
		if (cli->json) {
			if (i > 0)
				fputs(",", stdout);
			put_json(&s[i]);
		} else
			put_text(&s[i]);
	}
	if (cli->json)
		puts("]");
	bullmq_schedulers_free(s, n);
	return 0;
}

/* bullmq scheduler get QUEUE ID: one scheduler; exit 1 when none. */
static int
sched_get(struct cli *cli, int argc, char **argv)
{
	struct bullmq_scheduler	*s;
	int			 r;

	if ((r = cli_open(cli, NULL, &argc, &argv)) != CLI_GO)
		return r;
	if ((r = bullmq_scheduler_get(cli->q, argv[1], &s)) == -1)
		return queue_fail(cli, "scheduler get");
	if (r == 0) {
		warnmsg("queue %s: no scheduler %s", argv[0], argv[1]);
		return 1;
	}
	if (cli->json) {
		put_json(s);
		putchar('\n');
	} else
		put_text(s);
	bullmq_schedulers_free(s, 1);
	return 0;
}

/* bullmq scheduler remove QUEUE ID; a missing one is not an error. */
static int
sched_remove(struct cli *cli, int argc, char **argv)
{
	int	r;

	if ((r = cli_open(cli, NULL, &argc, &argv)) != CLI_GO)
		return r;
	if ((r = bullmq_scheduler_remove(cli->q, argv[1])) == -1)
		return queue_fail(cli, "scheduler remove");
	if (cli->json) {
		fputs("{\"key\":", stdout);
		put_jstr(argv[1], strlen(argv[1]));
		printf(",\"removed\":%s}\n", r ? "true" : "false");
	} else if (r)
		printf("queue %s scheduler %s removed\n", argv[0], argv[1]);
	else
		printf("queue %s: no scheduler %s, nothing to remove\n",
		    argv[0], argv[1]);
	return 0;
}
