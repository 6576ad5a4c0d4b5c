/*
 * addr.c: the ADDR:PORT values of metrics-listen and statsd, parsed once
 * where the settings are checked: a numeric IPv4 address or a bracketed
 * IPv6 one, and a port.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

/*
 * Parse v, "A.B.C.D:PORT" or "[V6]:PORT", into sa and its length; port 0
 * only when zero_ok.  Returns 0, or -1 with a message in err.
 */
int
addr_parse(const char *v, int zero_ok, struct sockaddr_storage *sa,
    socklen_t *salen, char *err, size_t errsize)
{
	struct addrinfo	 hints, *res;
	const char	*colon, *host = v, *end;
	char		 h[64];
	const char	*errstr;
	size_t		 hl;
	int		 rc;

	if (*v == '[') {
		host = v + 1;
		if ((end = strchr(host, ']')) == NULL || end[1] != ':') {
			snprintf(err, errsize, "\"%s\" is not [ADDR]:PORT", v);
			return -1;
		}
		colon = end + 1;
	} else {
		if ((colon = strrchr(v, ':')) == NULL ||
		    strchr(v, ':') != colon) {
			snprintf(err, errsize, "\"%s\" is not ADDR:PORT (IPv6: "
			    "[ADDR]:PORT)", v);
			return -1;
		}
		end = colon;
	}
	hl = (size_t)(end - host);
	if (hl == 0 || hl >= sizeof(h)) {
		snprintf(err, errsize, "\"%s\": no address", v);
		return -1;
	}
	memcpy(h, host, hl);
	h[hl] = '\0';
	(void)strtonum(colon + 1, zero_ok ? 0 : 1, 65535, &errstr);
	if (errstr != NULL) {
		snprintf(err, errsize, "\"%s\": port \"%s\" is %s (%d to "
		    "65535)", v, colon + 1, errstr, zero_ok ? 0 : 1);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((rc = getaddrinfo(h, colon + 1, &hints, &res)) != 0) {
		snprintf(err, errsize, "\"%s\": \"%s\" is not a numeric "
		    "address: %s", v, h, gai_strerror(rc));
		return -1;
	}
	memcpy(sa, res->ai_addr, res->ai_addrlen);
	*salen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/*
 * Check metrics-listen and statsd; -1 with the setting's name in *name and
 * a message in err.  A build without libmicrohttpd has no metrics-listen.
 */
int
obs_check(const struct settings *s, const char **name, char *err,
    size_t errsize)
{
	struct sockaddr_storage	sa;
	socklen_t		len;

	*name = "metrics-listen";
	if (s->metrics_listen[0] != '\0') {
#ifndef HAVE_MICROHTTPD
		snprintf(err, errsize, "this build has no metrics (built "
		    "without libmicrohttpd)");
		return -1;
#endif
		if (addr_parse(s->metrics_listen, 1, &sa, &len, err,
		    errsize) == -1)
			return -1;
	}
	*name = "statsd";
	if (s->statsd[0] != '\0' &&
	    addr_parse(s->statsd, 0, &sa, &len, err, errsize) == -1)
		return -1;
	return 0;
}
