/*
 * wakecost: what waking a sleeping process costs on this machine, the cost
 * that a worker with one request in flight pays twice a job (Redis wakes
 * it with the reply, it wakes Redis with the next call).
 *
 * Prints one line of JSON:
 *   cross_us, cross_cpu_us  a round trip of 64 bytes between two processes
 *                           over a unix socket, one on each of two CPUs:
 *                           wall time, and CPU time of one side
 *   same_us, same_cpu_us    the same with both on one CPU
 *   sleep_cpu_us            CPU time of a 1 us nanosleep (sleep and wake)
 *   syscall_us              a system call that does not sleep (getppid)
 * Fields it cannot measure (one CPU only, affinity refused) are null.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define TRIPS	5000

static double
mono_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double
cpu_us(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	    ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static int
pin(int cpu)
{
	cpu_set_t	set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* Full read or write of n bytes: 0, or -1. */
static int
xfer(int fd, char *buf, size_t n, int out)
{
	ssize_t	r;
	size_t	done = 0;

	while (done < n) {
		r = out ? write(fd, buf + done, n - done) :
		    read(fd, buf + done, n - done);
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

/*
 * Round trips between this process on CPU a and a child on CPU b: 0 with
 * the wall and CPU microseconds a trip, or -1.
 */
static int
trips(int a, int b, double *wall, double *cpu)
{
	char	buf[64] = { 0 };
	double	t0, c0;
	pid_t	pid;
	int	sv[2], i, st, rv = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		close(sv[0]);
		if (pin(b) == -1)
			_exit(1);
		for (i = 0; i < TRIPS; i++)
			if (xfer(sv[1], buf, sizeof(buf), 0) == -1 ||
			    xfer(sv[1], buf, sizeof(buf), 1) == -1)
				_exit(1);
		_exit(0);
	}
	close(sv[1]);
	if (pin(a) == -1)
		rv = -1;
	t0 = mono_us();
	c0 = cpu_us();
	for (i = 0; rv == 0 && i < TRIPS; i++)
		if (xfer(sv[0], buf, sizeof(buf), 1) == -1 ||
		    xfer(sv[0], buf, sizeof(buf), 0) == -1)
			rv = -1;
	*wall = (mono_us() - t0) / TRIPS;
	*cpu = (cpu_us() - c0) / TRIPS;
	close(sv[0]);
	if (waitpid(pid, &st, 0) == -1 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		rv = -1;
	return rv;
}

static void
field(const char *name, double v, int ok, const char *sep)
{
	if (ok)
		printf("\"%s\":%.1f%s", name, v, sep);
	else
		printf("\"%s\":null%s", name, sep);
}

int
main(void)
{
	struct timespec	ts = { 0, 1000 };
	double		cw = 0, cc = 0, sw = 0, sc = 0, t0, c0, sl, sy;
	int		i, cross, same;

	cross = sysconf(_SC_NPROCESSORS_ONLN) >= 2 &&
	    trips(0, 1, &cw, &cc) == 0;
	same = trips(0, 0, &sw, &sc) == 0;
	c0 = cpu_us();
	for (i = 0; i < TRIPS / 5; i++)
		nanosleep(&ts, NULL);
	sl = (cpu_us() - c0) / (TRIPS / 5);
	t0 = mono_us();
	for (i = 0; i < TRIPS * 20; i++)
		syscall(SYS_getppid);
	sy = (mono_us() - t0) / (TRIPS * 20);
	printf("{");
	field("cross_us", cw, cross, ",");
	field("cross_cpu_us", cc, cross, ",");
	field("same_us", sw, same, ",");
	field("same_cpu_us", sc, same, ",");
	field("sleep_cpu_us", sl, 1, ",");
	field("syscall_us", sy, 1, "}\n");
	return 0;
}
