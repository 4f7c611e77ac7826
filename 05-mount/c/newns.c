/* newns.c -- the post's program (its second version, which mounts proc),
   as nslab builds it: gcc -O2 -Wall -Wextra -Werror -o newns newns.c -lrt */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/wait.h>
#include <stdio.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>
#include <sys/mount.h>
#include <string.h> /* nslab: strlen */

#define STACK_SIZE (1024 * 1024)
static char child_stack[STACK_SIZE];
char* const child_args[] = {
"/bin/bash",
NULL
};

int child_main(void* arg)
{
(void) arg; /* nslab: unused, and -Wextra -Werror refuse that */
printf(" - [%4d] Current namspace, Parent PID : %d\n", getpid(), getppid() );
sethostname("namespace", strlen("namespace")); /* nslab: the seed's 12 reads 2 bytes past the 10-byte string */
/* nslab: systemd makes / shared: without this the proc below would cover the HOST's /proc */
if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1) { perror("mount --make-rprivate /"); return 1; }
mount("/root/proc", "/proc", "proc", 0, NULL);
execv(child_args[0], child_args);
return 1;
}

int main()
{
setvbuf(stdout, NULL, _IOLBF, 0); /* nslab: else, into a pipe, the child's line is lost at execv */
printf(" - [%4d] New namespace, Parent PID : %d\n", getpid(), getppid() );
int child_pid = clone(child_main, child_stack+STACK_SIZE, CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNS | SIGCHLD, NULL);
waitpid(child_pid, NULL, 0);
return 0;
}
