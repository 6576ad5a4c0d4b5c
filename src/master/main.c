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

/*
 * Take a control request out of the argc words of av: "status [--json]",
 * "health [live|ready]" or "scale N|+N|-N" first, the settings' options
 * after.  Writes the request line into line, removes its words from av
 * (freeing them) and returns the words left; 0 when av holds no request,
 * -1 when it is incomplete.
 */
static int
ctl_words(int argc, char **av, char *line, size_t size)
{
	int	i, o, skip = 1;

	if (argc < 2)
		return 0;
	if (strcmp(av[1], "status") == 0) {
		snprintf(line, size, "status");
		if (argc > 2 && (strcmp(av[2], "--json") == 0 ||
		    strcmp(av[2], "json") == 0)) {
			snprintf(line, size, "status json");
			skip = 2;
		}
	} else if (strcmp(av[1], "health") == 0) {
		snprintf(line, size, "health ready");
		if (argc > 2 && (strcmp(av[2], "live") == 0 ||
		    strcmp(av[2], "ready") == 0)) {
			snprintf(line, size, "health %s", av[2]);
			skip = 2;
		}
	} else if (strcmp(av[1], "scale") == 0) {
		if (argc < 3)
			return -1;
		snprintf(line, size, "scale %.16s", av[2]);
		skip = 2;
	} else
		return 0;
	for (i = 1; i <= skip; i++)
		free(av[i]);
	for (i = 1, o = 1 + skip; o < argc; i++, o++)
		av[i] = av[o];
	av[i] = NULL;
	return argc - skip;
}

/*
 * Send a control request to the master of the settings of cl: the same
 * -c, -q, -s and BULLMQ_* the master read.  Returns the exit status.
 */
static int
ctl_main(struct cmdline *cl, const char *line)
{
	struct settings		 s;
	const struct setting	*st;
	char			 err[SET_ERR_MAX], path[SET_PATH_MAX];
	size_t			 i;

	/* only the socket's path is needed, not a processor */
	st = config_find("processor");
	i = (size_t)(st - settings_table);
	free(cl->val[i]);
	if ((cl->val[i] = strdup("builtin:noop")) == NULL)
		return EXIT_SETTINGS;
	if (config_load(&s, cl, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", PROGNAME, err);
		return EXIT_SETTINGS;
	}
	if (ctl_path(&s, path, sizeof(path)) == -1) {
		fprintf(stderr, "%s: %s\n", PROGNAME, path);
		return EXIT_SETTINGS;
	}
	return ctl_request(path, line, stdout);
}

/* Start bullmq-master. */
int
main(int argc, char **argv)
{
	static struct cmdline	 cl;
	struct settings		 s;
	struct processor	*proc;
	struct pidfh		*pfh = NULL;
	enum log_target		 target;
	char			 err[SET_ERR_MAX], **av, line[64];
	struct stat		 st;
	pid_t			 other;
	int			 i, rv, n;

	/* Keep our own copy of argv: the title overwrites the original. */
	if ((av = calloc((size_t)argc + 1, sizeof(*av))) == NULL)
		return EXIT_SETTINGS;
	for (i = 0; i < argc; i++)
		if ((av[i] = strdup(argv[i])) == NULL)
			return EXIT_SETTINGS;
	setproctitle_init(argc, argv, environ);

	line[0] = '\0';
	if ((n = ctl_words(argc, av, line, sizeof(line))) == -1) {
		fprintf(stderr, "%s: scale needs a count: N, +N or -N\n",
		    PROGNAME);
		return EXIT_SETTINGS;
	}
	if (n > 0)
		argc = n;
	rv = config_args(&cl, argc, av, err, sizeof(err));
	for (i = 0; i < argc; i++)
		free(av[i]);
	free(av);
	if (rv == 0 && line[0] != '\0') {
		rv = ctl_main(&cl, line);
		config_cmdline_free(&cl);
		return rv;
	}
	if (rv == CONFIG_HELP) {
		config_usage(stdout);
		printf("       %s status [--json] | health [live|ready] | "
		    "scale N|+N|-N [options]\n"
		    "  ask the master of the same settings over its control "
		    "socket\n", PROGNAME);
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
	log_set_format(s.log_fmt);
	log_set_level(s.log_pri);
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
