//go:build cgo

/*
 * nsexec.c: the part of 09-setns that runs BEFORE the Go runtime starts.
 *
 * ---------------------------------------------------------------- boundary
 * The kernel refuses two namespace types to a process with more than one
 * thread: setns(CLONE_NEWUSER) fails with EINVAL and setns(CLONE_NEWTIME)
 * with EUSERS. Every Go program has several threads before main() runs, so
 * no Go code can ever join them. A C constructor can: glibc (or musl) calls
 * it before main(), and with cgo main() is where the Go runtime is started,
 * so here the process still has exactly one thread.
 *
 * runc does the same (libcontainer/nsenter): the Go parent re-executes its
 * own binary with an instruction in the environment; a constructor reads
 * it, joins the namespaces, forks, and lets the child go on into the Go
 * runtime. Here the instruction is NSLAB_SETNS=FD, set only by joiner.go:
 * FD is one end of a socket pair whose other end the Go parent holds.
 * Without it, nsexec() returns at once and the program starts like any
 * other: the test binary, which holds this constructor too, and every
 * ordinary run of 09-setns.
 *
 * This process stays single-threaded and does what the Go parent asks, one
 * request at a time, so that the Go side can follow the seed step by step
 * (setns_joiner.go). Each request is one message; each answer begins with
 * an errno, 0 for success:
 *
 *   "s FLAG" + a descriptor (SCM_RIGHTS)  setns(fd, FLAG)    -> "ERRNO"
 *   "i"                                   who are we now?    -> "0 PID PPID UID GID HOSTNAME"
 *   "f"                                   fork               -> "0 CHILD"
 *
 * After a fork the child returns from here into the Go runtime (main ->
 * common.Dispatch -> the role named in argv[0]), and it is the child that
 * matters: setns(CLONE_NEWPID) never moves the caller, only its future
 * children, so only a child is in the target's PID namespace, and only
 * there does the target's /proc show /proc/self. This process stays in C:
 * it waits for the child and exits with its status, never running any Go.
 *
 * The Go side prints every line and every error: no error names here, only
 * numbers (strerrorname_np is glibc >= 2.32 only; musl has none).
 * ---------------------------------------------------------------- boundary
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
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define SPEC_ENV "NSLAB_SETNS"

/* answer sends one answer; if the Go parent is gone, so are we. */
static void answer(int ctl, const char *text)
{
	if (send(ctl, text, strlen(text), MSG_NOSIGNAL) == -1)
		_exit(1);
}

/* receive reads one request, and the descriptor that came with it (or -1). */
static ssize_t receive(int ctl, char *buf, size_t len, int *fd)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = {buf, len - 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			   .msg_controllen = sizeof(u.b)};
	struct cmsghdr *c;
	ssize_t n;

	*fd = -1;
	while ((n = recvmsg(ctl, &m, MSG_CMSG_CLOEXEC)) == -1 && errno == EINTR)
		;
	if (n <= 0)
		return n;
	buf[n] = '\0';
	c = CMSG_FIRSTHDR(&m);
	if (c != NULL && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(c), sizeof(int));
	return n;
}

/* fork_child forks; the child returns 0 (into Go), the parent never returns. */
static int fork_child(int ctl, pid_t go_parent)
{
	int sync_pipe[2], status;
	char text[32], c;
	pid_t child;

	/* Joining a user namespace can clear the parent-death signal the Go
	 * parent asked for (common.StartChild): the kernel clears it when the
	 * new credentials are not a subset of the old ones, as when root joins
	 * a user namespace that another user owns. Ask again, then make sure
	 * the Go parent did not die meanwhile. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != go_parent)
		_exit(1);
	/* The child waits on this pipe until we have answered: it dies with
	 * us, and if we are already gone it reads end-of-file. (It cannot
	 * compare getppid(): in the joined PID namespace that is 0.) */
	if (pipe2(sync_pipe, O_CLOEXEC) == -1) {
		snprintf(text, sizeof(text), "%d", errno);
		answer(ctl, text);
		_exit(1);
	}
	child = fork();
	if (child == -1) {
		snprintf(text, sizeof(text), "%d", errno);
		answer(ctl, text);
		_exit(1);
	}
	if (child == 0) {
		close(ctl);
		close(sync_pipe[1]);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || read(sync_pipe[0], &c, 1) != 1)
			_exit(1);
		close(sync_pipe[0]);
		return 0; /* ---- into the Go runtime, in the target's namespaces ---- */
	}
	close(sync_pipe[0]);
	snprintf(text, sizeof(text), "0 %d", child);
	answer(ctl, text);
	close(ctl);
	if (write(sync_pipe[1], "x", 1) != 1)
		_exit(1);
	close(sync_pipe[1]);
	while (waitpid(child, &status, 0) == -1)
		if (errno != EINTR)
			_exit(1);
	if (WIFSIGNALED(status))
		_exit(128 + WTERMSIG(status)); /* as a shell reports it */
	_exit(WEXITSTATUS(status));
}

static void nsexec(void)
{
	const char *env = getenv(SPEC_ENV);
	char req[32], text[128];
	struct utsname uts;
	pid_t go_parent = getppid();
	int ctl, fd;

	if (env == NULL)
		return; /* an ordinary start: nothing to do before Go */
	ctl = atoi(env);
	/* Neither our Go code nor the command it runs inherits the request
	 * (glibc edits the environment array in place, which is where the Go
	 * runtime will read it from). */
	unsetenv(SPEC_ENV);

	while (receive(ctl, req, sizeof(req), &fd) > 0) {
		switch (req[0]) {
		case 's':
			snprintf(text, sizeof(text), "%d",
				 fd == -1 ? EBADF : setns(fd, atoi(req + 1)) == -1 ? errno : 0);
			if (fd != -1)
				close(fd);
			answer(ctl, text);
			break;
		case 'i':
			if (uname(&uts) == -1)
				snprintf(text, sizeof(text), "%d", errno);
			else
				snprintf(text, sizeof(text), "0 %d %d %d %d %s", (int)getpid(),
					 (int)getppid(), (int)getuid(), (int)getgid(), uts.nodename);
			answer(ctl, text);
			break;
		case 'f':
			if (fork_child(ctl, go_parent) == 0)
				return;
			break;
		default: /* joiner.go sent something new */
			snprintf(text, sizeof(text), "%d", EINVAL);
			answer(ctl, text);
		}
	}
	_exit(1); /* the Go parent hung up without asking for a fork */
}

/* Runs before main(), hence before the Go runtime and its threads. */
__attribute__((constructor)) static void nsexec_constructor(void)
{
	nsexec();
}
