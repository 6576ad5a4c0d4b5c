/*
 * config.c: the settings table and its parsers: defaults < config file <
 * BULLMQ_* environment < command line.
 */
#include <sys/types.h>
#include <sys/resource.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

/* Where each setting got its value, to name it in an error. */
enum origin {
	FROM_DEFAULT = 0,
	FROM_FILE,
	FROM_ENV,
	FROM_ARGS
};

struct origins {
	enum origin	 from[64];
	long		 line[64];
};

/* A config file is small: its size and a line's length are capped. */
#define CONFIG_FILE_MAX		(1024 * 1024)
#define CONFIG_LINE_MAX		(2 * SET_PATH_MAX)

/* Made once by main, before the first fork (config_tls). */
bullmq_tls	*daemon_tls;

#define S(f)	offsetof(struct settings, f)
#define Z(f)	sizeof(((struct settings *)0)->f)

/*
 * Every setting once.  Keep man/bullmq-master.8, man/bullmq.conf.5 and
 * contrib/bullmq.conf.sample in step with this table.
 */
const struct setting settings_table[] = {
	{ "config", 'c', "FILE", SET_STR, S(config), Z(config), 0, 0, "",
	    SET_NOFILE, "read settings from FILE" },
	{ "redis", 'r', "URL", SET_STR, S(redis), Z(redis), 0, 0,
	    BULLMQ_DEFAULT_URL, SET_SECRET,
	    "redis[s]://[user:pass@]host[:port][/db] or "
	    "unix://[[user:]pass@]/path[?db=N]" },
	{ "tls-ca-file", 0, "FILE", SET_STR, S(tls_ca_file), Z(tls_ca_file),
	    0, 0, "", 0, "rediss://: CA certificates to verify the server "
	    "with (default: OpenSSL's, SSL_CERT_FILE, SSL_CERT_DIR)" },
	{ "tls-ca-dir", 0, "DIR", SET_STR, S(tls_ca_dir), Z(tls_ca_dir), 0, 0,
	    "", 0, "rediss://: a directory of CA certificates (c_rehash)" },
	{ "tls-cert", 0, "FILE", SET_STR, S(tls_cert), Z(tls_cert), 0, 0, "",
	    0, "rediss://: client certificate for mutual TLS" },
	{ "tls-key", 0, "FILE", SET_STR, S(tls_key), Z(tls_key), 0, 0, "", 0,
	    "rediss://: the client certificate's key, read before the "
	    "children drop privileges" },
	{ "tls-server-name", 0, "NAME", SET_STR, S(tls_server_name),
	    Z(tls_server_name), 0, 0, "", 0, "rediss://: name sent (SNI) "
	    "and checked in the server's certificate (default: the URL's "
	    "host)" },
	{ "tls-verify", 0, "yes|no", SET_STR, S(tls_verify), Z(tls_verify), 0,
	    0, "yes", 0, "rediss://: verify the server's certificate and "
	    "name" },
	{ "queue", 'q', "NAME", SET_STR, S(queue), Z(queue), 0, 0, "",
	    SET_REQUIRED, "the queue to work on" },
	{ "prefix", 0, "P", SET_STR, S(prefix), Z(prefix), 0, 0,
	    BULLMQ_DEFAULT_PREFIX, 0, "key prefix of the queue" },
	{ "workers", 'w', "N", SET_INT, S(workers), 0, 1, 4096, "auto",
	    SET_RELOAD | SET_AUTO, "worker children (auto: 2 x online CPUs)" },
	{ "processor", 'x', "SPEC", SET_STR, S(processor), Z(processor), 0, 0,
	    "", SET_RELOAD | SET_ROLL | SET_REQUIRED,
	    "builtin:noop|echo|sleep|fail, so:PATH or exec:PROG ARGS" },
	{ "lock-duration", 0, "MS", SET_INT, S(lock_duration), 0, 1000,
	    86400000, "30000", SET_RELOAD | SET_ROLL, "job lock time to live" },
	{ "stalled-interval", 0, "MS", SET_INT, S(stalled_interval), 0, 100,
	    86400000, "30000", SET_RELOAD, "time between stalled checks" },
	{ "max-stalled-count", 0, "N", SET_INT, S(max_stalled_count), 0, 0,
	    1000000, "1", SET_RELOAD,
	    "stalls a job may have before it fails" },
	{ "job-timeout", 0, "MS", SET_INT, S(job_timeout), 0, 0, INT_MAX, "0",
	    SET_RELOAD, "fail a job running longer (0: never)" },
	{ "kill-timeout", 0, "MS", SET_INT, S(kill_timeout), 0, 0, 3600000,
	    "5000", SET_RELOAD,
	    "time from SIGTERM to SIGKILL for a timed out job" },
	{ "graceful-timeout", 0, "MS", SET_INT, S(graceful_timeout), 0, 0,
	    86400000, "30000", SET_RELOAD,
	    "time running jobs get to finish on TERM" },
	{ "max-restarts", 0, "N", SET_INT, S(max_restarts), 0, 0, 100000,
	    "10", SET_RELOAD, "restarts allowed within max-seconds" },
	{ "max-seconds", 0, "S", SET_INT, S(max_seconds), 0, 1, 86400, "60",
	    SET_RELOAD, "window of max-restarts" },
	{ "max-jobs-per-child", 0, "N", SET_INT, S(max_jobs_per_child), 0, 0,
	    LONG_MAX, "0", SET_RELOAD,
	    "replace a child after about N jobs (0: never)" },
	{ "drain-delay", 0, "MS", SET_INT, S(drain_delay), 0, 10, 10000,
	    "5000", SET_RELOAD | SET_ROLL,
	    "how long an idle child blocks waiting for a job" },
	{ "spin-wait", 0, "US", SET_INT, S(spin_wait), 0, 0, 10000, "auto",
	    SET_RELOAD | SET_ROLL | SET_AUTO, "how long a child polls for "
	    "Redis's reply before it sleeps (auto: " SPIN_AUTO_TEXT
	    " while workers < online CPUs, else 0)" },
	{ "redis-timeout", 0, "MS", SET_INT, S(redis_timeout), 0, 100,
	    3600000, "10000", SET_RELOAD | SET_ROLL,
	    "how long a child waits for Redis to answer" },
	{ "remove-on-complete", 0, "KEEP", SET_STR, S(remove_on_complete),
	    Z(remove_on_complete), 0, 0, "", SET_RELOAD | SET_ROLL,
	    "removal of completed jobs that set none: true, false, N or "
	    "age:S[,count:N]" },
	{ "remove-on-fail", 0, "KEEP", SET_STR, S(remove_on_fail),
	    Z(remove_on_fail), 0, 0, "", SET_RELOAD | SET_ROLL,
	    "removal of failed jobs that set none, the same way" },
	{ "metrics", 0, "N", SET_INT, S(metrics), 0, 0, 1000000, "0",
	    SET_RELOAD | SET_ROLL,
	    "record per-minute metrics, keeping N points (0: off)" },
	{ "limiter", 0, "MAX/MS", SET_STR, S(limiter), Z(limiter), 0, 0, "",
	    SET_RELOAD | SET_ROLL,
	    "at most MAX jobs started each MS milliseconds, queue-wide" },
	{ "max-started-attempts", 0, "N", SET_INT, S(max_started_attempts), 0,
	    0, 1000000, "0", SET_RELOAD | SET_ROLL,
	    "fail a job started more than N times (0: never)" },
	{ "worker-name", 0, "NAME", SET_STR, S(worker_name), Z(worker_name),
	    0, 0, "", SET_RELOAD | SET_ROLL,
	    "worker name shown by getWorkers and in pb" },
	{ "nice", 0, "N", SET_INT, S(nice), 0, -20, 19, "0",
	    SET_RELOAD | SET_ROLL, "children run N nice levels below the "
	    "master (negative: above, as root)" },
	{ "user", 'u', "USER", SET_STR, S(user), Z(user), 0, 0, "",
	    SET_RELOAD | SET_ROLL, "children run as USER" },
	{ "group", 'g', "GROUP", SET_STR, S(group), Z(group), 0, 0, "",
	    SET_RELOAD | SET_ROLL, "children run with group GROUP" },
	{ "pidfile", 'p', "FILE", SET_STR, S(pidfile), Z(pidfile), 0, 0, "",
	    0, "write the master's pid to FILE and lock it" },
	{ "log-file", 'l', "FILE", SET_STR, S(log_file), Z(log_file), 0, 0,
	    "", SET_RELOAD | SET_ROLL,
	    "append the log to FILE (USR1 reopens it)" },
	{ "daemon", 'D', NULL, SET_BOOL, S(daemon), 0, 0, 1, "no", 0,
	    "detach and log to syslog" },
	{ "check", 'n', NULL, SET_BOOL, S(check), 0, 0, 1, "no", SET_NOFILE,
	    "check the settings, print them and exit" },
	{ "log-format", 0, "FORMAT", SET_STR, S(log_format), Z(log_format), 0,
	    0, "text", SET_RELOAD | SET_ROLL,
	    "log lines as text, logfmt or json" },
	{ "log-level", 0, "LEVEL", SET_STR, S(log_level), Z(log_level), 0, 0,
	    "info", SET_RELOAD | SET_ROLL,
	    "log debug, info, warning or error and above" },
	{ "access-log", 0, NULL, SET_BOOL, S(access_log), 0, 0, 1, "no",
	    SET_RELOAD | SET_ROLL, "log a line for every finished job" },
	{ "metrics-listen", 0, "ADDR:PORT", SET_STR, S(metrics_listen),
	    Z(metrics_listen), 0, 0, "", 0,
	    "serve Prometheus metrics over HTTP at ADDR:PORT (empty: off)" },
	{ "statsd", 0, "HOST:PORT", SET_STR, S(statsd), Z(statsd), 0, 0, "",
	    SET_RELOAD, "send StatsD metrics over UDP to HOST:PORT (empty: "
	    "off)" },
	{ "control-socket", 's', "PATH", SET_STR, S(control_socket),
	    Z(control_socket), 0, 0, "auto", 0, "the master's control socket "
	    "(auto: /run/bullmq-master/QUEUE.sock as root, else under "
	    "$XDG_RUNTIME_DIR or /tmp; none: no socket)" },
	{ "master-redis-timeout", 0, "MS", SET_INT, S(master_redis_timeout),
	    0, 100, 60000, "1000", SET_RELOAD,
	    "the longest the master's own Redis calls hold its loop" },
	{ "autoscale", 0, "MIN,MAX", SET_STR, S(autoscale), Z(autoscale), 0,
	    0, "", SET_RELOAD, "keep between MIN and MAX children, as the "
	    "queue's backlog asks (empty: off)" },
	{ "autoscale-idle", 0, "S", SET_INT, S(autoscale_idle), 0, 1, 86400,
	    "30", SET_RELOAD, "autoscale: a child idle this long may go" },
	{ "autoscale-wait", 0, "MS", SET_INT, S(autoscale_wait), 0, 0,
	    86400000, "1000", SET_RELOAD,
	    "autoscale: jobs waiting this long add children" },
	{ "max-child-rss", 0, "SIZE", SET_STR, S(max_child_rss),
	    Z(max_child_rss), 0, 0, "0", SET_RELOAD, "replace a child whose "
	    "resident size (with its program's) passes SIZE: N, NK, NM, NG "
	    "(0: no limit)" },
};
const size_t settings_count = sizeof(settings_table) /
    sizeof(settings_table[0]);

/* struct cmdline and config_args hold a value and an option a row */
_Static_assert(sizeof(settings_table) / sizeof(settings_table[0]) <= SET_MAX,
    "more settings than SET_MAX: raise it in daemon.h");

/* Find a setting by its name; NULL when unknown. */
const struct setting *
config_find(const char *name)
{
	size_t	i;

	for (i = 0; i < settings_count; i++)
		if (strcmp(settings_table[i].name, name) == 0)
			return &settings_table[i];
	return NULL;
}

/* The environment variable of a setting: BULLMQ_ and the name in capitals. */
void
config_env_name(const struct setting *st, char *buf, size_t size)
{
	size_t	i, o;

	o = strlcpy(buf, "BULLMQ_", size);
	for (i = 0; st->name[i] != '\0' && o + 1 < size; i++, o++)
		buf[o] = st->name[i] == '-' ? '_' :
		    toupper((unsigned char)st->name[i]);
	if (o < size)
		buf[o] = '\0';
}

/*
 * Remove from the environment the variables of the settings that hold a
 * secret (BULLMQ_REDIS), in a child: the programs it runs inherit the
 * rest of its environment.
 */
void
config_scrub_env(void)
{
	char	env[64];
	size_t	i;

	for (i = 0; i < settings_count; i++) {
		if (!(settings_table[i].flags & SET_SECRET))
			continue;
		config_env_name(&settings_table[i], env, sizeof(env));
		unsetenv(env);
	}
}

/* Parse a boolean word; -1 when it is none. */
static int
parse_bool(const char *v)
{
	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 ||
	    strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0)
		return 1;
	if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 ||
	    strcasecmp(v, "off") == 0 || strcmp(v, "0") == 0)
		return 0;
	return -1;
}

/* The online CPUs, at least 1. */
long
online_cpus(void)
{
	long	n;

	if ((n = sysconf(_SC_NPROCESSORS_ONLN)) < 1)
		n = 1;
	return n;
}

/* Online CPUs times two, the default number of workers. */
static long
auto_workers(void)
{
	long	n = online_cpus() * 2;

	return n > 4096 ? 4096 : n;
}

/*
 * The spin-wait of a child started while workers children are wanted:
 * the setting, or for auto (-1) SPIN_AUTO_US while there are no more
 * children than CPUs, else 0 (spinning children would take Redis's CPU;
 * the spin yields, so one child a CPU leaves Redis its turn).
 */
long
spin_wait_for(long setting, long workers, long cpus)
{
	if (setting >= 0)
		return setting;
	return workers <= cpus ? SPIN_AUTO_US : 0;
}

/*
 * The nice value of the children: the master's, base, plus the setting,
 * within -20 and 19 as nice(1) keeps it.
 */
long
nice_for(long base, long incr)
{
	long	v = base + incr;

	return v < -20 ? -20 : v > 19 ? 19 : v;
}

/* Store the text v into setting st of s; -1 with a message in err. */
int
config_set(struct settings *s, const struct setting *st, const char *v,
    char *err, size_t errsize)
{
	char		*p = (char *)s + st->off;
	const char	*errstr;
	long long	 n;
	int		 b;

	switch (st->type) {
	case SET_STR:
		if (strlcpy(p, v, st->size) >= st->size) {
			snprintf(err, errsize, "%s: value too long (at most "
			    "%zu bytes)", st->name, st->size - 1);
			return -1;
		}
		break;
	case SET_INT:
		if ((st->flags & SET_AUTO) && strcmp(v, "auto") == 0) {
			*(long *)p = SET_AUTO_VALUE;
			break;
		}
		n = strtonum(v, st->min, st->max, &errstr);
		if (errstr != NULL) {
			snprintf(err, errsize, "%s: \"%s\" is %s (%lld to "
			    "%lld%s)", st->name, v, errstr, st->min, st->max,
			    (st->flags & SET_AUTO) ? " or auto" : "");
			return -1;
		}
		*(long *)p = (long)n;
		break;
	case SET_BOOL:
		if ((b = parse_bool(v)) == -1) {
			snprintf(err, errsize, "%s: \"%s\" is not yes or no",
			    st->name, v);
			return -1;
		}
		*(int *)p = b;
		break;
	}
	return 0;
}

/* Format the value of setting st into buf, to show: no password. */
void
config_value(const struct settings *s, const struct setting *st, char *buf,
    size_t size)
{
	const char	*p = (const char *)s + st->off;

	switch (st->type) {
	case SET_STR:
		if (st->flags & SET_SECRET)
			bullmq_url_redact(p, buf, size);
		else
			strlcpy(buf, p, size);
		break;
	case SET_INT:
		if ((st->flags & SET_AUTO) && *(const long *)p ==
		    SET_AUTO_VALUE)
			strlcpy(buf, "auto", size);
		else
			snprintf(buf, size, "%ld", *(const long *)p);
		break;
	case SET_BOOL:
		strlcpy(buf, *(const int *)p ? "yes" : "no", size);
		break;
	}
}

/* Whether setting st differs between a and b. */
int
config_differs(const struct settings *a, const struct settings *b,
    const struct setting *st)
{
	const char	*pa = (const char *)a + st->off;
	const char	*pb = (const char *)b + st->off;

	switch (st->type) {
	case SET_STR:
		return strcmp(pa, pb) != 0;
	case SET_INT:
		return *(const long *)pa != *(const long *)pb;
	case SET_BOOL:
		return *(const int *)pa != *(const int *)pb;
	}
	return 0;
}

/* Free the values kept from the command line. */
void
config_cmdline_free(struct cmdline *cl)
{
	size_t	i;

	for (i = 0; i < sizeof(cl->val) / sizeof(cl->val[0]); i++) {
		free(cl->val[i]);
		cl->val[i] = NULL;
	}
}

/*
 * Read the command line into cl, keeping each value as text.  Returns 0,
 * CONFIG_HELP, CONFIG_VERSION, or -1 with a message in err.
 */
int
config_args(struct cmdline *cl, int argc, char **argv, char *err,
    size_t errsize)
{
	struct option	 longopts[sizeof(cl->val) / sizeof(cl->val[0]) + 3];
	char		 shortopts[3 * (sizeof(cl->val) /
			    sizeof(cl->val[0])) + 8];
	size_t		 i, n = 0, o = 0;
	int		 ch, idx;

	memset(cl, 0, sizeof(*cl));
	memset(longopts, 0, sizeof(longopts));
	for (i = 0; i < settings_count; i++) {
		longopts[n].name = settings_table[i].name;
		longopts[n].has_arg = settings_table[i].type == SET_BOOL ?
		    no_argument : required_argument;
		longopts[n].val = 256 + (int)i;
		n++;
		if (settings_table[i].flag != 0) {
			shortopts[o++] = (char)settings_table[i].flag;
			if (settings_table[i].type != SET_BOOL)
				shortopts[o++] = ':';
		}
	}
	longopts[n].name = "help";
	longopts[n++].val = 'h';
	longopts[n].name = "version";
	longopts[n++].val = 'V';
	shortopts[o++] = 'h';
	shortopts[o++] = 'V';
	shortopts[o] = '\0';

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) !=
	    -1) {
		if (ch == 'h')
			return CONFIG_HELP;
		if (ch == 'V')
			return CONFIG_VERSION;
		idx = -1;
		if (ch >= 256)
			idx = ch - 256;
		else
			for (i = 0; i < settings_count; i++)
				if (settings_table[i].flag == ch)
					idx = (int)i;
		if (idx == -1) {
			if (optopt != 0 && optopt < 256 &&
			    isprint((unsigned char)optopt))
				snprintf(err, errsize, "unknown or incomplete "
				    "option -%c", optopt);
			else
				snprintf(err, errsize, "unknown or incomplete "
				    "option %s", argv[optind - 1]);
			return -1;
		}
		free(cl->val[idx]);
		cl->val[idx] = strdup(settings_table[idx].type == SET_BOOL ?
		    "yes" : optarg);
		if (cl->val[idx] == NULL) {
			snprintf(err, errsize, "out of memory");
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, errsize, "unexpected argument %s", argv[optind]);
		return -1;
	}
	return 0;
}

/* Trim white space at both ends of s, in place. */
static char *
trim(char *s)
{
	char	*e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/*
 * Read the whole of a config file, at most CONFIG_FILE_MAX bytes, into a
 * NUL-terminated buffer of the caller's to free; NULL with a message.
 */
static char *
config_read(const char *path, size_t *lenp, char *err, size_t errsize)
{
	char	*buf;
	size_t	 len = 0;
	ssize_t	 n;
	int	 fd, saved;

	if ((fd = open_regular(path, O_RDONLY, 0, "", err, errsize)) == -1)
		return NULL;
	if ((buf = malloc(CONFIG_FILE_MAX + 2)) == NULL) {
		close(fd);
		snprintf(err, errsize, "%s: out of memory", path);
		return NULL;
	}
	for (;;) {
		n = read(fd, buf + len, CONFIG_FILE_MAX + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len > CONFIG_FILE_MAX)
			break;
	}
	saved = errno;
	close(fd);
	if (n == -1) {
		snprintf(err, errsize, "%s: %s", path, strerror(saved));
		free(buf);
		return NULL;
	}
	if (len > CONFIG_FILE_MAX) {
		snprintf(err, errsize, "%s: larger than %d bytes", path,
		    CONFIG_FILE_MAX);
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/* Read a config file of "key = value" lines into s. */
static int
config_file(struct settings *s, const char *path, struct origins *o,
    char *err, size_t errsize)
{
	char			*buf, *line, *nl, *end, *k, *v, *eq, msg[512];
	size_t			 len, n;
	long			 lineno = 0;
	const struct setting	*st;
	int			 rv = -1;

	if ((buf = config_read(path, &len, err, errsize)) == NULL)
		return -1;
	end = buf + len;
	for (line = buf; line < end; line = nl + 1) {
		lineno++;
		if ((nl = memchr(line, '\n', end - line)) == NULL)
			nl = end;
		n = nl - line;
		if (n > CONFIG_LINE_MAX) {
			snprintf(err, errsize, "%s:%ld: line longer than %d "
			    "bytes", path, lineno, CONFIG_LINE_MAX);
			goto out;
		}
		if (memchr(line, '\0', n) != NULL) {
			snprintf(err, errsize, "%s:%ld: NUL byte in line",
			    path, lineno);
			goto out;
		}
		*nl = '\0';
		k = trim(line);
		if (*k == '\0' || *k == '#')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			snprintf(err, errsize, "%s:%ld: expected key = value",
			    path, lineno);
			goto out;
		}
		*eq = '\0';
		k = trim(k);
		v = trim(eq + 1);
		n = strlen(v);
		if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
			v[n - 1] = '\0';
			v++;
		}
		if ((st = config_find(k)) == NULL) {
			snprintf(err, errsize, "%s:%ld: unknown setting "
			    "\"%s\"", path, lineno, k);
			goto out;
		}
		if (st->flags & SET_NOFILE) {
			snprintf(err, errsize, "%s:%ld: %s cannot be set in "
			    "a config file", path, lineno, k);
			goto out;
		}
		if (config_set(s, st, v, msg, sizeof(msg)) == -1) {
			snprintf(err, errsize, "%s:%ld: %s", path, lineno,
			    msg);
			goto out;
		}
		o->from[st - settings_table] = FROM_FILE;
		o->line[st - settings_table] = lineno;
	}
	rv = 0;
out:
	free(buf);
	return rv;
}

/* Write an error about setting name, naming where its value came from. */
static int __attribute__((__format__(__printf__, 6, 7)))
bad(const struct settings *s, const struct origins *o, const char *name,
    char *err, size_t errsize, const char *fmt, ...)
{
	const struct setting	*st = config_find(name);
	char			 msg[512], env[64];
	size_t			 i = st - settings_table;
	va_list			 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	switch (o->from[i]) {
	case FROM_FILE:
		snprintf(err, errsize, "%s:%ld: %s: %s", s->config,
		    o->line[i], name, msg);
		break;
	case FROM_ENV:
		config_env_name(st, env, sizeof(env));
		snprintf(err, errsize, "%s: %s: %s", env, name, msg);
		break;
	case FROM_ARGS:
		snprintf(err, errsize, "--%s: %s", name, msg);
		break;
	default:
		snprintf(err, errsize, "%s: %s", name, msg);
		break;
	}
	return -1;
}

/* strtonum's word for a bad number, in plainer words. */
static const char *
num_error(const char *errstr)
{
	return strcmp(errstr, "invalid") == 0 ? "not a number" : errstr;
}

/* Parse a limiter value "MAX/MS" ("" none); 0, or -1 with msg. */
static int
parse_limiter(const char *v, long *max, long *ms, char *msg, size_t size)
{
	const char	*errstr;
	char		 a[32];
	const char	*slash;
	long long	 n, d;

	*max = *ms = 0;
	if (*v == '\0')
		return 0;
	if ((slash = strchr(v, '/')) == NULL ||
	    (size_t)(slash - v) >= sizeof(a) || slash == v) {
		snprintf(msg, size, "\"%s\" is not MAX/MS (say 100/1000: at "
		    "most 100 jobs a second)", v);
		return -1;
	}
	memcpy(a, v, (size_t)(slash - v));
	a[slash - v] = '\0';
	n = strtonum(a, 1, 1000000000, &errstr);
	if (errstr != NULL) {
		snprintf(msg, size, "\"%s\": MAX \"%s\" is %s (1 to "
		    "1000000000)", v, a, num_error(errstr));
		return -1;
	}
	d = strtonum(slash + 1, 1, 86400000, &errstr);
	if (errstr != NULL) {
		snprintf(msg, size, "\"%s\": MS \"%s\" is %s (1 to "
		    "86400000)", v, slash + 1, num_error(errstr));
		return -1;
	}
	*max = (long)n;
	*ms = (long)d;
	return 0;
}

/* Parse an autoscale value "MIN,MAX" ("" off); 0, or -1 with msg. */
static int
parse_autoscale(const char *v, long *min, long *max, char *msg, size_t size)
{
	const char	*errstr, *comma;
	char		 a[16];
	long long	 lo, hi;

	*min = *max = 0;
	if (*v == '\0')
		return 0;
	if ((comma = strchr(v, ',')) == NULL ||
	    (size_t)(comma - v) >= sizeof(a)) {
		snprintf(msg, size, "\"%s\" is not MIN,MAX (say 2,16)", v);
		return -1;
	}
	memcpy(a, v, (size_t)(comma - v));
	a[comma - v] = '\0';
	lo = strtonum(a, 0, 4096, &errstr);
	if (errstr != NULL) {
		snprintf(msg, size, "\"%s\": MIN \"%s\" is %s (0 to 4096)", v,
		    a, num_error(errstr));
		return -1;
	}
	hi = strtonum(comma + 1, 1, 4096, &errstr);
	if (errstr != NULL) {
		snprintf(msg, size, "\"%s\": MAX \"%s\" is %s (1 to 4096)", v,
		    comma + 1, num_error(errstr));
		return -1;
	}
	if (lo > hi) {
		snprintf(msg, size, "\"%s\": MIN is more than MAX", v);
		return -1;
	}
	*min = (long)lo;
	*max = (long)hi;
	return 0;
}

/* Parse a size "N", "NK", "NM" or "NG" (N alone: bytes) into KB. */
static int
parse_size_kb(const char *v, long *kb, char *msg, size_t size)
{
	const char	*errstr;
	char		 a[32];
	size_t		 n = strlen(v);
	long long	 mul = 0, x;

	*kb = 0;
	if (n > 0 && strchr("kKmMgG", v[n - 1]) != NULL) {
		mul = v[n - 1] == 'k' || v[n - 1] == 'K' ? 1 :
		    v[n - 1] == 'm' || v[n - 1] == 'M' ? 1024 : 1024 * 1024;
		n--;
	}
	if (n == 0 || n >= sizeof(a)) {
		snprintf(msg, size, "\"%s\" is not a size (N, NK, NM or NG)",
		    v);
		return -1;
	}
	memcpy(a, v, n);
	a[n] = '\0';
	x = strtonum(a, 0, mul == 0 ? (long long)LONG_MAX : LONG_MAX / mul,
	    &errstr);
	if (errstr != NULL && strcmp(errstr, "invalid") == 0) {
		snprintf(msg, size, "\"%s\" is not a size (N, NK, NM or NG)",
		    v);
		return -1;
	}
	if (errstr != NULL) {
		snprintf(msg, size, "\"%s\": the number is %s", v,
		    num_error(errstr));
		return -1;
	}
	*kb = mul == 0 ? (long)((x + 1023) / 1024) : (long)(x * mul);
	return 0;
}

/*
 * Whether this process may start children at incr (negative) nice levels
 * from its own: 0 when it may, else the RLIMIT_NICE it would need.
 */
static long
nice_raise_limit(long incr)
{
	struct rlimit	rl;
	long		base, want;

	errno = 0;
	base = getpriority(PRIO_PROCESS, 0);
	if (base == -1 && errno != 0)
		base = 0;
	want = nice_for(base, incr);
	if (geteuid() == 0 || want >= base)
		return 0;
	if (getrlimit(RLIMIT_NICE, &rl) == 0 && (rl.rlim_cur ==
	    RLIM_INFINITY || (long)rl.rlim_cur >= 20 - want))
		return 0;
	return 20 - want;
}

/* Check what the table cannot: required values, URL, users, nice. */
static int
config_validate(struct settings *s, const struct origins *o, char *err,
    size_t errsize)
{
	struct passwd	*pw;
	struct group	*gr;
	const char	*errstr, *name;
	char		 msg[256], env[64];
	size_t		 i;
	long		 need;

	for (i = 0; i < settings_count; i++) {
		if (!(settings_table[i].flags & SET_REQUIRED))
			continue;
		if (*((char *)s + settings_table[i].off) != '\0')
			continue;
		config_env_name(&settings_table[i], env, sizeof(env));
		snprintf(err, errsize, "%s is not set (use --%s, %s = ... in "
		    "the config file or %s)", settings_table[i].name,
		    settings_table[i].name, settings_table[i].name, env);
		return -1;
	}
	if (bullmq_url_check(s->redis, msg, sizeof(msg)) == -1) {
		return bad(s, o, "redis", err, errsize, "%s", msg);
	}
	if (parse_bool(s->tls_verify) == -1) {
		return bad(s, o, "tls-verify", err, errsize, "\"%s\" is not "
		    "yes or no", s->tls_verify);
	}
	if (strchr(s->queue, ':') != NULL) {
		return bad(s, o, "queue", err, errsize, "\"%s\" must not "
		    "contain ':'", s->queue);
	}
	if (s->prefix[0] == '\0') {
		return bad(s, o, "prefix", err, errsize, "must not be empty");
	}
	if (strchr(s->worker_name, ' ') != NULL) {
		return bad(s, o, "worker-name", err, errsize, "\"%s\" must "
		    "not contain a space", s->worker_name);
	}
	if (s->nice < 0 && (need = nice_raise_limit(s->nice)) != 0) {
		return bad(s, o, "nice", err, errsize, "%ld: children above "
		    "the master's priority need root or a RLIMIT_NICE of %ld",
		    s->nice, need);
	}
	s->drop_user = s->drop_group = 0;
	if (s->user[0] != '\0') {
		if ((pw = getpwnam(s->user)) != NULL) {
			s->uid = pw->pw_uid;
			if (s->group[0] == '\0') {
				s->gid = pw->pw_gid;
				s->drop_group = 1;
			}
		} else {
			s->uid = (uid_t)strtonum(s->user, 0, INT_MAX, &errstr);
			if (errstr != NULL) {
				return bad(s, o, "user", err, errsize,
				    "no user \"%s\"", s->user);
			}
		}
		s->drop_user = 1;
	}
	if (s->group[0] != '\0') {
		if ((gr = getgrnam(s->group)) != NULL)
			s->gid = gr->gr_gid;
		else {
			s->gid = (gid_t)strtonum(s->group, 0, INT_MAX,
			    &errstr);
			if (errstr != NULL) {
				return bad(s, o, "group", err, errsize,
				    "no group \"%s\"", s->group);
			}
		}
		s->drop_group = 1;
	}
	if (bullmq_keep_parse(s->remove_on_complete, &s->keep_complete, msg,
	    sizeof(msg)) == -1)
		return bad(s, o, "remove-on-complete", err, errsize, "%s", msg);
	if (bullmq_keep_parse(s->remove_on_fail, &s->keep_fail, msg,
	    sizeof(msg)) == -1)
		return bad(s, o, "remove-on-fail", err, errsize, "%s", msg);
	if (parse_limiter(s->limiter, &s->limiter_max, &s->limiter_ms, msg,
	    sizeof(msg)) == -1)
		return bad(s, o, "limiter", err, errsize, "%s", msg);
	if ((s->log_fmt = log_format_parse(s->log_format)) == -1)
		return bad(s, o, "log-format", err, errsize, "\"%s\" is not "
		    "text, logfmt or json", s->log_format);
	if ((s->log_pri = log_level_parse(s->log_level)) == -1)
		return bad(s, o, "log-level", err, errsize, "\"%s\" is not "
		    "debug, info, warning or error", s->log_level);
	if (obs_check(s, &name, msg, sizeof(msg)) == -1)
		return bad(s, o, name, err, errsize, "%s", msg);
	if (parse_autoscale(s->autoscale, &s->autoscale_min,
	    &s->autoscale_max, msg, sizeof(msg)) == -1)
		return bad(s, o, "autoscale", err, errsize, "%s", msg);
	if (parse_size_kb(s->max_child_rss, &s->max_rss_kb, msg,
	    sizeof(msg)) == -1)
		return bad(s, o, "max-child-rss", err, errsize, "%s", msg);
	if (strcmp(s->control_socket, "auto") != 0 &&
	    strcmp(s->control_socket, "none") != 0 &&
	    (s->control_socket[0] != '/' ||
	    strlen(s->control_socket) >= CTL_PATH_MAX))
		return bad(s, o, "control-socket", err, errsize, "\"%s\" is "
		    "not auto, none or an absolute path shorter than %d bytes",
		    s->control_socket, CTL_PATH_MAX);
	if (s->lock_duration / 2 < 100) {
		return bad(s, o, "lock-duration", err, errsize, "too short");
	}
	return 0;
}

/*
 * Fill s from the defaults, the config file, the environment and the
 * command line cl (NULL: none), in that order, then check it.  Returns 0,
 * or -1 with a message naming the source, line and problem in err.
 */
int
config_load(struct settings *s, const struct cmdline *cl, char *err,
    size_t errsize)
{
	const struct setting	*st;
	struct origins		 o;
	const char		*v;
	char			 env[64], msg[512];
	size_t			 i;

	memset(s, 0, sizeof(*s));
	memset(&o, 0, sizeof(o));
	for (i = 0; i < settings_count; i++)
		if (config_set(s, &settings_table[i], settings_table[i].def,
		    msg, sizeof(msg)) == -1) {
			snprintf(err, errsize, "default %s", msg);
			return -1;
		}

	/* The config file named on the command line or in the environment. */
	st = config_find("config");
	v = NULL;
	if (cl != NULL && cl->val[st - settings_table] != NULL)
		v = cl->val[st - settings_table];
	else
		v = getenv("BULLMQ_CONFIG");
	if (v != NULL && *v != '\0') {
		strlcpy(s->config, v, sizeof(s->config));
		if (config_file(s, v, &o, err, errsize) == -1)
			return -1;
	}

	for (i = 0; i < settings_count; i++) {
		st = &settings_table[i];
		config_env_name(st, env, sizeof(env));
		if ((v = getenv(env)) == NULL || *v == '\0')
			continue;
		if (strcmp(st->name, "config") == 0)
			continue;
		if (config_set(s, st, v, msg, sizeof(msg)) == -1) {
			snprintf(err, errsize, "%s: %s", env, msg);
			return -1;
		}
		o.from[i] = FROM_ENV;
	}

	for (i = 0; cl != NULL && i < settings_count; i++) {
		st = &settings_table[i];
		if (cl->val[i] == NULL || strcmp(st->name, "config") == 0)
			continue;
		if (config_set(s, st, cl->val[i], msg, sizeof(msg)) == -1) {
			snprintf(err, errsize, "--%s", msg);
			return -1;
		}
		o.from[i] = FROM_ARGS;
	}
	/* auto workers are counted now; spin-wait decides per child */
	if (s->workers == SET_AUTO_VALUE)
		s->workers = auto_workers();
	return config_validate(s, &o, err, errsize);
}

/*
 * Make the TLS context of a rediss:// URL into *tp, reading the CA, the
 * certificate and the key now, before any child drops privileges; *tp is
 * NULL for another URL.  0, or -1 with why in err.
 */
int
config_tls(const struct settings *s, bullmq_tls **tp, char *err,
    size_t errsize)
{
	struct bullmq_tls_opts	o;
	char			msg[SET_ERR_MAX];

	*tp = NULL;
	if (strncmp(s->redis, "rediss://", 9) != 0)
		return 0;
	memset(&o, 0, sizeof(o));
	o.ca_file = s->tls_ca_file;
	o.ca_dir = s->tls_ca_dir;
	o.cert = s->tls_cert;
	o.key = s->tls_key;
	o.server_name = s->tls_server_name;
	o.no_verify = parse_bool(s->tls_verify) == 0;
	if ((*tp = bullmq_tls_new(&o, msg, sizeof(msg))) == NULL) {
		snprintf(err, errsize, "%s", msg);
		return -1;
	}
	return 0;
}

/* Print the effective settings in config file syntax. */
void
config_print(FILE *f, const struct settings *s)
{
	char	buf[SET_PATH_MAX];
	size_t	i;

	fprintf(f, "# effective settings of %s %s\n", PROGNAME,
	    BULLMQ_VERSION);
	for (i = 0; i < settings_count; i++) {
		if (settings_table[i].flags & SET_NOFILE)
			continue;
		config_value(s, &settings_table[i], buf, sizeof(buf));
		fprintf(f, "%s = %s\n", settings_table[i].name, buf);
	}
}

/* Print the usage, one line per setting, generated from the table. */
void
config_usage(FILE *f)
{
	const struct setting	*st;
	char			 opt[64], env[64];
	size_t			 i;

	fprintf(f, "usage: %s [options]\n", PROGNAME);
	for (i = 0; i < settings_count; i++) {
		st = &settings_table[i];
		if (st->flag != 0)
			snprintf(opt, sizeof(opt), "-%c, --%s%s%s", st->flag,
			    st->name, st->arg ? " " : "", st->arg ? st->arg :
			    "");
		else
			snprintf(opt, sizeof(opt), "    --%s%s%s", st->name,
			    st->arg ? " " : "", st->arg ? st->arg : "");
		config_env_name(st, env, sizeof(env));
		fprintf(f, "  %-30s %s", opt, st->help);
		if (st->def != NULL && *st->def != '\0' &&
		    st->type != SET_BOOL)
			fprintf(f, " [%s]", st->def);
		fprintf(f, " (%s)\n", env);
	}
	fprintf(f, "  %-30s %s\n", "-h, --help", "show this help");
	fprintf(f, "  %-30s %s\n", "-V, --version", "show the version");
}
