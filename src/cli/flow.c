/*
 * flow.c: "bullmq flow add < tree.json", a tree of jobs across queues as
 * Node's FlowProducer.add takes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq.h"
#include "cli.h"

/*
 * bullmq flow add: read the tree from standard input, add it and print
 * the root job's id, or with --json the tree of the ids.
 */
int
cmd_flow(struct cli *cli, int argc, char **argv)
{
	struct bullmq_json_value	 v;
	char				*json, *ids = NULL, qname[1024];
	size_t				 len;
	int				 r;

	if ((r = cli_args(cli, NULL, &argc, &argv)) != CLI_GO)
		return r;
	if (strcmp(argv[0], "add") != 0)
		return usage_error(cli->cmd, "unknown subcommand: %s",
		    argv[0]);
	if ((json = read_stdin(&len)) == NULL) {
		warnsys("standard input");
		return 1;
	}
	/* the connection goes through the root's queue */
	if (bullmq_json_get(json, len, "queueName", &v) != 1 ||
	    v.type != BULLMQ_JSON_STRING ||
	    bullmq_json_string(&v, qname, sizeof(qname)) <= 0) {
		warnmsg("the flow must be a JSON object with a queueName");
		free(json);
		return 1;
	}
	if (open_queue(cli, qname) == -1) {
		free(json);
		return 1;
	}
	r = bullmq_flow_add(cli->q, json, len, &ids);
	free(json);
	if (r == -1)
		return queue_fail(cli, "flow add");
	if (cli->json)
		puts(ids);
	else {
		if (bullmq_json_get(ids, strlen(ids), "id", &v) == 1)
			printf("%.*s\n", (int)v.len, v.p);
	}
	free(ids);
	return 0;
}
