/* SPDX-License-Identifier: ISC */
/* Runs a command and prints the peak resident set size of it and its waited-for children, in
 * KiB (wait4's ru_maxrss): the "gitcage's own RSS" column of make bench. */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: maxrss COMMAND [ARG...]\n");
		return 2;
	}
	pid_t pid = fork();
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	int status;
	struct rusage usage;
	if (pid < 0 || wait4(pid, &status, 0, &usage) != pid)
		return 2;
	printf("%ld\n", usage.ru_maxrss);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
