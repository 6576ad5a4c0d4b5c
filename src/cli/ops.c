/*
 * ops.c: the commands that look at or move one job or a page of jobs by
 * hand (jobs, logs, promote, retry-job), and help.
 *
 * retry-job takes its job as an operand, as get, remove and promote do,
 * rather than an --id option of retry: retry works on a batch of a state
 * (Node's Queue.retryJobs) and retry-job on one job (Job.retry), and the
 * two take different options.
 */
#include <sys/types.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define JOBS_COUNT	100	/* jobs listed when --count is not given */

/* What cb_job needs: the command line and the state listed. */
struct job_list {
	struct cli	*cli;
	const char	*state;
};

/* Write ms since the epoch as ISO 8601 UTC, as JavaScript's toISOString. */
static void
put_time(int64_t ms)
{
	struct tm	tm;
	time_t		t;

	if (ms <= 0) {
		fputs("-", stdout);
		return;
	}
	t = (time_t)(ms / 1000);
	if (gmtime_r(&t, &tm) == NULL) {
		printf("%lld", (long long)ms);
		return;
	}
	printf("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (int)(ms % 1000));
}

/* A job's integer field, or 0 when it has none or it is not a number. */
static int64_t
int_field(const bullmq_job *job, const char *name)
{
	const char	*v, *errstr;
	char		 buf[32];
	size_t		 len;
	long long	 n;

	if ((v = bullmq_job_field(job, name, &len)) == NULL ||
	    len >= sizeof(buf))
		return 0;
	memcpy(buf, v, len);
	buf[len] = '\0';
	n = strtonum(buf, LLONG_MIN, LLONG_MAX, &errstr);
	return errstr != NULL ? 0 : n;
}

/* Write a field's text on one line: control characters as spaces. */
static void
put_field(const bullmq_job *job, const char *name, size_t max)
{
	const char	*v;
	size_t		 len, i;

	if ((v = bullmq_job_field(job, name, &len)) == NULL || len == 0) {
		fputs("-", stdout);
		return;
	}
	for (i = 0; i < len && i < max; i++)
		putchar((unsigned char)v[i] < ' ' ? ' ' : v[i]);
	if (len > max)
		fputs("...", stdout);
}

/* The column that follows ATTEMPTS for a state, or NULL. */
static const char *
state_column(const char *state)
{
	if (strcmp(state, "failed") == 0)
		return "FAILED-REASON";
	if (strcmp(state, "completed") == 0)
		return "FINISHED";
	if (strcmp(state, "delayed") == 0)
		return "DELAYED-UNTIL";
	if (strcmp(state, "active") == 0)
		return "STARTED";
	if (strcmp(state, "prioritized") == 0)
		return "PRIORITY";
	return NULL;
}

/* Print one job of the list: a JSON object or a row of the table. */
static void
cb_job(const bullmq_job *job, int64_t score, void *arg)
{
	struct job_list	*l = arg;
	const char	*name = bullmq_job_name(job);
	const char	*st = l->state;

	if (l->cli->json) {
		put_job_json(job, strcmp(st, "wait") == 0 ? "waiting" : st);
		return;
	}
	printf("%-12s %-20s ", bullmq_job_id(job), name != NULL &&
	    *name != '\0' ? name : "-");
	put_time(bullmq_job_timestamp(job));
	printf(" %4ld/%-4ld", bullmq_job_attempts_made(job),
	    bullmq_job_attempts(job));
	if (strcmp(st, "failed") == 0) {
		putchar(' ');
		put_field(job, "failedReason", 200);
	} else if (strcmp(st, "completed") == 0) {
		putchar(' ');
		put_time(int_field(job, "finishedOn"));
	} else if (strcmp(st, "delayed") == 0) {
		putchar(' ');
		put_time(score / 4096);
	} else if (strcmp(st, "active") == 0) {
		putchar(' ');
		put_time(int_field(job, "processedOn"));
	} else if (strcmp(st, "prioritized") == 0)
		printf(" %lld", (long long)int_field(job, "priority"));
	putchar('\n');
}

/*
 * bullmq jobs QUEUE STATE: a page of the jobs of a state, in the order of
 * Node's getter of that state unless --asc or --desc.
 */
int
cmd_jobs(struct cli *cli, int argc, char **argv)
{
	static const char *const states[] = { "wait", "waiting", "active",
	    "paused", "delayed", "prioritized", "waiting-children",
	    "completed", "failed", NULL };
	struct job_list	 l;
	const char	*col;
	long long	 start = 0, count = JOBS_COUNT;
	int		 asc = 0, desc = 0, i, rv;
	struct cli_opt	 opts[] = {
		OPT_NUM("start", 0, &start, 0, LONG_MAX),
		OPT_NUM("count", 0, &count, 0, LONG_MAX),
		OPT_FLAG("asc", 0, &asc),
		OPT_FLAG("desc", 0, &desc),
		OPT_END
	};

	if ((rv = cli_args(cli, opts, &argc, &argv)) != CLI_GO)
		return rv;
	for (i = 0; states[i] != NULL; i++)
		if (strcmp(argv[1], states[i]) == 0)
			break;
	if (states[i] == NULL)
		return usage_error(cli->cmd, "state %s: expected wait, active, "
		    "paused, delayed, prioritized, waiting-children, completed "
		    "or failed", argv[1]);
	if (asc && desc)
		return usage_error(cli->cmd, "--asc and --desc: give one");
	l.cli = cli;
	l.state = strcmp(argv[1], "waiting") == 0 ? "wait" : argv[1];
	if (open_queue(cli, argv[0]) == -1)
		return 1;
	if (!cli->json) {
		printf("%-12s %-20s %-24s %9s", "ID", "NAME", "TIMESTAMP",
		    "ATTEMPTS");
		if ((col = state_column(l.state)) != NULL)
			printf(" %s", col);
		putchar('\n');
	}
	if (bullmq_get_jobs(cli->q, l.state, (long)start, (long)count,
	    asc ? BULLMQ_ORDER_ASC : desc ? BULLMQ_ORDER_DESC :
	    BULLMQ_ORDER_STATE, cb_job, &l) == -1)
		return queue_fail(cli, "jobs");
	return 0;
}

/* What cb_log needs. */
struct log_list {
	struct cli	*cli;
	long		 n;
};

/* Print one log line: a JSON string of the array, or the line. */
static void
cb_log(const char *line, size_t len, void *arg)
{
	struct log_list	*l = arg;

	if (l->cli->json) {
		if (l->n > 0)
			putchar(',');
		put_jstr(line, len);
	} else {
		fwrite(line, 1, len, stdout);
		putchar('\n');
	}
	l->n++;
}

/* bullmq logs QUEUE ID: a job's log lines, oldest first unless --desc. */
int
cmd_logs(struct cli *cli, int argc, char **argv)
{
	struct log_list	 l;
	bullmq_job	*job;
	long long	 start = 0, count = 0;
	long		 total = 0;
	int		 desc = 0, rv;
	struct cli_opt	 opts[] = {
		OPT_NUM("start", 0, &start, 0, LONG_MAX),
		OPT_NUM("count", 0, &count, 0, LONG_MAX),
		OPT_FLAG("desc", 0, &desc),
		OPT_END
	};

	if ((rv = cli_open(cli, opts, &argc, &argv)) != CLI_GO)
		return rv;
	l.cli = cli;
	l.n = 0;
	if (cli->json)
		fputs("{\"logs\":[", stdout);
	if (bullmq_get_logs(cli->q, argv[1], (long)start, (long)count, desc,
	    cb_log, &l, &total) == -1) {
		if (cli->json)
			putchar('\n');
		return queue_fail(cli, "logs");
	}
	if (total == 0) {
		/* no lines: say so when there is no such job either */
		if ((rv = bullmq_get_job(cli->q, argv[1], &job)) == -1) {
			if (cli->json)
				putchar('\n');
			return queue_fail(cli, "get");
		}
		bullmq_job_free(job);
		if (rv == 0) {
			if (cli->json)
				putchar('\n');
			warnmsg("queue %s: job %s not found", argv[0],
			    argv[1]);
			return 1;
		}
	}
	if (cli->json)
		printf("],\"count\":%ld}\n", total);
	return 0;
}

/* Say what state job id is in, for a refusal; 1 after the message. */
static int
not_in_state(struct cli *cli, const char *id, const char *want,
    const char *what)
{
	char	state[64];

	if (bullmq_errcode(cli->q) != BULLMQ_ERR_JOB)
		return queue_fail(cli, what);
	if (bullmq_script_code(cli->q) == BULLMQ_JOB_NOT_EXIST) {
		warnmsg("queue %s: job %s not found", bullmq_queue_name(cli->q),
		    id);
		return 1;
	}
	if (bullmq_script_code(cli->q) != BULLMQ_JOB_NOT_IN_STATE)
		return queue_fail(cli, what);
	if (bullmq_get_state(cli->q, id, state, sizeof(state)) == -1)
		return queue_fail(cli, "state");
	warnmsg("queue %s: job %s is %s, not %s: not %s",
	    bullmq_queue_name(cli->q), id, state, want,
	    strcmp(what, "promote") == 0 ? "promoted" : "retried");
	return 1;
}

/* Print what was done to a job: a JSON object or a line. */
static void
print_done(struct cli *cli, const char *id, const char *key,
    const char *word)
{
	if (cli->json) {
		fputs("{\"id\":", stdout);
		put_jstr(id, strlen(id));
		printf(",\"%s\":true}\n", key);
	} else
		printf("queue %s job %s %s\n", bullmq_queue_name(cli->q), id,
		    word);
}

/* bullmq promote QUEUE ID: run a delayed job now (Job.promote). */
int
cmd_promote(struct cli *cli, int argc, char **argv)
{
	int	rv;

	if ((rv = cli_open(cli, NULL, &argc, &argv)) != CLI_GO)
		return rv;
	if (bullmq_promote(cli->q, argv[1]) == -1)
		return not_in_state(cli, argv[1], "delayed", "promote");
	print_done(cli, argv[1], "promoted", "promoted");
	return 0;
}

/* Take --state of retry-job: failed or completed. */
static int
opt_state(struct cli *cli, const char *name, const char *arg, void *p)
{
	if (strcmp(arg, "failed") != 0 && strcmp(arg, "completed") != 0) {
		usage_error(cli->cmd, "%s %s: expected failed or completed",
		    name, arg);
		return -1;
	}
	*(const char **)p = arg;
	return 0;
}

/*
 * bullmq retry-job QUEUE ID: move one failed or completed job back to
 * wait (Job.retry); the state is the job's own unless --state says.
 */
int
cmd_retry_job(struct cli *cli, int argc, char **argv)
{
	const char	*state = NULL, *want;
	char		 now[64];
	int		 made = 0, started = 0, rv;
	struct cli_opt	 opts[] = {
		OPT_FN("state", 0, &state, opt_state),
		OPT_FLAG("reset-attempts-made", 0, &made),
		OPT_FLAG("reset-attempts-started", 0, &started),
		OPT_END
	};

	if ((rv = cli_open(cli, opts, &argc, &argv)) != CLI_GO)
		return rv;
	want = state;
	if (state == NULL) {
		if (bullmq_get_state(cli->q, argv[1], now, sizeof(now)) == -1)
			return queue_fail(cli, "state");
		/* not failed either: the script refuses and says so */
		state = strcmp(now, "completed") == 0 ? "completed" : "failed";
		want = "failed or completed";
	}
	if (bullmq_retry_job(cli->q, argv[1], state,
	    (made ? BULLMQ_RESET_ATTEMPTS_MADE : 0) |
	    (started ? BULLMQ_RESET_ATTEMPTS_STARTED : 0)) == -1)
		return not_in_state(cli, argv[1], want, "retry-job");
	print_done(cli, argv[1], "retried", "retried");
	return 0;
}

/* What bullmq help COMMAND prints after the usage line. */
static const struct {
	const char	*name;
	const char	*text;
} helps[] = {
	{ "add", "Add one job and print its id.  DATA is JSON (default {}; - "
	    "reads stdin).\n"
	    "  --delay MS                 run no sooner than MS ms from now\n"
	    "  --priority N               1 (first) to 2097151; 0: none\n"
	    "  --attempts N               run up to N times when it fails\n"
	    "  --backoff KIND:MS          delay before a retry: fixed or "
	    "exponential\n"
	    "  --job-id ID                a custom job id\n"
	    "  --lifo                     run before the jobs already waiting\n"
	    "  --remove-on-complete KEEP  true, false or N jobs kept\n"
	    "  --remove-on-fail KEEP      true, false or N jobs kept\n"
	    "  --opts JSON                Node's job options as JSON\n" },
	{ "add-bulk", "Add the jobs of stdin, one JSON object a line "
	    "({name, data, opts}).\n"
	    "  --batch N                  jobs per round trip\n"
	    "  --skip-bad                 report a bad line and go on\n" },
	{ "counts", "Print the number of jobs in each state; fails when the "
	    "queue\ndoes not exist (no meta, id or state key).\n" },
	{ "get", "Print a job's state and the fields of its hash.\n" },
	{ "remove", "Delete one job, whatever its state, unless a worker "
	    "holds its lock.\n" },
	{ "pause", "Pause the queue: workers take no new job.\n" },
	{ "resume", "Resume a paused queue.\n" },
	{ "retry", "Move failed (or completed) jobs back to wait, as "
	    "Queue.retryJobs.\n"
	    "  --state failed|completed   the jobs to retry (default failed)\n"
	    "  --count N                  at most N jobs\n" },
	{ "retry-job", "Move one failed or completed job back to wait, as "
	    "Job.retry;\nits attempts are kept unless reset.\n"
	    "  --state failed|completed   the state it must be in (default: "
	    "its own)\n"
	    "  --reset-attempts-made      start attemptsMade from 0 again\n"
	    "  --reset-attempts-started   start attemptsStarted from 0 "
	    "again\n" },
	{ "promote", "Move a delayed job to wait (or prioritized) now, as "
	    "Job.promote.\n" },
	{ "jobs", "List a page of the jobs of STATE: wait, active, paused, "
	    "delayed,\nprioritized, waiting-children, completed or failed.  "
	    "Completed and failed\njobs come newest first, the others in the "
	    "order they will run, as\nNode's getters (getCompleted, "
	    "getWaiting, ...) give them.\n"
	    "  --start N                  skip the first N jobs\n"
	    "  --count N                  at most N jobs (default 100; 0: "
	    "all)\n"
	    "  --asc | --desc             as Node's getJobs(..., asc)\n" },
	{ "logs", "Print a job's log lines, oldest first, as "
	    "Queue.getJobLogs.\n"
	    "  --start N                  skip the first N lines\n"
	    "  --count N                  at most N lines (default 0: all)\n"
	    "  --desc                     newest first\n" },
	{ "clean", "Delete the jobs of STATE finished (or added) more than "
	    "--grace ms ago.\n"
	    "  --grace MS                 keep the younger ones\n"
	    "  --limit N                  at most N jobs (0: all)\n" },
	{ "drain", "Delete the jobs waiting to run.\n"
	    "  --delayed                  the delayed ones too\n" },
	{ "obliterate", "Delete the queue and all its jobs.\n"
	    "  --force                    even with active jobs\n" },
	{ "events", "Print the event stream, one JSON object a line.\n"
	    "  --from ID                  after this entry (default: all)\n"
	    "  -f, --follow               wait for new entries\n" },
	{ "workers", "List the worker connections of the queue.\n" },
	{ "bench", "Add N small jobs and print the rate.\n"
	    "  -n N                       how many jobs\n"
	    "  --batch N                  jobs per round trip\n" },
	{ "cron", "Print the next times a cron pattern fires (no Redis).\n"
	    "  --tz TZ                    time zone\n"
	    "  --seed S                   for the random fields\n"
	    "  --after MS                 start after this time\n"
	    "  -n N                       how many times\n" },
	{ "help", "Print the usage and options of a command, or the "
	    "commands.\n" },
	{ NULL, NULL }
};

/* bullmq help [COMMAND]: the commands, or one command's usage. */
int
cmd_help(struct cli *cli, int argc, char **argv)
{
	const struct command	*c;
	int			 i, rv;

	if ((rv = cli_args(cli, NULL, &argc, &argv)) != CLI_GO)
		return rv;
	if (argc == 0) {
		usage_to(stdout, NULL);
		return 0;
	}
	if ((c = find_command(argv[0])) == NULL)
		return usage_error(cli->cmd, "unknown command: %s", argv[0]);
	usage_to(stdout, c);
	for (i = 0; helps[i].name != NULL; i++)
		if (strcmp(helps[i].name, c->name) == 0) {
			fputs(helps[i].text, stdout);
			break;
		}
	printf("common options: -r URL, --prefix P, --json, -h; see "
	    "bullmq(1)\n");
	return 0;
}
