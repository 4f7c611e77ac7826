/* unshare_user.c -- nslab's C for the seed's user namespace session (the
   seed is shell only; this program is nslab's own):

       $ unshare --user /bin/sh      a shell in a new user namespace
       $ whoami; id                  nobody: no uid is mapped yet
       $ ls -al /proc/$$/ns          only the user namespace is new
       # echo '0 100000 1' > /proc/PID/uid_map   (nslab's; and gid_map)
       $ id                          uid 0 now, if the map covers our uid

   The child plays the shell, the parent the host's shell that writes the
   maps; the Go port is ../unshare_user.go. Build: make c. Run as root
   (uid 0 inside maps to host 100000) or as anyone (to your own uid):
   ./bin/c/unshare_user */

#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define errExit(msg) do { perror(msg); exit(EXIT_FAILURE); } while (0)
#define STACK_SIZE (1024 * 1024)
#define ROOT_MAP_TO 100000      /* an unused host uid, as docker's userns-remap */

static int ready[2], release[2];   /* nslab: the shell's prompt, as pipes */

/* "PRE65534(nogroup)": a gid as id(1) prints it */
static void
print_gid(const char *pre, gid_t g)
{
    struct group *gr = getgrgid(g);

    printf("%s%ld", pre, (long) g);
    if (gr != NULL)
        printf("(%s)", gr->gr_name);
}

/* What id(1) prints: uid=65534(nobody) gid=65534(nogroup) groups=... */
static void
id(const char *label)
{
    gid_t gid = getgid(), groups[64];
    struct passwd *pw = getpwuid(getuid());
    int n = getgroups(64, groups);

    printf("child: %s: uid=%ld", label, (long) getuid());
    if (pw != NULL)
        printf("(%s)", pw->pw_name);
    print_gid(" gid=", gid);
    print_gid(" groups=", gid);        /* the gid first, and once */
    for (int i = 0; i < n; i++)
        if (groups[i] != gid)
            print_gid(",", groups[i]);
    printf("\n");
}

static int
childFunc(void *arg)
{
    struct passwd *pw = getpwuid(geteuid());
    char c;

    (void) arg;
    close(ready[0]);               /* nslab: or the reads never see EOF */
    close(release[1]);
    /* $ whoami */
    if (pw != NULL)
        printf("child: whoami: %s\n", pw->pw_name);
    else
        printf("child: whoami: %ld\n", (long) geteuid());
    /* $ id */
    id("id");
    /* nslab: the shell waits at its prompt; we wait for the parent's byte */
    if (write(ready[1], "1", 1) != 1 || read(release[0], &c, 1) != 1)
        return 1;                  /* the parent is gone */
    /* $ id */
    id("id after the maps");
    return 0;
}

/* # echo TEXT > /proc/PID/FILE, in one write(2) */
static void
write_proc(pid_t pid, const char *file, const char *text)
{
    char path[64];
    int fd;

    snprintf(path, sizeof(path), "/proc/%ld/%s", (long) pid, file);
    fd = open(path, O_WRONLY);
    if (fd == -1 || write(fd, text, strlen(text)) != (ssize_t) strlen(text)) {
        perror(path);
        kill(pid, SIGKILL);        /* nslab: don't leave the child waiting */
        exit(EXIT_FAILURE);
    }
    close(fd);
    printf("parent: wrote \"%s\" to %s\n", text, path);
}

int
main(void)
{
    static char stack[STACK_SIZE];
    char map[64], path[64], ns[2][64], c;
    long uid = geteuid(), gid = getegid();
    long map_uid = uid == 0 ? ROOT_MAP_TO : uid, map_gid = uid == 0 ? ROOT_MAP_TO : gid;
    pid_t pid;
    ssize_t n;

    setvbuf(stdout, NULL, _IOLBF, 0);  /* nslab: parent and child share a pipe */
    /* nslab: root's supplementary groups would follow the child for good */
    if (uid == 0 && setgroups(0, NULL) == -1)
        errExit("setgroups");
    if (pipe(ready) == -1 || pipe(release) == -1)
        errExit("pipe");

    /* $ unshare --user /bin/sh */
    pid = clone(childFunc, stack + STACK_SIZE, CLONE_NEWUSER | SIGCHLD, NULL);
    if (pid == -1)
        errExit("clone(CLONE_NEWUSER)");
    printf("PID of child created by clone() is %ld\n", (long) pid);
    close(ready[1]);
    close(release[0]);
    if (read(ready[0], &c, 1) != 1) {  /* the child's first lines are out */
        fprintf(stderr, "unshare_user: the child failed before it was ready\n");
        exit(EXIT_FAILURE);
    }

    /* $ ls -al /proc/$$/ns (the user row) */
    snprintf(path, sizeof(path), "/proc/%ld/ns/user", (long) pid);
    n = readlink("/proc/self/ns/user", ns[0], sizeof(ns[0]) - 1);
    ns[0][n < 0 ? 0 : n] = '\0';
    n = readlink(path, ns[1], sizeof(ns[1]) - 1);
    ns[1][n < 0 ? 0 : n] = '\0';
    printf("parent: user namespace: parent %s, child %s\n", ns[0], ns[1]);

    /* nslab: since Linux 3.19 gid_map needs setgroups denied first */
    write_proc(pid, "setgroups", "deny");
    /* nslab's: echo '0 100000 1' > /proc/PID/gid_map */
    snprintf(map, sizeof(map), "0 %ld 1", map_gid);
    write_proc(pid, "gid_map", map);
    /* nslab's: echo '0 100000 1' > /proc/PID/uid_map */
    snprintf(map, sizeof(map), "0 %ld 1", map_uid);
    write_proc(pid, "uid_map", map);
    if (write(release[1], "1", 1) != 1)   /* go on, child */
        errExit("write to child");

    if (waitpid(pid, NULL, 0) == -1)
        errExit("waitpid");
    printf("child has terminated\n");
    exit(EXIT_SUCCESS);
}
