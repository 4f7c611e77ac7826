/* demo_uts_namespace.c -- TLPI's program, as in the blog post; the Go port
   is ../main.go. Build: make c. Run: sudo ./bin/c/demo_uts_namespace myhost
   (the child sleeps 1000 s: join it with nsenter -t <child-pid> -u). */

#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

/* Print "msg: <errno text>" and end the process with status 1. */
#define errExit(msg) \
    do { perror(msg); exit(EXIT_FAILURE); } while (0)

#define STACK_SIZE (1024 * 1024)   /* for the cloned child */

/* The child starts here, already in its new UTS namespace. */
static int
childFunc(void *arg)
{
    const char *hostname = arg;
    struct utsname uts;

    /* Change the hostname: only this namespace sees the change. */
    if (sethostname(hostname, strlen(hostname)) == -1)
        errExit("sethostname");

    /* Ask the kernel for it again. */
    if (uname(&uts) == -1)
        errExit("uname");
    printf("uts.nodename in child: %s\n", uts.nodename);

    /* Keep the namespace alive for a while, so that another process
       can join it. */
    sleep(1000);

    return 0;   /* the child ends here */
}

int
main(int argc, char *argv[])
{
    char *stack;
    pid_t child_pid;
    struct utsname uts;

    if (argc < 2) {
        fprintf(stderr, "Usage: %s <child-hostname>\n", argv[0]);
        exit(EXIT_SUCCESS);
    }

    /* nslab: line-buffer stdout. Through a pipe (a test, `| cat`) stdio
       would keep the child's line for ever: it ends by a signal. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* clone() needs a stack for the child; it grows down from the top. */
    stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
        errExit("mmap");

    /* New child in a new UTS namespace; it runs childFunc(argv[1]).
       SIGCHLD: notify us the usual way when it ends, so waitpid works. */
    child_pid = clone(childFunc, stack + STACK_SIZE,
                      CLONE_NEWUTS | SIGCHLD, argv[1]);
    if (child_pid == -1)
        errExit("clone");
    printf("PID of child created by clone() is %ld\n", (long) child_pid);

    /* The child has its own copy of the memory: we can drop ours. */
    munmap(stack, STACK_SIZE);

    /* Give the child time to set its hostname (a guess, not a guarantee). */
    sleep(1);

    /* Our hostname, in our own UTS namespace: unchanged. */
    if (uname(&uts) == -1)
        errExit("uname");
    printf("uts.nodename in parent: %s\n", uts.nodename);

    if (waitpid(child_pid, NULL, 0) == -1)
        errExit("waitpid");
    printf("child has terminated\n");

    exit(EXIT_SUCCESS);
}
