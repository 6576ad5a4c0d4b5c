/*
 * cron.c: the next time of a cron pattern, as cron-parser (the evaluator
 * of bullmq@6.7.0's job schedulers) computes it.
 *
 * Patterns have 5 fields (minute hour day-of-month month day-of-week) or
 * 6 with seconds first; fewer fields are padded on the left with
 * "0 * * * * *" as cron-parser does, and @yearly, @monthly, @weekly,
 * @daily, @hourly, @minutely, @secondly, @weekdays, @weekends are known.
 * A field is a list of values, ranges a-b and steps (a/s, a-b/s, * / s);
 * months and days of the week may be named (jan, mon, case ignored); day
 * of week 7 is Sunday; "?" is "*"; "L" in the day of month is its last
 * day.  When both days are restricted a day matching either is taken, as
 * in cron.  Not supported (refused): W, #, L in the day of week, and H.
 *
 * The search runs on wall-clock time in UTC or in a time zone, which is
 * converted with TZ, tzset and mktime (TZ is restored after; this is not
 * thread-safe).  Limits: when clocks go back, a search that reaches the
 * repeated hour by running off the end of the first one (e.g. "* * * * *"
 * at 01:59:30 summer time) goes on to 02:00 winter time, where
 * cron-parser returns the repeated 01:00; a time in the hour skipped when
 * clocks go forward is moved on by the gap, as cron-parser does for the
 * first such time, but not for later times of that skipped hour.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bullmq-int.h"

#define CRON_FIELDS	6
#define CRON_MAXLEN	1024
#define CRON_DAYS	(366 * 30)	/* days searched before giving up */

enum { F_SEC, F_MIN, F_HOUR, F_DOM, F_MON, F_DOW };

struct cron {
	uint64_t	bits[CRON_FIELDS];
	int		dom_any;	/* day of month is "*" or "?" */
	int		dow_any;
	int		dom_last;	/* "L": the last day of the month */
};

/* A wall-clock time, normalised by hand (no time zone involved). */
struct wall {
	int	year, mon, mday, hour, min, sec;	/* mon 1..12 */
};

static const struct {
	const char	*name;
	const char	*expr;
} cron_aliases[] = {
	{ "@yearly", "0 0 0 1 1 *" },
	{ "@annually", "0 0 0 1 1 *" },
	{ "@monthly", "0 0 0 1 * *" },
	{ "@weekly", "0 0 0 * * 0" },
	{ "@daily", "0 0 0 * * *" },
	{ "@hourly", "0 0 * * * *" },
	{ "@minutely", "0 * * * * *" },
	{ "@secondly", "* * * * * *" },
	{ "@weekdays", "0 0 0 * * 1-5" },
	{ "@weekends", "0 0 0 * * 0,6" },
};

static const int	cron_min[CRON_FIELDS] = { 0, 0, 0, 1, 1, 0 };
static const int	cron_max[CRON_FIELDS] = { 59, 59, 23, 31, 12, 7 };
static const char	*cron_names[CRON_FIELDS] = {
	"second", "minute", "hour", "day of month", "month", "day of week"
};
static const char	*month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
	"oct", "nov", "dec"
};
static const char	*day_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat"
};

/* Write an error message. */
static void __attribute__((format(printf, 3, 4)))
cron_err(char *err, size_t errsize, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errsize == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
}

/*
 * Replace the three-letter names of months and days in src by numbers,
 * into dst.  Returns 0, or -1 for an unknown name or no room.
 */
static int
cron_names_replace(int field, const char *src, char *dst, size_t size)
{
	size_t	i = 0, o = 0, k;
	char	low[4], num[4];
	int	v, n;

	while (src[i] != '\0') {
		if (isalpha((unsigned char)src[i]) &&
		    isalpha((unsigned char)src[i + 1]) &&
		    isalpha((unsigned char)src[i + 2])) {
			for (k = 0; k < 3; k++)
				low[k] = (char)tolower((unsigned char)src[i +
				    k]);
			low[3] = '\0';
			v = -1;
			for (k = 0; k < 12; k++)
				if (strcmp(low, month_names[k]) == 0)
					v = (int)k + 1;
			for (k = 0; k < 7 && v == -1; k++)
				if (strcmp(low, day_names[k]) == 0)
					v = (int)k;
			if (v == -1 || (field == F_MON && v == 0))
				return -1;
			n = snprintf(num, sizeof(num), "%d", v);
			if (o + (size_t)n >= size)
				return -1;
			memcpy(dst + o, num, (size_t)n);
			o += (size_t)n;
			i += 3;
			continue;
		}
		if (o + 1 >= size)
			return -1;
		dst[o++] = src[i++];
	}
	dst[o] = '\0';
	return 0;
}

/* Parse a decimal number of at most 4 digits at *sp; -1 when none. */
static int
cron_num(const char **sp)
{
	const char	*s = *sp;
	int		 v = 0, n = 0;

	while (isdigit((unsigned char)*s) && n < 5) {
		v = v * 10 + (*s - '0');
		s++;
		n++;
	}
	if (n == 0 || n == 5)
		return -1;
	*sp = s;
	return v;
}

/*
 * Parse one list element: v, a-b, v/s or a-b/s (after "*" became
 * "min-max").  Sets the bits of its values.  Returns 0 or -1.
 */
static int
cron_atom(int field, const char *s, uint64_t *bits)
{
	int	lo, hi, step = 1, v, range = 0;

	if ((lo = cron_num(&s)) == -1)
		return -1;
	hi = lo;
	if (*s == '-') {
		s++;
		if ((hi = cron_num(&s)) == -1)
			return -1;
		range = 1;
	}
	if (*s == '/') {
		s++;
		if ((step = cron_num(&s)) == -1 || step == 0)
			return -1;
		if (!range)
			hi = cron_max[field];
		range = 1;
	}
	if (*s != '\0')
		return -1;
	if (lo < cron_min[field] || hi > cron_max[field] || lo > hi)
		return -1;
	if (field == F_DOW && range && hi % 7 == 0 && (hi - lo) % step == 0)
		*bits |= 1;
	for (v = lo; v <= hi; v += step)
		*bits |= (uint64_t)1 << (field == F_DOW ? v % 7 : v);
	return 0;
}

/* Parse one field into c. Returns 0, or -1 with err set. */
static int
cron_field(int field, const char *raw, struct cron *c, char *err,
    size_t errsize)
{
	char	 buf[CRON_MAXLEN + 16], w[CRON_MAXLEN + 64], *atom, *last;
	size_t	 i, o;
	int	 n;

	if (field == F_MON || field == F_DOW) {
		if (cron_names_replace(field, raw, buf, sizeof(buf)) == -1) {
			cron_err(err, errsize, "cron %s field \"%s\": unknown "
			    "name", cron_names[field], raw);
			return -1;
		}
	} else if (strlcpy(buf, raw, sizeof(buf)) >= sizeof(buf))
		return -1;
	/* "*" and "?" stand for the whole range */
	for (i = 0, o = 0; buf[i] != '\0'; i++) {
		if (buf[i] == '*' || buf[i] == '?') {
			n = snprintf(w + o, sizeof(w) - o, "%d-%d",
			    cron_min[field], cron_max[field]);
			if (n < 0 || (size_t)n >= sizeof(w) - o)
				goto bad;
			o += (size_t)n;
		} else {
			if (o + 1 >= sizeof(w))
				goto bad;
			w[o++] = buf[i];
		}
	}
	w[o] = '\0';
	if (field == F_DOM)
		c->dom_any = strcmp(raw, "*") == 0 || strcmp(raw, "?") == 0;
	if (field == F_DOW)
		c->dow_any = strcmp(raw, "*") == 0 || strcmp(raw, "?") == 0;
	if (w[0] == '\0' || w[o - 1] == ',')
		goto bad;
	last = NULL;
	for (atom = strtok_r(w, ",", &last); atom != NULL;
	    atom = strtok_r(NULL, ",", &last)) {
		if (field == F_DOM && strcmp(atom, "L") == 0) {
			c->dom_last = 1;
			continue;
		}
		if (cron_atom(field, atom, &c->bits[field]) == -1)
			goto bad;
	}
	if (strstr(buf, ",,") != NULL || buf[0] == ',')
		goto bad;
	return 0;
bad:
	cron_err(err, errsize, "cron %s field \"%s\": not a value, range or "
	    "step in bounds (W, # and H are not supported)",
	    cron_names[field], raw);
	return -1;
}

/* Parse a pattern into c.  Returns 0, or -1 with err set. */
static int
cron_parse(const char *pattern, struct cron *c, char *err, size_t errsize)
{
	static const char	*defaults[CRON_FIELDS] = {
		"0", "*", "*", "*", "*", "*"
	};
	const char		*fields[CRON_FIELDS];
	char			 buf[CRON_MAXLEN + 1], *p, *last;
	int			 n = 0, i, pad;
	size_t			 k;

	memset(c, 0, sizeof(*c));
	for (k = 0; k < sizeof(cron_aliases) / sizeof(cron_aliases[0]); k++)
		if (strcmp(pattern, cron_aliases[k].name) == 0)
			pattern = cron_aliases[k].expr;
	if (strlcpy(buf, pattern, sizeof(buf)) >= sizeof(buf)) {
		cron_err(err, errsize, "cron pattern too long");
		return -1;
	}
	last = NULL;
	for (p = strtok_r(buf, " \t\n\r\f\v", &last); p != NULL;
	    p = strtok_r(NULL, " \t\n\r\f\v", &last)) {
		if (n == CRON_FIELDS) {
			cron_err(err, errsize, "cron pattern \"%s\": too many "
			    "fields", pattern);
			return -1;
		}
		fields[n++] = p;
	}
	if (n == 0) {
		/* cron-parser's default for an empty pattern */
		return cron_parse("0 * * * * *", c, err, errsize);
	}
	pad = CRON_FIELDS - n;
	for (i = CRON_FIELDS - 1; i >= 0; i--)
		fields[i] = i >= pad ? fields[i - pad] : defaults[i];
	for (i = 0; i < CRON_FIELDS; i++)
		if (cron_field(i, fields[i], c, err, errsize) == -1)
			return -1;
	return 0;
}

/* Is year y a leap year? */
static int
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The number of days in month m (1..12) of year y. */
static int
mdays(int y, int m)
{
	static const int	d[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* The day of the week (0 Sunday) of a date. */
static int
wday(int y, int m, int d)
{
	static const int	t[] = { 0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4 };

	if (m < 3)
		y--;
	return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7;
}

/* Does the day of w match, by cron's rule for two restricted fields? */
static int
day_match(const struct cron *c, const struct wall *w)
{
	int	dom, dow;

	dom = ((c->bits[F_DOM] >> w->mday) & 1) ||
	    (c->dom_last && w->mday == mdays(w->year, w->mon));
	dow = (c->bits[F_DOW] >> wday(w->year, w->mon, w->mday)) & 1;
	if (!c->dom_any && !c->dow_any)
		return dom || dow;
	if (!c->dow_any)
		return dow;
	return dom;
}

/* The smallest set bit >= from in bits (up to max), or -1. */
static int
next_bit(uint64_t bits, int from, int max)
{
	int	v;

	for (v = from; v <= max; v++)
		if ((bits >> v) & 1)
			return v;
	return -1;
}

/* Move w to the start of the next day. */
static void
next_day(struct wall *w)
{
	w->hour = w->min = w->sec = 0;
	if (++w->mday > mdays(w->year, w->mon)) {
		w->mday = 1;
		if (++w->mon > 12) {
			w->mon = 1;
			w->year++;
		}
	}
}

/*
 * The first wall-clock time at or after w that matches c, in w.  Returns
 * 0, or -1 when none comes within CRON_DAYS days.
 */
static int
wall_match(const struct cron *c, struct wall *w)
{
	int	days = 0, v;

	while (days < CRON_DAYS) {
		if (!((c->bits[F_MON] >> w->mon) & 1)) {
			w->mday = mdays(w->year, w->mon);
			next_day(w);
			days += 28;
			continue;
		}
		if (!day_match(c, w)) {
			next_day(w);
			days++;
			continue;
		}
		if ((v = next_bit(c->bits[F_HOUR], w->hour, 23)) == -1) {
			next_day(w);
			days++;
			continue;
		}
		if (v != w->hour) {
			w->hour = v;
			w->min = w->sec = 0;
		}
		if ((v = next_bit(c->bits[F_MIN], w->min, 59)) == -1) {
			w->min = 60;	/* carry below */
		} else if (v != w->min) {
			w->min = v;
			w->sec = 0;
		}
		if (w->min < 60 &&
		    (v = next_bit(c->bits[F_SEC], w->sec, 59)) != -1) {
			w->sec = v;
			return 0;
		}
		/* no second left in this minute: the next minute */
		w->sec = 0;
		if (w->min < 60)
			w->min++;
		if (w->min >= 60) {
			w->min = 0;
			if (++w->hour >= 24)
				next_day(w);
		}
	}
	return -1;
}

/*
 * Run the conversion fn with TZ set to tz (NULL: UTC), restoring TZ after.
 * Returns -1 when TZ cannot be set.
 */
static int
with_tz(const char *tz, int (*fn)(void *), void *arg)
{
	char	*old = NULL, *o;
	int	 rv;

	if (tz == NULL || tz[0] == '\0')
		return fn(arg);
	if ((o = getenv("TZ")) != NULL && (old = strdup(o)) == NULL)
		return -1;
	if (setenv("TZ", tz, 1) == -1) {
		free(old);
		return -1;
	}
	tzset();
	rv = fn(arg);
	if (old != NULL)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(old);
	return rv;
}

struct search {
	const struct cron	*c;
	int			 utc;
	int64_t			 after;		/* ms */
	int64_t			 next;		/* ms */
};

/* Split seconds since the epoch into wall-clock time. */
static int
to_wall(time_t t, int utc, struct wall *w)
{
	struct tm	tm;

	if ((utc ? gmtime_r(&t, &tm) : localtime_r(&t, &tm)) == NULL)
		return -1;
	w->year = tm.tm_year + 1900;
	w->mon = tm.tm_mon + 1;
	w->mday = tm.tm_mday;
	w->hour = tm.tm_hour;
	w->min = tm.tm_min;
	w->sec = tm.tm_sec > 59 ? 59 : tm.tm_sec;
	return 0;
}

/* mktime of w taken as summer (isdst 1) or winter (0) time; 1 if it exists. */
static int
wall_try(const struct wall *w, int isdst, time_t *t)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = w->year - 1900;
	tm.tm_mon = w->mon - 1;
	tm.tm_mday = w->mday;
	tm.tm_hour = w->hour;
	tm.tm_min = w->min;
	tm.tm_sec = w->sec;
	tm.tm_isdst = isdst;
	*t = mktime(&tm);
	return tm.tm_hour == w->hour && tm.tm_min == w->min &&
	    tm.tm_mday == w->mday;
}

/*
 * Seconds since the epoch of a wall-clock time, the first instant at or
 * after from when it is repeated (clocks going back), the winter reading
 * (later by the gap) when it is skipped (clocks going forward).
 */
static time_t
from_wall(const struct wall *w, int utc, time_t from)
{
	struct tm	tm;
	time_t		ts, tw, lo, hi;
	int		s, x;

	if (utc) {
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = w->year - 1900;
		tm.tm_mon = w->mon - 1;
		tm.tm_mday = w->mday;
		tm.tm_hour = w->hour;
		tm.tm_min = w->min;
		tm.tm_sec = w->sec;
		return timegm(&tm);
	}
	s = wall_try(w, 1, &ts);
	x = wall_try(w, 0, &tw);
	if (s && x) {
		lo = ts < tw ? ts : tw;
		hi = ts < tw ? tw : ts;
		return lo >= from ? lo : hi;
	}
	if (s)
		return ts;
	return tw;
}

/* Move w on by one second. */
static void
wall_tick(struct wall *w)
{
	if (++w->sec < 60)
		return;
	w->sec = 0;
	if (++w->min < 60)
		return;
	w->min = 0;
	if (++w->hour < 24)
		return;
	w->hour = 23;
	next_day(w);
}

/* The search proper, run inside the time zone. */
static int
search_run(void *arg)
{
	struct search	*s = arg;
	struct wall	 w;
	time_t		 t, from;
	int		 tries;

	/* the first whole second strictly after s->after */
	from = (time_t)(s->after >= 0 ? s->after / 1000 :
	    -((-s->after + 999) / 1000)) + 1;
	if (to_wall(from, s->utc, &w) == -1)
		return -1;
	for (tries = 0; tries < 4000; tries++) {
		if (wall_match(s->c, &w) == -1)
			return -1;
		t = from_wall(&w, s->utc, from);
		if (t >= from) {
			s->next = (int64_t)t * 1000;
			return 0;
		}
		/* a repeated wall time whose first instant has passed */
		wall_tick(&w);
	}
	return -1;
}

/* Is tz the name of a zone in the tz database (TZDIR or the system's)? */
static int
zone_known(const char *tz)
{
	const char	*dir;
	char		 path[1024];
	int		 n;

	if (tz[0] == '/' || tz[0] == ':' || strstr(tz, "..") != NULL)
		return 0;
	if ((dir = getenv("TZDIR")) == NULL || dir[0] == '\0')
		dir = "/usr/share/zoneinfo";
	n = snprintf(path, sizeof(path), "%s/%s", dir, tz);
	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	return access(path, R_OK) == 0;
}

/*
 * The first time (ms) strictly after after that matches a cron pattern in
 * time zone tz (NULL or "": UTC).  Returns 0 with *next set, or -1 with a
 * message in err (invalid pattern or zone, or no time within 30 years).
 */
int
bmq_cron_next(const char *pattern, const char *tz, int64_t after,
    int64_t *next, char *err, size_t errsize)
{
	struct cron	c;
	struct search	s;

	if (err != NULL && errsize > 0)
		err[0] = '\0';
	if (pattern == NULL || cron_parse(pattern, &c, err, errsize) == -1)
		return -1;
	if (tz != NULL && (tz[0] == '\0' || strcmp(tz, "UTC") == 0 ||
	    strcmp(tz, "Etc/UTC") == 0))
		tz = NULL;
	if (tz != NULL && !zone_known(tz)) {
		cron_err(err, errsize, "cron time zone \"%s\": unknown",
		    tz);
		return -1;
	}
	memset(&s, 0, sizeof(s));
	s.c = &c;
	s.utc = tz == NULL;
	s.after = after;
	if (with_tz(tz, search_run, &s) == -1) {
		if (err != NULL && err[0] == '\0')
			cron_err(err, errsize, "cron pattern \"%s\": no next "
			    "time", pattern);
		return -1;
	}
	*next = s.next;
	return 0;
}
