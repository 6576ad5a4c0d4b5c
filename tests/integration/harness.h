/*
 * harness.h: a private redis-server for a Check suite, and the fixtures of
 * the integration suites.
 *
 * harness_tcase() makes a suite's test case: redis-server started once for
 * the suite on a unix socket in a temporary directory (harness_start) and
 * stopped by pid at its end (harness_stop), emptied before each test, and a
 * fresh handle on the fixture queue for each test.  A missing or failing
 * redis-server aborts the suite.  The other calls work on that server and
 * that queue, and fail the test (ck_assert) on an error.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <check.h>
#include <hiredis/hiredis.h>

#include "bullmq.h"

#define HARNESS_IDLEN	128		/* the id buffers of harness_add*() */
#define HARNESS_EVLEN	200		/* a line of harness_events() */

extern char	harness_url[];		/* unix:///tmp/.../redis.sock */
extern char	harness_sock[];

void		 harness_start(void);
/* The same, and TLS on 127.0.0.1:harness_tls_port (certificates in
 * harness_tls_dir, a client certificate required), plain TCP on
 * harness_plain_port. */
void		 harness_tls_start(void);
extern int	 harness_tls_port;
extern int	 harness_plain_port;
extern char	 harness_tls_dir[];
void		 harness_stop(void);
void		 harness_flush(void);
void		 harness_restart(void);
redisContext	*harness_redis(void);		/* a plain connection */
bullmq_queue	*harness_queue(const char *);	/* connected, or abort */
/* Run a command on a plain connection and return the reply (never NULL). */
redisReply	*harness_cmd(const char *, ...);
/* Shortcuts: a string reply as text (static buffer), an integer reply. */
const char	*harness_str(const char *, ...);
long long	 harness_int(const char *, ...);

/*
 * A test case named name in the suite, with timeout seconds a test, whose
 * *qp is a connected handle on queue (prefix "bull") for each test.  One
 * fixture queue a program: the calls below work on the last one made.
 */
TCase		*harness_tcase(Suite *, const char *name, const char *queue,
		    bullmq_queue **qp, int timeout);
/* bullmq_add() on the fixture queue: its result (the test fails on -1). */
int		 harness_add(const char *, const char *,
		    const struct bullmq_add_opts *, char id[HARNESS_IDLEN]);
/* A job written by hand in the wait list, as Node's addStandardJob does. */
void		 harness_add_job(const char *name, const char *data,
		    const char *opts, char *id, size_t);
/* A worker on the fixture queue with a name and default settings. */
bullmq_worker	*harness_worker(const char *);
/* The fixture queue's events as lines "event=added jobId=1 name=n". */
int		 harness_events(char ev[][HARNESS_EVLEN], int max);
/* The last one (there must be one). */
const char	*harness_last_event(void);
/* The events as "name[:jobId]" joined by spaces (static buffer). */
const char	*harness_event_list(void);
/* A field of the last event named ev, or "(none)" (static buffer). */
const char	*harness_event_field(const char *ev, const char *field);

#endif
