/*
 * add.c: the commands of the bullmq command line that add jobs: add,
 * add-bulk and bench.
 */
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"

#define BULK_BATCH	1000
#define BULK_MAX_BATCH	100000
#define MAX_PRIORITY	2097151
#define BENCH_MAX_JOBS	100000000

/* Take a retention option: true, false, a count or age:S[,count:N]... */
static int
opt_keep(struct cli *cli, const char *name, const char *s, void *p)
{
	char	err[256];

	if (bullmq_keep_parse(s, p, err, sizeof(err)) == -1) {
		warnmsg("%s %s: %s", name, s, err);
		return -1;
	}
	return 0;
}

/*
 * Take --backoff: fixed:MS, exponential:MS, a bare MS (fixed), or TYPE:MS
 * for a custom type (a worker's strategy decides).
 */
static int
opt_backoff(struct cli *cli, const char *name, const char *s, void *p)
{
	struct bullmq_add_opts	*o = p;
	const char		*ms = s;
	long long		 n;

	if (strncmp(s, "fixed:", 6) == 0) {
		o->backoff_type = BULLMQ_BACKOFF_FIXED;
		ms = s + 6;
	} else if (strncmp(s, "exponential:", 12) == 0) {
		o->backoff_type = BULLMQ_BACKOFF_EXPONENTIAL;
		ms = s + 12;
	} else if (*s >= '0' && *s <= '9')
		o->backoff_type = BULLMQ_BACKOFF_FIXED;
	else if ((ms = strchr(s, ':')) != NULL && ms > s) {
		o->backoff_type = BULLMQ_BACKOFF_CUSTOM;
		o->backoff_custom = s;
		o->backoff_custom_len = (size_t)(ms - s);
		ms++;
	} else {
		warnmsg("%s %s: expected fixed:MS, exponential:MS or TYPE:MS",
		    name, s);
		return -1;
	}
	if (parse_num(name, ms, 0, MAX_DELAY, &n) == -1)
		return -1;
	o->backoff_delay = n;
	return 0;
}

/* Take --job-id: not empty. */
static int
opt_job_id(struct cli *cli, const char *name, const char *s, void *p)
{
	if (*s == '\0') {
		usage_error(cli->cmd, "%s: empty id", name);
		return -1;
	}
	*(const char **)p = s;
	return 0;
}

/* Read all of standard input into a NUL terminated string. */
char *
read_stdin(size_t *lenp)
{
	struct buf	b;
	char		buf[8192];
	size_t		n;

	buf_init(&b);
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		buf_add(&b, buf, n);
	if (ferror(stdin) || buf_cstr(&b) == NULL) {
		buf_free(&b);
		return NULL;
	}
	*lenp = b.len;
	return buf_cstr(&b);
}

/* Describe the result of an add. */
static const char *
add_result_name(int r)
{
	switch (r) {
	case BULLMQ_ADDED:
		return "added";
	case BULLMQ_DUPLICATE:
		return "duplicate";
	case BULLMQ_DEDUPLICATED:
		return "deduplicated";
	}
	return "error";
}

/* bullmq add QUEUE NAME [DATA]: add one job and print its id. */
int
cmd_add(struct cli *cli, int argc, char **argv)
{
	struct bullmq_add_opts	 o, flags;
	struct bullmq_keep	 roc, rof;
	const char		*optsjson = NULL, *data = NULL;
	long long		 delay = -1, prio = -1, att = -1;
	struct cli_opt		 opts[] = {
		OPT_NUM("delay", 0, &delay, 0, MAX_DELAY),
		OPT_NUM("priority", 0, &prio, 0, MAX_PRIORITY),
		OPT_NUM("attempts", 0, &att, 0, INT_MAX),
		OPT_FN("backoff", 0, &flags, opt_backoff),
		OPT_FN("job-id", 0, &flags.job_id, opt_job_id),
		OPT_FLAG("lifo", 0, &flags.lifo),
		OPT_FN("remove-on-complete", 0, &roc, opt_keep),
		OPT_FN("remove-on-fail", 0, &rof, opt_keep),
		OPT_STR("opts", 0, &optsjson),
		OPT_END
	};
	char			*input = NULL, err[256], id[(BULLMQ_MAX_ID + 1)];
	size_t			 len;
	int			 r, rv;

	memset(&flags, 0, sizeof(flags));
	memset(&roc, 0, sizeof(roc));
	memset(&rof, 0, sizeof(rof));
	if ((rv = cli_args(cli, opts, &argc, &argv)) != CLI_GO)
		return rv;
	rv = 1;

	/* --opts first, then the explicit flags on top of it (-1: unset). */
	memset(&o, 0, sizeof(o));
	if (optsjson != NULL && bullmq_add_opts_parse(optsjson,
	    strlen(optsjson), &o, err, sizeof(err)) == -1) {
		warnmsg("--opts: %s", err);
		return 1;
	}
	/* given is stored, 0 too, as Queue.add stores it */
	if (delay != -1) {
		o.delay = delay;
		o.has_delay = 1;
	}
	if (prio != -1) {
		o.priority = (int)prio;
		o.has_priority = 1;
	}
	if (att != -1)
		o.attempts = (int)att;
	if (flags.backoff_type != BULLMQ_BACKOFF_NONE) {
		o.backoff_type = flags.backoff_type;
		o.backoff_delay = flags.backoff_delay;
		o.backoff_custom = flags.backoff_custom;
		o.backoff_custom_len = flags.backoff_custom_len;
	}
	if (flags.job_id != NULL) {
		o.job_id = flags.job_id;
		o.job_id_len = 0;	/* NUL terminated, not from --opts */
	}
	if (flags.lifo) {
		o.lifo = 1;
		o.has_lifo = 1;
	}
	if (roc.mode != BULLMQ_KEEP_UNSET)
		o.remove_on_complete = roc;
	if (rof.mode != BULLMQ_KEEP_UNSET)
		o.remove_on_fail = rof;

	if (argc == 3) {
		data = argv[2];
		len = strlen(data);
		if (strcmp(data, "-") == 0) {
			if ((input = read_stdin(&len)) == NULL) {
				warnsys("reading standard input");
				return 1;
			}
			data = input;
		}
		if (!bullmq_json_valid(data, len)) {
			warnmsg("job data is not valid JSON: %.60s%s", data,
			    len > 60 ? "..." : "");
			goto out;
		}
	}
	if (open_queue(cli, argv[0]) == -1)
		goto out;
	if ((r = bullmq_add(cli->q, argv[1], data, &o, id, sizeof(id))) == -1) {
		queue_fail(cli, "add");
		goto out;
	}
	if (cli->json) {
		fputs("{\"id\":", stdout);
		put_jstr(id, strlen(id));
		printf(",\"result\":\"%s\"}\n", add_result_name(r));
	} else {
		printf("%s\n", id);
		if (r == BULLMQ_DUPLICATE)
			warnmsg("job %s already exists: not added "
			    "(duplicate)", id);
		else if (r == BULLMQ_DEDUPLICATED)
			warnmsg("deduplicated: job %s holds the "
			    "deduplication id, nothing added", id);
	}
	rv = 0;
out:
	free(input);
	return rv;
}

/* The strings taken out of one job line (its opts point into the line). */
struct bulk_line {
	char	*name;
	char	*data;
};

/* What add-bulk has done so far. */
struct bulk_state {
	bullmq_add_stream	*s;
	long			 added, duplicates, failed, bad;
	long			 results;	/* jobs whose result came */
	long			 last_pushed;	/* line numbers */
	long			 last_done;
	size_t			 batch;
	int			 progress;
};

/*
 * Parse one line of add-bulk into a request.  Returns 0, or -1 with a
 * message in err.
 */
static int
bulk_parse(char *text, size_t len, struct bulk_line *bl,
    struct bullmq_add_req *req, char *err, size_t errsize)
{
	static const char *const keys[] = { "name", "data", "opts" };
	struct bullmq_json_value		 m[3], *v;
	size_t			 i;

	memset(req, 0, sizeof(*req));
	for (i = 0; i < len && (text[i] == ' ' || text[i] == '\t'); i++)
		;
	if (!bullmq_json_valid(text, len)) {
		snprintf(err, errsize, "not valid JSON");
		return -1;
	}
	if (text[i] != '{') {
		snprintf(err, errsize, "not a JSON object");
		return -1;
	}
	/* one pass for the three members, not one lookup each */
	if (bullmq_json_members(text, len, keys, 3, m) == -1) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	v = &m[0];
	if (v->type == BULLMQ_JSON_NONE) {
		snprintf(err, errsize, "\"name\" is missing");
		return -1;
	}
	if (v->type != BULLMQ_JSON_STRING) {
		snprintf(err, errsize, "\"name\" is not a string");
		return -1;
	}
	if ((bl->name = malloc(v->len + 1)) == NULL ||
	    bullmq_json_string(v, bl->name, v->len + 1) == -1) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	v = &m[1];
	if (v->type != BULLMQ_JSON_NONE) {
		if (v->type == BULLMQ_JSON_STRING) {
			/* Keep the quotes: the stored data is JSON text. */
			v->p--;
			v->len += 2;
		}
		if ((bl->data = malloc(v->len + 1)) == NULL) {
			snprintf(err, errsize, "out of memory");
			return -1;
		}
		memcpy(bl->data, v->p, v->len);
		bl->data[v->len] = '\0';
	}
	v = &m[2];
	if (v->type != BULLMQ_JSON_NONE) {
		if (v->type != BULLMQ_JSON_OBJECT) {
			snprintf(err, errsize, "\"opts\" is not an object");
			return -1;
		}
		if (bullmq_add_opts_parse(v->p, v->len, &req->opts, err,
		    errsize) == -1)
			return -1;
	}
	req->name = bl->name;
	req->data = bl->data;
	return 0;
}

/* Show how many jobs are in, on a terminal. */
static void
bulk_progress(struct bulk_state *st)
{
	if (st->progress)
		fprintf(stderr, "\rbullmq add-bulk: %ld jobs added    ",
		    st->added + st->duplicates);
}

/* Count the result of one job and report it when it failed. */
static void
bulk_result(const struct bullmq_add_result *r, void *arg)
{
	struct bulk_state	*st = arg;
	long			 lineno = (long)(intptr_t)r->udata;

	switch (r->result) {
	case BULLMQ_ADDED:
		st->added++;
		break;
	case BULLMQ_DUPLICATE:
	case BULLMQ_DEDUPLICATED:
		st->duplicates++;
		break;
	default:
		st->failed++;
		warnmsg("line %ld: %s", lineno, r->err[0] != '\0' ? r->err :
		    "not added");
		break;
	}
	st->last_done = lineno;
	if (++st->results % (long)st->batch == 0)
		bulk_progress(st);
}

/*
 * Report a connection that failed mid-stream: what is known to be in,
 * and the lines whose jobs may or may not have been added.  Returns -1.
 */
static int
bulk_lost(struct cli *cli, struct bulk_state *st)
{
	if (st->progress)
		fputc('\n', stderr);
	if (st->last_pushed > st->last_done)
		warnmsg("queue %s: lines %ld to %ld: %s: not known whether "
		    "added", bullmq_queue_name(cli->q), st->last_done + 1,
		    st->last_pushed, bullmq_errstr(cli->q));
	else
		warnmsg("queue %s: %s", bullmq_queue_name(cli->q),
		    bullmq_errstr(cli->q));
	warnmsg("before that: added %ld job%s, %ld duplicate%s, %ld failed",
	    st->added, st->added == 1 ? "" : "s", st->duplicates,
	    st->duplicates == 1 ? "" : "s", st->failed);
	return -1;
}

/*
 * Read job lines from in.  Each good line is pushed to the add stream when
 * send is set (and the stream flushed every batch lines), or else only
 * checked; every line read is copied to spool when not NULL.  Bad lines
 * are reported and counted.  Returns 0, or -1 after a message when
 * reading, writing or the connection failed.
 */
static int
bulk_read(struct cli *cli, struct bulk_state *st, FILE *in, FILE *spool,
    int send)
{
	struct bulk_line	 bl;
	struct bullmq_add_req	 req;
	char			*line = NULL, err[256];
	size_t			 cap = 0, i, len;
	ssize_t			 got;
	long			 lineno = 0, pushed = 0;
	int			 rv = -1, blank, rc;

	while ((got = getline(&line, &cap, in)) != -1) {
		lineno++;
		if (spool != NULL && fwrite(line, 1, (size_t)got,
		    spool) != (size_t)got) {
			warnsys("spooling standard input");
			goto out;
		}
		if (!send && st->progress && lineno % 10000 == 0)
			fprintf(stderr, "\rbullmq add-bulk: %ld lines read    ",
			    lineno);
		len = (size_t)got;
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			len--;
		line[len] = '\0';
		blank = 1;
		for (i = 0; i < len && blank; i++)
			if (line[i] != ' ' && line[i] != '\t')
				blank = 0;
		if (blank)
			continue;
		memset(&bl, 0, sizeof(bl));
		rc = 0;
		if (bulk_parse(line, len, &bl, &req, err, sizeof(err)) == -1) {
			warnmsg("line %ld: %s", lineno, err);
			st->bad++;
		} else if (send) {
			/* The stream copies the job: the line is not kept. */
			st->last_pushed = lineno;
			rc = bullmq_add_stream_push(st->s, req.name, req.data,
			    &req.opts, (void *)(intptr_t)lineno);
			if (rc == 0 && ++pushed % (long)st->batch == 0)
				rc = bullmq_add_stream_flush(st->s);
		}
		free(bl.name);
		free(bl.data);
		if (rc == -1) {
			bulk_lost(cli, st);
			goto out;
		}
	}
	if (ferror(in)) {
		warnsys("reading standard input");
		goto out;
	}
	if (send) {
		if (bullmq_add_stream_finish(st->s) == -1) {
			bulk_lost(cli, st);
			goto out;
		}
		if (st->results > 0)
			bulk_progress(st);
	}
	rv = 0;
out:
	free(line);
	return rv;
}

/* Open an unlinked temporary file in $TMPDIR (default /tmp). */
static FILE *
spool_open(void)
{
	const char	*dir;
	char		 path[PATH_MAX];
	FILE		*f;
	int		 fd, n;

	if ((dir = getenv("TMPDIR")) == NULL || *dir == '\0')
		dir = "/tmp";
	n = snprintf(path, sizeof(path), "%s/bullmq-bulk.XXXXXX", dir);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		warnmsg("TMPDIR %s: too long", dir);
		return NULL;
	}
	if ((fd = mkstemp(path)) == -1) {
		warnsys("temporary file in %s", dir);
		return NULL;
	}
	unlink(path);
	if ((f = fdopen(fd, "w+")) == NULL) {
		warnsys("temporary file");
		close(fd);
	}
	return f;
}

/*
 * bullmq add-bulk QUEUE: add newline-delimited JSON jobs from stdin.  By
 * default every line is checked first (stdin is spooled to a temporary
 * file) and one bad line means nothing is added; with --skip-bad the good
 * lines go in as they are read and the bad ones are only reported.
 */
int
cmd_add_bulk(struct cli *cli, int argc, char **argv)
{
	struct bulk_state	 st;
	FILE			*spool = NULL;
	long long		 batch = BULK_BATCH;
	int			 skip_bad = 0, rv;
	struct cli_opt		 opts[] = {
		OPT_NUM("batch", 0, &batch, 1, BULK_MAX_BATCH),
		OPT_FLAG("skip-bad", 0, &skip_bad),
		OPT_END
	};

	memset(&st, 0, sizeof(st));
	if ((rv = cli_open(cli, opts, &argc, &argv)) != CLI_GO)
		return rv;
	rv = 1;
	st.progress = isatty(STDERR_FILENO);
	st.batch = (size_t)batch;
	if ((st.s = bullmq_add_stream_new(cli->q, bulk_result, &st)) == NULL) {
		warnmsg("out of memory");
		return 1;
	}

	if (skip_bad) {
		if (bulk_read(cli, &st, stdin, NULL, 1) == -1)
			goto out;
	} else {
		if ((spool = spool_open()) == NULL)
			goto out;
		if (bulk_read(cli, &st, stdin, spool, 0) == -1)
			goto out;
		if (st.bad > 0) {
			if (st.progress)
				fputc('\n', stderr);
			warnmsg("%ld bad line%s: nothing added", st.bad,
			    st.bad == 1 ? "" : "s");
			goto out;
		}
		if (fflush(spool) == EOF || fseeko(spool, 0, SEEK_SET) == -1) {
			warnsys("temporary file");
			goto out;
		}
		if (bulk_read(cli, &st, spool, NULL, 1) == -1)
			goto out;
	}
	if (st.progress && st.added + st.duplicates > 0)
		fputc('\n', stderr);
	if (cli->json)
		printf("{\"added\":%ld,\"duplicates\":%ld,\"failed\":%ld,"
		    "\"bad\":%ld}\n", st.added, st.duplicates, st.failed,
		    st.bad);
	else
		printf("added %ld job%s, %ld duplicate%s, %ld failed, "
		    "%ld bad line%s\n", st.added, st.added == 1 ? "" : "s",
		    st.duplicates, st.duplicates == 1 ? "" : "s", st.failed,
		    st.bad, st.bad == 1 ? "" : "s");
	rv = st.failed > 0 || st.bad > 0 ? 1 : 0;
out:
	if (spool != NULL)
		fclose(spool);
	bullmq_add_stream_free(st.s);
	return rv;
}

/* The result of one bench job: count the ones not added. */
static void
bench_result(const struct bullmq_add_result *r, void *arg)
{
	long	*failed = arg;

	if (r->result == -1)
		(*failed)++;
}

/* bullmq bench QUEUE -n N: add N small jobs in bulk and print the rate. */
int
cmd_bench(struct cli *cli, int argc, char **argv)
{
	bullmq_add_stream	*st = NULL;
	char			 data[32];
	long long		 total = -1, batch = BULK_BATCH, i;
	struct cli_opt		 opts[] = {
		OPT_NUM(NULL, 'n', &total, 1, BENCH_MAX_JOBS),
		OPT_NUM("batch", 0, &batch, 1, BULK_MAX_BATCH),
		OPT_END
	};
	long			 failed = 0;
	int64_t			 t0, ms;
	double			 secs;
	int			 rv;

	if ((rv = cli_args(cli, opts, &argc, &argv)) != CLI_GO)
		return rv;
	if (total == -1)
		return usage_error(cli->cmd, "expected %s", cli->cmd->expect);
	if (open_queue(cli, argv[0]) == -1)
		return 1;
	rv = 1;
	if ((st = bullmq_add_stream_new(cli->q, bench_result, &failed)) ==
	    NULL) {
		warnmsg("out of memory");
		return 1;
	}
	t0 = bullmq_mono_ms();
	for (i = 0; i < total; i++) {
		snprintf(data, sizeof(data), "{\"i\":%lld}", i);
		if (bullmq_add_stream_push(st, "bench", data, NULL, NULL) ==
		    -1 || ((i + 1) % batch == 0 &&
		    bullmq_add_stream_flush(st) == -1)) {
			queue_fail(cli, "bench");
			goto out;
		}
	}
	if (bullmq_add_stream_finish(st) == -1) {
		queue_fail(cli, "bench");
		goto out;
	}
	ms = bullmq_mono_ms() - t0;
	secs = (ms > 0 ? (double)ms : 1.0) / 1000.0;
	if (cli->json)
		printf("{\"jobs\":%lld,\"failed\":%ld,\"seconds\":%.3f,"
		    "\"jobs_per_second\":%.0f}\n", total, failed,
		    (double)ms / 1000.0, (double)total / secs);
	else
		printf("added %lld jobs in %.3f s: %.0f jobs/s\n", total,
		    (double)ms / 1000.0, (double)total / secs);
	if (failed > 0)
		warnmsg("%ld jobs were not added", failed);
	else
		rv = 0;
out:
	bullmq_add_stream_free(st);
	return rv;
}
