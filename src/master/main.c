/*
 * main.c: main of bullmq-master, the prefork supervisor: read the settings, load
 * the processor, take the pidfile, detach if asked, run the master.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <libutil.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

extern char	**environ;

/* Start bullmq-master. */
int
main(int argc, char **argv)
{
	static struct cmdline	 cl;
	struct settings		 s;
	struct processor	*proc;
	struct pidfh		*pfh = NULL;
	enum log_target		 target;
	char			 err[SET_ERR_MAX], **av;
	struct stat		 st;
	pid_t			 other;
	int			 i, rv;

	/* Keep our own copy of argv: the title overwrites the original. */
	if ((av = calloc((size_t)argc + 1, sizeof(*av))) == NULL)
		return EXIT_SETTINGS;
	for (i = 0; i < argc; i++)
		if ((av[i] = strdup(argv[i])) == NULL)
			return EXIT_SETTINGS;
	setproctitle_init(argc, argv, environ);

	rv = config_args(&cl, argc, av, err, sizeof(err));
	for (i = 0; i < argc; i++)
		free(av[i]);
	free(av);
	if (rv == CONFIG_HELP) {
		config_usage(stdout);
		return 0;
	}
	if (rv == CONFIG_VERSION) {
		printf("%s %s\n", PROGNAME, BULLMQ_VERSION);
		return 0;
	}
	if (rv == -1) {
		fprintf(stderr, "%s: %s (see --help)\n", PROGNAME, err);
		config_cmdline_free(&cl);
		return EXIT_SETTINGS;
	}
	if (config_load(&s, &cl, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", PROGNAME, err);
		config_cmdline_free(&cl);
		return EXIT_SETTINGS;
	}
	if (config_tls(&s, &daemon_tls, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", PROGNAME, err);
		config_cmdline_free(&cl);
		return EXIT_SETTINGS;
	}
	if ((proc = processor_load(s.processor, err, sizeof(err))) == NULL) {
		/* err names the processor */
		fprintf(stderr, "%s: %s\n", PROGNAME, err);
		config_cmdline_free(&cl);
		return EXIT_SETTINGS;
	}
	if (s.check) {
		config_print(stdout, &s);
		processor_free(proc);
		config_cmdline_free(&cl);
		return 0;
	}

	target = s.log_file[0] != '\0' ? LOG_TO_FILE :
	    s.daemon ? LOG_TO_SYSLOG : LOG_TO_STDERR;
	if (log_init(target, s.log_file, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", PROGNAME, err);
		goto fail;
	}
	if (s.pidfile[0] != '\0') {
		pfh = pidfile_open(s.pidfile, 0644, &other);
		if (pfh == NULL) {
			if (errno == EEXIST)
				fprintf(stderr, "%s: pidfile %s is held by pid "
				    "%ld: another master runs\n", PROGNAME,
				    s.pidfile, (long)other);
			else
				fprintf(stderr, "%s: pidfile %s: %s\n",
				    PROGNAME, s.pidfile, errno == ENXIO ?
				    "not a regular file (a fifo)" :
				    strerror(errno));
			goto fail;
		}
		/* not a fifo nor a device, which pidfile_remove would unlink */
		if (fstat(pidfile_fileno(pfh), &st) == -1 ||
		    !S_ISREG(st.st_mode)) {
			fprintf(stderr, "%s: pidfile %s: not a regular file\n",
			    PROGNAME, s.pidfile);
			pidfile_close(pfh);
			pfh = NULL;
			goto fail;
		}
	}
	if (s.daemon && daemon(1, 0) == -1) {
		fprintf(stderr, "%s: daemon: %s\n", PROGNAME,
		    strerror(errno));
		goto fail;
	}
	if (pfh != NULL && pidfile_write(pfh) == -1)
		log_warn("pidfile %s", s.pidfile);

	rv = master_run(&s, &cl, proc);
	if (pfh != NULL)
		pidfile_remove(pfh);
	log_close();
	config_cmdline_free(&cl);
	return rv;
fail:
	if (pfh != NULL)
		pidfile_remove(pfh);
	processor_free(proc);
	config_cmdline_free(&cl);
	return EXIT_SETTINGS;
}
