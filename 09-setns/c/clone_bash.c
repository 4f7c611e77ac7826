/* clone_bash.c -- the seed's first program ("代碼1: 開一些新的namespace(啟動新容器)",
   open some new namespaces: start a new container), as in the blog post; the
   Go port is ../clone_bash.go (09-setns clone-bash). Build: make c. Run:
   sudo ./bin/c/clone_bash, and in the bash it starts, look around (hostname,
   echo $$, id); exit to end it. Its PID is the target for setns_joiner. */
#define _GNU_SOURCE
/* nslab: the blog lost its header names to HTML; these are the ones it uses */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define errExit(msg) do { perror(msg); exit(EXIT_FAILURE); \
} while (0)

/* Start function for cloned child */
static int childFunc(void *arg)
{
const char *binary = "/bin/bash";
char *const argv[] = {
"/bin/bash",
NULL
};
char *const envp[] = { NULL };
(void)arg;  /* nslab: unused, and -Wextra -Werror says so */
(void)envp; /* nslab: only the commented-out execve below uses it */
/* wrappers for execve */
// has const char * as argument list
// execl
// execle => has envp
// execlp => need search PATH
// has char *const arr[] as argument list
// execv
// execvpe => need search PATH and has envp
// execvp => need search PATH
//int ret = execve(binary, argv, envp);
int ret = execv(binary, argv);
if (ret < 0) {
errExit("execve error");
}
return ret;
}

#define STACK_SIZE (1024 * 1024) /* Stack size for cloned child */

int main(int argc, char *argv[])
{
char *stack;
char *stackTop;
pid_t pid;
(void)argc; (void)argv; /* nslab: unused, and -Wextra -Werror says so */
stack = malloc(STACK_SIZE);
if (stack == NULL)
errExit("malloc");
stackTop = stack + STACK_SIZE; /* Assume stack grows downward */
//pid = clone(childFunc, stackTop, CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUSER | SIGCHLD, NULL);
/* nslab: safe on a systemd host as it is: a mount namespace made with a new
   user namespace gets the host's shared mounts as slaves, so nothing bash
   mounts propagates back to the host */
pid = clone(childFunc, stackTop, CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUSER | CLONE_NEWIPC | SIGCHLD, NULL);
//pid = clone(childFunc, stackTop, CLONE_NEWUTS | //CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUSER | CLONE_NEWIPC //| CLONE_NEWNET | SIGCHLD, NULL);
if (pid == -1)
errExit("clone");
printf("clone() returned %ld\n", (long) pid);
if (waitpid(pid, NULL, 0) == -1)
errExit("waitpid");
printf("child has terminated\n");
exit(EXIT_SUCCESS);
}
