/* ns_child_exec.c: TLPI's ns_child_exec (Michael Kerrisk), as in the blog
   post: run a command in new namespaces. nslab's changes are marked
   "nslab:", with why. The Go port is ../ns_child_exec.go. */
#define _GNU_SOURCE
#include <sched.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>  /* nslab: PR_SET_PDEATHSIG */

#ifndef CLONE_NEWCGROUP         /* Added in Linux 4.6 */
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef CLONE_NEWTIME           /* nslab: -T, added in Linux 5.6 */
#define CLONE_NEWTIME 0x00000080
#endif

/* A simple error-handling function: print an error message based
   on the value in 'errno' and terminate the calling process */

#define errExit(msg)    do { perror(msg); exit(EXIT_FAILURE); \
                        } while (0)

/* nslab: -h prints the options on stdout, exit 0; after a mistake, named
   in one line by the caller, one line of usage and exit 2, as with every
   nslab program (TLPI prints the list on stderr and exits 1). */
static void
usage(char *pname, int help)
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

static int                      /* Start function for cloned child */
childFunc(void *arg)
{
    char **argv = arg;

    prctl(PR_SET_PDEATHSIG, SIGKILL);   /* nslab: die with the parent */
    execvp(argv[0], argv);
    errExit("execvp");
}

/* nslab: the parent passes on the signals sent to it (../signals.go says
   why); a PID-namespace init (-p) drops those it has no handler for: kill
   it one second later. Any other child is left alone. */
static pid_t child_pid;
static int pid_init;
static void forward(int sig) { if (child_pid > 0 && kill(child_pid, sig) == 0 && pid_init) alarm(1); }
static void insist(int sig)
{
    static const char msg[] = "ns_child_exec: child ignored the signal: killing it\n";
    (void) sig;
    if (kill(child_pid, SIGKILL) == 0 && write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
        return;                         /* stderr gone: nothing to tell */
}

#define STACK_SIZE (1024 * 1024)

int
main(int argc, char *argv[])
{
    int flags = 0;
    int verbose = 0;

    /* Parse command-line options. The initial '+' character in
       the final getopt() argument prevents GNU-style permutation
       of command-line options. That's useful, since sometimes
       the 'command' to be executed by this program itself
       has command-line options. We don't want getopt() to treat
       those as options to this program. */

    int opt;
    while ((opt = getopt(argc, argv, "+CimnpuUTvh")) != -1) {   /* nslab: T, h */
        switch (opt) {
        case 'C': flags |= CLONE_NEWCGROUP;     break;
        case 'i': flags |= CLONE_NEWIPC;        break;
        case 'm': flags |= CLONE_NEWNS;         break;
        case 'n': flags |= CLONE_NEWNET;        break;
        case 'p': flags |= CLONE_NEWPID;        break;
        case 'u': flags |= CLONE_NEWUTS;        break;
        case 'U': flags |= CLONE_NEWUSER;       break;
        case 'T': flags |= CLONE_NEWTIME;       break;     /* nslab */
        case 'v': verbose = 1;                  break;
        case 'h': usage(argv[0], 1);            break;     /* nslab */
        default:  usage(argv[0], 0);
        }
    }

    if (optind >= argc) {
        fprintf(stderr, "%s: missing command\n", argv[0]);  /* nslab */
        usage(argv[0], 0);
    }

    /* nslab: CLONE_NEWTIME is 0x80, inside the byte clone() reads as the
       exit signal. unshare() it instead: our children are born in it. */
    if ((flags & CLONE_NEWTIME) && unshare(CLONE_NEWTIME) == -1)
        errExit("unshare");
    flags &= ~CLONE_NEWTIME;

    char *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
        errExit("mmap");

    /* nslab: pass signals on, before clone() so that none is lost. glibc's
       signal() sets SA_RESTART: waitpid() goes on after a handler. */
    int fwd[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
    for (size_t i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++)
        signal(fwd[i], forward);
    signal(SIGALRM, insist);
    pid_init = (flags & CLONE_NEWPID) != 0;

    child_pid = clone(childFunc,        /* nslab: global, for forward() */
                    stack + STACK_SIZE,
                    flags | SIGCHLD, &argv[optind]);
    if (child_pid == -1)
        errExit("clone");

    if (verbose)
        printf("%s: PID of child created by clone() is %ld\n",
                argv[0], (long) child_pid);
    fflush(stdout);     /* nslab: our line first, even into a pipe */

    munmap(stack, STACK_SIZE);

    /* Parent falls through to here */

    int status;                         /* nslab: exit with the child's */
    if (waitpid(child_pid, &status, 0) == -1)   /* Wait for child */
        errExit("waitpid");

    if (verbose)
        printf("%s: terminating\n", argv[0]);
    /* nslab: the child's status as a shell gives it, not EXIT_SUCCESS */
    exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
}
