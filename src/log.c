/*
 * log.c: the daemon's log, to stderr, a file or syslog.  Each message is
 * one write(2) of one line so that the lines of many children never mix.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

static enum log_target	 log_target = LOG_TO_STDERR;
static int		 log_fdesc = -1;	/* LOG_TO_FILE */
static char		 log_path[SET_PATH_MAX];
static char		 log_ident[64] = PROGNAME;

/* Open the log: target and, for a file, its path. */
int
log_init(enum log_target target, const char *path, char *err, size_t errsize)
{
	int	fd;

	if (target == LOG_TO_FILE) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0640);
		if (fd == -1) {
			snprintf(err, errsize, "log-file %s: %s", path,
			    strerror(errno));
			return -1;
		}
		if (log_fdesc != -1)
			close(log_fdesc);
		log_fdesc = fd;
		strlcpy(log_path, path, sizeof(log_path));
	} else if (log_fdesc != -1) {
		close(log_fdesc);
		log_fdesc = -1;
	}
	if (target == LOG_TO_SYSLOG && log_target != LOG_TO_SYSLOG)
		openlog(PROGNAME, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (target != LOG_TO_SYSLOG && log_target == LOG_TO_SYSLOG)
		closelog();
	log_target = target;
	return 0;
}

/* Reopen the log file after a rotation; 0 when there is none. */
int
log_reopen(void)
{
	int	fd;

	if (log_target != LOG_TO_FILE)
		return 0;
	fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1) {
		log_warnx("reopen log-file %s: %s", log_path,
		    strerror(errno));
		return -1;
	}
	if (log_fdesc != -1)
		close(log_fdesc);
	log_fdesc = fd;
	return 0;
}

/* Close the log. */
void
log_close(void)
{
	if (log_fdesc != -1) {
		close(log_fdesc);
		log_fdesc = -1;
	}
	if (log_target == LOG_TO_SYSLOG)
		closelog();
}

/* In a new child: forget syslog's socket, log to the moved descriptor. */
void
log_child(int fd)
{
	if (log_target == LOG_TO_SYSLOG)
		closelog();
	if (log_target == LOG_TO_FILE)
		log_fdesc = fd;
}

/* The descriptor a child must keep open for the log, or -1. */
int
log_fd(void)
{
	return log_target == LOG_TO_FILE ? log_fdesc : -1;
}

/* Set the name in front of each line (the worker number in children). */
void
log_set_ident(const char *ident)
{
	strlcpy(log_ident, ident, sizeof(log_ident));
	if (log_target == LOG_TO_SYSLOG)
		openlog(PROGNAME, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/* Log one message at a syslog priority. */
void
log_vmsg(int pri, const char *fmt, va_list ap)
{
	char		 msg[1024], line[1200], ts[32];
	struct tm	 tm;
	time_t		 now;
	int		 n, saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_target == LOG_TO_SYSLOG) {
		syslog(pri, "%s", msg);
		errno = saved;
		return;
	}
	if (log_target == LOG_TO_FILE) {
		now = time(NULL);
		localtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S ", &tm);
	} else
		ts[0] = '\0';
	n = snprintf(line, sizeof(line), "%s%s[%ld]: %s%s\n", ts, log_ident,
	    (long)getpid(), pri == LOG_WARNING ? "warning: " : "", msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (write(log_target == LOG_TO_FILE ? log_fdesc : STDERR_FILENO,
	    line, (size_t)n) == -1)
		errno = saved;
	errno = saved;
}

/* Log an informational message. */
void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_INFO, fmt, ap);
	va_end(ap);
}

/* Log a warning. */
void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_WARNING, fmt, ap);
	va_end(ap);
}

/* Log a debugging message, only when BULLMQ_DEBUG is set. */
void
log_debug(const char *fmt, ...)
{
	static int	on = -1;
	va_list		ap;

	if (on == -1)
		on = getenv("BULLMQ_DEBUG") != NULL;
	if (!on)
		return;
	va_start(ap, fmt);
	log_vmsg(LOG_DEBUG, fmt, ap);
	va_end(ap);
}
