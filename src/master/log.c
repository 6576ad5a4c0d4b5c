/*
 * log.c: the daemon's log, to stderr, a file or syslog.  Each message is
 * one write(2) of one line so that the lines of many children never mix:
 * at most LOG_LINE_MAX bytes, control characters escaped, a longer one cut
 * visibly.  On stderr and in a file a line starts with the time (ISO 8601,
 * UTC, milliseconds) and is text, logfmt or JSON (log-format); syslog gets
 * the message alone.  Messages below log-level are not written.
 */
#include <sys/types.h>
#include <sys/stat.h>

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
static enum log_format	 log_fmt = LOG_FMT_TEXT;
static int		 log_level = LOG_INFO;	/* the least urgent written */

static const char *const level_names[] = {
	"emerg", "alert", "crit", "error", "warning", "notice", "info",
	"debug"
};
static const char *const format_names[] = { "text", "logfmt", "json" };

/*
 * The message and the line being written, not on the stack: the daemon
 * logs from the main thread of each process only, never from a signal
 * handler nor from a child's title thread.
 */
#define LOG_PREFIX_MAX	256	/* time, ident, pid, "warning: " */
#define LOG_CUT		"...[cut]"
static char		 log_msg[LOG_LINE_MAX];
static char		 log_line[LOG_LINE_MAX];

/* What a file that is not a regular one is, for an error. */
static const char *
file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a fifo";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "of another kind";
}

/*
 * Open a file a setting names, refusing all but a regular file, without
 * ever blocking: a fifo with no other end would hold open(2) forever, and
 * a device such as /dev/zero would never end.  flags as open(2) takes them
 * (O_NONBLOCK and O_CLOEXEC added), what names the setting in the message
 * ("" none).  Returns the descriptor (blocking again), or -1 with "what
 * path: problem" in err.
 */
int
open_regular(const char *path, int flags, mode_t mode, const char *what,
    char *err, size_t errsize)
{
	struct stat	st;
	int		fd, fl, saved;

	if ((fd = open(path, flags | O_NONBLOCK | O_CLOEXEC, mode)) == -1) {
		snprintf(err, errsize, "%s%s%s: %s", what, *what ? " " : "",
		    path, errno == ENXIO ? "not a regular file (a fifo)" :
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		saved = errno;
		close(fd);
		snprintf(err, errsize, "%s%s%s: %s", what, *what ? " " : "",
		    path, strerror(saved));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errsize, "%s%s%s: not a regular file (%s)",
		    what, *what ? " " : "", path, file_kind(st.st_mode));
		return -1;
	}
	if ((fl = fcntl(fd, F_GETFL)) != -1)
		(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return fd;
}

/* Open the log: target and, for a file, its path. */
int
log_init(enum log_target target, const char *path, char *err, size_t errsize)
{
	int	fd;

	if (target == LOG_TO_FILE) {
		fd = open_regular(path, O_WRONLY | O_APPEND | O_CREAT, 0640,
		    "log-file", err, errsize);
		if (fd == -1)
			return -1;
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
	char	err[SET_PATH_MAX + 128];
	int	fd;

	if (log_target != LOG_TO_FILE)
		return 0;
	fd = open_regular(log_path, O_WRONLY | O_APPEND | O_CREAT, 0640,
	    "log-file", err, sizeof(err));
	if (fd == -1) {
		log_warnx("reopen %s", err);
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

/* The format of log-format text, logfmt or json; -1 when it is none. */
int
log_format_parse(const char *v)
{
	size_t	i;

	for (i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
		if (strcmp(v, format_names[i]) == 0)
			return (int)i;
	return -1;
}

/* The syslog priority of log-level debug, info, warning or error; -1. */
int
log_level_parse(const char *v)
{
	if (strcmp(v, "debug") == 0)
		return LOG_DEBUG;
	if (strcmp(v, "info") == 0)
		return LOG_INFO;
	if (strcmp(v, "warning") == 0)
		return LOG_WARNING;
	if (strcmp(v, "error") == 0)
		return LOG_ERR;
	return -1;
}

/* Write lines in format f from now on. */
void
log_set_format(enum log_format f)
{
	log_fmt = f;
}

/* Write messages of priority pri and more urgent ones only. */
void
log_set_level(int pri)
{
	log_level = pri;
}

/* Set the name in front of each line (the worker number in children). */
void
log_set_ident(const char *ident)
{
	strlcpy(log_ident, ident, sizeof(log_ident));
	if (log_target == LOG_TO_SYSLOG)
		openlog(PROGNAME, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/*
 * How many bytes c takes in a line: a control character is escaped, so
 * that a newline in a message (a job id, a Redis error) cannot make it
 * look like two records, nor an escape sequence reach a terminal; and so
 * is a backslash, so that the escapes read back one way only.  In a quoted
 * value (q: logfmt, JSON) so is a double quote, and other control
 * characters are JSON's \u00HH.
 */
static size_t
esc_len(unsigned char c, int q)
{
	if (c == '\\' || c == '\n' || c == '\r' || c == '\t' ||
	    (q && c == '"'))
		return 2;
	if (c >= 0x20 && c != 0x7f)
		return 1;
	return q ? 6 : 4;
}

/* Write c at p as esc_len says: itself, \\, \n, \r, \t, \xHH; \", \u00HH. */
static void
esc_put(char *p, unsigned char c, int q)
{
	static const char	hex[] = "0123456789abcdef";

	if (c >= 0x20 && c != 0x7f && c != '\\' && (!q || c != '"')) {
		*p = (char)c;
		return;
	}
	p[0] = '\\';
	if (q && c == '"') {
		p[1] = '"';
		return;
	}
	if (q && c != '\\' && c != '\n' && c != '\r' && c != '\t') {
		memcpy(p + 1, "u00", 3);
		p[4] = hex[c >> 4];
		p[5] = hex[c & 0xf];
		return;
	}
	switch (c) {
	case '\\':
		p[1] = '\\';
		break;
	case '\n':
		p[1] = 'n';
		break;
	case '\r':
		p[1] = 'r';
		break;
	case '\t':
		p[1] = 't';
		break;
	default:
		p[1] = 'x';
		p[2] = hex[c >> 4];
		p[3] = hex[c & 0xf];
		break;
	}
}

/*
 * The length of the valid UTF-8 sequence of two to four bytes at s, of the
 * n there; 0 when there is none (a stray byte, an overlong form, a
 * surrogate, past U+10FFFF).
 */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t	k, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		k = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		k = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		k = 4;
	else
		return 0;
	if (n < k)
		return 0;
	for (i = 1; i < k; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return k;
}

/*
 * The next unit of the n bytes at m: how many bytes it takes (returned)
 * and how many it writes (*w).  A byte, escaped as esc_len says; in a
 * quoted value (JSON must be UTF-8) a valid UTF-8 sequence whole, and any
 * other byte from 0x80 up as \u00HH.
 */
static size_t
next_unit(const char *m, size_t n, int q, size_t *w)
{
	const unsigned char	*u = (const unsigned char *)m;
	size_t			 k;

	if (!q || u[0] < 0x80) {
		*w = esc_len(u[0], q);
		return 1;
	}
	k = utf8_seq(u, n);
	*w = k > 0 ? k : 6;
	return k > 0 ? k : 1;
}

/* Write the unit of k bytes at m as next_unit measured it. */
static void
put_unit(char *p, const char *m, size_t k, int q)
{
	static const char	hex[] = "0123456789abcdef";
	unsigned char		c = (unsigned char)m[0];

	if (q && c >= 0x80 && k == 1) {
		memcpy(p, "\\u00", 4);
		p[4] = hex[c >> 4];
		p[5] = hex[c & 0xf];
	} else if (k > 1)
		memcpy(p, m, k);
	else
		esc_put(p, c, q);
}

/*
 * Append the n bytes of m, escaped (quoted: q), to the len bytes of
 * log_line, leaving room for tail bytes and a newline; when they do not all
 * fit, or m was cut already (cut), end with LOG_CUT instead of the units
 * that do not.  Returns the new length.
 */
static size_t
append_msg(size_t len, const char *m, size_t n, int cut, int q, size_t tail)
{
	size_t	i, k, w, need = 0, room = LOG_LINE_MAX - 1 - tail - len;

	for (i = 0; i < n && need <= room; i += k) {
		k = next_unit(m + i, n - i, q, &w);
		need += w;
	}
	if (cut || need > room) {
		cut = 1;
		room -= sizeof(LOG_CUT) - 1;
	}
	for (i = 0; i < n; i += k) {
		k = next_unit(m + i, n - i, q, &w);
		if (w > room)
			break;
		put_unit(log_line + len, m + i, k, q);
		len += w;
		room -= w;
	}
	if (cut) {
		memcpy(log_line + len, LOG_CUT, sizeof(LOG_CUT) - 1);
		len += sizeof(LOG_CUT) - 1;
	}
	return len;
}

/*
 * Write the start of a line at priority pri into log_line: the time, then
 * the ident and pid, as the format says, up to the message's text (its
 * opening quote in logfmt and JSON).  Returns its length.
 */
static size_t
line_prefix(int pri)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 t[40];
	const char	*lv;
	int		 p;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	p = (int)strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(t + p, sizeof(t) - p, ".%03ldZ", ts.tv_nsec / 1000000);
	lv = pri >= 0 && pri < 8 ? level_names[pri] : "info";
	/* some 150 bytes at most: the time, log_ident, a pid, the level */
	switch (log_fmt) {
	case LOG_FMT_LOGFMT:
		p = snprintf(log_line, LOG_PREFIX_MAX, "time=%s level=%s "
		    "ident=%s pid=%ld msg=\"", t, lv, log_ident,
		    (long)getpid());
		break;
	case LOG_FMT_JSON:
		p = snprintf(log_line, LOG_PREFIX_MAX, "{\"time\":\"%s\","
		    "\"level\":\"%s\",\"ident\":\"%s\",\"pid\":%ld,"
		    "\"msg\":\"", t, lv, log_ident, (long)getpid());
		break;
	default:
		p = snprintf(log_line, LOG_PREFIX_MAX, "%s %s[%ld]: %s", t,
		    log_ident, (long)getpid(), pri == LOG_WARNING ?
		    "warning: " : pri <= LOG_ERR ? "error: " : "");
		break;
	}
	return p < 0 ? 0 : (size_t)p < LOG_PREFIX_MAX ? (size_t)p :
	    LOG_PREFIX_MAX - 1;
}

/*
 * Log one message at a syslog priority, followed by ": " and the text of
 * errnum when it is not 0: one line of at most LOG_LINE_MAX bytes, newline
 * included, in one write(2).
 */
static void
vlog(int pri, int errnum, const char *fmt, va_list ap)
{
	size_t		 len;
	int		 n, p, saved = errno, cut = 0;

	if (pri > log_level) {
		errno = saved;
		return;
	}
	n = vsnprintf(log_msg, sizeof(log_msg), fmt, ap);
	if (n < 0) {
		errno = saved;
		return;
	}
	if ((size_t)n < sizeof(log_msg) && errnum != 0) {
		p = snprintf(log_msg + n, sizeof(log_msg) - n, ": %s",
		    strerror(errnum));
		n = p < 0 ? (int)sizeof(log_msg) : n + p;
	}
	if ((size_t)n >= sizeof(log_msg)) {
		n = sizeof(log_msg) - 1;
		cut = 1;
	}
	if (log_target == LOG_TO_SYSLOG) {
		len = append_msg(0, log_msg, (size_t)n, cut, 0, 0);
		log_line[len] = '\0';
		syslog(pri, "%s", log_line);
		errno = saved;
		return;
	}
	len = line_prefix(pri);
	len = append_msg(len, log_msg, (size_t)n, cut,
	    log_fmt != LOG_FMT_TEXT, log_fmt == LOG_FMT_JSON ? 2 :
	    log_fmt == LOG_FMT_LOGFMT ? 1 : 0);
	if (log_fmt != LOG_FMT_TEXT)
		log_line[len++] = '"';
	if (log_fmt == LOG_FMT_JSON)
		log_line[len++] = '}';
	log_line[len++] = '\n';
	if (write(log_target == LOG_TO_FILE ? log_fdesc : STDERR_FILENO,
	    log_line, len) == -1)
		errno = saved;
	errno = saved;
}

/* Log one message at a syslog priority. */
void
log_vmsg(int pri, const char *fmt, va_list ap)
{
	vlog(pri, 0, fmt, ap);
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

/* Log a warning followed by ": " and the text of errno, as warn(3). */
void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vlog(LOG_WARNING, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

/* Log an error. */
void
log_errx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERR, fmt, ap);
	va_end(ap);
}

/* Log a debugging message, when log-level is debug or BULLMQ_DEBUG set. */
void
log_debug(const char *fmt, ...)
{
	static int	on = -1;
	va_list		ap;
	int		level;

	if (on == -1)
		on = getenv("BULLMQ_DEBUG") != NULL;
	if (!on && log_level < LOG_DEBUG)
		return;
	level = log_level;
	log_level = LOG_DEBUG;
	va_start(ap, fmt);
	log_vmsg(LOG_DEBUG, fmt, ap);
	va_end(ap);
	log_level = level;
}
