/*
 * harness.c: start and stop a private redis-server for a Check suite.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

char		 harness_url[600];
char		 harness_sock[512];
static char	 dir[256];
static pid_t	 pid = -1;
static redisContext *plain;

/* Stop the suite with a message: the environment is broken. */
static void
die(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fprintf(stderr, "harness: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	harness_stop();
	exit(1);
}

/* Sleep ms milliseconds. */
static void
nap(int ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Fork redis-server on the socket and wait until it answers. */
static void
spawn(void)
{
	const char	*server;
	redisContext	*c;
	char		 logf[600];
	int		 i;

	server = getenv("REDIS_SERVER");
	if (server == NULL || *server == '\0')
		server = "/usr/bin/redis-server";
	if (access(server, X_OK) != 0)
		die("redis-server not found at %s (install the Debian "
		    "package redis-server)", server);
	snprintf(logf, sizeof(logf), "%s/redis.log", dir);
	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		execl(server, server, "--port", "0", "--unixsocket",
		    harness_sock, "--unixsocketperm", "700", "--save", "",
		    "--appendonly", "no", "--dir", dir, "--logfile", logf,
		    (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200; i++) {
		c = redisConnectUnix(harness_sock);
		if (c != NULL && c->err == 0) {
			redisReply *r = redisCommand(c, "PING");

			if (r != NULL) {
				freeReplyObject(r);
				redisFree(c);
				return;
			}
		}
		if (c != NULL)
			redisFree(c);
		nap(25);
	}
	die("redis-server did not answer on %s (see %s)", harness_sock, logf);
}

/* Start the private server (once per suite). */
void
harness_start(void)
{
	const char	*tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/bullmq-check.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		die("mkdtemp: %s", strerror(errno));
	snprintf(harness_sock, sizeof(harness_sock), "%s/redis.sock", dir);
	snprintf(harness_url, sizeof(harness_url), "unix://%s", harness_sock);
	spawn();
}

/* Stop the server by pid. */
static void
kill_server(void)
{
	int	st, i;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (i = 0; i < 200; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			pid = -1;
			return;
		}
		nap(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	pid = -1;
}

/* Stop the server and remove its directory. */
void
harness_stop(void)
{
	char	path[600];

	if (plain != NULL) {
		redisFree(plain);
		plain = NULL;
	}
	kill_server();
	if (dir[0] != '\0') {
		snprintf(path, sizeof(path), "%s/redis.log", dir);
		unlink(path);
		unlink(harness_sock);
		rmdir(dir);
	}
}

/* Restart the server (same socket, empty data). */
void
harness_restart(void)
{
	if (plain != NULL) {
		redisFree(plain);
		plain = NULL;
	}
	kill_server();
	spawn();
}

/* A plain connection for checks, reconnected as needed. */
redisContext *
harness_redis(void)
{
	if (plain != NULL && plain->err) {
		redisFree(plain);
		plain = NULL;
	}
	if (plain == NULL) {
		plain = redisConnectUnix(harness_sock);
		if (plain == NULL || plain->err)
			die("cannot connect to %s", harness_sock);
	}
	return plain;
}

/* Empty the server before a test. */
void
harness_flush(void)
{
	freeReplyObject(harness_cmd("FLUSHALL"));
}

/* A connected queue handle named name, or abort the test. */
bullmq_queue *
harness_queue(const char *name)
{
	struct bullmq_conn_opts	 o;
	bullmq_queue		*q;

	memset(&o, 0, sizeof(o));
	o.url = harness_url;
	o.queue = name;
	if ((q = bullmq_queue_new(&o)) == NULL)
		die("out of memory");
	if (bullmq_queue_connect(q) == -1)
		die("connect: %s", bullmq_errstr(q));
	return q;
}

/* Run a command on the plain connection; aborts on a lost connection. */
redisReply *
harness_cmd(const char *fmt, ...)
{
	va_list		 ap;
	redisReply	*r;

	va_start(ap, fmt);
	r = redisvCommand(harness_redis(), fmt, ap);
	va_end(ap);
	if (r == NULL)
		die("command %s: connection lost", fmt);
	return r;
}

/* A command's string reply as text ("(nil)" for nil, "(error) ..."). */
const char *
harness_str(const char *fmt, ...)
{
	static char	 buf[65536];
	va_list		 ap;
	redisReply	*r;

	va_start(ap, fmt);
	r = redisvCommand(harness_redis(), fmt, ap);
	va_end(ap);
	if (r == NULL)
		die("command %s: connection lost", fmt);
	if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
		snprintf(buf, sizeof(buf), "%.*s", (int)r->len, r->str);
	else if (r->type == REDIS_REPLY_ERROR)
		snprintf(buf, sizeof(buf), "(error) %.*s", (int)r->len,
		    r->str);
	else if (r->type == REDIS_REPLY_INTEGER)
		snprintf(buf, sizeof(buf), "%lld", r->integer);
	else
		snprintf(buf, sizeof(buf), "(nil)");
	freeReplyObject(r);
	return buf;
}

/* A command's integer reply (-999999 when not an integer). */
long long
harness_int(const char *fmt, ...)
{
	va_list		 ap;
	redisReply	*r;
	long long	 v;

	va_start(ap, fmt);
	r = redisvCommand(harness_redis(), fmt, ap);
	va_end(ap);
	if (r == NULL)
		die("command %s: connection lost", fmt);
	v = r->type == REDIS_REPLY_INTEGER ? r->integer : -999999;
	freeReplyObject(r);
	return v;
}
