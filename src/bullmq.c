/*
 * bullmq.c: the command line for producers and operators.
 *
 * Every command works on one queue through the public API of bullmq.h, plus
 * the JSON helpers of bullmq-int.h; the commands that add jobs are in
 * cli-add.c.  Exit
 * statuses: 0 success, 1 failure (Redis, a job, bad input), 64 a malformed
 * command line (EX_USAGE).
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

#include "bullmq-int.h"
#include "cli.h"

static int	cmd_counts(struct cli *, int, char **);
static int	cmd_get(struct cli *, int, char **);
static int	cmd_pause(struct cli *, int, char **);
static int	cmd_resume(struct cli *, int, char **);
static int	cmd_retry(struct cli *, int, char **);
static int	cmd_clean(struct cli *, int, char **);
static int	cmd_drain(struct cli *, int, char **);
static int	cmd_obliterate(struct cli *, int, char **);
static int	cmd_events(struct cli *, int, char **);
static int	cmd_workers(struct cli *, int, char **);

static const struct command commands[] = {
	{ "add", cmd_add, "QUEUE NAME [DATA] [--delay MS] [--priority N] "
	    "[--attempts N]\n\t[--backoff fixed:MS|exponential:MS] "
	    "[--job-id ID] [--lifo]\n\t[--remove-on-complete true|false|N] "
	    "[--remove-on-fail true|false|N]\n\t[--opts JSON]" },
	{ "add-bulk", cmd_add_bulk, "QUEUE [--batch N] [--skip-bad] "
	    "< jobs.ndjson" },
	{ "counts", cmd_counts, "QUEUE" },
	{ "get", cmd_get, "QUEUE ID" },
	{ "pause", cmd_pause, "QUEUE" },
	{ "resume", cmd_resume, "QUEUE" },
	{ "retry", cmd_retry, "QUEUE [--state failed|completed] [--count N]" },
	{ "clean", cmd_clean, "QUEUE STATE [--grace MS] [--limit N]" },
	{ "drain", cmd_drain, "QUEUE [--delayed]" },
	{ "obliterate", cmd_obliterate, "QUEUE [--force]" },
	{ "events", cmd_events, "QUEUE [--from ID] [--follow]" },
	{ "workers", cmd_workers, "QUEUE" },
	{ "bench", cmd_bench, "QUEUE -n N [--batch N]" },
	{ NULL, NULL, NULL }
};

static const char	*cmdname = NULL;

/* Print an error about the current command to stderr. */
void
warnmsg(const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	if (cmdname != NULL)
		fprintf(stderr, "bullmq %s: ", cmdname);
	else
		fprintf(stderr, "bullmq: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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
void
reset_getopt(void)
{
#ifdef __GLIBC__
	optind = 0;
#else
	optreset = 1;
	optind = 1;
#endif
}

/*
 * Handle an option every command accepts.  Returns 1 when handled, 0 when
 * not one of them.
 */
int
common_option(struct cli *cli, int ch)
{
	switch (ch) {
	case 'r':
		cli->url = optarg;
		return 1;
	case OPT_PREFIX:
		cli->prefix = optarg;
		return 1;
	case OPT_JSON:
		cli->json = 1;
		return 1;
	}
	return 0;
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
	struct bmq_buf	b;
	char		*p;

	bmq_buf_init(&b);
	bmq_buf_add_jstr(&b, s, n);
	if ((p = bmq_buf_cstr(&b)) != NULL)
		fputs(p, stdout);
	bmq_buf_free(&b);
}

/*
 * Parse the options of a command that takes only the common ones and a
 * fixed number of operands.  Returns 0, 1 after -h, or EXIT_USAGE.
 */
static int
simple_args(struct cli *cli, const char *name, int *argcp, char ***argvp,
    int nargs)
{
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	const struct command	*c = find_command(name);
	int			 ch;

	reset_getopt();
	while ((ch = getopt_long(*argcp, *argvp, "r:h", longopts,
	    NULL)) != -1) {
		if (common_option(cli, ch))
			continue;
		if (ch == 'h') {
			usage_to(stdout, c);
			return 1;
		}
		return usage_error(c, NULL);
	}
	*argcp -= optind;
	*argvp += optind;
	if (*argcp != nargs)
		return usage_error(c, "expected %s", c->args);
	return 0;
}

/* bullmq counts QUEUE: the number of jobs in each state. */
static int
cmd_counts(struct cli *cli, int argc, char **argv)
{
	struct bullmq_counts	ct;
	int			r;

	if ((r = simple_args(cli, "counts", &argc, &argv, 1)) != 0)
		return r == 1 ? 0 : r;
	if (open_queue(cli, argv[0]) == -1)
		return 1;
	if (bullmq_get_counts(cli->q, &ct) == -1)
		return queue_fail(cli, "counts");
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

/* bullmq get QUEUE ID: print a job's state and fields. */
static int
cmd_get(struct cli *cli, int argc, char **argv)
{
	bullmq_job	*job = NULL;
	const char	*name, *value;
	char		 state[64];
	size_t		 i, nf, len;
	int		 r;

	if ((r = simple_args(cli, "get", &argc, &argv, 2)) != 0)
		return r == 1 ? 0 : r;
	if (open_queue(cli, argv[0]) == -1)
		return 1;
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
	nf = bullmq_job_nfields(job);
	if (cli->json) {
		fputs("{\"id\":", stdout);
		put_jstr(bullmq_job_id(job), strlen(bullmq_job_id(job)));
		fputs(",\"state\":", stdout);
		put_jstr(state, strlen(state));
	} else
		printf("id: %s\nstate: %s\n", bullmq_job_id(job), state);
	for (i = 0; i < nf; i++) {
		if (bullmq_job_field_at(job, i, &name, &value, &len) == -1)
			continue;
		if (!cli->json) {
			printf("%s: ", name);
			fwrite(value, 1, len, stdout);
			putchar('\n');
			continue;
		}
		putchar(',');
		put_jstr(name, strlen(name));
		putchar(':');
		if ((json_field(name) && bmq_json_valid(value, len)) ||
		    (int_field(name) && is_integer(value, len)))
			fwrite(value, 1, len, stdout);
		else
			put_jstr(value, len);
	}
	if (cli->json)
		puts("}");
	bullmq_job_free(job);
	return 0;
}

/* Print the outcome of pause or resume. */
static void
print_paused(struct cli *cli, int paused)
{
	if (cli->json) {
		fputs("{\"queue\":", stdout);
		put_jstr(bullmq_queue_name(cli->q),
		    strlen(bullmq_queue_name(cli->q)));
		printf(",\"paused\":%s}\n", paused ? "true" : "false");
	} else
		printf("queue %s %s\n", bullmq_queue_name(cli->q),
		    paused ? "paused" : "resumed");
}

/* bullmq pause QUEUE. */
static int
cmd_pause(struct cli *cli, int argc, char **argv)
{
	int	r;

	if ((r = simple_args(cli, "pause", &argc, &argv, 1)) != 0)
		return r == 1 ? 0 : r;
	if (open_queue(cli, argv[0]) == -1)
		return 1;
	if (bullmq_pause(cli->q) == -1)
		return queue_fail(cli, "pause");
	print_paused(cli, 1);
	return 0;
}

/* bullmq resume QUEUE. */
static int
cmd_resume(struct cli *cli, int argc, char **argv)
{
	int	r;

	if ((r = simple_args(cli, "resume", &argc, &argv, 1)) != 0)
		return r == 1 ? 0 : r;
	if (open_queue(cli, argv[0]) == -1)
		return 1;
	if (bullmq_resume(cli->q) == -1)
		return queue_fail(cli, "resume");
	print_paused(cli, 0);
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

/* bullmq retry QUEUE: move failed (or completed) jobs back to wait. */
static int
cmd_retry(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ "state",	required_argument, NULL, OPT_STATE },
		{ "count",	required_argument, NULL, OPT_COUNT },
		{ NULL, 0, NULL, 0 }
	};
	const struct command	*c = find_command("retry");
	const char		*state = "failed";
	long long		 count = 0;
	long			 n;
	int			 ch;

	reset_getopt();
	while ((ch = getopt_long(argc, argv, "r:h", longopts, NULL)) != -1) {
		if (common_option(cli, ch))
			continue;
		switch (ch) {
		case 'h':
			usage_to(stdout, c);
			return 0;
		case OPT_STATE:
			if (strcmp(optarg, "failed") != 0 &&
			    strcmp(optarg, "completed") != 0)
				return usage_error(c, "--state %s: expected "
				    "failed or completed", optarg);
			state = optarg;
			break;
		case OPT_COUNT:
			if (parse_num("--count", optarg, 1, LONG_MAX,
			    &count) == -1)
				return EXIT_USAGE;
			break;
		default:
			return usage_error(c, NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		return usage_error(c, "expected QUEUE");
	if (open_queue(cli, argv[0]) == -1)
		return 1;
	if ((n = bullmq_retry_jobs(cli->q, state, (long)count)) == -1)
		return queue_fail(cli, "retry");
	print_count(cli, "retried", n);
	return 0;
}

/* bullmq clean QUEUE STATE: delete old jobs of one state. */
static int
cmd_clean(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ "grace",	required_argument, NULL, OPT_GRACE },
		{ "limit",	required_argument, NULL, OPT_LIMIT },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const states[] = { "completed", "failed",
	    "wait", "waiting", "paused", "active", "delayed", "prioritized",
	    NULL };
	const struct command	*c = find_command("clean");
	const char		*state;
	long long		 grace = 0, limit = 0;
	long			 n;
	int			 ch, i;

	reset_getopt();
	while ((ch = getopt_long(argc, argv, "r:h", longopts, NULL)) != -1) {
		if (common_option(cli, ch))
			continue;
		switch (ch) {
		case 'h':
			usage_to(stdout, c);
			return 0;
		case OPT_GRACE:
			if (parse_num("--grace", optarg, 0, MAX_DELAY,
			    &grace) == -1)
				return EXIT_USAGE;
			break;
		case OPT_LIMIT:
			if (parse_num("--limit", optarg, 0, LONG_MAX,
			    &limit) == -1)
				return EXIT_USAGE;
			break;
		default:
			return usage_error(c, NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		return usage_error(c, "expected QUEUE STATE");
	state = argv[1];
	for (i = 0; states[i] != NULL; i++)
		if (strcmp(state, states[i]) == 0)
			break;
	if (states[i] == NULL)
		return usage_error(c, "state %s: expected completed, failed, "
		    "wait, paused, active, delayed or prioritized", state);
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
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ "delayed",	no_argument,	NULL, OPT_DELAYED },
		{ NULL, 0, NULL, 0 }
	};
	const struct command	*c = find_command("drain");
	int			 ch, delayed = 0;

	reset_getopt();
	while ((ch = getopt_long(argc, argv, "r:h", longopts, NULL)) != -1) {
		if (common_option(cli, ch))
			continue;
		switch (ch) {
		case 'h':
			usage_to(stdout, c);
			return 0;
		case OPT_DELAYED:
			delayed = 1;
			break;
		default:
			return usage_error(c, NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		return usage_error(c, "expected QUEUE");
	if (open_queue(cli, argv[0]) == -1)
		return 1;
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
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ "force",	no_argument,	NULL, OPT_FORCE },
		{ NULL, 0, NULL, 0 }
	};
	const struct command	*c = find_command("obliterate");
	int			 ch, force = 0;

	reset_getopt();
	while ((ch = getopt_long(argc, argv, "r:h", longopts, NULL)) != -1) {
		if (common_option(cli, ch))
			continue;
		switch (ch) {
		case 'h':
			usage_to(stdout, c);
			return 0;
		case OPT_FORCE:
			force = 1;
			break;
		default:
			return usage_error(c, NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		return usage_error(c, "expected QUEUE");
	if (open_queue(cli, argv[0]) == -1)
		return 1;
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

/*
 * Replace "$" by the id of the newest entry (or 0-0), so that no entry
 * written between two blocking reads is missed.
 */
static int
last_event_id(struct cli *cli, char *buf, size_t size)
{
	bullmq_queue	*q = cli->q;
	redisReply	*r, *e;

	if ((r = bmq_command(q, "XREVRANGE %b + - COUNT 1",
	    q->keys[BMQ_K_EVENTS], q->keylens[BMQ_K_EVENTS])) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "XREVRANGE: unexpected "
		    "reply");
		return -1;
	}
	strlcpy(buf, "0-0", size);
	if (r->elements == 1 && (e = r->element[0])->type ==
	    REDIS_REPLY_ARRAY && e->elements == 2 &&
	    e->element[0]->type == REDIS_REPLY_STRING)
		strlcpy(buf, e->element[0]->str, size);
	freeReplyObject(r);
	return 0;
}

/* bullmq events QUEUE: print the event stream, one JSON object a line. */
static int
cmd_events(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ "from",	required_argument, NULL, OPT_FROM },
		{ "follow",	no_argument,	   NULL, OPT_FOLLOW },
		{ NULL, 0, NULL, 0 }
	};
	const struct command	*c = find_command("events");
	struct sigaction	 sa;
	char			 last[64];
	const char		*from = NULL;
	long			 n;
	int			 ch, follow = 0;

	reset_getopt();
	while ((ch = getopt_long(argc, argv, "r:hf", longopts,
	    NULL)) != -1) {
		if (common_option(cli, ch))
			continue;
		switch (ch) {
		case 'h':
			usage_to(stdout, c);
			return 0;
		case OPT_FROM:
			from = optarg;
			break;
		case 'f':
		case OPT_FOLLOW:
			follow = 1;
			break;
		default:
			return usage_error(c, NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		return usage_error(c, "expected QUEUE");
	if (from == NULL)
		from = follow ? "$" : "0";
	if (strlcpy(last, from, sizeof(last)) >= sizeof(last))
		return usage_error(c, "--from %s: too long", from);
	if (open_queue(cli, argv[0]) == -1)
		return 1;
	if (strcmp(last, "$") == 0 && last_event_id(cli, last,
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

	if ((r = simple_args(cli, "workers", &argc, &argv, 1)) != 0)
		return r == 1 ? 0 : r;
	if (open_queue(cli, argv[0]) == -1)
		return 1;
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

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ "version",	no_argument,	NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	const struct command	*c;
	struct cli		 cli;
	int			 ch, rv;

	memset(&cli, 0, sizeof(cli));
	cli.url = getenv("BULLMQ_REDIS");
	if (cli.url != NULL && *cli.url == '\0')
		cli.url = NULL;
	cli.prefix = getenv("BULLMQ_PREFIX");
	if (cli.prefix != NULL && *cli.prefix == '\0')
		cli.prefix = NULL;

	while ((ch = getopt_long(argc, argv, "+r:h", longopts,
	    NULL)) != -1) {
		if (common_option(&cli, ch))
			continue;
		switch (ch) {
		case 'h':
			usage_to(stdout, NULL);
			return 0;
		case OPT_VERSION:
			printf("bullmq %s\n", BULLMQ_VERSION);
			return 0;
		default:
			return usage_error(NULL, NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return usage_error(NULL, "no command given");
	if ((c = find_command(argv[0])) == NULL)
		return usage_error(NULL, "unknown command: %s", argv[0]);
	cmdname = c->name;
	rv = c->fn(&cli, argc, argv);
	bullmq_queue_free(cli.q);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		warnmsg("standard output: %s", strerror(errno));
		rv = 1;
	}
	return rv;
}
