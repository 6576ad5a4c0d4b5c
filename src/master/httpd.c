/*
 * httpd.c: metrics-listen, GET /metrics in Prometheus's text format,
 * served by libmicrohttpd in its external mode: no thread of its own, its
 * epoll descriptor watched by the master's one wait, and MHD_run called
 * when it is ready and on each tick (for its timeouts).  Connections are
 * few and short-lived: a client that floods, sends garbage or reads slowly
 * costs bounded memory and never holds the loop.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "buf.h"

const char	httpd_tag;

#ifdef HAVE_MICROHTTPD
#include <microhttpd.h>

#define HTTP_CONNS	32	/* connections at once */
#define HTTP_PER_IP	8
#define HTTP_TIMEOUT	5	/* s a connection may idle */
#define HTTP_MEMORY	(32 * 1024)	/* a connection's buffers */

static struct MHD_Daemon	*hd;

/* Answer one request: GET or HEAD /metrics, else 404 or 405. */
static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **state)
{
	static const char	 nf[] = "not found: try /metrics\n";
	static const char	 na[] = "only GET\n";
	struct MHD_Response	*r;
	struct buf		 b;
	enum MHD_Result		 rc;
	unsigned		 code = MHD_HTTP_OK;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		r = MHD_create_response_from_buffer(sizeof(na) - 1,
		    (void *)na, MHD_RESPMEM_PERSISTENT);
		code = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (strcmp(url, "/metrics") != 0) {
		r = MHD_create_response_from_buffer(sizeof(nf) - 1,
		    (void *)nf, MHD_RESPMEM_PERSISTENT);
		code = MHD_HTTP_NOT_FOUND;
	} else {
		buf_init(&b);
		metrics_text(&b);
		if (b.oom) {
			buf_free(&b);
			return MHD_NO;
		}
		r = MHD_create_response_from_buffer(b.len, b.b,
		    MHD_RESPMEM_MUST_COPY);
		buf_free(&b);
	}
	if (r == NULL)
		return MHD_NO;
	if (code == MHD_HTTP_OK)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
		    "text/plain; version=0.0.4; charset=utf-8");
	rc = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return rc;
}

/* Log what libmicrohttpd has to say. */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char	m[512];
	size_t	n;

	vsnprintf(m, sizeof(m), fmt, ap);
	n = strlen(m);
	while (n > 0 && m[n - 1] == '\n')
		m[--n] = '\0';
	log_warnx("metrics-listen: %s", m);
}

/*
 * Listen on spec, ADDR:PORT, and watch the server's epoll descriptor in
 * ep.  Returns 0, or -1 having logged why.
 */
int
httpd_open(const char *spec, int ep)
{
	struct sockaddr_storage		 sa;
	struct epoll_event		 ev;
	const union MHD_DaemonInfo	*di;
	socklen_t			 len;
	char				 err[256];

	if (spec[0] == '\0')
		return 0;
	if (addr_parse(spec, 1, &sa, &len, err, sizeof(err)) == -1) {
		log_warnx("metrics-listen: %s", err);
		return -1;
	}
	hd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
	    (sa.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
	    answer, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY,
	    MHD_OPTION_END);
	if (hd == NULL) {
		log_warnx("metrics-listen %s: cannot listen", spec);
		return -1;
	}
	di = MHD_get_daemon_info(hd, MHD_DAEMON_INFO_EPOLL_FD);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = (void *)&httpd_tag;
	if (di == NULL || epoll_ctl(ep, EPOLL_CTL_ADD, di->epoll_fd,
	    &ev) == -1) {
		log_warn("metrics-listen: epoll");
		MHD_stop_daemon(hd);
		hd = NULL;
		return -1;
	}
	di = MHD_get_daemon_info(hd, MHD_DAEMON_INFO_BIND_PORT);
	log_info("metrics-listen %s: serving /metrics on port %u", spec,
	    di != NULL ? (unsigned)di->port : 0);
	return 0;
}

/* Let the server do what is ready, without waiting. */
void
httpd_run(void)
{
	if (hd != NULL)
		MHD_run(hd);
}

/* Stop serving. */
void
httpd_close(void)
{
	if (hd == NULL)
		return;
	MHD_stop_daemon(hd);
	hd = NULL;
}

#else /* !HAVE_MICROHTTPD */

/* This build has no metrics-listen (the settings refuse one). */
int
httpd_open(const char *spec, int ep)
{
	if (spec[0] == '\0')
		return 0;
	log_warnx("metrics-listen: this build has no metrics");
	return -1;
}

void
httpd_run(void)
{
}

void
httpd_close(void)
{
}

#endif /* HAVE_MICROHTTPD */
