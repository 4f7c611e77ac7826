/* setns_joiner.c -- the seed's second program ("代碼2: 使用setns加入新進程",
   join a new process with setns), as in the blog post; the Go port is
   ../setns_joiner.go. Build: make c. Run: sudo ./bin/c/setns_joiner PID,
   where PID is a process in new namespaces, e.g. clone_bash's child. */
#define _GNU_SOURCE // ?
/* nslab: the blog lost its header names to HTML; these are the ones it uses */
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
// mainly setns and unshare system calls
/* int setns(int fd, int nstype); */
// 不同版本內核/proc/pid/ns下namespace文件情況 (the files under /proc/pid/ns, by kernel version)
/*
CLONE_NEWCGROUP (since Linux 4.6) fd must refer to a cgroup namespace.
CLONE_NEWIPC (since Linux 3.0) fd must refer to an IPC namespace.
CLONE_NEWNET (since Linux 3.0) fd must refer to a network namespace.
CLONE_NEWNS (since Linux 3.8) fd must refer to a mount namespace.
CLONE_NEWPID (since Linux 3.8) fd must refer to a descendant PID namespace.
CLONE_NEWUSER (since Linux 3.8) fd must refer to a user namespace.
CLONE_NEWUTS (since Linux 3.0) fd must refer to a UTS namespace.
*/
/* // 特殊的pid namespace (the special PID namespace)
CLONE_NEWPID behaves somewhat differently from the other nstype
values: reassociating the calling thread with a PID namespace changes
only the PID namespace that child processes of the caller will be
created in; it does not change the PID namespace of the caller
itself. Reassociating with a PID namespace is allowed only if the
PID namespace specified by fd is a descendant (child, grandchild,
etc.) of the PID namespace of the caller. For further details on
PID namespaces, see pid_namespaces(7).
*/
#define MAX_PROCPATH_LEN 1024
#define errorExit(msg) \
do { fprintf(stderr, "%s in file %s in line %d\n", msg, __FILE__, __LINE__);\
exit(EXIT_FAILURE); } while (0)
void printInfo(void); /* nslab: (void), a prototype */
int openAndSetns(const char *path);
static int hold; /* nslab: -hold keeps the child; without it both end */
int main(int argc, char *argv[])
{
/* nslab: a stdio buffer not yet written is copied by fork() and printed
   twice when stdout is a pipe: write every line at once */
setvbuf(stdout, NULL, _IONBF, 0);
if (argc > 2 && strcmp(argv[1], "-hold") == 0) { /* nslab: -hold PID */
hold = 1;
argv++;
argc--;
}
if (argc < 2) {
fprintf(stdout, "usage : execname pid(find namespaces of this process)\n");
return 0;
}
printInfo();
fprintf(stdout, "---- setns for uts ----\n");
char uts[MAX_PROCPATH_LEN];
snprintf(uts, MAX_PROCPATH_LEN, "/proc/%s/ns/uts", argv[1]);
openAndSetns(uts);
printInfo();
fprintf(stdout, "---- setns for user ----\n");
char user[MAX_PROCPATH_LEN];
snprintf(user, MAX_PROCPATH_LEN, "/proc/%s/ns/user", argv[1]);
openAndSetns(user);
printInfo();
// 注意pid namespace的不同行為,只有後續創建的子進程進入setns設置
// 的新的pid namespace,本進程不會改變
fprintf(stdout, "---- setns for pid ----\n");
char pidpath[MAX_PROCPATH_LEN];
snprintf(pidpath, MAX_PROCPATH_LEN, "/proc/%s/ns/pid", argv[1]);
openAndSetns(pidpath);
printInfo();
fprintf(stdout, "---- setns for ipc ----\n");
char ipc[MAX_PROCPATH_LEN];
snprintf(ipc, MAX_PROCPATH_LEN, "/proc/%s/ns/ipc", argv[1]);
openAndSetns(ipc);
printInfo();
fprintf(stdout, "---- setns for net ----\n");
char net[MAX_PROCPATH_LEN];
snprintf(net, MAX_PROCPATH_LEN, "/proc/%s/ns/net", argv[1]);
openAndSetns(net);
printInfo();
// 注意mnt namespace需要放在其他後面,避免mnt namespace改變後
// 找不到/proc/pid/ns下的文件
fprintf(stdout, "---- setns for mount ----\n");
char mount[MAX_PROCPATH_LEN];
snprintf(mount, MAX_PROCPATH_LEN, "/proc/%s/ns/mnt", argv[1]);
openAndSetns(mount);
printInfo();
// 測試子進程的pid namespace
int ret = fork();
if (-1 == ret) {
errorExit("failed to fork");
} else if (ret == 0) {
prctl(PR_SET_PDEATHSIG, SIGKILL); /* nslab: the child ends with us */
fprintf(stdout, "********\n");
fprintf(stdout, "in child process\n");
printInfo();
fprintf(stdout, "********\n");
if (hold) /* nslab: the seed's child loops forever; ours only with -hold */
for (;;) {
sleep(5);
}
exit(EXIT_SUCCESS); /* nslab */
} else {
fprintf(stdout, "child pid : %d\n", ret);
}
/* nslab: the seed loops forever here, and never reaches its waitpid */
int status; /* nslab: exit as the child did */
waitpid(ret, &status, 0);
return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
void printInfo()
{
pid_t pid;
struct utsname uts;
uid_t uid;
gid_t gid;
// pid namespace
pid = getpid();
// user namespace
uid = getuid();
gid = getgid();
// uts namespace
uname(&uts);
fprintf(stdout, "pid : %d\n", pid);
fprintf(stdout, "ppid : %d\n", getppid()); /* nslab: as ../setns_joiner.go prints */
fprintf(stdout, "uid : %d\n", uid);
fprintf(stdout, "gid : %d\n", gid);
fprintf(stdout, "hostname : %s\n", uts.nodename);
}
int openAndSetns(const char *path)
{
int ret = open(path, O_RDONLY, 0);
if (-1 == ret) {
fprintf(stderr, "%s\n", strerror(errno));
errorExit("failed to open fd");
}
/* nslab: skip a namespace we are in already. The seed's first program
   keeps our network namespace, and after joining its user namespace we may
   not join ours again (EPERM): the blog's setns test cloned all six. */
struct stat theirs, ours;
char own[MAX_PROCPATH_LEN];
snprintf(own, sizeof(own), "/proc/self/ns/%s", strrchr(path, '/') + 1);
if (fstat(ret, &theirs) == 0 && stat(own, &ours) == 0 &&
    theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino) {
fprintf(stdout, "(already in this namespace: nothing to join)\n");
close(ret);
return 0;
}
if (-1 == (ret = setns(ret, 0))) {
fprintf(stderr, "%s\n", strerror(errno));
errorExit("failed to setns");
}
return ret;
}
