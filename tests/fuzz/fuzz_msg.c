/*
 * fuzz_msg.c: libFuzzer target for msg_parse (msg.c), which cuts what
 * the children write to the master's pipes into messages.  The input is
 * what one read returns; every message decoded must lie within it.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq.h"
#include "daemon.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char	 copy[MSG_MAX];
	const char	*buf = (const char *)data, *p;
	struct msg	 m;
	size_t		 off;
	ssize_t		 len;

	for (off = 0; (len = msg_parse(buf + off, size - off, &m)) > 0;
	    off += (size_t)len) {
		p = buf + off + sizeof(m);	/* the id and token follow */
		if ((size_t)len > size - off || (size_t)len > MSG_MAX ||
		    sizeof(m) + m.idlen + m.toklen != (size_t)len)
			abort();
		/* the master copies the id and the token */
		memcpy(copy, p, (size_t)len - sizeof(m));
	}
	if (len == -1 && sizeof(m) + m.idlen + m.toklen <= MSG_MAX)
		abort();
	return 0;
}
