/*
 * fuzz_url.c: libFuzzer target for bmq_url_parse (conn.c), which reads the
 * redis= setting, --url and BULLMQ_REDIS.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bmq_url	 u;
	char		*url, err[256];

	/* a URL is a C string: the input up to its first NUL */
	if ((url = malloc(size + 1)) == NULL)
		return 0;
	memcpy(url, data, size);
	url[size] = '\0';
	err[0] = '\0';
	if (bmq_url_parse(url, &u, err, sizeof(err)) == 0) {
		/* every part a C string within its buffer */
		if (memchr(u.host, '\0', sizeof(u.host)) == NULL ||
		    memchr(u.path, '\0', sizeof(u.path)) == NULL ||
		    memchr(u.user, '\0', sizeof(u.user)) == NULL ||
		    memchr(u.pass, '\0', sizeof(u.pass)) == NULL)
			abort();
		if (u.is_unix ? u.path[0] != '/' :
		    u.host[0] == '\0' || u.port < 1 || u.port > 65535)
			abort();
		if (u.db < 0)
			abort();
		/* TLS only for rediss:// */
		if (u.tls != (strncmp(url, "rediss://", 9) == 0))
			abort();
	} else if (err[0] == '\0')
		abort();	/* refused without saying why */
	free(url);
	return 0;
}
