/*
 * cli.h: declarations shared by the files of the bullmq command line.
 */
#ifndef CLI_H
#define CLI_H

#include <stdint.h>

#include "bullmq.h"

#define EXIT_USAGE	64
#define MAX_DELAY	(INT64_C(1) << 40)

struct command;

/* Options common to every command, and the handle they lead to. */
struct cli {
	const char		*url;
	const char		*prefix;
	int			 json;
	const struct command	*cmd;	/* the command running, or NULL */
	bullmq_queue		*q;
};

/*
 * One command: its name, what runs it, how many operands it takes (and
 * what the usage error says when the count is wrong), and its operands and
 * options for the usage.
 */
struct command {
	const char	*name;
	int		(*fn)(struct cli *, int, char **);
	int		 min, max;
	const char	*expect;
	const char	*args;
};

/* How an option stores its value. */
enum cli_kind {
	OPTK_FLAG,	/* int *: set to 1 */
	OPTK_STR,	/* const char **: the argument */
	OPTK_NUM,	/* long long *: the argument, a number in [lo, hi] */
	OPTK_FN,	/* fn(cli, "--name", arg, p): 0, -1 after a message */
	OPTK_EXIT	/* fn(cli, ...) prints, then the command exits 0 */
};

/*
 * One option of a command: its long name and its letter (either may be
 * missing), and where its value goes.
 */
struct cli_opt {
	const char	*name;
	int		 letter;
	enum cli_kind	 kind;
	void		*p;
	long long	 lo, hi;
	int		(*fn)(struct cli *, const char *, const char *, void *);
};

/* The conditional makes the compiler check the type of the pointer. */
#define OPT_PTR(type, p)		(1 ? (p) : (type *)NULL)
#define OPT_FLAG(name, letter, p)	\
	{ name, letter, OPTK_FLAG, OPT_PTR(int, p), 0, 0, NULL }
#define OPT_STR(name, letter, p)	\
	{ name, letter, OPTK_STR, OPT_PTR(const char *, p), 0, 0, NULL }
#define OPT_NUM(name, letter, p, lo, hi) \
	{ name, letter, OPTK_NUM, OPT_PTR(long long, p), lo, hi, NULL }
#define OPT_FN(name, letter, p, fn)	\
	{ name, letter, OPTK_FN, p, 0, 0, fn }
#define OPT_EXIT(name, letter, fn)	\
	{ name, letter, OPTK_EXIT, NULL, 0, 0, fn }
#define OPT_END				\
	{ NULL, 0, OPTK_FLAG, NULL, 0, 0, NULL }

/* What cli_options and cli_args return when the command should go on. */
#define CLI_GO	(-1)

/* bullmq.c */
void	warnmsg(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	warnsys(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	usage_to(FILE *, const struct command *);
int	usage_error(const struct command *, const char *, ...)
	    __attribute__((__format__(__printf__, 2, 3)));
int	cli_options(struct cli *, const struct cli_opt *, int *, char ***);
int	cli_args(struct cli *, const struct cli_opt *, int *, char ***);
int	cli_open(struct cli *, const struct cli_opt *, int *, char ***);
int	parse_num(const char *, const char *, long long, long long,
	    long long *);
int	open_queue(struct cli *, const char *);
int	queue_fail(struct cli *, const char *);
void	put_jstr(const char *, size_t);
void	put_job_json(const bullmq_job *, const char *);
const struct command
	*find_command(const char *);

/* cli-add.c */
int	cmd_add(struct cli *, int, char **);
int	cmd_add_bulk(struct cli *, int, char **);
int	cmd_bench(struct cli *, int, char **);

/* cron.c */
int	cmd_cron(struct cli *, int, char **);

/* ops.c */
int	cmd_jobs(struct cli *, int, char **);
int	cmd_logs(struct cli *, int, char **);
int	cmd_promote(struct cli *, int, char **);
int	cmd_retry_job(struct cli *, int, char **);
int	cmd_help(struct cli *, int, char **);

#endif /* CLI_H */
