/* ns_child_exec.c — run a command as the child of clone(), in new
   namespaces chosen by options.

   Usage: ns_child_exec [-C] [-i] [-m] [-n] [-p] [-u] [-U] [-T] [-v] cmd [arg...]
   This is nslab's own C counterpart of 01-clone/ns_child_exec.go. Unlike the
   classic version it also offers -T (time namespace), forwards SIGINT,
   SIGTERM and SIGHUP to the child, and exits with the child's status. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000        /* Linux 4.6 */
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080          /* Linux 5.6 */
#endif

#define errExit(msg) do { perror(msg); exit(EXIT_FAILURE); } while (0)

/* -h: the options, on stdout. A mistake: getopt() or main() has named it
   in one line; add the usage in one more, and exit 2. */
static void usage(const char *pname, int help)
{
    if (!help) {
        fprintf(stderr, "usage: %s [-CimnpuUTv] cmd [arg...]   (-h: the options)\n", pname);
        exit(2);
    }
    printf("Usage: %s [options] cmd [arg...]\n", pname);
    printf("Options can be:\n");
    printf("    -C   new cgroup namespace\n");
    printf("    -i   new IPC namespace\n");
    printf("    -m   new mount namespace\n");
    printf("    -n   new network namespace\n");
    printf("    -p   new PID namespace\n");
    printf("    -u   new UTS namespace\n");
    printf("    -U   new user namespace\n");
    printf("    -T   new time namespace\n");
    printf("    -v   Display verbose messages\n");
    exit(EXIT_SUCCESS);
}

static int childFunc(void *arg)           /* runs in the new namespaces */
{
    char **argv = arg;
    prctl(PR_SET_PDEATHSIG, SIGKILL);     /* die with the parent */
    execvp(argv[0], argv);
    errExit("execvp");
}

static pid_t child_pid;

static void forward(int sig)              /* pass a signal on to the child */
{
    if (child_pid > 0)
        kill(child_pid, sig);
    alarm(1);     /* a PID-namespace init ignores unhandled signals: insist */
}

static void insist(int sig)
{
    (void) sig;
    static const char msg[] = "ns_child_exec: child ignored the signal: killing it\n";
    if (child_pid > 0 && kill(child_pid, SIGKILL) == 0)
        if (write(STDERR_FILENO, msg, sizeof(msg) - 1) == -1) { /* nothing to do */ }
}

#define STACK_SIZE (1024 * 1024)

int main(int argc, char *argv[])
{
    int flags = 0, verbose = 0, opt;

    /* '+': stop at the first non-option, so the command keeps its own. */
    while ((opt = getopt(argc, argv, "+CimnpuUTvh")) != -1) {
        switch (opt) {
        case 'C': flags |= CLONE_NEWCGROUP; break;
        case 'i': flags |= CLONE_NEWIPC;    break;
        case 'm': flags |= CLONE_NEWNS;     break;
        case 'n': flags |= CLONE_NEWNET;    break;
        case 'p': flags |= CLONE_NEWPID;    break;
        case 'u': flags |= CLONE_NEWUTS;    break;
        case 'U': flags |= CLONE_NEWUSER;   break;
        case 'T': flags |= CLONE_NEWTIME;   break;
        case 'v': verbose = 1;              break;
        case 'h': usage(argv[0], 1);        break;
        default:  usage(argv[0], 0);
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "%s: missing command\n", argv[0]);
        usage(argv[0], 0);
    }

    /* CLONE_NEWTIME is 0x80, inside the low byte that clone() reads as the
       exit signal, so it cannot be passed to clone(). unshare() it instead:
       that sets the time namespace our *children* will be born in. */
    if (flags & CLONE_NEWTIME) {
        if (unshare(CLONE_NEWTIME) == -1)
            errExit("unshare");
        flags &= ~CLONE_NEWTIME;
    }

    char *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
        errExit("mmap");

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = forward;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = insist;
    sigaction(SIGALRM, &sa, NULL);

    child_pid = clone(childFunc, stack + STACK_SIZE, flags | SIGCHLD, &argv[optind]);
    if (child_pid == -1)
        errExit("clone");
    if (verbose)
        printf("%s: PID of child created by clone() is %ld\n", argv[0], (long) child_pid);
    fflush(stdout);
    munmap(stack, STACK_SIZE);

    int status;
    while (waitpid(child_pid, &status, 0) == -1)
        if (errno != EINTR)               /* EINTR: a signal was forwarded */
            errExit("waitpid");
    if (verbose)
        printf("%s: terminating\n", argv[0]);
    if (WIFSIGNALED(status))
        exit(128 + WTERMSIG(status));
    exit(WEXITSTATUS(status));
}
