/*
 * harness.c: start and stop a private redis-server for a Check suite; the
 * fixtures of the integration suites.
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
static const char *fixture_queue;	/* harness_tcase()'s */
static bullmq_queue **fixture_qp;

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

/* Checked fixture: an empty server and a fresh handle on the queue. */
static void
fixture_setup(void)
{
	harness_flush();
	*fixture_qp = harness_queue(fixture_queue);
}

/* Free the handle. */
static void
fixture_teardown(void)
{
	bullmq_queue_free(*fixture_qp);
	*fixture_qp = NULL;
}

/* The suite's test case on the private server and the fixture queue. */
TCase *
harness_tcase(Suite *s, const char *name, const char *queue,
    bullmq_queue **qp, int timeout)
{
	TCase	*tc = tcase_create(name);

	fixture_queue = queue;
	fixture_qp = qp;
	tcase_add_unchecked_fixture(tc, harness_start, harness_stop);
	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_set_timeout(tc, timeout);
	suite_add_tcase(s, tc);
	return tc;
}

/* Add a job on the fixture queue; fail the test on an error. */
int
harness_add(const char *name, const char *data,
    const struct bullmq_add_opts *o, char id[HARNESS_IDLEN])
{
	int	rv;

	rv = bullmq_add(*fixture_qp, name, data, o, id, HARNESS_IDLEN);
	ck_assert_msg(rv >= 0, "add: %s", bullmq_errstr(*fixture_qp));
	return rv;
}

/* Add a job as Node's addStandardJob would; its id goes to id. */
void
harness_add_job(const char *name, const char *data, const char *opts,
    char *id, size_t size)
{
	const char	*k = fixture_queue;
	long long	 n;

	n = harness_int("INCR bull:%s:id", k);
	snprintf(id, size, "%lld", n);
	freeReplyObject(harness_cmd("HSET bull:%s:%s name %s data %s opts %s "
	    "timestamp %lld delay 0 priority 0", k, id, name, data, opts,
	    (long long)bullmq_now()));
	freeReplyObject(harness_cmd("LPUSH bull:%s:wait %s", k, id));
	freeReplyObject(harness_cmd("ZADD bull:%s:marker 0 0", k));
}

/* A worker with a name and default settings. */
bullmq_worker *
harness_worker(const char *name)
{
	struct bullmq_worker_opts	 o;
	bullmq_worker			*w;

	memset(&o, 0, sizeof(o));
	o.name = name;
	w = bullmq_worker_new(*fixture_qp, &o);
	ck_assert_msg(w != NULL, "worker: %s", bullmq_errstr(*fixture_qp));
	return w;
}

/* An event's fields as "name=value" pairs joined by spaces. */
static void
event_line(const redisReply *f, char *buf, size_t size)
{
	size_t	k, o = 0;

	buf[0] = '\0';
	for (k = 0; k + 1 < f->elements && o < size; k += 2)
		o += snprintf(buf + o, size - o, "%s%s=%s",
		    k == 0 ? "" : " ", f->element[k]->str,
		    f->element[k + 1]->str);
}

/* Read the event stream into ev; returns the number of entries. */
int
harness_events(char ev[][HARNESS_EVLEN], int max)
{
	redisReply	*r;
	size_t		 i;
	int		 n = 0;

	r = harness_cmd("XRANGE bull:%s:events - +", fixture_queue);
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	for (i = 0; i < r->elements && n < max; i++, n++)
		event_line(r->element[i]->element[1], ev[n], HARNESS_EVLEN);
	freeReplyObject(r);
	return n;
}

/* The last event written, as a line "event=x jobId=y ...". */
const char *
harness_last_event(void)
{
	static char	 ev[HARNESS_EVLEN];
	redisReply	*r;

	r = harness_cmd("XREVRANGE bull:%s:events + - COUNT 1",
	    fixture_queue);
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	ck_assert_uint_eq(r->elements, 1);
	event_line(r->element[0]->element[1], ev, sizeof(ev));
	freeReplyObject(r);
	return ev;
}

/* The events of the stream as "name[:jobId]" joined by spaces. */
const char *
harness_event_list(void)
{
	static char	 buf[8192];
	redisReply	*r, *f;
	size_t		 i, k;
	const char	*ev, *jid;

	buf[0] = '\0';
	r = harness_cmd("XRANGE bull:%s:events - +", fixture_queue);
	for (i = 0; i < r->elements; i++) {
		f = r->element[i]->element[1];
		ev = jid = NULL;
		for (k = 0; k + 1 < f->elements; k += 2) {
			if (strcmp(f->element[k]->str, "event") == 0)
				ev = f->element[k + 1]->str;
			else if (strcmp(f->element[k]->str, "jobId") == 0)
				jid = f->element[k + 1]->str;
		}
		if (buf[0] != '\0')
			strlcat(buf, " ", sizeof(buf));
		strlcat(buf, ev != NULL ? ev : "?", sizeof(buf));
		if (jid != NULL) {
			strlcat(buf, ":", sizeof(buf));
			strlcat(buf, jid, sizeof(buf));
		}
	}
	freeReplyObject(r);
	return buf;
}

/* A field of the last event named ev, or "(none)". */
const char *
harness_event_field(const char *ev, const char *field)
{
	static char	 buf[8192];
	redisReply	*r, *f;
	size_t		 i, k;
	int		 match;

	snprintf(buf, sizeof(buf), "(none)");
	r = harness_cmd("XRANGE bull:%s:events - +", fixture_queue);
	for (i = 0; i < r->elements; i++) {
		f = r->element[i]->element[1];
		match = 0;
		for (k = 0; k + 1 < f->elements; k += 2)
			if (strcmp(f->element[k]->str, "event") == 0 &&
			    strcmp(f->element[k + 1]->str, ev) == 0)
				match = 1;
		if (!match)
			continue;
		for (k = 0; k + 1 < f->elements; k += 2)
			if (strcmp(f->element[k]->str, field) == 0)
				snprintf(buf, sizeof(buf), "%s",
				    f->element[k + 1]->str);
	}
	freeReplyObject(r);
	return buf;
}
