/*
 * main.c: main of bullmq, the command line for producers and operators,
 * and its commands but those that add jobs (add.c) and those that look at
 * or move jobs one by one (ops.c).
 *
 * Every command works on one queue through the public API of bullmq.h
 * alone.  A command declares its options in a table of struct cli_opt and
 * calls cli_open, which parses them with the common ones, checks the number
 * of operands and connects to the queue (or cli_args, which does not
 * connect, when the command has more to check first).  Exit statuses: 0
 * success, 1 failure (Redis, a job, bad input), 64 a malformed command line
 * (EX_USAGE).
 */
#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"

#define MAX_OPTS	16	/* common ones included */

static int	cmd_counts(struct cli *, int, char **);
static int	cmd_get(struct cli *, int, char **);
static int	cmd_remove(struct cli *, int, char **);
static int	cmd_pause(struct cli *, int, char **);
static int	cmd_retry(struct cli *, int, char **);
static int	cmd_clean(struct cli *, int, char **);
static int	cmd_drain(struct cli *, int, char **);
static int	cmd_obliterate(struct cli *, int, char **);
static int	cmd_events(struct cli *, int, char **);
static int	cmd_workers(struct cli *, int, char **);

static const struct command commands[] = {
	{ "add", cmd_add, 2, 3, "QUEUE NAME [DATA]",
	    "QUEUE NAME [DATA] [--delay MS] [--priority N] "
	    "[--attempts N]\n\t[--backoff fixed:MS|exponential:MS] "
	    "[--job-id ID] [--lifo]\n\t[--remove-on-complete true|false|N] "
	    "[--remove-on-fail true|false|N]\n\t[--opts JSON]" },
	{ "add-bulk", cmd_add_bulk, 1, 1, "QUEUE",
	    "QUEUE [--batch N] [--skip-bad] < jobs.ndjson" },
	{ "counts", cmd_counts, 1, 1, "QUEUE", "QUEUE" },
	{ "get", cmd_get, 2, 2, "QUEUE ID", "QUEUE ID" },
	{ "remove", cmd_remove, 2, 2, "QUEUE ID", "QUEUE ID" },
	{ "pause", cmd_pause, 1, 1, "QUEUE", "QUEUE" },
	{ "resume", cmd_pause, 1, 1, "QUEUE", "QUEUE" },
	{ "retry", cmd_retry, 1, 1, "QUEUE",
	    "QUEUE [--state failed|completed] [--count N]" },
	{ "clean", cmd_clean, 2, 2, "QUEUE STATE",
	    "QUEUE STATE [--grace MS] [--limit N]" },
	{ "drain", cmd_drain, 1, 1, "QUEUE", "QUEUE [--delayed]" },
	{ "obliterate", cmd_obliterate, 1, 1, "QUEUE", "QUEUE [--force]" },
	{ "events", cmd_events, 1, 1, "QUEUE", "QUEUE [--from ID] [--follow]" },
	{ "workers", cmd_workers, 1, 1, "QUEUE", "QUEUE" },
	{ "bench", cmd_bench, 1, 1, "QUEUE -n N", "QUEUE -n N [--batch N]" },
	{ "cron", cmd_cron, 1, 1, "PATTERN",
	    "PATTERN [--tz TZ] [--seed S] [--after MS] [-n N]" },
	/* ops.c */
	{ "jobs", cmd_jobs, 2, 2, "QUEUE STATE",
	    "QUEUE STATE [--start N] [--count N] [--asc|--desc]" },
	{ "logs", cmd_logs, 2, 2, "QUEUE ID",
	    "QUEUE ID [--start N] [--count N] [--desc]" },
	{ "promote", cmd_promote, 2, 2, "QUEUE ID", "QUEUE ID" },
	{ "retry-job", cmd_retry_job, 2, 2, "QUEUE ID",
	    "QUEUE ID [--state failed|completed] [--reset-attempts-made]\n\t"
	    "[--reset-attempts-started]" },
	{ "help", cmd_help, 0, 1, "[COMMAND]", "[COMMAND]" },
	{ NULL, NULL, 0, 0, NULL, NULL }
};

static const char	*cmdname = NULL;

/*
 * Print an error about the current command to stderr, followed by ": " and
 * the text of errnum when it is not 0.
 */
static void
vwarnmsg(int errnum, const char *fmt, va_list ap)
{
	fflush(stdout);
	if (cmdname != NULL)
		fprintf(stderr, "bullmq %s: ", cmdname);
	else
		fprintf(stderr, "bullmq: ");
	vfprintf(stderr, fmt, ap);
	if (errnum != 0)
		fprintf(stderr, ": %s", strerror(errnum));
	fputc('\n', stderr);
}

/* Print an error about the current command to stderr, as warnx(3). */
void
warnmsg(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vwarnmsg(0, fmt, ap);
	va_end(ap);
}

/* The same followed by ": " and the text of errno, as warn(3). */
void
warnsys(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vwarnmsg(saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

/* Print the usage of one command, or of all, to f. */
void
usage_to(FILE *f, const struct command *c)
{
	if (c != NULL) {
		fprintf(f, "usage: bullmq [options] %s %s\n", c->name, c->args);
		return;
	}
	fprintf(f, "usage: bullmq [-r URL] [--prefix P] [--json] COMMAND "
	    "QUEUE ...\n       bullmq -h | --help | --version\n"
	    "commands:\n");
	for (c = commands; c->name != NULL; c++)
		fprintf(f, "  %s %s\n", c->name, c->args);
	fprintf(f, "the Redis URL is -r, else $BULLMQ_REDIS, else %s\n"
	    "see bullmq(1)\n", BULLMQ_DEFAULT_URL);
}

/* Complain about the command line and return the usage exit status. */
int
usage_error(const struct command *c, const char *fmt, ...)
{
	va_list	ap;

	if (fmt != NULL) {
		if (cmdname != NULL)
			fprintf(stderr, "bullmq %s: ", cmdname);
		else
			fprintf(stderr, "bullmq: ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	if (c != NULL)
		usage_to(stderr, c);
	else
		fprintf(stderr, "usage: bullmq [-r URL] [--prefix P] [--json] "
		    "COMMAND QUEUE ...\nrun bullmq --help for the commands\n");
	return EXIT_USAGE;
}

/* Find a command by name. */
const struct command *
find_command(const char *name)
{
	const struct command	*c;

	for (c = commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* Reset getopt so that a command can parse its own argument vector. */
static void
reset_getopt(void)
{
#ifdef __GLIBC__
	optind = 0;
#else
	optreset = 1;
	optind = 1;
#endif
}

/* Print the usage of the running command, or of bullmq, to stdout. */
static int
print_help(struct cli *cli, const char *name, const char *arg, void *p)
{
	usage_to(stdout, cli->cmd);
	return 0;
}

/* Does the option take an argument? */
static int
takes_arg(const struct cli_opt *o)
{
	return o->kind == OPTK_STR || o->kind == OPTK_NUM ||
	    o->kind == OPTK_FN;
}

/*
 * Turn the options all[0..n) into getopt_long's tables: the long options
 * answer 256 + their index, the letters themselves.  bullmq's own options
 * (stop is set) end at the first operand, the command name.
 */
static void
getopt_tables(const struct cli_opt *all, size_t n, int stop,
    struct option *longopts, char *shortopts)
{
	size_t	i, k = 0;

	if (stop)
		*shortopts++ = '+';
	for (i = 0; i < n; i++) {
		if (all[i].letter != 0) {
			*shortopts++ = (char)all[i].letter;
			if (takes_arg(&all[i]))
				*shortopts++ = ':';
		}
		if (all[i].name == NULL)
			continue;
		longopts[k].name = all[i].name;
		longopts[k].has_arg = takes_arg(&all[i]) ? required_argument :
		    no_argument;
		longopts[k].flag = NULL;
		longopts[k].val = 256 + (int)i;
		k++;
	}
	*shortopts = '\0';
	memset(&longopts[k], 0, sizeof(longopts[k]));
}

/*
 * Store the value of the option getopt_long answered ch for, one of
 * all[0..n).  Returns CLI_GO, or the status to exit with.
 */
static int
take_option(struct cli *cli, const struct cli_opt *all, size_t n, int ch)
{
	const struct cli_opt	*o = NULL;
	char			 name[64];
	size_t			 i;

	if (ch >= 256 && (size_t)(ch - 256) < n)
		o = &all[ch - 256];
	for (i = 0; o == NULL && i < n; i++)
		if (all[i].letter != 0 && all[i].letter == ch)
			o = &all[i];
	if (o == NULL)		/* getopt_long has said what is wrong */
		return usage_error(cli->cmd, NULL);
	if (o->name != NULL)
		snprintf(name, sizeof(name), "--%s", o->name);
	else
		snprintf(name, sizeof(name), "-%c", o->letter);
	switch (o->kind) {
	case OPTK_FLAG:
		*(int *)o->p = 1;
		break;
	case OPTK_STR:
		*(const char **)o->p = optarg;
		break;
	case OPTK_NUM:
		if (parse_num(name, optarg, o->lo, o->hi, o->p) == -1)
			return EXIT_USAGE;
		break;
	case OPTK_FN:
		if (o->fn(cli, name, optarg, o->p) == -1)
			return EXIT_USAGE;
		break;
	case OPTK_EXIT:
		o->fn(cli, name, optarg, o->p);
		return 0;
	}
	return CLI_GO;
}

/*
 * Parse the options of the running command (of bullmq itself when there
 * is none yet): the common ones, then opts, ended by OPT_END (opts may be
 * NULL).  Leaves the operands in *argcp and *argvp.  Returns CLI_GO, or the
 * status to exit with: 0 after --help, EXIT_USAGE after a bad option.
 */
int
cli_options(struct cli *cli, const struct cli_opt *opts, int *argcp,
    char ***argvp)
{
	struct cli_opt	 all[MAX_OPTS] = {
		OPT_STR("redis", 'r', &cli->url),
		OPT_STR("prefix", 0, &cli->prefix),
		OPT_FLAG("json", 0, &cli->json),
		OPT_EXIT("help", 'h', print_help)
	};
	struct option	 longopts[MAX_OPTS + 1];
	char		 shortopts[2 * MAX_OPTS + 2];
	size_t		 n = 4;
	int		 ch, rv;

	for (; opts != NULL && (opts->name != NULL || opts->letter != 0);
	    opts++) {
		if (n == MAX_OPTS)
			abort();	/* raise MAX_OPTS */
		all[n++] = *opts;
	}
	getopt_tables(all, n, cli->cmd == NULL, longopts, shortopts);
	reset_getopt();
	while ((ch = getopt_long(*argcp, *argvp, shortopts, longopts,
	    NULL)) != -1)
		if ((rv = take_option(cli, all, n, ch)) != CLI_GO)
			return rv;
	*argcp -= optind;
	*argvp += optind;
	return CLI_GO;
}

/*
 * Parse a command's options as cli_options does, then check the number of
 * its operands.  Returns CLI_GO, or the status to exit with.
 */
int
cli_args(struct cli *cli, const struct cli_opt *opts, int *argcp,
    char ***argvp)
{
	const struct command	*c = cli->cmd;
	int			 rv;

	if ((rv = cli_options(cli, opts, argcp, argvp)) != CLI_GO)
		return rv;
	if (*argcp < c->min || *argcp > c->max)
		return usage_error(c, "expected %s", c->expect);
	return CLI_GO;
}

/*
 * Parse a command's options and operands as cli_args does, then connect to
 * the queue named by the first operand.  Returns CLI_GO, or the status to
 * exit with.
 */
int
cli_open(struct cli *cli, const struct cli_opt *opts, int *argcp,
    char ***argvp)
{
	int	rv;

	if ((rv = cli_args(cli, opts, argcp, argvp)) != CLI_GO)
		return rv;
	if (open_queue(cli, (*argvp)[0]) == -1)
		return 1;
	return CLI_GO;
}

/* Parse a number in [lo, hi] for option name; -1 with a message if bad. */
int
parse_num(const char *name, const char *s, long long lo, long long hi,
    long long *out)
{
	const char	*errstr;

	*out = strtonum(s, lo, hi, &errstr);
	if (errstr != NULL) {
		warnmsg("%s %s: %s (expected %lld to %lld)", name, s, errstr,
		    lo, hi);
		return -1;
	}
	return 0;
}

/* Connect to the queue named by name. Returns 0, or -1 after a message. */
int
open_queue(struct cli *cli, const char *name)
{
	struct bullmq_conn_opts	co;

	memset(&co, 0, sizeof(co));
	co.url = cli->url;
	co.prefix = cli->prefix;
	co.queue = name;
	if ((cli->q = bullmq_queue_new(&co)) == NULL) {
		warnmsg("out of memory");
		return -1;
	}
	if (bullmq_errcode(cli->q) != BULLMQ_OK) {
		warnmsg("%s", bullmq_errstr(cli->q));
		return -1;
	}
	if (bullmq_queue_connect(cli->q) == -1) {
		warnmsg("cannot connect: %s", bullmq_errstr(cli->q));
		return -1;
	}
	return 0;
}

/* Report a failed call on the queue and return the failure status. */
int
queue_fail(struct cli *cli, const char *what)
{
	warnmsg("queue %s: %s: %s", bullmq_queue_name(cli->q), what,
	    bullmq_errstr(cli->q));
	return 1;
}

/* Write s[0..n) to stdout as a JSON string. */
void
put_jstr(const char *s, size_t n)
{
	struct buf	b;
	char		*p;

	buf_init(&b);
	buf_add_jstr(&b, s, n);
	if ((p = buf_cstr(&b)) != NULL)
		fputs(p, stdout);
	buf_free(&b);
}

/* bullmq counts QUEUE: the number of jobs in each state. */
static int
cmd_counts(struct cli *cli, int argc, char **argv)
{
	struct bullmq_counts	ct;
	int			r;

	if ((r = cli_open(cli, NULL, &argc, &argv)) != CLI_GO)
		return r;
	if (bullmq_get_counts(cli->q, &ct) == -1)
		return queue_fail(cli, "counts");
	/* all zero: a mistyped name must not pass for an idle queue */
	if (ct.wait + ct.active + ct.delayed + ct.prioritized +
	    ct.completed + ct.failed + ct.waiting_children + ct.paused == 0 &&
	    !ct.is_paused) {
		if ((r = bullmq_queue_exists(cli->q)) == -1)
			return queue_fail(cli, "counts");
		if (r == 0) {
			warnmsg("queue %s does not exist (no meta, id or state "
			    "key under prefix %s)", argv[0], cli->prefix !=
			    NULL ? cli->prefix : BULLMQ_DEFAULT_PREFIX);
			return 1;
		}
	}
	if (cli->json)
		printf("{\"waiting\":%ld,\"active\":%ld,\"delayed\":%ld,"
		    "\"prioritized\":%ld,\"completed\":%ld,\"failed\":%ld,"
		    "\"waiting-children\":%ld,\"paused\":%ld,"
		    "\"isPaused\":%s}\n", ct.wait, ct.active, ct.delayed,
		    ct.prioritized, ct.completed, ct.failed,
		    ct.waiting_children, ct.paused,
		    ct.is_paused ? "true" : "false");
	else
		printf("waiting %ld\nactive %ld\ndelayed %ld\n"
		    "prioritized %ld\ncompleted %ld\nfailed %ld\n"
		    "waiting-children %ld\npaused %ld\nis-paused %s\n",
		    ct.wait, ct.active, ct.delayed, ct.prioritized,
		    ct.completed, ct.failed, ct.waiting_children, ct.paused,
		    ct.is_paused ? "yes" : "no");
	return 0;
}

/* Is a job hash field stored as JSON text? */
static int
json_field(const char *name)
{
	static const char *const names[] = { "data", "opts", "returnvalue",
	    "progress", "stacktrace", "parent", NULL };
	size_t	i;

	for (i = 0; names[i] != NULL; i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/* Is a job hash field an integer? */
static int
int_field(const char *name)
{
	static const char *const names[] = { "timestamp", "delay",
	    "priority", "processedOn", "finishedOn", "atm", "ats", "stc",
	    "attemptsMade", NULL };
	size_t	i;

	for (i = 0; names[i] != NULL; i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/* Is s[0..n) a plain decimal integer that JSON can carry as is? */
static int
is_integer(const char *s, size_t n)
{
	size_t	i = 0;

	if (n > 0 && s[0] == '-')
		i++;
	if (i == n || n - i > 15 || (s[i] == '0' && n - i > 1))
		return 0;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/*
 * Print a job in state as one JSON object on a line: its id, its state and
 * the fields of its hash, those stored as JSON or integers as they are.
 */
void
put_job_json(const bullmq_job *job, const char *state)
{
	const char	*name, *value;
	size_t		 i, nf, len;

	nf = bullmq_job_nfields(job);
	fputs("{\"id\":", stdout);
	put_jstr(bullmq_job_id(job), strlen(bullmq_job_id(job)));
	fputs(",\"state\":", stdout);
	put_jstr(state, strlen(state));
	for (i = 0; i < nf; i++) {
		if (bullmq_job_field_at(job, i, &name, &value, &len) == -1)
			continue;
		putchar(',');
		put_jstr(name, strlen(name));
		putchar(':');
		if ((json_field(name) && bullmq_json_valid(value, len)) ||
		    (int_field(name) && is_integer(value, len)))
			fwrite(value, 1, len, stdout);
		else
			put_jstr(value, len);
	}
	puts("}");
}

/* bullmq get QUEUE ID: print a job's state and fields. */
static int
cmd_get(struct cli *cli, int argc, char **argv)
{
	bullmq_job	*job = NULL;
	const char	*name, *value;
	char		 state[64];
	size_t		 i, nf, len;
	int		 r;

	if ((r = cli_open(cli, NULL, &argc, &argv)) != CLI_GO)
		return r;
	if ((r = bullmq_get_job(cli->q, argv[1], &job)) == -1)
		return queue_fail(cli, "get");
	if (r == 0) {
		warnmsg("queue %s: job %s not found", argv[0], argv[1]);
		return 1;
	}
	if (bullmq_get_state(cli->q, argv[1], state, sizeof(state)) == -1) {
		bullmq_job_free(job);
		return queue_fail(cli, "state");
	}
	if (cli->json) {
		put_job_json(job, state);
		bullmq_job_free(job);
		return 0;
	}
	printf("id: %s\nstate: %s\n", bullmq_job_id(job), state);
	nf = bullmq_job_nfields(job);
	for (i = 0; i < nf; i++) {
		if (bullmq_job_field_at(job, i, &name, &value, &len) == -1)
			continue;
		printf("%s: ", name);
		fwrite(value, 1, len, stdout);
		putchar('\n');
	}
	bullmq_job_free(job);
	return 0;
}

/*
 * bullmq remove QUEUE ID: delete one job, whatever its state.  Node's
 * Queue.remove answers 1 for a job that does not exist; here it is an
 * error, as for get.
 */
static int
cmd_remove(struct cli *cli, int argc, char **argv)
{
	int	r;

	if ((r = cli_open(cli, NULL, &argc, &argv)) != CLI_GO)
		return r;
	if ((r = bullmq_remove(cli->q, argv[1])) == -1) {
		if (bullmq_errcode(cli->q) == BULLMQ_ERR_JOB &&
		    bullmq_script_code(cli->q) == BULLMQ_JOB_NOT_EXIST) {
			/* as Node's Queue.remove: 1, not an error */
			if (cli->json) {
				fputs("{\"id\":", stdout);
				put_jstr(argv[1], strlen(argv[1]));
				puts(",\"removed\":true,\"existed\":false}");
			} else
				printf("queue %s job %s: no such job, nothing "
				    "to remove\n", argv[0], argv[1]);
			return 0;
		}
		return queue_fail(cli, "remove");
	}
	if (r == 0) {
		warnmsg("job %s in queue %s is locked by a worker: not "
		    "removed", argv[1], argv[0]);
		return 1;
	}
	if (cli->json) {
		fputs("{\"id\":", stdout);
		put_jstr(argv[1], strlen(argv[1]));
		puts(",\"removed\":true,\"existed\":true}");
	} else
		printf("queue %s job %s removed\n", argv[0], argv[1]);
	return 0;
}

/* bullmq pause QUEUE and bullmq resume QUEUE. */
static int
cmd_pause(struct cli *cli, int argc, char **argv)
{
	const char	*name = cli->cmd->name;
	int		 paused = strcmp(name, "pause") == 0, r;

	if ((r = cli_open(cli, NULL, &argc, &argv)) != CLI_GO)
		return r;
	if ((paused ? bullmq_pause(cli->q) : bullmq_resume(cli->q)) == -1)
		return queue_fail(cli, name);
	if (cli->json) {
		fputs("{\"queue\":", stdout);
		put_jstr(argv[0], strlen(argv[0]));
		printf(",\"paused\":%s}\n", paused ? "true" : "false");
	} else
		printf("queue %s %s\n", argv[0], paused ? "paused" : "resumed");
	return 0;
}

/* Print a count under a JSON key or as "WORD N jobs". */
static void
print_count(struct cli *cli, const char *key, long n)
{
	if (cli->json)
		printf("{\"%s\":%ld}\n", key, n);
	else
		printf("%s %ld job%s\n", key, n, n == 1 ? "" : "s");
}

/* Take --state of retry: failed or completed. */
static int
opt_retry_state(struct cli *cli, const char *name, const char *arg, void *p)
{
	if (strcmp(arg, "failed") != 0 && strcmp(arg, "completed") != 0) {
		usage_error(cli->cmd, "%s %s: expected failed or completed",
		    name, arg);
		return -1;
	}
	*(const char **)p = arg;
	return 0;
}

/* bullmq retry QUEUE: move failed (or completed) jobs back to wait. */
static int
cmd_retry(struct cli *cli, int argc, char **argv)
{
	const char		*state = "failed";
	long long		 count = 0;
	struct cli_opt		 opts[] = {
		OPT_FN("state", 0, &state, opt_retry_state),
		OPT_NUM("count", 0, &count, 1, LONG_MAX),
		OPT_END
	};
	long			 n;
	int			 rv;

	if ((rv = cli_open(cli, opts, &argc, &argv)) != CLI_GO)
		return rv;
	if ((n = bullmq_retry_jobs(cli->q, state, (long)count)) == -1)
		return queue_fail(cli, "retry");
	print_count(cli, "retried", n);
	return 0;
}

/* bullmq clean QUEUE STATE: delete old jobs of one state. */
static int
cmd_clean(struct cli *cli, int argc, char **argv)
{
	static const char *const states[] = { "completed", "failed",
	    "wait", "waiting", "paused", "active", "delayed", "prioritized",
	    NULL };
	const char		*state;
	long long		 grace = 0, limit = 0;
	struct cli_opt		 opts[] = {
		OPT_NUM("grace", 0, &grace, 0, MAX_DELAY),
		OPT_NUM("limit", 0, &limit, 0, LONG_MAX),
		OPT_END
	};
	long			 n;
	int			 i, rv;

	if ((rv = cli_args(cli, opts, &argc, &argv)) != CLI_GO)
		return rv;
	state = argv[1];
	for (i = 0; states[i] != NULL; i++)
		if (strcmp(state, states[i]) == 0)
			break;
	if (states[i] == NULL)
		return usage_error(cli->cmd, "state %s: expected completed, "
		    "failed, wait, paused, active, delayed or prioritized",
		    state);
	if (strcmp(state, "waiting") == 0)
		state = "wait";
	if (open_queue(cli, argv[0]) == -1)
		return 1;
	if ((n = bullmq_clean(cli->q, state, grace, (long)limit)) == -1)
		return queue_fail(cli, "clean");
	print_count(cli, "cleaned", n);
	return 0;
}

/* bullmq drain QUEUE: delete the jobs waiting to run. */
static int
cmd_drain(struct cli *cli, int argc, char **argv)
{
	int		 delayed = 0, rv;
	struct cli_opt	 opts[] = {
		OPT_FLAG("delayed", 0, &delayed),
		OPT_END
	};

	if ((rv = cli_open(cli, opts, &argc, &argv)) != CLI_GO)
		return rv;
	if (bullmq_drain(cli->q, delayed) == -1)
		return queue_fail(cli, "drain");
	if (cli->json)
		printf("{\"drained\":true,\"delayed\":%s}\n",
		    delayed ? "true" : "false");
	else
		printf("queue %s drained\n", argv[0]);
	return 0;
}

/* bullmq obliterate QUEUE: delete the queue and all its jobs. */
static int
cmd_obliterate(struct cli *cli, int argc, char **argv)
{
	int		 force = 0, rv;
	struct cli_opt	 opts[] = {
		OPT_FLAG("force", 0, &force),
		OPT_END
	};

	if ((rv = cli_open(cli, opts, &argc, &argv)) != CLI_GO)
		return rv;
	if (bullmq_obliterate(cli->q, force) == -1) {
		if (!force && bullmq_errcode(cli->q) == BULLMQ_ERR_JOB &&
		    bullmq_script_code(cli->q) == BULLMQ_JOB_LOCK_NOT_EXIST) {
			warnmsg("queue %s has active jobs: not obliterated "
			    "(use --force); the queue is left paused",
			    argv[0]);
			return 1;
		}
		return queue_fail(cli, "obliterate");
	}
	if (cli->json)
		printf("{\"obliterated\":true}\n");
	else
		printf("queue %s obliterated\n", argv[0]);
	return 0;
}

/* Print one event stream entry as a JSON object on its own line. */
static void
print_event(const char *id, size_t nfields, const char **fields,
    const size_t *lens, void *arg)
{
	size_t	i;

	fputs("{\"id\":", stdout);
	put_jstr(id, strlen(id));
	for (i = 0; i + 1 < nfields; i += 2) {
		putchar(',');
		put_jstr(fields[i], lens[i]);
		putchar(':');
		put_jstr(fields[i + 1], lens[i + 1]);
	}
	puts("}");
}

static volatile sig_atomic_t	 stop_following;

/* Stop following the event stream at the next wake-up. */
static void
on_stop(int sig)
{
	stop_following = 1;
}

/* bullmq events QUEUE: print the event stream, one JSON object a line. */
static int
cmd_events(struct cli *cli, int argc, char **argv)
{
	struct sigaction	 sa;
	char			 last[64];
	const char		*from = NULL;
	int			 follow = 0, rv;
	struct cli_opt		 opts[] = {
		OPT_STR("from", 0, &from),
		OPT_FLAG("follow", 'f', &follow),
		OPT_END
	};
	long			 n;

	if ((rv = cli_args(cli, opts, &argc, &argv)) != CLI_GO)
		return rv;
	if (from == NULL)
		from = follow ? "$" : "0";
	if (strlcpy(last, from, sizeof(last)) >= sizeof(last))
		return usage_error(cli->cmd, "--from %s: too long", from);
	if (open_queue(cli, argv[0]) == -1)
		return 1;
	/* from the newest entry, not "$": none written between two reads
	 * is missed */
	if (strcmp(last, "$") == 0 && bullmq_events_last_id(cli->q, last,
	    sizeof(last)) == -1)
		return queue_fail(cli, "events");
	if (follow) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_stop;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	for (;;) {
		n = bullmq_events_read(cli->q, last, follow ? 1000 : 0,
		    print_event, NULL);
		if (n == -1) {
			if (stop_following)
				break;
			return queue_fail(cli, "events");
		}
		if (fflush(stdout) == EOF)
			return 1;
		if (stop_following || (!follow && n == 0))
			break;
	}
	return 0;
}

/* Print one worker connection. */
static void
print_worker(const struct bullmq_worker_info *w, void *arg)
{
	struct cli	*cli = arg;
	static int	 first = 1;

	if (cli->json) {
		fputs(first ? "" : ",", stdout);
		fputs("{\"name\":", stdout);
		put_jstr(w->name, strlen(w->name));
		fputs(",\"addr\":", stdout);
		put_jstr(w->addr, strlen(w->addr));
		printf(",\"age\":%ld,\"idle\":%ld}", w->age, w->idle);
	} else
		printf("%-24s %-24s %8ld %8ld\n", w->name[0] != '\0' ?
		    w->name : "-", w->addr, w->age, w->idle);
	first = 0;
}

/* bullmq workers QUEUE: the worker connections of the queue. */
static int
cmd_workers(struct cli *cli, int argc, char **argv)
{
	long	n;
	int	r;

	if ((r = cli_open(cli, NULL, &argc, &argv)) != CLI_GO)
		return r;
	if (cli->json)
		putchar('[');
	else
		printf("%-24s %-24s %8s %8s\n", "NAME", "ADDR", "AGE", "IDLE");
	if ((n = bullmq_workers(cli->q, print_worker, cli)) == -1) {
		if (cli->json)
			putchar('\n');
		return queue_fail(cli, "workers");
	}
	if (cli->json)
		puts("]");
	return 0;
}

/* Print the version of bullmq. */
static int
print_version(struct cli *cli, const char *name, const char *arg, void *p)
{
	printf("bullmq %s\n", BULLMQ_VERSION);
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct cli_opt	opts[] = {
		OPT_EXIT("version", 0, print_version),
		OPT_END
	};
	const struct command	*c;
	struct cli		 cli;
	int			 rv;

	memset(&cli, 0, sizeof(cli));
	cli.url = getenv("BULLMQ_REDIS");
	if (cli.url != NULL && *cli.url == '\0')
		cli.url = NULL;
	cli.prefix = getenv("BULLMQ_PREFIX");
	if (cli.prefix != NULL && *cli.prefix == '\0')
		cli.prefix = NULL;

	if ((rv = cli_options(&cli, opts, &argc, &argv)) != CLI_GO)
		return rv;
	if (argc < 1)
		return usage_error(NULL, "no command given");
	if ((c = find_command(argv[0])) == NULL)
		return usage_error(NULL, "unknown command: %s", argv[0]);
	cmdname = c->name;
	cli.cmd = c;
	rv = c->fn(&cli, argc, argv);
	bullmq_queue_free(cli.q);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		warnsys("standard output");
		rv = 1;
	}
	return rv;
}
