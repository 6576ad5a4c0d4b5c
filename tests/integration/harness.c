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
int		 harness_tls_port;	/* 0: no TLS */
int		 harness_plain_port;
char		 harness_tls_dir[300];
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

/*
 * Exec redis-server with TLS on 127.0.0.1:harness_tls_port (a client
 * certificate required) and plain TCP on harness_plain_port, besides the
 * socket; the certificates are those of tests/tls-certs.sh.
 */
static void
exec_tls(const char *server, const char *logf)
{
	char	tls[16], plainp[16], cert[400], key[400], ca[400];

	snprintf(tls, sizeof(tls), "%d", harness_tls_port);
	snprintf(plainp, sizeof(plainp), "%d", harness_plain_port);
	snprintf(cert, sizeof(cert), "%s/server.crt", harness_tls_dir);
	snprintf(key, sizeof(key), "%s/server.key", harness_tls_dir);
	snprintf(ca, sizeof(ca), "%s/ca.crt", harness_tls_dir);
	execl(server, server, "--port", plainp, "--bind", "127.0.0.1",
	    "--tls-port", tls, "--tls-cert-file", cert, "--tls-key-file", key,
	    "--tls-ca-cert-file", ca, "--tls-auth-clients", "yes",
	    "--unixsocket", harness_sock, "--unixsocketperm", "700", "--save",
	    "", "--appendonly", "no", "--dir", dir, "--logfile", logf,
	    (char *)NULL);
	_exit(127);
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
	if (pid == 0 && harness_tls_port != 0)
		exec_tls(server, logf);
	if (pid == 0) {
		execl(server, server, "--port", "0", "--unixsocket",
		    harness_sock, "--unixsocketperm", "700", "--save", "",
		    "--appendonly", "no", "--dir", dir, "--logfile", logf,
		    (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200; i++) {
		if (harness_tls_port != 0 && waitpid(pid, NULL, WNOHANG) ==
		    pid) {
			pid = -1;	/* a port was taken: the caller retries */
			return;
		}
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

/*
 * Start the private server with TLS too: certificates made now by
 * tests/tls-certs.sh in harness_tls_dir, ports picked until a pair is free.
 */
void
harness_tls_start(void)
{
	const char	*tmp = getenv("TMPDIR"), *top = getenv("top_srcdir");
	char		 cmd[1024];
	int		 try;

	snprintf(dir, sizeof(dir), "%s/bullmq-check.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		die("mkdtemp: %s", strerror(errno));
	snprintf(harness_sock, sizeof(harness_sock), "%s/redis.sock", dir);
	snprintf(harness_url, sizeof(harness_url), "unix://%s", harness_sock);
	snprintf(harness_tls_dir, sizeof(harness_tls_dir), "%s/tls", dir);
	snprintf(cmd, sizeof(cmd), "sh '%s/tests/tls-certs.sh' '%s'",
	    top != NULL && *top != '\0' ? top : ".", harness_tls_dir);
	if (system(cmd) != 0)
		die("%s: failed (openssl?)", cmd);
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
	for (try = 0; try < 10; try++) {
		harness_tls_port = 20000 + (int)(random() % 40000);
		harness_plain_port = harness_tls_port + 1;
		spawn();
		if (pid > 0)
			return;
	}
	die("no free pair of ports for the TLS server");
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
		if (harness_tls_dir[0] != '\0') {
			snprintf(path, sizeof(path), "rm -rf '%s'",
			    harness_tls_dir);
			if (system(path) != 0)
				fprintf(stderr, "harness: %s failed\n", path);
		}
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
