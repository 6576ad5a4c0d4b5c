/*
 * fuzz_config.c: libFuzzer target for the config file of bullmq-master
 * (config.c): the input is the file, read by config_load as --config
 * names it, then checked and printed as --check does.
 */
#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bullmq-int.h"
#include "daemon.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	 fd = -1;
static char	 path[64];
static FILE	*devnull;

/* A file in memory for the inputs, and no BULLMQ_* variable set. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	env[64];
	size_t	i;

	for (i = 0; i < settings_count; i++) {
		config_env_name(&settings_table[i], env, sizeof(env));
		unsetenv(env);
	}
	if ((fd = memfd_create("fuzz_config", 0)) == -1 ||
	    (devnull = fopen("/dev/null", "w")) == NULL) {
		perror("fuzz_config");
		exit(1);
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct settings	 s;
	struct cmdline		 cl;
	const struct setting	*st;
	char			 err[SET_ERR_MAX];

	if (ftruncate(fd, 0) == -1 ||
	    pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	memset(&cl, 0, sizeof(cl));
	st = config_find("config");
	cl.val[st - settings_table] = path;
	err[0] = '\0';
	if (config_load(&s, &cl, err, sizeof(err)) == 0)
		config_print(devnull, &s);
	else if (err[0] == '\0')
		abort();	/* refused without saying why */
	return 0;
}
