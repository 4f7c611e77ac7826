/* setns_joiner.c: join the namespaces of a running process, as the seed's
 * joiner does: open /proc/PID/ns/{uts,user,pid,ipc,net,mnt}, join each in
 * that order and print who we are after each step, then fork a child. The
 * child is in the target's PID namespace (setns(CLONE_NEWPID) moves only
 * the children of the caller) and prints who it is; the parent waits for it.
 *
 * Usage: setns_joiner [-hold] PID
 *   -hold  the child stays (pause()) until a signal ends it, so that
 *          /proc/PID/ns of both can be looked at; the seed loops forever.
 *
 * Unlike the seed, all six files are opened before the first setns(): once
 * in the target's mount namespace, "/proc/PID" means the target's /proc. A
 * namespace we are in already is skipped (joining our own user namespace
 * would fail with EINVAL).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define errExit(msg)                                                                               \
	do {                                                                                       \
		perror(msg);                                                                       \
		exit(EXIT_FAILURE);                                                                \
	} while (0)

static const struct {
	const char *name;
	int flag;
} order[] = {
	{"uts", CLONE_NEWUTS}, {"user", CLONE_NEWUSER}, {"pid", CLONE_NEWPID},
	{"ipc", CLONE_NEWIPC}, {"net", CLONE_NEWNET},   {"mnt", CLONE_NEWNS},
};
#define NS_COUNT (sizeof(order) / sizeof(order[0]))

/* printInfo: the seed's, plus the parent's PID. dprintf writes at once: a
 * stdio buffer would be copied by fork() and printed twice. */
static void printInfo(void)
{
	struct utsname uts;

	if (uname(&uts) == -1)
		errExit("uname");
	dprintf(STDOUT_FILENO, "pid : %d\nppid : %d\nuid : %d\ngid : %d\nhostname : %s\n",
		getpid(), getppid(), getuid(), getgid(), uts.nodename);
}

/* openNs opens /proc/PID/ns/NAME; -1 if we are in that namespace already. */
static int openNs(const char *pid, const char *name)
{
	char path[64], own[64];
	struct stat theirs, ours;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/ns/%s", pid, name);
	snprintf(own, sizeof(own), "/proc/self/ns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		errExit(path);
	if (fstat(fd, &theirs) == -1 || stat(own, &ours) == -1)
		errExit("stat");
	if (theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char *argv[])
{
	int fds[NS_COUNT], hold = 0, sync_pipe[2], status;
	const char *pid;
	size_t i;
	pid_t child;
	char c;

	if (argc > 1 && strcmp(argv[1], "-hold") == 0) {
		hold = 1;
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "Usage: %s [-hold] PID\n", argv[0]);
		exit(EXIT_FAILURE);
	}
	pid = argv[1];

	for (i = 0; i < NS_COUNT; i++) /* every file before the first join */
		fds[i] = openNs(pid, order[i].name);

	printInfo();
	for (i = 0; i < NS_COUNT; i++) {
		dprintf(STDOUT_FILENO, "---- setns for %s ----\n", order[i].name);
		if (fds[i] == -1) {
			dprintf(STDOUT_FILENO, "(already in this namespace: nothing to join)\n");
			continue;
		}
		if (setns(fds[i], order[i].flag) == -1)
			errExit("setns");
		close(fds[i]);
		printInfo();
	}

	/* The child waits until we have printed its PID: same order each run. */
	if (pipe2(sync_pipe, O_CLOEXEC) == -1)
		errExit("pipe");
	child = fork();
	if (child == -1)
		errExit("fork");
	if (child == 0) {
		close(sync_pipe[1]);
		/* Die with the parent; its byte says it is (still) there. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
			errExit("prctl");
		if (read(sync_pipe[0], &c, 1) != 1)
			_exit(EXIT_FAILURE);
		dprintf(STDOUT_FILENO, "********\nin child process\n");
		printInfo();
		dprintf(STDOUT_FILENO, "********\n");
		if (hold)
			pause();
		_exit(EXIT_SUCCESS);
	}
	close(sync_pipe[0]);
	dprintf(STDOUT_FILENO, "child pid : %d\n", child);
	if (write(sync_pipe[1], "x", 1) != 1)
		errExit("write");
	close(sync_pipe[1]);

	if (waitpid(child, &status, 0) == -1) /* the seed loops forever instead */
		errExit("waitpid");
	exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}
