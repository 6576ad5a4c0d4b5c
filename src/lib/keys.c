/*
 * keys.c: queue and job key names, connection names, job id rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"

static const char *const key_suffix[BMQ_K__MAX] = {
	[BMQ_K_BASE] = "",
	[BMQ_K_WAIT] = "wait",
	[BMQ_K_ACTIVE] = "active",
	[BMQ_K_PRIORITIZED] = "prioritized",
	[BMQ_K_DELAYED] = "delayed",
	[BMQ_K_COMPLETED] = "completed",
	[BMQ_K_FAILED] = "failed",
	[BMQ_K_PAUSED] = "paused",
	[BMQ_K_WAITING_CHILDREN] = "waiting-children",
	[BMQ_K_META] = "meta",
	[BMQ_K_EVENTS] = "events",
	[BMQ_K_STALLED] = "stalled",
	[BMQ_K_STALLED_CHECK] = "stalled-check",
	[BMQ_K_MARKER] = "marker",
	[BMQ_K_ID] = "id",
	[BMQ_K_PC] = "pc",
	[BMQ_K_LIMITER] = "limiter",
	[BMQ_K_REPEAT] = "repeat",
	[BMQ_K_METRICS_COMPLETED] = "metrics:completed",
	[BMQ_K_METRICS_FAILED] = "metrics:failed",
};

/* Build every queue key "prefix:name:suffix" once. */
int
bmq_keys_build(bullmq_queue *q)
{
	int	i, n;

	for (i = 0; i < BMQ_K__MAX; i++) {
		n = asprintf(&q->keys[i], "%s:%s:%s", q->prefix, q->name,
		    key_suffix[i]);
		if (n < 0) {
			q->keys[i] = NULL;
			bmq_keys_free(q);
			return -1;
		}
		q->keylens[i] = (size_t)n;
	}
	return 0;
}

/* Free the prebuilt keys. */
void
bmq_keys_free(bullmq_queue *q)
{
	int	i;

	for (i = 0; i < BMQ_K__MAX; i++) {
		free(q->keys[i]);
		q->keys[i] = NULL;
	}
}

/* Write the key of job id into buf; -1 when it does not fit. */
int
bmq_job_key(const bullmq_queue *q, const char *id, char *buf, size_t size)
{
	int	n;

	n = snprintf(buf, size, "%s%s", q->keys[BMQ_K_BASE], id);
	if (n < 0 || (size_t)n >= size)
		return -1;
	return n;
}

/* Standard base64 with padding; -1 when out is too small. */
int
bmq_base64(const char *in, size_t n, char *out, size_t size)
{
	static const char	 tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char	*s = (const unsigned char *)in;
	size_t			 i, o = 0;
	unsigned int		 v;

	if (((n + 2) / 3) * 4 + 1 > size)
		return -1;
	for (i = 0; i + 2 < n; i += 3) {
		v = s[i] << 16 | s[i + 1] << 8 | s[i + 2];
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = tab[v >> 6 & 63];
		out[o++] = tab[v & 63];
	}
	if (i < n) {
		v = s[i] << 16 | (i + 1 < n ? s[i + 1] << 8 : 0);
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return (int)o;
}

/*
 * The connection name Node's getWorkers() looks for: P:<base64(queue)>, or
 * P:<base64(queue)>:w:<name> for a named worker.
 */
int
bullmq_worker_client_name(const bullmq_queue *q, const char *name, char *buf,
    size_t size)
{
	char	b64[BMQ_MAX_NAME * 2];
	int	n;

	if (bmq_base64(q->name, strlen(q->name), b64, sizeof(b64)) == -1)
		return -1;
	if (name != NULL && *name != '\0')
		n = snprintf(buf, size, "%s:%s:w:%s", q->prefix, b64, name);
	else
		n = snprintf(buf, size, "%s:%s", q->prefix, b64);
	if (n < 0 || (size_t)n >= size)
		return -1;
	return 0;
}

/*
 * Check a custom job id against Node's rules (BULLMQ-PROTOCOL.md 2.5) and
 * our length limit: not empty, at most BULLMQ_MAX_ID bytes, not an integer,
 * not "0" nor starting "0:", no ':' unless exactly three ':'-separated
 * parts.  Returns 0, or -1 with the reason in err.
 */
int
bmq_check_job_id(const char *id, char *err, size_t errsize)
{
	const char	*p;
	char		*end;
	int		 colons = 0;
	long long	 v;
	char		 back[32];

	if (*id == '\0') {
		snprintf(err, errsize, "job id is empty");
		return -1;
	}
	if (strlen(id) >= BMQ_MAX_ID) {
		snprintf(err, errsize, "job id %.32s...: longer than %d bytes",
		    id, BMQ_MAX_ID - 1);
		return -1;
	}
	if (strcmp(id, "0") == 0 || strncmp(id, "0:", 2) == 0) {
		snprintf(err, errsize, "job id %s: must not be 0 or start "
		    "with 0:", id);
		return -1;
	}
	/* Node rejects ids that parseInt() turns back into the same text. */
	v = strtoll(id, &end, 10);
	if (end != id) {
		snprintf(back, sizeof(back), "%lld", v);
		if (strcmp(back, id) == 0) {
			snprintf(err, errsize, "job id %s: custom ids must not "
			    "be integers", id);
			return -1;
		}
	}
	for (p = id; *p != '\0'; p++)
		if (*p == ':')
			colons++;
	if (colons != 0 && colons != 2) {
		snprintf(err, errsize, "job id %s: must not contain ':' "
		    "(except in the form a:b:c)", id);
		return -1;
	}
	return 0;
}
