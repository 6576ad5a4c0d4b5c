/*
 * jobops.c: what a processor may read or change of the job it runs,
 * besides progress and logs: its data (job.updateData) and, for a parent
 * in a flow, its children's return values (getChildrenValues), the
 * failures of children that ignore them (getIgnoredChildrenFailures) and
 * the counts of its dependencies (getDependenciesCount).
 */
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"
#include "worker-int.h"

/* The key of job j's sub-key sfx ("Q:<id>:processed") into key. */
static int
sub_key(const bullmq_job *j, const char *sfx, char *key, size_t size)
{
	int	kl;

	if ((kl = bmq_job_key(j->q, j->id, key, size)) == -1 ||
	    (size_t)kl + strlen(sfx) + 1 >= size) {
		bmq_seterr(j->q, BULLMQ_ERR_ARG, "job %.32s...: id too long",
		    j->id);
		return -1;
	}
	strlcpy(key + kl, sfx, size - (size_t)kl);
	return kl + (int)strlen(sfx);
}

/* Replace job j's data with json (valid JSON text).  0, or -1. */
int
bullmq_job_update_data(bullmq_job *j, const char *json, size_t len)
{
	bullmq_queue	*q = j->q;
	struct bmq_args	 a;
	char		 key[BMQ_MAX_BASE + BMQ_MAX_ID + 16];
	long long	 v;
	int		 kl;

	if (json == NULL || !bmq_json_valid(json, len)) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "job %s: data is not valid JSON",
		    j->id);
		return -1;
	}
	if ((kl = sub_key(j, "", key, sizeof(key))) == -1)
		return -1;
	bmq_args_init(&a);
	bmq_args_add(&a, key, (size_t)kl);
	bmq_args_add(&a, json, len);
	return bmq_script_int(q, bmq_script(q, BMQ_LUA_UPDATE_DATA, &a), &v);
}

/*
 * A hash of job j (sfx ":processed" or ":failed") as a JSON object, into
 * *out (malloc'd, NUL terminated): values as JSON (raw, when they are
 * JSON text and raw is set) or as strings.  0, or -1.
 */
static int
hash_json(bullmq_job *j, const char *sfx, int raw, char **out)
{
	bullmq_queue	*q = j->q;
	struct bmq_buf	 b;
	redisReply	*r;
	char		 key[BMQ_MAX_BASE + BMQ_MAX_ID + 16];
	const char	*av[2];
	size_t		 al[2], i;
	int		 kl;

	*out = NULL;
	if ((kl = sub_key(j, sfx, key, sizeof(key))) == -1)
		return -1;
	av[0] = "HGETALL";
	al[0] = 7;
	av[1] = key;
	al[1] = (size_t)kl;
	if ((r = bmq_commandv(q, 2, av, al)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0) {
		bmq_seterr(q, BULLMQ_ERR_PROTOCOL, "job %s: %s is not a hash",
		    j->id, sfx + 1);
		freeReplyObject(r);
		return -1;
	}
	bmq_buf_init(&b);
	bmq_buf_adds(&b, "{");
	for (i = 0; i + 1 < r->elements; i += 2) {
		if (i > 0)
			bmq_buf_adds(&b, ",");
		bmq_buf_add_jstr(&b, r->element[i]->str, r->element[i]->len);
		bmq_buf_adds(&b, ":");
		if (raw && bmq_json_valid(r->element[i + 1]->str,
		    r->element[i + 1]->len))
			bmq_buf_add(&b, r->element[i + 1]->str,
			    r->element[i + 1]->len);
		else
			bmq_buf_add_jstr(&b, r->element[i + 1]->str,
			    r->element[i + 1]->len);
	}
	bmq_buf_adds(&b, "}");
	freeReplyObject(r);
	if (bmq_buf_cstr(&b) == NULL) {
		bmq_buf_free(&b);
		bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
		return -1;
	}
	*out = b.b;
	return 0;
}

/*
 * The return values of job j's processed children, a JSON object by child
 * key (Node's getChildrenValues), in *json (to free).  0, or -1.
 */
int
bullmq_job_children_values(bullmq_job *j, char **json)
{
	return hash_json(j, ":processed", 1, json);
}

/*
 * The failed reasons of job j's children that ignore their failure, a JSON
 * object by child key (getIgnoredChildrenFailures), in *json.  0, or -1.
 */
int
bullmq_job_ignored_failures(bullmq_job *j, char **json)
{
	return hash_json(j, ":failed", 0, json);
}

/* The counts of job j's dependencies (getDependenciesCount).  0, or -1. */
int
bullmq_job_dependencies_count(bullmq_job *j, struct bullmq_deps_count *c)
{
	static const struct {
		const char	*cmd, *sfx;
	} what[4] = {
		{ "HLEN", ":processed" }, { "SCARD", ":dependencies" },
		{ "HLEN", ":failed" }, { "ZCARD", ":unsuccessful" }
	};
	long long	 n[4];
	redisReply	*r;
	char		 key[BMQ_MAX_BASE + BMQ_MAX_ID + 16];
	const char	*av[2];
	size_t		 al[2];
	int		 i, kl;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < 4; i++) {
		if ((kl = sub_key(j, what[i].sfx, key, sizeof(key))) == -1)
			return -1;
		av[0] = what[i].cmd;
		al[0] = strlen(what[i].cmd);
		av[1] = key;
		al[1] = (size_t)kl;
		if ((r = bmq_commandv(j->q, 2, av, al)) == NULL)
			return -1;
		if (r->type != REDIS_REPLY_INTEGER) {
			bmq_seterr(j->q, BULLMQ_ERR_PROTOCOL, "job %s: %s is "
			    "of the wrong type", j->id, what[i].sfx + 1);
			freeReplyObject(r);
			return -1;
		}
		n[i] = r->integer;
		freeReplyObject(r);
	}
	c->processed = n[0];
	c->unprocessed = n[1];
	c->ignored = n[2];
	c->failed = n[3];
	return 0;
}
