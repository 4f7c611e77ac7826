/* t_clone.c — does a clone()d child share its parent's file descriptors?

   The child closes a descriptor the parent opened. Without CLONE_FILES the
   child works on a copy of the fd table and the parent's write() succeeds;
   with CLONE_FILES (any argument given) they share one table and the
   parent's write() fails with EBADF.

   Usage: t_clone [x]
   This is nslab's own C counterpart of 01-clone/t_clone.go. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define errExit(msg) do { perror(msg); exit(EXIT_FAILURE); } while (0)

/* The signal the child sends when it terminates. Not SIGCHLD, so this is a
   "clone child" that waitpid() only sees with __WCLONE. */
#define CHILD_SIG SIGUSR1

static int childFunc(void *arg)           /* runs in the cloned child */
{
    if (close(*(int *) arg) == -1)
        errExit("close");
    return 0;                             /* the child terminates */
}

int main(int argc, char *argv[])
{
    (void) argv;
    const size_t stackSize = 64 * 1024;
    int fd = open("/dev/null", O_RDWR);   /* the child will close this */
    if (fd == -1)
        errExit("open");

    int flags = (argc > 1) ? CLONE_FILES : 0;

    char *stack = malloc(stackSize);
    if (stack == NULL)
        errExit("malloc");

    /* SIGUSR1 would kill us by default: ignore it. (Never ignore SIGCHLD
       here: the kernel would then reap the child before we could wait.) */
    if (signal(CHILD_SIG, SIG_IGN) == SIG_ERR)
        errExit("signal");

    /* The stack grows down on x86, so pass its top. */
    if (clone(childFunc, stack + stackSize, flags | CHILD_SIG, &fd) == -1)
        errExit("clone");

    if (waitpid(-1, NULL, __WCLONE) == -1)
        errExit("waitpid");
    printf("child has terminated\n");

    ssize_t s = write(fd, "x", 1);        /* did the child's close() reach us? */
    if (s == -1 && errno == EBADF)
        printf("file descriptor %d has been closed\n", fd);
    else if (s == -1)
        printf("write() on file descriptor %d failed unexpectedly (%s)\n",
               fd, strerror(errno));
    else
        printf("write() on file descriptor %d succeeded\n", fd);

    free(stack);
    exit(EXIT_SUCCESS);
}
