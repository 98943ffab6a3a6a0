/* SPDX-License-Identifier: ISC */
/*
 * interleave: time commands round by round (A B C D A B C D ...), so that whatever the
 * machine drifts through (other load, frequency, caches) hits every command alike.
 *
 *   interleave [-r ROUNDS] [-w WARMUP] NAME=COMMAND...
 *       one run of each command per round; prints "NAME|median ms|p10 ms|p90 ms|median CPU ms"
 *       per command (CPU: user and system time of the command and what it reaped, from
 *       wait4: what a loaded machine changes least)
 *   interleave -j STREAMS -n RUNS [-r ROUNDS] NAME=COMMAND...
 *       per round and command, STREAMS concurrent streams of RUNS runs each; prints
 *       "NAME|median runs per second"
 *
 * A COMMAND is split at blanks (no quoting: the benchmark's commands need none) and executed
 * directly, without a shell, with stdin, stdout and stderr on /dev/null. Its exit status is ignored
 * (upload-pack on an empty stdin exits 128: the client "hung up").
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_COMMANDS 16
#define MAX_WORDS    64

struct command {
	const char *name;
	char *argv[MAX_WORDS];
	double *samples;
	double *cpu;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void parse_command(char *spec, struct command *command)
{
	char *equals = strchr(spec, '=');
	size_t words = 0;
	if (!equals) {
		fprintf(stderr, "interleave: expected NAME=COMMAND, got %s\n", spec);
		exit(2);
	}
	*equals = '\0';
	command->name = spec;
	for (char *word = strtok(equals + 1, " \t"); word; word = strtok(NULL, " \t")) {
		if (words == MAX_WORDS - 1) {
			fprintf(stderr, "interleave: %s: too many words\n", spec);
			exit(2);
		}
		command->argv[words++] = word;
	}
	command->argv[words] = NULL;
	if (!words) {
		fprintf(stderr, "interleave: %s: empty command\n", spec);
		exit(2);
	}
}

static pid_t start(const struct command *command)
{
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execvp(command->argv[0], command->argv);
		perror(command->argv[0]);
		_exit(127);
	}
	if (pid < 0) {
		perror("interleave: fork");
		exit(1);
	}
	return pid;
}

static double run_once(const struct command *command, double *cpu_ms)
{
	struct rusage usage;
	double began = now_ms();
	pid_t pid = start(command);
	wait4(pid, NULL, 0, &usage);
	double wall = now_ms() - began;
	if (cpu_ms)
		*cpu_ms = (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3 +
			  (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;
	return wall;
}

/* streams concurrent streams of runs runs each: runs per second over the whole. */
static double run_streams(const struct command *command, int streams, int runs)
{
	double began = now_ms();
	for (int s = 0; s < streams; s++) {
		pid_t stream = fork();
		if (stream == 0) {
			for (int i = 0; i < runs; i++)
				waitpid(start(command), NULL, 0);
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	return (double)(streams * runs) / ((now_ms() - began) / 1e3);
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double quantile(double *sorted, int count, double q)
{
	return sorted[(int)(q * (count - 1) + 0.5)];
}

int main(int argc, char **argv)
{
	struct command commands[MAX_COMMANDS];
	int rounds = 100, warmup = 10, streams = 0, runs = 0, opt, count = 0;
	while ((opt = getopt(argc, argv, "r:w:j:n:")) != -1) {
		if (opt == 'r')
			rounds = atoi(optarg);
		else if (opt == 'w')
			warmup = atoi(optarg);
		else if (opt == 'j')
			streams = atoi(optarg);
		else if (opt == 'n')
			runs = atoi(optarg);
		else
			return 2;
	}
	for (int i = optind; i < argc && count < MAX_COMMANDS; i++) {
		parse_command(argv[i], &commands[count]);
		commands[count].cpu = calloc((size_t)rounds, sizeof(double));
		commands[count++].samples = calloc((size_t)rounds, sizeof(double));
	}
	if (!count || rounds < 1 || (streams && runs < 1))
		return 2;
	for (int w = 0; w < (streams ? 1 : warmup); w++)
		for (int c = 0; c < count; c++)
			run_once(&commands[c], NULL);
	for (int r = 0; r < rounds; r++)
		for (int c = 0; c < count; c++)
			commands[c].samples[r] = streams
						     ? run_streams(&commands[c], streams, runs)
						     : run_once(&commands[c], &commands[c].cpu[r]);
	for (int c = 0; c < count; c++) {
		double *s = commands[c].samples, *cpu = commands[c].cpu;
		qsort(s, (size_t)rounds, sizeof(double), compare);
		qsort(cpu, (size_t)rounds, sizeof(double), compare);
		if (streams)
			printf("%s|%.1f\n", commands[c].name, quantile(s, rounds, 0.5));
		else
			printf("%s|%.3f|%.3f|%.3f|%.3f\n", commands[c].name,
			       quantile(s, rounds, 0.5), quantile(s, rounds, 0.1),
			       quantile(s, rounds, 0.9), quantile(cpu, rounds, 0.5));
	}
	return 0;
}
