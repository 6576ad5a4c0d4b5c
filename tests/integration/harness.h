/*
 * harness.h: a private redis-server for a Check suite.
 *
 * harness_start() in an unchecked fixture starts redis-server on a unix
 * socket in a temporary directory; harness_stop() stops it by pid and
 * removes the directory.  harness_flush() (a checked fixture) empties it
 * before each test.  A missing or failing redis-server aborts the suite.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <hiredis/hiredis.h>

#include "bullmq.h"

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

#endif
