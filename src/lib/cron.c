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
 * in cron.  "NL" in the day of week is the last day N of the month, "D#N"
 * the Nth day D; H (hashed values) is taken from a seed, as cron-parser
 * does when given a hashSeed, and refused without one (it is random
 * there).  W is refused, as cron-parser 5 refuses it.  Values listed twice
 * are refused, as there.
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
#define CRON_MAXVALS	256		/* cron-parser's bound on a field */

enum { F_SEC, F_MIN, F_HOUR, F_DOM, F_MON, F_DOW };

struct cron {
	uint64_t	bits[CRON_FIELDS];
	int		dom_any;	/* day of month is "*" or "?" */
	int		dow_any;
	int		dom_last;	/* "L": the last day of the month */
	int		dow_last;	/* "L" in the day of week */
	int		dow_last_bits;	/* days matching in the month's last 7 */
	int		dow_nth;	/* "#N": the Nth of the month; 0 any */
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

/*
 * Parse a number as JavaScript's parseInt does with what cron-parser hands
 * it: the leading digits, whatever follows them ignored.  Returns the
 * number, or -1 when s does not start with a digit (NaN) or it is too big.
 */
static int
cron_int(const char *s)
{
	int	v = 0, n = 0;

	while (isdigit((unsigned char)*s)) {
		if (++n > 4)
			return -1;
		v = v * 10 + (*s++ - '0');
	}
	return n == 0 ? -1 : v;
}

/* Is s a whole decimal number (what JavaScript's +s reads as one)? */
static int
cron_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/*
 * The values one field lists, in cron-parser's terms, to refuse the
 * duplicates it refuses: a number, or 1000 + N for a string "NL" ("L"
 * alone is 1100).
 */
struct cron_vals {
	int	v[CRON_MAXVALS];
	int	n;
};

/* Add value v to vals and to bits; -1 when it is there already. */
static int
cron_add(struct cron_vals *vals, int v, int bit, uint64_t *bits)
{
	int	i;

	for (i = 0; i < vals->n; i++)
		if (vals->v[i] == v)
			return -1;
	if (vals->n == CRON_MAXVALS)
		return -1;
	vals->v[vals->n++] = v;
	if (bit >= 0)
		*bits |= (uint64_t)1 << bit;
	return 0;
}

/*
 * Parse one list element as cron-parser does (after "*" and "?" became
 * "min-max" and H was replaced): v, a-b, v/s or a-b/s, or in the days a
 * string "NL".  Sets the bits of its values in c.  Returns 0, or -1 with
 * a reason in why.
 */
static int
cron_atom(int field, char *s, struct cron *c, struct cron_vals *vals,
    const char **why)
{
	char	*slash, *dash, *rest;
	int	 lo, hi, step = 1, v, range = 0, d;

	if ((slash = strchr(s, '/')) != NULL) {
		*slash = '\0';
		if (strchr(slash + 1, '/') != NULL) {
			*why = "more than one \"/\"";
			return -1;
		}
		if ((step = cron_int(slash + 1)) <= 0) {
			*why = "a step that is not a positive number";
			return -1;
		}
		range = 1;
	}
	if ((dash = strchr(s, '-')) != NULL) {
		*dash = '\0';
		/* a third bound, as in "1-5-7", is ignored by cron-parser */
		if ((rest = strchr(dash + 1, '-')) != NULL)
			*rest = '\0';
		lo = cron_int(s);
		hi = cron_int(dash + 1);
	} else if (range) {
		lo = cron_int(s);
		hi = cron_max[field];
	} else if (cron_digits(s)) {
		if ((lo = cron_int(s)) < cron_min[field] ||
		    lo > cron_max[field]) {
			*why = "a value out of range";
			return -1;
		}
		v = field == F_DOW ? lo % 7 : lo;
		if (cron_add(vals, v, v, &c->bits[field]) == -1)
			goto dup;
		return 0;
	} else {
		/* a string value: only "NL" in the days (last ...) */
		if ((field != F_DOM && field != F_DOW) ||
		    strlen(s) > 3 || s[strlen(s) - 1] != 'L' ||
		    (strlen(s) > 1 && !isdigit((unsigned char)s[0])) ||
		    (strlen(s) > 2 && !isdigit((unsigned char)s[1]))) {
			*why = "not a number, range or step";
			return -1;
		}
		if (field == F_DOW && s[1] == '\0') {
			*why = "a standalone L (write NL: the last weekday N)";
			return -1;
		}
		d = s[0] == 'L' ? 100 : cron_int(s);
		if (cron_add(vals, 1000 + d, -1, NULL) == -1)
			goto dup;
		if (field == F_DOM)
			c->dom_last = 1;
		else
			c->dow_last_bits |= 1 << (s[0] - '0') % 7;
		return 0;
	}
	range = 1;
	if (lo == -1 || hi == -1 || lo < cron_min[field] ||
	    hi > cron_max[field]) {
		*why = "a range out of bounds";
		return -1;
	}
	if (lo > hi) {
		*why = "a range whose start is after its end";
		return -1;
	}
	if (field == F_DOW && hi % 7 == 0 && (hi - lo) % step == 0 &&
	    cron_add(vals, 0, 0, &c->bits[field]) == -1)
		goto dup;
	for (v = lo; v <= hi; v += step) {
		if (field == F_DOW && v == 0 && hi % 7 == 0 &&
		    (hi - lo) % step == 0)
			continue;	/* added just above */
		if (cron_add(vals, v, field == F_DOW ? v % 7 : v,
		    &c->bits[field]) == -1)
			goto dup;
	}
	return 0;
dup:
	*why = "a value listed twice (cron-parser refuses duplicates)";
	return -1;
}

/* One random number of cron-parser's seeded generator (mulberry32). */
static double
cron_rand(uint32_t *state)
{
	uint32_t	t;

	t = (*state += 0x6d2b79f5U);
	t = (t ^ (t >> 15)) * (t | 1U);
	t ^= t + (t ^ (t >> 7)) * (t | 61U);
	return (double)(t ^ (t >> 14)) / 4294967296.0;
}

/* The seed of that generator for a string seed (FNV-1a of its UTF-16). */
static int
cron_seed(const char *seed, uint32_t *state)
{
	const unsigned char	*p = (const unsigned char *)seed;
	uint32_t		 h = 2166136261U;

	for (; *p != '\0'; p++) {
		if (*p >= 0x80)
			return -1;	/* non-ASCII: UTF-16 units not done */
		h ^= *p;
		h *= 16777619U;
	}
	*state = h;
	return 0;
}

/*
 * Replace each H, H(a-b), H/s and H(a-b)/s in src by the values
 * cron-parser's seeded choice gives (r is the field's one random number),
 * into dst.  Returns 0, or -1 with a reason in why.
 */
static int
cron_hash(int field, const char *src, double r, char *dst, size_t size,
    const char **why)
{
	char		 num[16];
	const char	*p = src;
	size_t		 o = 0;
	int		 lo, hi, step, v, i, n, any;

	while (*p != '\0') {
		if (*p != 'H') {
			if (o + 1 >= size)
				goto long_;
			dst[o++] = *p++;
			continue;
		}
		p++;
		lo = cron_min[field];
		hi = cron_max[field];
		step = 0;
		if (*p == '(' && isdigit((unsigned char)p[1])) {
			const char	*q = p + 1;
			int		 a, b;

			a = cron_int(q);
			while (isdigit((unsigned char)*q))
				q++;
			if (*q == '-' && isdigit((unsigned char)q[1])) {
				b = cron_int(++q);
				while (isdigit((unsigned char)*q))
					q++;
				if (*q == ')') {
					if (a == -1 || b == -1 || a > b) {
						*why = "an H range whose start "
						    "is after its end";
						return -1;
					}
					lo = a > lo ? a : lo;
					hi = b < hi ? b : hi;
					if (lo > hi) {
						*why = "an H range with no "
						    "value in bounds";
						return -1;
					}
					p = q + 1;
				}
			}
		}
		if (*p == '/' && isdigit((unsigned char)p[1])) {
			if ((step = cron_int(p + 1)) <= 0) {
				*why = "an H step that is not positive";
				return -1;
			}
			p++;
			while (isdigit((unsigned char)*p))
				p++;
		}
		any = 0;
		if (step > 0) {
			for (i = lo / step * step + (int)(r * step); i <= hi;
			    i += step) {
				if (i < lo)
					continue;
				n = snprintf(num, sizeof(num), "%s%d",
				    any ? "," : "", i);
				if (o + (size_t)n >= size)
					goto long_;
				memcpy(dst + o, num, (size_t)n);
				o += (size_t)n;
				any = 1;
			}
		}
		if (!any) {
			v = (int)(r * (hi - lo + 1)) + lo;
			n = snprintf(num, sizeof(num), "%d", v);
			if (o + (size_t)n >= size)
				goto long_;
			memcpy(dst + o, num, (size_t)n);
			o += (size_t)n;
		}
	}
	dst[o] = '\0';
	return 0;
long_:
	*why = "too long once H is expanded";
	return -1;
}

/* The characters cron-parser lets through in each field. */
static int
cron_chars_ok(int field, const char *s)
{
	const char	*ok;

	if (field == F_DOM)
		ok = "?,*0123456789LH/-()";
	else if (field == F_DOW)
		ok = "?,*0123456789LH/-()";
	else
		ok = "?,*0123456789H/-()";
	for (; *s != '\0'; s++)
		if (strchr(ok, *s) == NULL)
			return 0;
	return 1;
}

/*
 * Parse one field into c, as cron-parser does: names, then "#" (day of
 * week), "*", H with r, then the list.  Returns 0, or -1 with err set.
 */
static int
cron_field(int field, const char *raw, struct cron *c, double r,
    int seeded, char *err, size_t errsize)
{
	char		 buf[CRON_MAXLEN + 16], h[CRON_MAXLEN * 4];
	char		 w[CRON_MAXLEN * 8], *atom, *hash, *nth;
	struct cron_vals vals;
	const char	*why = NULL;
	size_t		 i, o;
	int		 n;

	memset(&vals, 0, sizeof(vals));
	if (strlcpy(buf, raw, sizeof(buf)) >= sizeof(buf))
		return -1;
	if (field == F_DOW && (hash = strchr(buf, '#')) != NULL) {
		/* "D#N": the Nth day D of the month; alone in its field */
		*hash = '\0';
		nth = hash + 1;
		if (strpbrk(raw, ",-/") != NULL) {
			why = "\"#\" cannot go with \",\", \"-\" or \"/\"";
			goto bad;
		}
		if (strchr(nth, '#') != NULL || !cron_digits(nth) ||
		    (c->dow_nth = cron_int(nth)) < 1 || c->dow_nth > 5) {
			why = "the occurrence after \"#\" is not 1 to 5";
			goto bad;
		}
	}
	if (field == F_MON || field == F_DOW) {
		if (cron_names_replace(field, buf, h, sizeof(h)) == -1) {
			why = "an unknown name";
			goto bad;
		}
		strlcpy(buf, h, sizeof(buf));
	}
	if (!cron_chars_ok(field, buf)) {
		why = field == F_DOM || field == F_DOW ? "a character "
		    "cron-parser refuses (W is not supported by it)" :
		    "a character cron-parser refuses";
		goto bad;
	}
	/* "*" and "?" stand for the whole range */
	for (i = 0, o = 0; buf[i] != '\0'; i++) {
		if (buf[i] == '*' || buf[i] == '?') {
			n = snprintf(h + o, sizeof(h) - o, "%d-%d",
			    cron_min[field], cron_max[field]);
			if (n < 0 || (size_t)n >= sizeof(h) - o) {
				why = "too long once \"*\" is expanded";
				goto bad;
			}
			o += (size_t)n;
		} else {
			if (o + 1 >= sizeof(h)) {
				why = "too long once \"*\" is expanded";
				goto bad;
			}
			h[o++] = buf[i];
		}
	}
	h[o] = '\0';
	if (strchr(h, 'H') != NULL && !seeded) {
		why = "H is random unless the scheduler gives a hashSeed";
		goto bad;
	}
	if (cron_hash(field, h, r, w, sizeof(w), &why) == -1)
		goto bad;
	if (strchr(w, '(') != NULL || strchr(w, ')') != NULL ||
	    strchr(w, 'H') != NULL) {
		why = "a malformed H";
		goto bad;
	}
	if (field == F_DOM)
		c->dom_any = strcmp(raw, "*") == 0 || strcmp(raw, "?") == 0;
	if (field == F_DOW)
		c->dow_any = strcmp(raw, "*") == 0 || strcmp(raw, "?") == 0;
	if ((field == F_DOM || field == F_DOW) && strchr(raw, 'L') != NULL) {
		/* cron-parser looks at L anywhere in the raw field */
		if (field == F_DOM)
			c->dom_last = 1;
		else
			c->dow_last = 1;
	}
	/* empty elements ("1,,2", a trailing ",") are refused */
	o = strlen(w);
	if (o == 0 || w[0] == ',' || w[o - 1] == ',' ||
	    strstr(w, ",,") != NULL) {
		why = "an empty list element";
		goto bad;
	}
	for (atom = w; atom != NULL; atom = hash) {
		if ((hash = strchr(atom, ',')) != NULL)
			*hash++ = '\0';
		if (cron_atom(field, atom, c, &vals, &why) == -1)
			goto bad;
	}
	if (field == F_DOW && c->dow_last) {
		/* numbers match their last weekday too, as in cron-parser */
		for (i = 0; i < 7; i++)
			if ((c->bits[F_DOW] >> i) & 1)
				c->dow_last_bits |= 1 << i;
	}
	return 0;
bad:
	cron_err(err, errsize, "cron %s field \"%s\": %s", cron_names[field],
	    raw, why != NULL ? why : "not valid");
	return -1;
}

/* Parse a pattern into c.  Returns 0, or -1 with err set. */
static int
cron_parse(const char *pattern, const char *seed, struct cron *c, char *err,
    size_t errsize)
{
	/* cron-parser draws one number a field, in this order */
	static const int	order[CRON_FIELDS] = {
		F_SEC, F_MIN, F_HOUR, F_MON, F_DOM, F_DOW
	};
	uint32_t		state = 0;
	double			r = 0;
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
		return cron_parse("0 * * * * *", seed, c, err, errsize);
	}
	pad = CRON_FIELDS - n;
	for (i = CRON_FIELDS - 1; i >= 0; i--)
		fields[i] = i >= pad ? fields[i - pad] : defaults[i];
	if (seed != NULL && seed[0] != '\0' && cron_seed(seed, &state) == -1) {
		cron_err(err, errsize, "cron hash seed \"%s\": only ASCII "
		    "seeds are supported", seed);
		return -1;
	}
	for (i = 0; i < CRON_FIELDS; i++) {
		if (seed != NULL && seed[0] != '\0')
			r = cron_rand(&state);
		if (cron_field(order[i], fields[order[i]], c, r,
		    seed != NULL && seed[0] != '\0', err, errsize) == -1)
			return -1;
	}
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
	int	dom, dow, wd;

	dom = ((c->bits[F_DOM] >> w->mday) & 1) ||
	    (c->dom_last && w->mday == mdays(w->year, w->mon));
	wd = wday(w->year, w->mon, w->mday);
	dow = (((c->bits[F_DOW] >> wd) & 1) &&
	    (c->dow_nth == 0 || (w->mday + 6) / 7 == c->dow_nth)) ||
	    (c->dow_last && ((c->dow_last_bits >> wd) & 1) &&
	    w->mday > mdays(w->year, w->mon) - 7);
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
 * time zone tz (NULL or "": UTC), H drawn from seed (NULL: H refused).
 * Returns 0 with *next set, or -1 with a message in err (invalid pattern
 * or zone, or no time within 30 years).
 */
int
bullmq_cron_next(const char *pattern, const char *tz, const char *seed,
    int64_t after, int64_t *next, char *err, size_t errsize)
{
	struct cron	c;
	struct search	s;

	if (err != NULL && errsize > 0)
		err[0] = '\0';
	if (pattern == NULL || next == NULL) {
		cron_err(err, errsize, "cron pattern missing");
		return -1;
	}
	if (cron_parse(pattern, seed, &c, err, errsize) == -1)
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

/* bullmq_cron_next without a hash seed. */
int
bmq_cron_next(const char *pattern, const char *tz, int64_t after,
    int64_t *next, char *err, size_t errsize)
{
	return bullmq_cron_next(pattern, tz, NULL, after, next, err, errsize);
}
