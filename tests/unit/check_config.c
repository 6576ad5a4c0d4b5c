/*
 * check_config.c: the settings table and its parsers: defaults < config
 * file < environment < command line, and the errors naming file and line.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "suite.h"

static char	path[64];

/* Remove every BULLMQ_ variable and make a scratch file name. */
static void
setup(void)
{
	char	env[64];
	size_t	i;
	int	fd;

	for (i = 0; i < settings_count; i++) {
		config_env_name(&settings_table[i], env, sizeof(env));
		unsetenv(env);
	}
	strlcpy(path, "/tmp/check_config.XXXXXX", sizeof(path));
	ck_assert_int_ne(fd = mkstemp(path), -1);
	close(fd);
}

/* Remove the scratch file. */
static void
teardown(void)
{
	unlink(path);
}

/* Write text to the scratch file. */
static void
write_file(const char *text)
{
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

/* Parse an argument vector (NULL-terminated, without argv[0]). */
static int
args(struct cmdline *cl, const char **v, char *err, size_t errsize)
{
	char	*argv[32];
	int	 argc = 0;

	argv[argc++] = (char *)"bullmq-master";
	while (*v != NULL)
		argv[argc++] = (char *)*v++;
	argv[argc] = NULL;
	return config_args(cl, argc, argv, err, errsize);
}

/* Every name and short flag is unique and every default is valid. */
START_TEST(test_table)
{
	struct settings	s;
	char		err[256];
	size_t		i, j;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < settings_count; i++) {
		ck_assert_int_eq(config_set(&s, &settings_table[i],
		    settings_table[i].def, err, sizeof(err)), 0);
		ck_assert_ptr_eq(config_find(settings_table[i].name),
		    &settings_table[i]);
		for (j = i + 1; j < settings_count; j++) {
			ck_assert_str_ne(settings_table[i].name,
			    settings_table[j].name);
			if (settings_table[i].flag != 0)
				ck_assert_int_ne(settings_table[i].flag,
				    settings_table[j].flag);
		}
	}
	ck_assert_ptr_null(config_find("no-such-setting"));
}
END_TEST

/* Environment names: BULLMQ_ and the name in capitals with underscores. */
START_TEST(test_env_name)
{
	char	buf[64];

	config_env_name(config_find("max-jobs-per-child"), buf, sizeof(buf));
	ck_assert_str_eq(buf, "BULLMQ_MAX_JOBS_PER_CHILD");
	config_env_name(config_find("redis"), buf, sizeof(buf));
	ck_assert_str_eq(buf, "BULLMQ_REDIS");
}
END_TEST

/* The defaults of DESIGN.md; queue and processor are required. */
START_TEST(test_defaults)
{
	struct settings	s;
	struct cmdline	cl;
	const char	*v[] = { "-q", "emails", "-x", "builtin:noop", NULL };
	char		err[512];

	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "queue is not set") != NULL, "%s", err);
	ck_assert_int_eq(args(&cl, v, err, sizeof(err)), 0);
	ck_assert_int_eq(config_load(&s, &cl, err, sizeof(err)), 0);
	ck_assert_str_eq(s.redis, "redis://127.0.0.1:6379/0");
	ck_assert_str_eq(s.prefix, "bull");
	ck_assert_int_eq(s.workers, 2 * sysconf(_SC_NPROCESSORS_ONLN));
	ck_assert_int_eq(s.lock_duration, 30000);
	ck_assert_int_eq(s.stalled_interval, 30000);
	ck_assert_int_eq(s.max_stalled_count, 1);
	ck_assert_int_eq(s.job_timeout, 0);
	ck_assert_int_eq(s.graceful_timeout, 30000);
	ck_assert_int_eq(s.max_restarts, 10);
	ck_assert_int_eq(s.max_seconds, 60);
	ck_assert_int_eq(s.max_jobs_per_child, 0);
	ck_assert_int_eq(s.drain_delay, 5000);
	ck_assert_int_eq(s.daemon, 0);
	ck_assert_int_eq(s.check, 0);
	ck_assert_str_eq(s.pidfile, "");
	config_cmdline_free(&cl);
}
END_TEST

/* A file with comments, blanks, spaces and quotes. */
START_TEST(test_file)
{
	struct settings	s;
	char		err[512];

	write_file("# comment\n\n   # indented comment\nqueue=emails\n"
	    "  processor =   builtin:echo  \nworkers = 7\n"
	    "worker-name = \"w 1\"\ndaemon = yes\n"
	    "job-timeout = 1500\nqueue = later\n");
	setenv("BULLMQ_CONFIG", path, 1);
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "worker-name") != NULL, "%s", err);

	write_file("# comment\n\n   # indented comment\nqueue=emails\n"
	    "  processor =   builtin:echo  \nworkers = 7\n"
	    "worker-name = \"w1\"\ndaemon = yes\n"
	    "job-timeout = 1500\nqueue = later\n");
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(s.queue, "later");
	ck_assert_str_eq(s.processor, "builtin:echo");
	ck_assert_str_eq(s.worker_name, "w1");
	ck_assert_int_eq(s.workers, 7);
	ck_assert_int_eq(s.daemon, 1);
	ck_assert_int_eq(s.job_timeout, 1500);
	ck_assert_str_eq(s.config, path);
}
END_TEST

/* Errors name the file, the line and the problem. */
START_TEST(test_file_errors)
{
	struct settings	s;
	char		err[512], want[512];

	setenv("BULLMQ_CONFIG", path, 1);
	write_file("queue = q\nworkers 3\n");
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2: expected key = value", path);
	ck_assert_str_eq(err, want);

	write_file("queue = q\n\nnope = 1\n");
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3: unknown setting \"nope\"", path);
	ck_assert_str_eq(err, want);

	write_file("workers = 4097\n");
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:1: workers: \"4097\" is too large "
	    "(1 to 4096 or auto)", path);
	ck_assert_str_eq(err, want);

	write_file("daemon = maybe\n");
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:1: daemon: \"maybe\" is not yes "
	    "or no", path);
	ck_assert_str_eq(err, want);

	write_file("check = yes\n");
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:1: check cannot be set in a config "
	    "file", path);
	ck_assert_str_eq(err, want);

	write_file("queue = q\nprocessor = builtin:noop\nredis = http://x\n");
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3: redis: ", path);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);

	write_file("queue = a:b\nprocessor = builtin:noop\n");
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "must not contain ':'") != NULL, "%s", err);

	write_file("queue = q\nprocessor = builtin:noop\n"
	    "user = no-such-user-here\n");
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3: user: no user "
	    "\"no-such-user-here\"", path);
	ck_assert_str_eq(err, want);
	unsetenv("BULLMQ_CONFIG");
	setenv("BULLMQ_QUEUE", "q", 1);
	setenv("BULLMQ_PROCESSOR", "builtin:noop", 1);
	setenv("BULLMQ_USER", "no-such-user-here", 1);
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "BULLMQ_USER: user: no user "
	    "\"no-such-user-here\"");
	unsetenv("BULLMQ_USER");

	unsetenv("BULLMQ_QUEUE");
	unsetenv("BULLMQ_PROCESSOR");
	setenv("BULLMQ_CONFIG", "/nonexistent/bullmq.conf", 1);
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/nonexistent/bullmq.conf: No such file or "
	    "directory");
}
END_TEST

/* The operator's settings: autoscale bounds, the size limit, the socket. */
START_TEST(test_operator)
{
	struct settings	s;
	char		err[512];

	setenv("BULLMQ_QUEUE", "q", 1);
	setenv("BULLMQ_PROCESSOR", "builtin:noop", 1);
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(s.autoscale_max, 0);
	ck_assert_int_eq(s.max_rss_kb, 0);
	ck_assert_str_eq(s.control_socket, "auto");
	ck_assert_int_eq(s.master_redis_timeout, 1000);
	setenv("BULLMQ_AUTOSCALE", "0,16", 1);
	setenv("BULLMQ_MAX_CHILD_RSS", "2G", 1);
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(s.autoscale_min, 0);
	ck_assert_int_eq(s.autoscale_max, 16);
	ck_assert_int_eq(s.max_rss_kb, 2L * 1024 * 1024);
	setenv("BULLMQ_MAX_CHILD_RSS", "300m", 1);
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(s.max_rss_kb, 300L * 1024);
	setenv("BULLMQ_MAX_CHILD_RSS", "1000", 1);
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(s.max_rss_kb, 1);
	setenv("BULLMQ_MAX_CHILD_RSS", "64k", 1);
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(s.max_rss_kb, 64);
	setenv("BULLMQ_MAX_CHILD_RSS", "M", 1);
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "BULLMQ_MAX_CHILD_RSS: max-child-rss: \"M\" is "
	    "not a size (N, NK, NM or NG)");
	setenv("BULLMQ_MAX_CHILD_RSS", "99999999999999G", 1);
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), -1);
	unsetenv("BULLMQ_MAX_CHILD_RSS");
	setenv("BULLMQ_AUTOSCALE", "4", 1);
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "BULLMQ_AUTOSCALE: autoscale: \"4\" is not "
	    "MIN,MAX (say 2,16)");
	setenv("BULLMQ_AUTOSCALE", "1,0", 1);
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), -1);
	setenv("BULLMQ_AUTOSCALE", "1,5000", 1);
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), -1);
	unsetenv("BULLMQ_AUTOSCALE");
	setenv("BULLMQ_CONTROL_SOCKET", "none", 1);
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), 0);
	setenv("BULLMQ_CONTROL_SOCKET", "/run/x.sock", 1);
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), 0);
	setenv("BULLMQ_CONTROL_SOCKET", "x.sock", 1);
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), -1);
	unsetenv("BULLMQ_CONTROL_SOCKET");
	unsetenv("BULLMQ_QUEUE");
	unsetenv("BULLMQ_PROCESSOR");
}
END_TEST

/*
 * Only a regular file is read, never blocking on a fifo, and only so much
 * of it: a size cap and a line length cap.
 */
START_TEST(test_file_kinds)
{
	struct settings	s;
	FILE		*f;
	char		err[512], want[512], fifo[80];
	size_t		i;

	snprintf(fifo, sizeof(fifo), "%s.fifo", path);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	setenv("BULLMQ_CONFIG", fifo, 1);
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: not a regular file (a fifo)", fifo);
	unlink(fifo);
	ck_assert_str_eq(err, want);

	setenv("BULLMQ_CONFIG", "/tmp", 1);
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/tmp: not a regular file (a directory)");

	setenv("BULLMQ_CONFIG", path, 1);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("queue = q\nprocessor = builtin:noop\n# ", f);
	for (i = 0; i < 2 * SET_PATH_MAX + 1; i++)
		fputc('x', f);
	fputs("\n", f);
	fclose(f);
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3: line longer than %d bytes", path,
	    2 * SET_PATH_MAX);
	ck_assert_str_eq(err, want);

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("queue = q\nprocessor = builtin:noop\n", f);
	for (i = 0; i < 1024 * 1024; i++)
		fputc(i % 64 == 63 ? '\n' : '#', f);
	fclose(f);
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: larger than %d bytes", path,
	    1024 * 1024);
	ck_assert_str_eq(err, want);

	/* what fits is read: 1 MB with the last line without a newline */
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("processor = builtin:noop\n", f);
	for (i = 0; i < 1024 * 1024 - 25 - 10; i++)
		fputc(i % 64 == 63 ? '\n' : '#', f);
	fputs("\nqueue = q", f);
	fclose(f);
	ck_assert_int_eq(config_load(&s, NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(s.queue, "q");
}
END_TEST

/* Only a regular file is a log file. */
START_TEST(test_log_file_kinds)
{
	char	err[512], want[512], fifo[80];

	snprintf(fifo, sizeof(fifo), "%s.fifo", path);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(log_init(LOG_TO_FILE, fifo, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "log-file %s: not a regular file "
	    "(a fifo)", fifo);
	unlink(fifo);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(log_init(LOG_TO_FILE, "/dev/null", err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "log-file /dev/null: not a regular file "
	    "(a character device)");
	ck_assert_int_eq(log_init(LOG_TO_FILE, path, err, sizeof(err)), 0);
	ck_assert_int_eq(log_init(LOG_TO_STDERR, NULL, err, sizeof(err)), 0);
}
END_TEST

/* The children drop the variables holding a secret, and only those. */
START_TEST(test_scrub_env)
{
	setenv("BULLMQ_REDIS", "redis://u:pw@h", 1);
	setenv("BULLMQ_QUEUE", "q", 1);
	config_scrub_env();
	ck_assert_ptr_null(getenv("BULLMQ_REDIS"));
	ck_assert_str_eq(getenv("BULLMQ_QUEUE"), "q");
	unsetenv("BULLMQ_QUEUE");
}
END_TEST

/* defaults < file < environment < command line. */
START_TEST(test_precedence)
{
	struct settings	s;
	struct cmdline	cl;
	const char	*v[] = { "-c", path, "--drain-delay", "900", NULL };
	char		err[512];

	write_file("queue = q\nprocessor = builtin:noop\nworkers = 2\n"
	    "drain-delay = 700\nlock-duration = 10000\n");
	setenv("BULLMQ_WORKERS", "5", 1);
	setenv("BULLMQ_DRAIN_DELAY", "800", 1);
	setenv("BULLMQ_CONFIG", "/nonexistent", 1);	/* -c wins */
	ck_assert_int_eq(args(&cl, v, err, sizeof(err)), 0);
	ck_assert_int_eq(config_load(&s, &cl, err, sizeof(err)), 0);
	ck_assert_int_eq(s.lock_duration, 10000);	/* file */
	ck_assert_int_eq(s.workers, 5);			/* environment */
	ck_assert_int_eq(s.drain_delay, 900);		/* command line */
	ck_assert_int_eq(s.stalled_interval, 30000);	/* default */

	setenv("BULLMQ_WORKERS", "zero", 1);
	ck_assert_int_eq(config_load(&s, &cl, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "BULLMQ_WORKERS: workers: \"zero\" is invalid "
	    "(1 to 4096 or auto)");
	config_cmdline_free(&cl);
}
END_TEST

/* The command line: short and long flags, booleans, errors. */
START_TEST(test_args)
{
	struct settings	s;
	struct cmdline	cl;
	const char	*v1[] = { "-q", "q", "-x", "builtin:fail", "-w", "3",
			    "-D", "--check", "--max-jobs-per-child=100", NULL };
	const char	*v2[] = { "--bogus", NULL };
	const char	*v3[] = { "-q", "q", "extra", NULL };
	const char	*v4[] = { "-w", NULL };
	const char	*v5[] = { "--help", NULL };
	const char	*v6[] = { "-V", NULL };
	const char	*v7[] = { "-q", "q", "-x", "builtin:noop", "-w", "auto",
			    "--job-timeout", "-5", NULL };
	char		err[512];

	ck_assert_int_eq(args(&cl, v1, err, sizeof(err)), 0);
	ck_assert_int_eq(config_load(&s, &cl, err, sizeof(err)), 0);
	ck_assert_int_eq(s.workers, 3);
	ck_assert_int_eq(s.daemon, 1);
	ck_assert_int_eq(s.check, 1);
	ck_assert_int_eq(s.max_jobs_per_child, 100);
	ck_assert_str_eq(s.processor, "builtin:fail");
	config_cmdline_free(&cl);

	ck_assert_int_eq(args(&cl, v2, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "--bogus") != NULL, "%s", err);
	config_cmdline_free(&cl);
	ck_assert_int_eq(args(&cl, v3, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unexpected argument extra");
	config_cmdline_free(&cl);
	ck_assert_int_eq(args(&cl, v4, err, sizeof(err)), -1);
	config_cmdline_free(&cl);
	ck_assert_int_eq(args(&cl, v5, err, sizeof(err)), CONFIG_HELP);
	config_cmdline_free(&cl);
	ck_assert_int_eq(args(&cl, v6, err, sizeof(err)), CONFIG_VERSION);
	config_cmdline_free(&cl);

	ck_assert_int_eq(args(&cl, v7, err, sizeof(err)), 0);
	ck_assert_int_eq(config_load(&s, &cl, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "--job-timeout: \"-5\" is too small (0 to "
	    "2147483647)");
	config_cmdline_free(&cl);
}
END_TEST

/* Values print back in config syntax; differences are found per setting. */
START_TEST(test_print_differs)
{
	struct settings	a, b;
	struct cmdline	cl;
	const char	*v[] = { "-q", "q", "-x", "builtin:noop", "-w", "4",
			    NULL };
	char		err[512], *buf = NULL;
	size_t		len = 0;
	FILE		*f;

	ck_assert_int_eq(args(&cl, v, err, sizeof(err)), 0);
	ck_assert_int_eq(config_load(&a, &cl, err, sizeof(err)), 0);
	b = a;
	ck_assert_int_eq(config_differs(&a, &b, config_find("workers")), 0);
	b.workers = 5;
	strlcpy(b.processor, "builtin:echo", sizeof(b.processor));
	ck_assert_int_eq(config_differs(&a, &b, config_find("workers")), 1);
	ck_assert_int_eq(config_differs(&a, &b, config_find("processor")), 1);
	ck_assert_int_eq(config_differs(&a, &b, config_find("queue")), 0);
	ck_assert_ptr_nonnull(f = open_memstream(&buf, &len));
	config_print(f, &a);
	fclose(f);
	ck_assert_msg(strstr(buf, "\nworkers = 4\n") != NULL, "%s", buf);
	ck_assert_msg(strstr(buf, "\nqueue = q\n") != NULL, "%s", buf);
	ck_assert_msg(strstr(buf, "\ndaemon = no\n") != NULL, "%s", buf);
	ck_assert_msg(strstr(buf, "check =") == NULL, "%s", buf);
	free(buf);
	config_cmdline_free(&cl);
}
END_TEST

/* A value shown (--check, the HUP warnings) never holds a password. */
START_TEST(test_value_secret)
{
	struct settings	s;
	char		buf[256];

	memset(&s, 0, sizeof(s));
	strlcpy(s.redis, "redis://app:s3cret@h:1/2", sizeof(s.redis));
	config_value(&s, config_find("redis"), buf, sizeof(buf));
	ck_assert_str_eq(buf, "redis://app:***@h:1/2");
	strlcpy(s.redis, "redis://s3cret@h", sizeof(s.redis));
	config_value(&s, config_find("redis"), buf, sizeof(buf));
	ck_assert_str_eq(buf, "redis://***@h");
}
END_TEST

/*
 * spin-wait: a number is kept, auto (-1) spins while there are no more
 * children than CPUs, and it reads and prints as auto.
 */
START_TEST(test_spin_wait)
{
	struct settings	 s;
	const struct setting *st = config_find("spin-wait");
	char		 buf[32], err[256];

	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(spin_wait_for(0, 1, 2), 0);
	ck_assert_int_eq(spin_wait_for(500, 64, 2), 500);
	ck_assert_int_eq(spin_wait_for(SET_AUTO_VALUE, 1, 2), SPIN_AUTO_US);
	ck_assert_int_eq(spin_wait_for(SET_AUTO_VALUE, 2, 2), SPIN_AUTO_US);
	ck_assert_int_eq(spin_wait_for(SET_AUTO_VALUE, 3, 2), 0);
	ck_assert_int_eq(spin_wait_for(SET_AUTO_VALUE, 4, 4), SPIN_AUTO_US);
	ck_assert_int_eq(spin_wait_for(SET_AUTO_VALUE, 16, 4), 0);
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(config_set(&s, st, "auto", err, sizeof(err)), 0);
	ck_assert_int_eq(s.spin_wait, SET_AUTO_VALUE);
	config_value(&s, st, buf, sizeof(buf));
	ck_assert_str_eq(buf, "auto");
	ck_assert_int_eq(config_set(&s, st, "150", err, sizeof(err)), 0);
	ck_assert_int_eq(s.spin_wait, 150);
	config_value(&s, st, buf, sizeof(buf));
	ck_assert_str_eq(buf, "150");
	ck_assert_int_eq(config_set(&s, st, "-1", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "spin-wait: \"-1\" is too small (0 to 10000 or "
	    "auto)");
}
END_TEST

/* nice: an increment on the master's nice value, kept within -20..19. */
START_TEST(test_nice)
{
	const struct setting	*st = config_find("nice");
	struct settings		 s;
	char			 err[256];

	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(nice_for(0, 0), 0);
	ck_assert_int_eq(nice_for(0, 5), 5);
	ck_assert_int_eq(nice_for(3, 4), 7);
	ck_assert_int_eq(nice_for(15, 10), 19);
	ck_assert_int_eq(nice_for(-10, -15), -20);
	ck_assert_int_eq(nice_for(10, -5), 5);
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(config_set(&s, st, "-20", err, sizeof(err)), 0);
	ck_assert_int_eq(s.nice, -20);
	ck_assert_int_eq(config_set(&s, st, "19", err, sizeof(err)), 0);
	ck_assert_int_eq(s.nice, 19);
	ck_assert_int_eq(config_set(&s, st, "-21", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "nice: \"-21\" is too small (-20 to 19)");
}
END_TEST

/*
 * addr_parse: a numeric IPv4 or bracketed IPv6 address and a port; port 0
 * only where it may be picked (metrics-listen); names are refused.
 */
START_TEST(test_addr)
{
	struct sockaddr_storage	 sa;
	struct sockaddr_in	*in4 = (struct sockaddr_in *)&sa;
	struct sockaddr_in6	*in6 = (struct sockaddr_in6 *)&sa;
	socklen_t		 len;
	char			 err[256];

	ck_assert_int_eq(addr_parse("127.0.0.1:9464", 0, &sa, &len, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(sa.ss_family, AF_INET);
	ck_assert_int_eq(ntohs(in4->sin_port), 9464);
	ck_assert_uint_eq(len, sizeof(*in4));
	ck_assert_int_eq(addr_parse("[::1]:8125", 0, &sa, &len, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(sa.ss_family, AF_INET6);
	ck_assert_int_eq(ntohs(in6->sin6_port), 8125);
	ck_assert_int_eq(addr_parse("127.0.0.1:0", 1, &sa, &len, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(addr_parse("127.0.0.1:0", 0, &sa, &len, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "too small"));
	ck_assert_int_eq(addr_parse("127.0.0.1:65536", 1, &sa, &len, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(addr_parse("localhost:80", 1, &sa, &len, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a numeric address"));
	ck_assert_int_eq(addr_parse("::1:80", 1, &sa, &len, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(addr_parse("[::1]80", 1, &sa, &len, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(addr_parse(":80", 1, &sa, &len, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(addr_parse("127.0.0.1", 1, &sa, &len, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(addr_parse("127.0.0.1:x", 1, &sa, &len, err,
	    sizeof(err)), -1);
}
END_TEST

/* A user name gives the uid and, without a group, its group. */
START_TEST(test_user)
{
	struct settings	s;
	struct cmdline	cl;
	const char	*v[] = { "-q", "q", "-x", "builtin:noop", "-u", "root",
			    NULL };
	const char	*v2[] = { "-q", "q", "-x", "builtin:noop", "-u", "4321",
			    "-g", "4322", NULL };
	char		err[512];

	ck_assert_int_eq(args(&cl, v, err, sizeof(err)), 0);
	ck_assert_int_eq(config_load(&s, &cl, err, sizeof(err)), 0);
	ck_assert_int_eq(s.drop_user, 1);
	ck_assert_int_eq(s.drop_group, 1);
	ck_assert_int_eq(s.uid, 0);
	ck_assert_int_eq(s.gid, 0);
	config_cmdline_free(&cl);
	ck_assert_int_eq(args(&cl, v2, err, sizeof(err)), 0);
	ck_assert_int_eq(config_load(&s, &cl, err, sizeof(err)), 0);
	ck_assert_int_eq(s.uid, 4321);
	ck_assert_int_eq(s.gid, 4322);
	config_cmdline_free(&cl);
}
END_TEST

/* The suite. */
Suite *
make_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc = tcase_create("settings");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_env_name);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_file);
	tcase_add_test(tc, test_file_errors);
	tcase_add_test(tc, test_file_kinds);
	tcase_add_test(tc, test_log_file_kinds);
	tcase_add_test(tc, test_scrub_env);
	tcase_add_test(tc, test_value_secret);
	tcase_add_test(tc, test_precedence);
	tcase_add_test(tc, test_args);
	tcase_add_test(tc, test_print_differs);
	tcase_add_test(tc, test_user);
	tcase_add_test(tc, test_addr);
	tcase_add_test(tc, test_spin_wait);
	tcase_add_test(tc, test_nice);
	tcase_add_test(tc, test_operator);
	suite_add_tcase(s, tc);
	return s;
}
