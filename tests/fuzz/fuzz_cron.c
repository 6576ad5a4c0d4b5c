/*
 * fuzz_cron.c: libFuzzer target for bmq_cron_next (cron.c), which reads
 * the pattern of a job scheduler.  The first byte picks the time zone, the
 * next five the time to search from (up to about 2004 plus 35 years); the
 * rest is the pattern.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const zones[] = {
		NULL, "UTC", "Europe/London", "America/New_York",
		"Australia/Lord_Howe", "Asia/Kathmandu", "No/Such_Zone"
	};
	const char	*tz;
	char		*pattern, err[256];
	int64_t		 after, next;
	size_t		 i;

	if (size < 6)
		return 0;
	tz = zones[data[0] % (sizeof(zones) / sizeof(zones[0]))];
	after = 0;
	for (i = 1; i < 6; i++)
		after = after << 8 | data[i];
	after += INT64_C(1072915200000);	/* 2004-01-01 */
	data += 6;
	size -= 6;
	if ((pattern = malloc(size + 1)) == NULL)
		return 0;
	memcpy(pattern, data, size);
	pattern[size] = '\0';
	err[0] = '\0';
	if (bmq_cron_next(pattern, tz, after, &next, err, sizeof(err)) == 0) {
		if (next <= after)
			abort();	/* the next time is strictly after */
	} else if (err[0] == '\0')
		abort();
	free(pattern);
	return 0;
}
