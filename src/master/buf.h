/*
 * buf.h: a growable byte buffer, shared by the daemon and the command line
 * (the command line's build names src/master/buf.c).
 */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>

/* On allocation failure oom is set and stays: buf_cstr returns NULL. */
struct buf {
	char	*b;
	size_t	 len;
	size_t	 cap;
	int	 oom;
};

void	 buf_init(struct buf *);
void	 buf_free(struct buf *);
void	 buf_add(struct buf *, const char *, size_t);
void	 buf_adds(struct buf *, const char *);
void	 buf_addf(struct buf *, const char *, ...)
	    __attribute__((__format__(__printf__, 2, 3)));
void	 buf_add_jstr(struct buf *, const char *, size_t);
char	*buf_cstr(struct buf *);

#endif /* BUF_H */
