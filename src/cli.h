/*
 * cli.h: declarations shared by the files of the bullmq command line.
 */
#ifndef CLI_H
#define CLI_H

#define EXIT_USAGE	64
#define MAX_DELAY	(INT64_C(1) << 40)

/* Options common to every command, and the handle they lead to. */
struct cli {
	const char	*url;
	const char	*prefix;
	int		 json;
	bullmq_queue	*q;
};

/* Long-only option codes. */
enum {
	OPT_PREFIX = 256,
	OPT_JSON,
	OPT_VERSION,
	OPT_DELAY,
	OPT_PRIORITY,
	OPT_ATTEMPTS,
	OPT_BACKOFF,
	OPT_JOB_ID,
	OPT_LIFO,
	OPT_ROC,
	OPT_ROF,
	OPT_OPTS,
	OPT_BATCH,
	OPT_SKIP_BAD,
	OPT_STATE,
	OPT_COUNT,
	OPT_GRACE,
	OPT_LIMIT,
	OPT_DELAYED,
	OPT_FORCE,
	OPT_FROM,
	OPT_FOLLOW
};

#define COMMON_LONGOPTS \
	{ "redis",	required_argument,	NULL,	'r' },		\
	{ "prefix",	required_argument,	NULL,	OPT_PREFIX },	\
	{ "json",	no_argument,		NULL,	OPT_JSON },	\
	{ "help",	no_argument,		NULL,	'h' }

/* One command: its name, what runs it, and its operands for the usage. */
struct command {
	const char	*name;
	int		(*fn)(struct cli *, int, char **);
	const char	*args;
};

/* bullmq.c */
void	warnmsg(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	usage_to(FILE *, const struct command *);
int	usage_error(const struct command *, const char *, ...)
	    __attribute__((__format__(__printf__, 2, 3)));
const struct command *find_command(const char *);
void	reset_getopt(void);
int	common_option(struct cli *, int);
int	parse_num(const char *, const char *, long long, long long,
	    long long *);
int	open_queue(struct cli *, const char *);
int	queue_fail(struct cli *, const char *);
void	put_jstr(const char *, size_t);

/* cli-add.c */
int	cmd_add(struct cli *, int, char **);
int	cmd_add_bulk(struct cli *, int, char **);
int	cmd_bench(struct cli *, int, char **);

#endif /* CLI_H */
