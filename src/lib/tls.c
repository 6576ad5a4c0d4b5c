/*
 * tls.c: rediss:// connections: the TLS context (CA, client certificate
 * and key, read once) and the handshake of each connection, with the check
 * of the server's name that hiredis's TLS layer leaves out.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq-int.h"

#ifdef HAVE_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
/* libhiredict's shim header only renames: the declarations come first */
#ifdef HAVE_HIREDICT_HIREDICT_SSL_H
#include <hiredict/hiredict_ssl.h>
#endif
#include <hiredis/hiredis_ssl.h>

struct bullmq_tls {
	SSL_CTX	*ctx;
	char	 server_name[256];	/* "": the URL's host */
	int	 verify;
	int	 has_cert;		/* a client certificate is set */
};

/* 1 when the library can make TLS connections. */
int
bullmq_tls_available(void)
{
	return 1;
}

/* OpenSSL's reason for the last error it queued, or fallback. */
static const char *
ssl_reason(const char *fallback)
{
	unsigned long	 e;
	const char	*s;

	if ((e = ERR_peek_last_error()) == 0 ||
	    (s = ERR_reason_error_string(e)) == NULL)
		return fallback;
	return s;
}

/* An encrypted key would make OpenSSL ask a terminal: refuse it instead. */
static int
no_password(char *buf, int size, int rwflag, void *arg)
{
	return 0;
}

/* Check that path names a readable file (dir: a directory); 0 or -1. */
static int
check_path(const char *what, const char *path, int dir, char *err,
    size_t errsize)
{
	struct stat	st;

	if (stat(path, &st) == -1) {
		bmq_errf(err, errsize, "TLS %s %s: %s", what, path,
		    strerror(errno));
		return -1;
	}
	if (dir && !S_ISDIR(st.st_mode)) {
		bmq_errf(err, errsize, "TLS %s %s: not a directory", what,
		    path);
		return -1;
	}
	if (!dir && !S_ISREG(st.st_mode)) {
		bmq_errf(err, errsize, "TLS %s %s: not a regular file", what,
		    path);
		return -1;
	}
	return 0;
}

static int
set(const char *s)
{
	return s != NULL && *s != '\0';
}

/*
 * Make a TLS context: the CA certificates, the client certificate and its
 * key are read now.  NULL with a message in err (which names files, never
 * what they hold).
 */
bullmq_tls *
bullmq_tls_new(const struct bullmq_tls_opts *o, char *err, size_t errsize)
{
	bullmq_tls	*t;

	if (set(o->cert) != set(o->key)) {
		bmq_errf(err, errsize, "TLS: a client certificate needs its "
		    "key and a key its certificate (%s is missing)",
		    set(o->cert) ? "the key" : "the certificate");
		return NULL;
	}
	if (set(o->server_name) &&
	    strlen(o->server_name) >= sizeof(t->server_name)) {
		bmq_errf(err, errsize, "TLS server name: too long");
		return NULL;
	}
	if ((set(o->ca_file) && check_path("CA file", o->ca_file, 0, err,
	    errsize) == -1) || (set(o->ca_dir) && check_path("CA directory",
	    o->ca_dir, 1, err, errsize) == -1) || (set(o->cert) &&
	    check_path("certificate", o->cert, 0, err, errsize) == -1) ||
	    (set(o->key) && check_path("key", o->key, 0, err, errsize) == -1))
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		bmq_errf(err, errsize, "out of memory");
		return NULL;
	}
	t->verify = !o->no_verify;
	t->has_cert = set(o->cert);
	if (set(o->server_name))
		strlcpy(t->server_name, o->server_name, sizeof(t->server_name));
	ERR_clear_error();
	if ((t->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		bmq_errf(err, errsize, "TLS: %s", ssl_reason("no context"));
		goto fail;
	}
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(t->ctx, SSL_MODE_AUTO_RETRY);
	SSL_CTX_set_default_passwd_cb(t->ctx, no_password);
	SSL_CTX_set_verify(t->ctx, t->verify ? SSL_VERIFY_PEER :
	    SSL_VERIFY_NONE, NULL);
	if (set(o->ca_file) || set(o->ca_dir)) {
		if (SSL_CTX_load_verify_locations(t->ctx, set(o->ca_file) ?
		    o->ca_file : NULL, set(o->ca_dir) ? o->ca_dir : NULL) !=
		    1) {
			bmq_errf(err, errsize, "TLS CA %s %s: %s", set(o->ca_file)
			    ? "file" : "directory", set(o->ca_file) ?
			    o->ca_file : o->ca_dir, ssl_reason("unusable"));
			goto fail;
		}
	} else if (SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
		bmq_errf(err, errsize, "TLS: OpenSSL's default CA paths: %s",
		    ssl_reason("unusable"));
		goto fail;
	}
	if (set(o->cert)) {
		if (SSL_CTX_use_certificate_chain_file(t->ctx, o->cert) != 1) {
			bmq_errf(err, errsize, "TLS certificate %s: %s",
			    o->cert, ssl_reason("unusable"));
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(t->ctx, o->key,
		    SSL_FILETYPE_PEM) != 1) {
			bmq_errf(err, errsize, "TLS key %s: %s (an encrypted "
			    "key is not read)", o->key,
			    ssl_reason("unusable"));
			goto fail;
		}
		if (SSL_CTX_check_private_key(t->ctx) != 1) {
			bmq_errf(err, errsize, "TLS key %s: does not match "
			    "the certificate %s", o->key, o->cert);
			goto fail;
		}
	}
	ERR_clear_error();
	return t;
fail:
	ERR_clear_error();
	bullmq_tls_free(t);
	return NULL;
}

/* Free a context; NULL is accepted.  Connections made with it stay up. */
void
bullmq_tls_free(bullmq_tls *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

/* 1 when name is an IPv4 or IPv6 address. */
static int
is_address(const char *name)
{
	unsigned char	buf[16];

	return inet_pton(AF_INET, name, buf) == 1 ||
	    inet_pton(AF_INET6, name, buf) == 1;
}

/*
 * Say why a handshake failed, the certificate check first: its reasons
 * ("certificate has expired", "hostname mismatch") name what is wrong.
 */
static void
handshake_error(bullmq_queue *q, SSL *ssl, const char *name)
{
	const char	*reason;
	long		 v;

	v = SSL_get_verify_result(ssl);
	if (v == X509_V_ERR_HOSTNAME_MISMATCH ||
	    v == X509_V_ERR_IP_ADDRESS_MISMATCH) {
		bmq_seterr(q, BULLMQ_ERR_IO, "redis %s:%d: TLS: the server's "
		    "certificate is not for \"%s\" (%s; set the server name "
		    "it holds)", q->url.host, q->url.port, name,
		    X509_verify_cert_error_string(v));
		return;
	}
	if (v == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
	    v == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	    v == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
	    v == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT) {
		bmq_seterr(q, BULLMQ_ERR_IO, "redis %s:%d: TLS: the server's "
		    "certificate is not signed by a CA trusted here (%s): "
		    "give its CA as the CA file or directory", q->url.host,
		    q->url.port, X509_verify_cert_error_string(v));
		return;
	}
	if (v != X509_V_OK) {
		bmq_seterr(q, BULLMQ_ERR_IO, "redis %s:%d: TLS: the server's "
		    "certificate was refused: %s", q->url.host, q->url.port,
		    X509_verify_cert_error_string(v));
		return;
	}
	reason = ssl_reason(NULL);
	if (reason != NULL && (strstr(reason, "wrong version number") !=
	    NULL || strstr(reason, "packet length too long") != NULL ||
	    strstr(reason, "record layer failure") != NULL)) {
		bmq_seterr(q, BULLMQ_ERR_IO, "redis %s:%d: TLS: no TLS "
		    "answer (%s): is this a plain-TCP port? use redis:// for "
		    "one", q->url.host, q->url.port, reason);
		return;
	}
	if (reason != NULL)
		bmq_seterr(q, BULLMQ_ERR_IO, "redis %s:%d: TLS handshake: %s",
		    q->url.host, q->url.port, reason);
	else
		/* a Redis plain port waits for the end of a line, silent */
		bmq_seterr(q, BULLMQ_ERR_IO, "redis %s:%d: TLS: no handshake "
		    "answer within %d ms: is this a plain-TCP port? (use "
		    "redis:// for one)", q->url.host, q->url.port,
		    q->connect_timeout_ms);
}

/*
 * What to add to an I/O error on the first command after a handshake: a
 * server that wants a client certificate says so only then (TLS 1.3).
 */
const char *
bmq_tls_hint(const bullmq_queue *q)
{
	if (q->tls == NULL)
		return "";
	return q->tls->has_cert ? " (after the TLS handshake: did the server "
	    "refuse the client certificate?)" : " (after the TLS handshake: "
	    "does the server require a client certificate? none is set)";
}

/*
 * Start TLS on the handle's fresh TCP connection, checking the chain and
 * the server's name (the URL's host, or the context's server name), the
 * handshake bounded by the connect timeout.  0, or -1 with the error set
 * (the connection stays for the caller to drop).
 */
int
bmq_tls_start(bullmq_queue *q)
{
	struct bmq_pipeguard	 g;
	struct timeval		 tv;
	const char		*name;
	SSL			*ssl;
	int			 addr, rv;

	name = q->tls->server_name[0] != '\0' ? q->tls->server_name :
	    q->url.host;
	addr = is_address(name);
	ERR_clear_error();
	if ((ssl = SSL_new(q->tls->ctx)) == NULL) {
		bmq_seterr(q, BULLMQ_ERR_NOMEM, "TLS: %s",
		    ssl_reason("out of memory"));
		return -1;
	}
	/* SNI carries host names only */
	if (!addr && SSL_set_tlsext_host_name(ssl, name) != 1)
		goto oom;
	if (q->tls->verify) {
		if (addr) {
			if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
			    name) != 1)
				goto oom;
		} else {
			SSL_set_hostflags(ssl,
			    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			if (SSL_set1_host(ssl, name) != 1)
				goto oom;
		}
	}
	tv.tv_sec = q->connect_timeout_ms / 1000;
	tv.tv_usec = (q->connect_timeout_ms % 1000) * 1000;
	redisSetTimeout(q->rc, tv);
	/* on success the connection owns ssl; on failure the caller does */
	bmq_pipe_hold(q, &g);
	rv = redisInitiateSSL(q->rc, ssl);
	bmq_pipe_release(&g);
	if (rv != REDIS_OK) {
		handshake_error(q, ssl, name);
		SSL_free(ssl);
		ERR_clear_error();
		return -1;
	}
	tv.tv_sec = q->command_timeout_ms / 1000;
	tv.tv_usec = (q->command_timeout_ms % 1000) * 1000;
	redisSetTimeout(q->rc, tv);
	return 0;
oom:
	bmq_seterr(q, BULLMQ_ERR_NOMEM, "TLS: %s", ssl_reason("out of memory"));
	SSL_free(ssl);
	ERR_clear_error();
	return -1;
}

#else	/* !HAVE_TLS */

int
bullmq_tls_available(void)
{
	return 0;
}

bullmq_tls *
bullmq_tls_new(const struct bullmq_tls_opts *o, char *err, size_t errsize)
{
	bmq_errf(err, errsize, "%s", BMQ_NO_TLS);
	return NULL;
}

void
bullmq_tls_free(bullmq_tls *t)
{
}

int
bmq_tls_start(bullmq_queue *q)
{
	bmq_seterr(q, BULLMQ_ERR_ARG, "%s", BMQ_NO_TLS);
	return -1;
}

const char *
bmq_tls_hint(const bullmq_queue *q)
{
	return "";
}

#endif	/* HAVE_TLS */
