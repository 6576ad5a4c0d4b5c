/*
 * cron.c: "bullmq cron", the next times of a cron pattern as a job
 * scheduler of bullmq 6.7 would take them (no Redis needed).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bullmq.h"
#include "cli.h"

/*
 * bullmq cron PATTERN [--tz TZ] [--seed S] [--after MS] [-n N]: print the
 * next N times (one a line: milliseconds, then UTC as ISO 8601).
 */
int
cmd_cron(struct cli *cli, int argc, char **argv)
{
	const char	*tz = NULL, *seed = NULL;
	long long	 after = -1, count = 5, i;
	struct cli_opt	 opts[] = {
		OPT_STR("tz", 0, &tz),
		OPT_STR("seed", 0, &seed),
		OPT_NUM("after", 0, &after, 0, INT64_C(1) << 50),
		OPT_NUM(NULL, 'n', &count, 1, 1000),
		OPT_END
	};
	char		 err[512], iso[32];
	int64_t		 t, next;
	time_t		 s;
	struct tm	 tm;
	int		 rv;

	if ((rv = cli_args(cli, opts, &argc, &argv)) != CLI_GO)
		return rv;
	t = after >= 0 ? (int64_t)after : bullmq_now();
	for (i = 0; i < count; i++) {
		if (bullmq_cron_next(argv[0], tz, seed, t, &next, err,
		    sizeof(err)) == -1) {
			if (i > 0)
				break;	/* no further time: what came is all */
			warnmsg("%s", err);
			return 1;
		}
		s = (time_t)(next / 1000);
		if (gmtime_r(&s, &tm) == NULL ||
		    strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
			iso[0] = '\0';
		if (cli->json)
			printf("%" PRId64 "\n", next);
		else
			printf("%" PRId64 "\t%s.%03dZ\n", next, iso,
			    (int)(next % 1000));
		t = next;
	}
	return 0;
}
