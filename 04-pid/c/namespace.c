/* namespace.c - "Examples 1: namespace pid examples" of the article
   "namespace mechanism Linux kernel analysis" (nsproxy, copy_namespaces),
   as the article shows it, run as `./namespace 7`. The Go port is
   ../namespace.go. Every change to the article's code is marked nslab. */
#define _GNU_SOURCE /* nslab: clone() is a GNU extension in <sched.h> */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>    /* nslab: intptr_t, for the int <-> void * casts */
#include <sys/mount.h> /* nslab: mount(), called without a declaration */
#include <sys/types.h>
#include <unistd.h>
#include <sched.h>
#include <string.h>

static int fork_child(void *arg)
{
        int a = (int) (intptr_t) arg; /* nslab: via intptr_t, or -Werror stops the build */
        int i;
        pid_t pid;
        char *cmd = "ps -el"; /* nslab: the article lost the closing quote */

        printf("In the container, my pid is: %d\n", getpid());
        /* ps reads procfs, which shows the PID namespace of whoever
           mounted it: so mount a new one on /proc. nslab: make every mount
           private first. On a systemd host / is shared, and the new /proc
           would propagate back and replace the host's /proc. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1) {
                perror("mount --make-rprivate /");
                return 1;
        }
        mount("proc", "/proc", "proc", 0, "");

        for (i = 0; i < a; i++) { /* nslab: the article lost "< a; i++) {" */
                pid = fork();
                if (pid < 0)
                        return pid;
                else if (pid)
                        printf("pid of my child is %d\n", pid);
                else if (pid == 0) {
                        sleep(30);
                        exit(0);
                }
        }

        execl("/bin/bash", "/bin/bash", "-c", cmd, NULL);
        return 0;
}

int main(int argc, char *argv[])
{
        int cpid;
        void *childstack, *stack;
        int flags;
        int ret = 0;
        int stacksize = getpagesize() * 4;

        if (argc != 2) {
                fprintf(stderr, "Wrong usage\n.");
                return -1;
        }
        if (atoi(argv[1]) > 100) { /* nslab: no fork bomb (as 04-pid) */
                fprintf(stderr, "at most 100 children\n");
                return -1;
        }
        /* nslab: line-buffered. Into a pipe (| cat, a test), each forked
           child would flush a copy of the buffered lines, execl() drop some. */
        setvbuf(stdout, NULL, _IOLBF, 0);

        stack = malloc(stacksize);
        if (stack == NULL)
        {
                return -1;
        }

        printf("Out of the container, my pid is: %d\n", getpid());
        childstack = stack + stacksize;
        flags = CLONE_NEWPID | CLONE_NEWNS;
        cpid = clone(fork_child, childstack, flags, (void *) (intptr_t) atoi(argv[1])); /* nslab: intptr_t */
        printf("cpid: %d\n", cpid);
        if (cpid < 0) {
                perror("clone");
                ret = -1;
                goto out;
        }

        fprintf(stderr, "Parent sleeping 20 seconds\n");
        sleep(20);
        ret = 0;
out:
        free(stack);
        return ret;
}
