/*
 * flow.c: adding a flow, a tree of jobs across queues, as Node's
 * FlowProducer.add does: the tree is read once into a list of nodes,
 * parents first, and add-flow-0.lua writes them all at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"

#define FLOW_MAX_NODES	10000
#define FLOW_MAX_DEPTH	64

/* One job of the flow. */
struct fnode {
	int		 parent;	/* index of its parent, -1 none */
	int		 has_children;
	char		 id[BMQ_MAX_ID];
	char		*name;		/* owned, unescaped */
	char		*qname;		/* owned, unescaped */
	const char	*data;		/* into the caller's text */
	size_t		 datalen;
	struct bmq_buf	 qprefix;	/* "P:Q:" */
	struct bmq_buf	 opts;		/* the stored options */
	struct bmq_buf	 pkey;		/* the parent's job key, or empty */
	struct bmq_buf	 pdata;		/* the "parent" field, or empty */
};

struct flow {
	bullmq_queue	*q;
	struct fnode	*n;
	int		 count;
	int		 cap;
};

/* The options that tie a child to its parent, by Node's and stored name. */
static const char *const parent_flags[][2] = {
	{ "failParentOnFailure", "fpof" },
	{ "removeDependencyOnFailure", "rdof" },
	{ "ignoreDependencyOnFailure", "idof" },
	{ "continueParentOnFailure", "cpof" },
};
#define NFLAGS	(sizeof(parent_flags) / sizeof(parent_flags[0]))

static int
keyis(const struct bmq_jmember *m, const char *w)
{
	return m->klen == strlen(w) && memcmp(m->k, w, m->klen) == 0;
}

/* A string value unescaped into a new string; NULL if not one. */
static char *
str_dup(const struct bmq_jval *v)
{
	char	*s;

	if (v->type != BMQ_J_STRING || (s = malloc(v->len + 1)) == NULL)
		return NULL;
	if (bmq_jval_string(v, s, v->len + 1) == -1) {
		free(s);
		return NULL;
	}
	return s;
}

/* A random version 4 UUID, as Node's randomUUID() makes the ids. */
static void
uuid4(char *buf, size_t size)
{
	unsigned char	r[16];

	arc4random_buf(r, sizeof(r));
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	snprintf(buf, size, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5],
	    r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

/* A new node at the end of the list; NULL with the error set. */
static struct fnode *
new_node(struct flow *f)
{
	struct fnode	*n;
	int		 cap;

	if (f->count == FLOW_MAX_NODES) {
		bmq_seterr(f->q, BULLMQ_ERR_ARG, "flow: more than %d jobs",
		    FLOW_MAX_NODES);
		return NULL;
	}
	if (f->count == f->cap) {
		cap = f->cap == 0 ? 16 : f->cap * 2;
		if ((n = reallocarray(f->n, cap, sizeof(*n))) == NULL) {
			bmq_seterr(f->q, BULLMQ_ERR_NOMEM, "out of memory");
			return NULL;
		}
		f->n = n;
		f->cap = cap;
	}
	n = &f->n[f->count++];
	memset(n, 0, sizeof(*n));
	bmq_buf_init(&n->qprefix);
	bmq_buf_init(&n->opts);
	bmq_buf_init(&n->pkey);
	bmq_buf_init(&n->pdata);
	return n;
}

static void
flow_free(struct flow *f)
{
	int	i;

	for (i = 0; i < f->count; i++) {
		free(f->n[i].name);
		free(f->n[i].qname);
		bmq_buf_free(&f->n[i].qprefix);
		bmq_buf_free(&f->n[i].opts);
		bmq_buf_free(&f->n[i].pkey);
		bmq_buf_free(&f->n[i].pdata);
	}
	free(f->n);
}

/*
 * Read a node's options: the parent flags and an outside parent (the root
 * only) here, the rest through bullmq_add_opts_parse, then write their
 * stored form with the parent's.  0, or -1 with the error set.
 */
static int
node_opts(struct flow *f, struct fnode *n, const struct bmq_jval *ov,
    int root)
{
	struct bullmq_add_opts	 o;
	struct bmq_buf		 rest;
	struct bmq_jmember	 m;
	struct bmq_jval		 pv[2];
	static const char *const pnames[] = { "id", "queue" };
	const char		*p, *jid, *did, *sep = "";
	char			 err[256], *pid = NULL, *pq = NULL;
	size_t			 jidlen, didlen, i;
	int			 flags[NFLAGS], nflags = 0, rv = -1;

	memset(flags, 0, sizeof(flags));
	bmq_buf_init(&rest);
	bmq_buf_adds(&rest, "{");
	if (ov != NULL) {
		p = ov->p;
		while (bmq_json_next(&p, ov->p + ov->len, &m)) {
			for (i = 0; i < NFLAGS; i++)
				if (keyis(&m, parent_flags[i][0]))
					break;
			if (i < NFLAGS) {
				if (m.v.type == BMQ_J_TRUE && !flags[i]) {
					flags[i] = 1;
					nflags++;
				} else if (m.v.type != BMQ_J_FALSE &&
				    m.v.type != BMQ_J_NULL) {
					bmq_seterr(f->q, BULLMQ_ERR_ARG, "flow "
					    "job %s: option %s: must be true or "
					    "false", n->name, parent_flags[i][0]);
					goto out;
				}
				continue;
			}
			if (keyis(&m, "parent")) {
				if (!root || m.v.type == BMQ_J_NULL)
					continue;	/* the tree's parent */
				if (m.v.type != BMQ_J_OBJECT ||
				    bmq_json_members(m.v.p, m.v.len, pnames, 2,
				    pv) == -1 || (pid = str_dup(&pv[0])) ==
				    NULL || (pq = str_dup(&pv[1])) == NULL) {
					bmq_seterr(f->q, BULLMQ_ERR_ARG, "flow "
					    "job %s: option parent: must be "
					    "{\"id\":ID,\"queue\":\"PREFIX:QUEUE\"}",
					    n->name);
					goto out;
				}
				continue;
			}
			if (keyis(&m, "deduplication") &&
			    m.v.type != BMQ_J_NULL) {
				bmq_seterr(f->q, BULLMQ_ERR_ARG, "flow job %s: "
				    "deduplication in a flow is not supported "
				    "by bullmq-c", n->name);
				goto out;
			}
			/* the member as it stands, string quotes back */
			bmq_buf_adds(&rest, sep);
			sep = ",";
			bmq_buf_add_jstr(&rest, m.k, m.klen);
			bmq_buf_adds(&rest, ":");
			if (m.v.type == BMQ_J_STRING)
				bmq_buf_add(&rest, m.v.p - 1, m.v.len + 2);
			else
				bmq_buf_add(&rest, m.v.p, m.v.len);
		}
	}
	bmq_buf_adds(&rest, "}");
	if (bmq_buf_cstr(&rest) == NULL) {
		bmq_seterr(f->q, BULLMQ_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (nflags > 1) {
		bmq_seterr(f->q, BULLMQ_ERR_ARG, "flow job %s: only one of "
		    "failParentOnFailure, removeDependencyOnFailure, "
		    "ignoreDependencyOnFailure and continueParentOnFailure",
		    n->name);
		goto out;
	}
	if (bullmq_add_opts_parse(rest.b, rest.len, &o, err,
	    sizeof(err)) == -1 || bmq_add_opts_check(&o, &jid, &jidlen, &did,
	    &didlen, err, sizeof(err)) == -1) {
		bmq_seterr(f->q, BULLMQ_ERR_ARG, "flow job %s: %s", n->name,
		    err);
		goto out;
	}
	if (jidlen > 0) {
		memcpy(n->id, jid, jidlen);
		n->id[jidlen] = '\0';
	} else
		uuid4(n->id, sizeof(n->id));

	/* the parent: the tree's, or one outside given to the root */
	if (n->parent >= 0) {
		const struct fnode	*pn = &f->n[n->parent];

		bmq_buf_add(&n->pkey, pn->qprefix.b, pn->qprefix.len);
		bmq_buf_adds(&n->pkey, pn->id);
		pid = strdup(pn->id);
		if ((pq = strdup(pn->qprefix.b)) != NULL)
			pq[pn->qprefix.len - 1] = '\0';	/* no last ':' */
		if (pid == NULL || pq == NULL) {
			bmq_seterr(f->q, BULLMQ_ERR_NOMEM, "out of memory");
			goto out;
		}
	} else if (pid != NULL)
		bmq_buf_addf(&n->pkey, "%s:%s", pq, pid);

	bmq_add_opts_write(&n->opts, &o, jid, jidlen, did, didlen);
	if (n->opts.len > 0)
		n->opts.len--;		/* its closing brace */
	for (i = 0; i < NFLAGS; i++)
		if (flags[i])
			bmq_buf_addf(&n->opts, ",\"%s\":true",
			    parent_flags[i][1]);
	if (pid != NULL) {
		bmq_buf_adds(&n->opts, ",\"parent\":{\"id\":");
		bmq_buf_add_jstr(&n->opts, pid, strlen(pid));
		bmq_buf_adds(&n->opts, ",\"queue\":");
		bmq_buf_add_jstr(&n->opts, pq, strlen(pq));
		bmq_buf_adds(&n->opts, "}");
		bmq_buf_adds(&n->pdata, "{\"id\":");
		bmq_buf_add_jstr(&n->pdata, pid, strlen(pid));
		bmq_buf_adds(&n->pdata, ",\"queueKey\":");
		bmq_buf_add_jstr(&n->pdata, pq, strlen(pq));
		for (i = 0; i < NFLAGS; i++)
			if (flags[i])
				bmq_buf_addf(&n->pdata, ",\"%s\":true",
				    parent_flags[i][1]);
		bmq_buf_adds(&n->pdata, "}");
	}
	bmq_buf_adds(&n->opts, "}");
	if (bmq_buf_cstr(&n->opts) == NULL || bmq_buf_cstr(&n->pkey) == NULL ||
	    bmq_buf_cstr(&n->pdata) == NULL) {
		bmq_seterr(f->q, BULLMQ_ERR_NOMEM, "out of memory");
		goto out;
	}
	rv = 0;
out:
	free(pid);
	free(pq);
	bmq_buf_free(&rest);
	return rv;
}

/* Read the node v (a child of parent, -1 for the root) and its children. */
static int
read_node(struct flow *f, const struct bmq_jval *v, int parent, int depth)
{
	static const char *const names[] = { "name", "queueName", "data",
	    "opts", "children", "prefix" };
	struct bmq_jval		 m[6], c;
	struct fnode		*n;
	const char		*p;
	char			*prefix = NULL;
	int			 self;

	if (depth > FLOW_MAX_DEPTH) {
		bmq_seterr(f->q, BULLMQ_ERR_ARG, "flow: deeper than %d",
		    FLOW_MAX_DEPTH);
		return -1;
	}
	if (v->type != BMQ_J_OBJECT ||
	    bmq_json_members(v->p, v->len, names, 6, m) == -1) {
		bmq_seterr(f->q, BULLMQ_ERR_ARG, "flow: a job must be an "
		    "object");
		return -1;
	}
	if ((n = new_node(f)) == NULL)
		return -1;
	self = f->count - 1;
	n->parent = parent;
	if ((n->name = str_dup(&m[0])) == NULL ||
	    (n->qname = str_dup(&m[1])) == NULL || *n->qname == '\0' ||
	    strchr(n->qname, ':') != NULL) {
		bmq_seterr(f->q, BULLMQ_ERR_ARG, "flow: a job needs a name and "
		    "a queueName (strings, the queue name without ':')");
		return -1;
	}
	if (m[5].type != BMQ_J_NONE && m[5].type != BMQ_J_NULL &&
	    ((prefix = str_dup(&m[5])) == NULL || *prefix == '\0')) {
		free(prefix);
		bmq_seterr(f->q, BULLMQ_ERR_ARG, "flow job %s: prefix must be "
		    "a string", n->name);
		return -1;
	}
	bmq_buf_addf(&n->qprefix, "%s:%s:", prefix != NULL ? prefix :
	    f->q->prefix, n->qname);
	free(prefix);
	if (bmq_buf_cstr(&n->qprefix) == NULL) {
		bmq_seterr(f->q, BULLMQ_ERR_NOMEM, "out of memory");
		return -1;
	}
	if (m[2].type == BMQ_J_NONE || m[2].type == BMQ_J_NULL) {
		n->data = "{}";
		n->datalen = 2;
	} else if (m[2].type == BMQ_J_STRING) {
		n->data = m[2].p - 1;
		n->datalen = m[2].len + 2;
	} else {
		n->data = m[2].p;
		n->datalen = m[2].len;
	}
	if (m[3].type != BMQ_J_NONE && m[3].type != BMQ_J_NULL &&
	    m[3].type != BMQ_J_OBJECT) {
		bmq_seterr(f->q, BULLMQ_ERR_ARG, "flow job %s: opts must be an "
		    "object", n->name);
		return -1;
	}
	if (node_opts(f, n, m[3].type == BMQ_J_OBJECT ? &m[3] : NULL,
	    parent == -1) == -1)
		return -1;
	if (m[4].type == BMQ_J_NONE || m[4].type == BMQ_J_NULL)
		return 0;
	if (m[4].type != BMQ_J_ARRAY) {
		bmq_seterr(f->q, BULLMQ_ERR_ARG, "flow job %s: children must "
		    "be an array", n->name);
		return -1;
	}
	p = m[4].p;
	while (bmq_json_elem_next(&p, m[4].p + m[4].len, &c)) {
		f->n[self].has_children = 1;
		if (read_node(f, &c, self, depth + 1) == -1)
			return -1;
	}
	return 0;
}

/* Append node i and its children to b as the tree of ids. */
static void
emit(const struct flow *f, int i, struct bmq_buf *b)
{
	const struct fnode	*n = &f->n[i];
	const char		*sep = "";
	int			 j;

	bmq_buf_adds(b, "{\"id\":");
	bmq_buf_add_jstr(b, n->id, strlen(n->id));
	bmq_buf_adds(b, ",\"name\":");
	bmq_buf_add_jstr(b, n->name, strlen(n->name));
	bmq_buf_adds(b, ",\"queueName\":");
	bmq_buf_add_jstr(b, n->qname, strlen(n->qname));
	if (n->has_children) {
		bmq_buf_adds(b, ",\"children\":[");
		for (j = i + 1; j < f->count; j++)
			if (f->n[j].parent == i) {
				bmq_buf_adds(b, sep);
				sep = ",";
				emit(f, j, b);
			}
		bmq_buf_adds(b, "]");
	}
	bmq_buf_adds(b, "}");
}

/* Add a flow; see bullmq.h. */
int
bullmq_flow_add(bullmq_queue *q, const char *json, size_t len, char **ids)
{
	struct flow		 f;
	struct bmq_jval		 root;
	struct bmq_args		 a;
	struct bmq_buf		 out;
	redisReply		*r;
	char			 now[32];
	long long		 v;
	int			 i, rv = -1;

	if (ids != NULL)
		*ids = NULL;
	memset(&f, 0, sizeof(f));
	f.q = q;
	bmq_args_init(&a);
	if (json == NULL || !bmq_json_valid(json, len)) {
		bmq_seterr(q, BULLMQ_ERR_ARG, "flow: not valid JSON");
		return -1;
	}
	root.type = bmq_json_type(json, len);
	root.p = json;
	root.len = len;
	if (read_node(&f, &root, -1, 0) == -1)
		goto out;
	if (bmq_args_room(&a, 1 + 8 * (size_t)f.count) == -1) {
		bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
		goto out;
	}
	snprintf(now, sizeof(now), "%lld", (long long)bullmq_now());
	bmq_args_adds(&a, now);
	for (i = 0; i < f.count; i++) {
		bmq_args_add(&a, f.n[i].qprefix.b, f.n[i].qprefix.len);
		bmq_args_adds(&a, f.n[i].id);
		bmq_args_adds(&a, f.n[i].name);
		bmq_args_add(&a, f.n[i].data, f.n[i].datalen);
		bmq_args_add(&a, f.n[i].opts.b, f.n[i].opts.len);
		bmq_args_add(&a, f.n[i].pkey.b, f.n[i].pkey.len);
		bmq_args_add(&a, f.n[i].pdata.b, f.n[i].pdata.len);
		bmq_args_adds(&a, f.n[i].has_children ? "p" : "l");
	}
	r = bmq_script(q, BMQ_LUA_ADD_FLOW, &a);
	if (r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer < 0) {
		q->script_code = (int)r->integer;
		bmq_seterr(q, BULLMQ_ERR_JOB, "flow: %s", r->integer == -5 ?
		    "the parent job does not exist" : r->integer == -7 ?
		    "a job id of the flow is taken" : "script refused");
		freeReplyObject(r);
		goto out;
	}
	if (bmq_script_int(q, r, &v) == -1)
		goto out;
	if (ids != NULL) {
		bmq_buf_init(&out);
		emit(&f, 0, &out);
		if ((*ids = bmq_buf_cstr(&out)) == NULL) {
			bmq_buf_free(&out);
			bmq_seterr(q, BULLMQ_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	rv = 0;
out:
	bmq_args_free(&a);
	flow_free(&f);
	return rv;
}
