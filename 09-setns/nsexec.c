//go:build cgo

/*
 * nsexec.c: the part of 09-setns that runs BEFORE the Go runtime starts.
 *
 * ---------------------------------------------------------------- boundary
 * The kernel refuses two namespace types to a process with more than one
 * thread: setns(CLONE_NEWUSER) fails with EINVAL and setns(CLONE_NEWTIME)
 * with EUSERS. Every Go program has several threads before main() runs, so
 * no Go code can ever join them. A C constructor can: glibc calls it before
 * main(), and with cgo main() is where the Go runtime is started, so here
 * the process still has exactly one thread.
 *
 * runc does the same (libcontainer/nsenter): the Go parent re-executes its
 * own binary with an instruction in the environment; a constructor reads
 * it, joins the namespaces, forks, and lets the child go on into the Go
 * runtime. Here the instruction is NSLAB_SETNS, set only by main.go when
 * it re-executes itself (common.Command). Without it, nsexec() returns at
 * once and the program starts like any other: the test binary, which holds
 * this constructor too, and every ordinary run of 09-setns.
 *
 *   NSLAB_SETNS="seed 5:uts 6:user -:pid ..."   or   "run 3:user 4:uts ..."
 *
 * Each entry is FD:NAME, a /proc/PID/ns/NAME that the Go parent opened and
 * passed down as file descriptor FD, in the order to join; "-:NAME" is one
 * we are already in (nothing to join). "seed" prints like the seed's
 * joiner after every step; "run" is quiet.
 *
 * After the joins the process forks. The child returns from here into the
 * Go runtime (main -> common.Dispatch -> the role main.go named in argv[0]),
 * and it is the child that matters: setns(CLONE_NEWPID) never moves the
 * caller, only its future children, so only a child is in the target's PID
 * namespace, and only there does the target's /proc (mounted for that PID
 * namespace) show /proc/self. This process stays in C: it waits for the
 * child and exits with its status, never running any Go.
 * ---------------------------------------------------------------- boundary
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define SPEC_ENV "NSLAB_SETNS"
#define MAX_NS 8

static const struct {
	const char *name;
	int flag;
} ns_types[] = {
	{"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"mnt", CLONE_NEWNS},
	{"net", CLONE_NEWNET},       {"pid", CLONE_NEWPID}, {"time", CLONE_NEWTIME},
	{"user", CLONE_NEWUSER},     {"uts", CLONE_NEWUTS},
};

struct ns_entry {
	int fd; /* -1: we are in it already */
	int flag;
	const char *name;
};

/* die prints one line the way common.ErrExit does in Go -
 * "09-setns: what: ENAME: text (hint)", red on a terminal - and exits 1. */
static void die(const char *what, int err, const char *hint)
{
	const char *prog = getenv("NSLAB_PROG"); /* set by common.Command */
	const char *term = getenv("TERM");
	const char *name = strerrorname_np(err);
	char text[128];
	int color = isatty(STDERR_FILENO) && getenv("NO_COLOR") == NULL &&
		    !(term != NULL && strcmp(term, "dumb") == 0);

	if (prog == NULL || *prog == '\0')
		prog = "09-setns";
	snprintf(text, sizeof(text), "%s", strerror(err));
	text[0] = tolower((unsigned char)text[0]); /* Go's errno texts are lower case */
	dprintf(STDERR_FILENO, "%s%s: %s: %s: %s%s%s%s%s\n", color ? "\x1b[31;1m" : "",
		prog, what, name ? name : "?", text, hint ? " (" : "", hint ? hint : "",
		hint ? ")" : "", color ? "\x1b[0m" : "");
	_exit(1);
}

static const char *setns_hint(const char *name, int err)
{
	if (err == EPERM)
		return "joining needs CAP_SYS_ADMIN in our own user namespace and in the one that "
		       "owns the target's namespace: run it as root, or join the target's user "
		       "namespace first (-t PID -U ...)";
	if (err == EINVAL && strcmp(name, "pid") == 0)
		return "setns only moves down the PID namespace tree: the target's must be ours "
		       "or a descendant of ours";
	return NULL;
}

/* print_info is common.PrintInfo: who we are, as the kernel tells us now.
 * dprintf writes straight to the descriptor: a stdio buffer would be
 * copied by fork() and printed twice. */
static void print_info(void)
{
	struct utsname uts;

	if (uname(&uts) == -1)
		die("uname", errno, NULL);
	dprintf(STDOUT_FILENO, "pid : %d\nppid : %d\nuid : %d\ngid : %d\nhostname : %s\n",
		getpid(), getppid(), getuid(), getgid(), uts.nodename);
}

/* parse_spec turns "MODE FD:NAME ..." into entries; main.go wrote it, so a
 * bad one is a bug, reported like any other failure. */
static int parse_spec(char *spec, int *seed, struct ns_entry *ns)
{
	char *save = NULL, *word;
	int n = 0;

	word = strtok_r(spec, " ", &save);
	if (word == NULL || (strcmp(word, "seed") != 0 && strcmp(word, "run") != 0))
		die(SPEC_ENV " (set by main.go)", EINVAL, "want \"seed\" or \"run\" first");
	*seed = strcmp(word, "seed") == 0;
	while ((word = strtok_r(NULL, " ", &save)) != NULL) {
		char *colon = strchr(word, ':');
		size_t i;

		if (colon == NULL || n == MAX_NS)
			die(SPEC_ENV " (set by main.go)", EINVAL, "want FD:NAME entries");
		*colon = '\0';
		ns[n].fd = strcmp(word, "-") == 0 ? -1 : atoi(word);
		ns[n].name = NULL;
		for (i = 0; i < sizeof(ns_types) / sizeof(ns_types[0]); i++) {
			if (strcmp(colon + 1, ns_types[i].name) == 0) {
				ns[n].name = ns_types[i].name;
				ns[n].flag = ns_types[i].flag;
			}
		}
		if (ns[n].name == NULL)
			die(SPEC_ENV " (set by main.go)", EINVAL, "unknown namespace type");
		n++;
	}
	return n;
}

static void nsexec(void)
{
	const char *env = getenv(SPEC_ENV);
	struct ns_entry ns[MAX_NS];
	char spec[256], what[32];
	int n, i, seed, sync_pipe[2], status;
	pid_t parent, child;

	if (env == NULL)
		return; /* an ordinary start: nothing to do before Go */
	snprintf(spec, sizeof(spec), "%s", env);
	/* Neither our Go code nor the command it runs inherits the request
	 * (glibc edits the environment array in place, which is where the Go
	 * runtime will read it from). */
	unsetenv(SPEC_ENV);
	n = parse_spec(spec, &seed, ns);
	parent = getppid();

	if (seed)
		print_info();
	for (i = 0; i < n; i++) {
		if (seed)
			dprintf(STDOUT_FILENO, "---- setns for %s ----\n", ns[i].name);
		if (ns[i].fd < 0) {
			if (seed)
				dprintf(STDOUT_FILENO, "(already in this namespace: nothing to join)\n");
			continue;
		}
		if (setns(ns[i].fd, ns[i].flag) == -1) {
			snprintf(what, sizeof(what), "setns %s", ns[i].name);
			die(what, errno, setns_hint(ns[i].name, errno));
		}
		close(ns[i].fd);
		if (seed)
			print_info();
	}

	/* Joining a user namespace can clear the parent-death signal the Go
	 * parent asked for (common.StartChild): the kernel clears it when the
	 * new credentials are not a subset of the old ones, as when root joins
	 * a user namespace that another user owns. Ask again, then make sure
	 * the parent did not die meanwhile. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		die("prctl(PR_SET_PDEATHSIG)", errno, NULL);
	if (getppid() != parent)
		_exit(1);

	/* The child waits on this pipe until we have printed its PID, so the
	 * lines come in the same order every time. */
	if (pipe2(sync_pipe, O_CLOEXEC) == -1)
		die("pipe", errno, NULL);
	child = fork();
	if (child == -1)
		die("fork", errno, NULL);
	if (child == 0) {
		char c;

		close(sync_pipe[1]);
		/* We die with the C parent too. If it is already gone, the read
		 * below sees end-of-file instead of its byte. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
			die("prctl(PR_SET_PDEATHSIG)", errno, NULL);
		if (read(sync_pipe[0], &c, 1) != 1)
			_exit(1);
		close(sync_pipe[0]);
		return; /* ---- into the Go runtime, in the target's namespaces ---- */
	}

	close(sync_pipe[0]);
	if (seed)
		dprintf(STDOUT_FILENO, "child pid : %d\n", child);
	if (write(sync_pipe[1], "x", 1) != 1)
		die("write to child", errno, NULL);
	close(sync_pipe[1]);
	while (waitpid(child, &status, 0) == -1)
		if (errno != EINTR)
			die("waitpid", errno, NULL);
	if (WIFSIGNALED(status))
		_exit(128 + WTERMSIG(status)); /* as a shell reports it */
	_exit(WEXITSTATUS(status));
}

/* Runs before main(), hence before the Go runtime and its threads. */
__attribute__((constructor)) static void nsexec_constructor(void)
{
	nsexec();
}
