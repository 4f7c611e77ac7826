/* userns_child.c -- nslab chapter 07-user, the C side of main.go.

   The classic user namespace program: clone(CLONE_NEWUSER) a child, which
   starts as "nobody" (uid 65534: nothing is mapped yet) with every
   capability in its new namespace. The parent writes the child's
   /proc/PID/setgroups, gid_map and uid_map while the child waits on a pipe;
   then the child makes itself uid 0 of the namespace and tries two things
   only the host's root may do: change the host's hostname and read
   /etc/shadow. Both fail. Changing the hostname of a UTS namespace the child
   creates itself works.

   Build: make c   (or gcc -O2 -Wall -Wextra -Werror -o userns_child
                    userns_child.c -lrt)
   Run:   ./bin/c/userns_child [-m HOST-UID] [-H SECONDS]
          runuser -u nobody -- ./bin/c/userns_child

   -m: the host uid (and gid) that uid 0 inside maps to. Root may choose any;
       the default is 100000, an unused uid, as with docker's userns-remap.
       Anyone else may only map their own uid, which is the default.
   -H: the child stays alive this long after its demo (default 0), so that
       another shell can look at it: grep Uid /proc/PID/status */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

/* Print "msg: <errno text>" and end the process with status 1. */
#define errExit(msg) \
    do { perror(msg); exit(EXIT_FAILURE); } while (0)

#define STACK_SIZE (1024 * 1024)   /* for the cloned child */
#define ROOT_MAP_TO 100000         /* root's default: an unused host uid */
#define CHILD_HOSTNAME "nslab-07"

struct child_args {
    int ready_r, ready_w;      /* child -> parent: one byte after each phase */
    int release_r, release_w;  /* parent -> child: a byte once the maps are
                                  written; closed once the parent has looked */
    int hold;                  /* seconds to stay alive after the demo */
    pid_t parent;
};

/* The capability names, in bit order (<linux/capability.h>). */
static const char *cap_names[] = {
    "cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner",
    "cap_fsetid", "cap_kill", "cap_setgid", "cap_setuid", "cap_setpcap",
    "cap_linux_immutable", "cap_net_bind_service", "cap_net_broadcast",
    "cap_net_admin", "cap_net_raw", "cap_ipc_lock", "cap_ipc_owner",
    "cap_sys_module", "cap_sys_rawio", "cap_sys_chroot", "cap_sys_ptrace",
    "cap_sys_pacct", "cap_sys_admin", "cap_sys_boot", "cap_sys_nice",
    "cap_sys_resource", "cap_sys_time", "cap_sys_tty_config", "cap_mknod",
    "cap_lease", "cap_audit_write", "cap_audit_control", "cap_setfcap",
    "cap_mac_override", "cap_mac_admin", "cap_syslog", "cap_wake_alarm",
    "cap_block_suspend", "cap_audit_read", "cap_perfmon", "cap_bpf",
    "cap_checkpoint_restore",
};
#define NCAP_NAMES ((int) (sizeof(cap_names) / sizeof(cap_names[0])))

/* The highest capability this kernel knows. */
static int
cap_last_cap(void)
{
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
    int last = NCAP_NAMES - 1;

    if (f != NULL) {
        if (fscanf(f, "%d", &last) != 1)
            last = NCAP_NAMES - 1;
        fclose(f);
    }
    return last;
}

/* Print a capability mask the way main.go's describeCaps does: "all N",
   "none", or the names of the bits set. */
static void
print_cap_set(const char *name, unsigned long long mask)
{
    int last = cap_last_cap();
    unsigned long long all = (last >= 63) ? ~0ULL : (1ULL << (last + 1)) - 1;
    const char *sep = "";

    printf(" %s=%016llx (", name, mask);
    if (mask == all) {
        printf("all %d)", last + 1);
        return;
    }
    if (mask == 0) {
        printf("none)");
        return;
    }
    for (int i = 0; i < 64; i++) {
        if (!(mask & (1ULL << i)))
            continue;
        if (i < NCAP_NAMES)
            printf("%s%s", sep, cap_names[i]);
        else
            printf("%s%d", sep, i);
        sep = " ";
    }
    printf(")");
}

/* "child: capabilities: CapEff=... CapPrm=... CapBnd=...", as the kernel
   shows them in /proc/self/status. */
static void
print_caps(void)
{
    static const char *wanted[] = { "CapEff", "CapPrm", "CapBnd" };
    unsigned long long masks[3] = { 0, 0, 0 };
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");

    if (f == NULL)
        errExit("open /proc/self/status");
    while (fgets(line, sizeof(line), f) != NULL)
        for (int i = 0; i < 3; i++) {
            size_t n = strlen(wanted[i]);
            if (strncmp(line, wanted[i], n) == 0 && line[n] == ':')
                masks[i] = strtoull(line + n + 1, NULL, 16);
        }
    fclose(f);
    printf("child: capabilities:");
    for (int i = 0; i < 3; i++)
        print_cap_set(wanted[i], masks[i]);
    printf("\n");
}

static void
print_ids(const char *when)
{
    printf("child: %s: uid=%ld gid=%ld\n", when, (long) getuid(), (long) getgid());
}

/* "ok" or the errno's name, e.g. "EPERM". */
static const char *
result(int ret)
{
    if (ret == 0)
        return "ok";
    return strerrorname_np(errno);
}

/* Die with the parent (SIGKILL), even if it is killed: the kernel sends
   the signal when the parent ends. A change of our credentials clears
   this setting, so the child sets it again after setresuid. */
static void
die_with_parent(pid_t parent)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
        errExit("prctl(PR_SET_PDEATHSIG)");
    if (getppid() != parent)         /* it died before we asked */
        exit(EXIT_FAILURE);
}

/* Tell the parent we are past a phase. */
static void
ready(int fd)
{
    if (write(fd, "1", 1) != 1)
        errExit("write to parent");
}

/* The child starts here, in its new user namespace. */
static int
childFunc(void *arg)
{
    struct child_args *a = arg;
    struct utsname uts;
    char c;
    int fd, ret;

    /* The clone copied all four pipe ends: keep only ours, or the read
       below would never see end-of-file. */
    close(a->ready_r);
    close(a->release_w);
    die_with_parent(a->parent);

    /* Nothing is mapped yet: getuid() has no number to return for our
       (host) uid and gives the overflow uid, 65534. But we created this
       namespace (clone did, for us), so we hold every capability in it. */
    print_ids("before the maps");
    print_caps();
    ready(a->ready_w);

    /* Wait for the parent's byte: the maps are written. */
    if (read(a->release_r, &c, 1) != 1)
        exit(EXIT_FAILURE);          /* the parent is gone */

    /* The maps changed no credentials: they gave numbers a meaning. If
       the map covers our host uid (a normal user mapping itself), we are
       uid 0 now; root's child (host uid 0, mapped to 100000) is not. */
    print_ids("after the maps");

    /* Become root of the namespace, as container runtimes do: this needs
       CAP_SETUID and CAP_SETGID here, which we have. Gid first: the uid
       change would not drop them, but this is the order that always works. */
    if (setresgid(0, 0, 0) == -1)
        errExit("setresgid");
    if (setresuid(0, 0, 0) == -1)
        errExit("setresuid");
    die_with_parent(a->parent);      /* the uid change cleared it */
    print_ids("after setresgid(0,0,0) + setresuid(0,0,0)");
    print_caps();

    /* The host's UTS namespace belongs to the initial user namespace, where
       we have no capability at all. */
    ret = sethostname(CHILD_HOSTNAME, strlen(CHILD_HOSTNAME));
    printf("child: sethostname(\"%s\") in the host's UTS namespace: %s\n",
           CHILD_HOSTNAME, result(ret));

    /* /etc/shadow is root:shadow 0640 on the host. Our uid is the host's
       ROOT_MAP_TO (or the user's), neither owner nor group; and
       CAP_DAC_OVERRIDE counts only for files whose owner and group are
       mapped into our namespace. */
    fd = open("/etc/shadow", O_RDONLY);
    printf("child: open(\"/etc/shadow\"): %s\n", result(fd == -1 ? -1 : 0));
    if (fd != -1)
        close(fd);

    /* A UTS namespace we create belongs to our user namespace, where our
       CAP_SYS_ADMIN counts. */
    if (unshare(CLONE_NEWUTS) == -1)
        errExit("unshare(CLONE_NEWUTS)");
    ret = sethostname(CHILD_HOSTNAME, strlen(CHILD_HOSTNAME));
    if (ret == 0 && uname(&uts) == -1)
        errExit("uname");
    printf("child: unshare(CLONE_NEWUTS) + sethostname(\"%s\"): %s", CHILD_HOSTNAME, result(ret));
    if (ret == 0)
        printf(", uts.nodename is now %s", uts.nodename);
    printf("\n");

    /* Stay alive while the parent reads our /proc/PID/status, even with
       -H 0: wait until it closes its end. */
    ready(a->ready_w);
    close(a->ready_w);
    while (read(a->release_r, &c, 1) > 0)
        ;
    close(a->release_r);
    sleep(a->hold);
    return 0;
}

/* Write a string to /proc/PID/FILE and say so. */
static void
write_proc(pid_t pid, const char *file, const char *text, const char *hint)
{
    char path[64];
    int fd;
    size_t len = strlen(text);

    snprintf(path, sizeof(path), "/proc/%ld/%s", (long) pid, file);
    fd = open(path, O_WRONLY);
    if (fd == -1 || write(fd, text, len) != (ssize_t) len) {
        fprintf(stderr, "userns_child: write %s: %s (%s)\n", path, strerror(errno), hint);
        kill(pid, SIGKILL);
        exit(EXIT_FAILURE);
    }
    close(fd);
    printf("parent: wrote \"%s\" to %s\n", text, path);
}

/* Print one line of /proc/PID/status ("Uid:" etc.), as the host sees it. */
static void
print_status_line(pid_t pid, const char *key)
{
    char path[64], line[256];
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%ld/status", (long) pid);
    f = fopen(path, "r");
    if (f == NULL)
        errExit("open /proc/PID/status");
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, key, strlen(key)) == 0) {
            /* tabs to single spaces */
            for (char *p = line; *p != '\0'; p++)
                if (*p == '\t')
                    *p = ' ';
            printf("parent: the host's view, %s: %s", path, line);
        }
    fclose(f);
}

/* Which switch keeps us from creating user namespaces (read from
   /proc/sys): the fix to print after clone failed. */
static const char *
userns_hint(void)
{
    char v[32];
    FILE *f;

    if ((f = fopen("/proc/sys/user/max_user_namespaces", "r")) != NULL) {
        if (fgets(v, sizeof(v), f) != NULL && atoi(v) == 0) {
            fclose(f);
            return "user.max_user_namespaces is 0: as root, sysctl -w user.max_user_namespaces=15000";
        }
        fclose(f);
    }
    if ((f = fopen("/proc/sys/kernel/unprivileged_userns_clone", "r")) != NULL) {
        if (fgets(v, sizeof(v), f) != NULL && atoi(v) == 0) {
            fclose(f);
            return "kernel.unprivileged_userns_clone is 0: as root, sysctl -w kernel.unprivileged_userns_clone=1";
        }
        fclose(f);
    }
    if ((f = fopen("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "r")) != NULL) {
        if (fgets(v, sizeof(v), f) != NULL && atoi(v) != 0) {
            fclose(f);
            return "kernel.apparmor_restrict_unprivileged_userns is 1: as root, sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or give the program an AppArmor profile with 'userns,'";
        }
        fclose(f);
    }
    return "user namespaces are refused here: check user.max_user_namespaces, kernel.unprivileged_userns_clone and kernel.apparmor_restrict_unprivileged_userns";
}

static void
usage(const char *prog)
{
    fprintf(stderr, "Usage: %s [-m HOST-UID] [-H SECONDS]\n", prog);
    exit(EXIT_FAILURE);
}

int
main(int argc, char *argv[])
{
    struct child_args args = { .hold = 0 };
    int ready_p[2], release_p[2], opt;
    long map_to = -1;
    long uid = (long) geteuid(), gid = (long) getegid();
    char *stack, map[64], ns_parent[64], ns_child[64], path[64], c;
    pid_t child_pid;
    ssize_t n;

    while ((opt = getopt(argc, argv, "+m:H:")) != -1) {
        switch (opt) {
        case 'm': map_to = strtol(optarg, NULL, 10); break;
        case 'H': args.hold = atoi(optarg); break;
        default: usage(argv[0]);
        }
    }
    if (optind != argc)
        usage(argv[0]);
    if (map_to < 0)
        map_to = (uid == 0) ? ROOT_MAP_TO : uid;
    if (uid != 0 && map_to != uid) {
        fprintf(stderr, "%s: only root may map to another uid than its own (%ld)\n", argv[0], uid);
        exit(EXIT_FAILURE);
    }

    /* Line-buffer stdout: parent and child share it, and when it is a pipe
       stdio would keep each one's lines in its own buffer. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* Root's supplementary groups (gid 0) would go with the child, and
       with setgroups denied it could never drop them: drop them here. */
    if (uid == 0 && setgroups(0, NULL) == -1)
        errExit("setgroups");

    if (pipe(ready_p) == -1 || pipe(release_p) == -1)
        errExit("pipe");
    args.ready_r = ready_p[0];
    args.ready_w = ready_p[1];
    args.release_r = release_p[0];
    args.release_w = release_p[1];
    args.parent = getpid();

    stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
        errExit("mmap");

    child_pid = clone(childFunc, stack + STACK_SIZE, CLONE_NEWUSER | SIGCHLD, &args);
    if (child_pid == -1) {
        fprintf(stderr, "%s: clone(CLONE_NEWUSER): %s (%s)\n", argv[0], strerror(errno), userns_hint());
        exit(EXIT_FAILURE);
    }
    printf("PID of child created by clone() is %ld\n", (long) child_pid);
    munmap(stack, STACK_SIZE);
    close(ready_p[1]);              /* the child has its own copies */
    close(release_p[0]);

    /* Wait for the child's first lines. */
    if (read(ready_p[0], &c, 1) != 1) {
        waitpid(child_pid, NULL, 0);
        fprintf(stderr, "%s: the child failed before it was ready\n", argv[0]);
        exit(EXIT_FAILURE);
    }

    /* Like `readlink /proc/$$/ns/user`: the child's user namespace is new. */
    snprintf(path, sizeof(path), "/proc/%ld/ns/user", (long) child_pid);
    n = readlink("/proc/self/ns/user", ns_parent, sizeof(ns_parent) - 1);
    ns_parent[n < 0 ? 0 : n] = '\0';
    n = readlink(path, ns_child, sizeof(ns_child) - 1);
    ns_child[n < 0 ? 0 : n] = '\0';
    printf("parent: user namespace: parent %s, child %s\n", ns_parent, ns_child);

    /* setgroups first: an unprivileged process may write gid_map only
       once setgroups(2) is denied in the namespace (else the child could
       drop a group that a file's permissions deny it). Each map can be
       written once. "0 HOST 1": inside uid 0 is host uid HOST, 1 id long. */
    write_proc(child_pid, "setgroups", "deny", "kernel older than 3.19?");
    snprintf(map, sizeof(map), "0 %ld 1", uid == 0 ? map_to : gid);
    write_proc(child_pid, "gid_map", map,
               "an unprivileged process may only map its own gid, after setgroups=deny");
    snprintf(map, sizeof(map), "0 %ld 1", map_to);
    write_proc(child_pid, "uid_map", map, "an unprivileged process may only map its own uid");
    if (write(release_p[1], "1", 1) != 1)   /* go on, child */
        errExit("write to child");

    /* Wait until the child has tried everything, then look at it. */
    if (read(ready_p[0], &c, 1) == 1) {
        print_status_line(child_pid, "Uid:");
        print_status_line(child_pid, "Gid:");
    }
    close(release_p[1]);            /* the child may now hold, then exit */

    if (waitpid(child_pid, NULL, 0) == -1)
        errExit("waitpid");
    printf("child has terminated\n");
    exit(EXIT_SUCCESS);
}
