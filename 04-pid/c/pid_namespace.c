/* pid_namespace.c - the C counterpart of 04-pid (main.go, pid1.go, ns.go,
   procs.go), after the classic "namespace N" example.

   The default demo clones PID 1 of a new PID namespace (CLONE_NEWPID, and
   CLONE_NEWNS so that it can mount its own /proc without touching the
   host's), which forks N children, lists the processes as `ps -el` does
   and exits, taking the children along. Three more demos show what makes
   PID 1 special: it adopts and must reap orphans (orphans), the kernel
   drops the signals it has no handler for (signals), and PID namespaces
   nest (nested).

   Build: gcc -O2 -Wall -Wextra -Werror -o pid_namespace pid_namespace.c -lrt
   Usage: pid_namespace [-hold SECONDS] [N | orphans | signals | nested]  (root) */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STACK_SIZE (1024 * 1024)
#define MAX_CHILDREN 100
#define MAX_PIDS 4096

static const char *prog = "pid_namespace";

#define errExit(msg) do { fprintf(stderr, "%s: %s: %s\n", prog, msg, strerror(errno)); \
                          exit(EXIT_FAILURE); } while (0)
#define fatal(...) do { fprintf(stderr, "%s: ", prog); fprintf(stderr, __VA_ARGS__); \
                        fprintf(stderr, "\n"); exit(EXIT_FAILURE); } while (0)

/* What PID 1 of a new namespace gets from the host (or, for level 2 of the
   nested demo, from level 1). */
struct init_args {
    const char *demo;       /* children, orphans, signals, nested, level2 */
    const char *arg;        /* N, or the signals round */
    pid_t parent_pid;       /* for mount_proc's check */
    int ready_fd;           /* write one byte: "I have printed my part" */
    int release_fd;         /* read until EOF: "you may go on" */
    int close_fds[4];       /* the parent's descriptors to close, -1 ends */
};

static volatile pid_t init_pid;         /* the host's child, for the handler */

/* --- helpers ------------------------------------------------------------- */

static void msleep(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static int read_byte(int fd)            /* 1: got a byte; 0: EOF */
{
    char c;
    ssize_t n;
    do
        n = read(fd, &c, 1);
    while (n == -1 && errno == EINTR);
    return n == 1;
}

static void wait_eof(int fd)
{
    char buf[64];
    ssize_t n;
    do
        n = read(fd, buf, sizeof(buf));
    while (n > 0 || (n == -1 && errno == EINTR));
}

static void tell(int fd)
{
    if (write(fd, "1", 1) != 1)
        errExit("write to parent's pipe");
}

/* fork() after flushing stdout, so no buffered line is printed twice. */
static pid_t xfork(void)
{
    pid_t pid;
    fflush(stdout);
    pid = fork();
    if (pid == -1)
        errExit("fork");
    return pid;
}

/* reap is waitpid(-1, &status, 0): PID 1 must also reap the children it
   never started (orphans re-parented to it). */
static pid_t reap(int *status)
{
    pid_t pid;
    do
        pid = waitpid(-1, status, 0);
    while (pid == -1 && errno == EINTR);
    return pid;
}

static const char *status_text(int status)
{
    static char buf[64];
    if (WIFSIGNALED(status))
        snprintf(buf, sizeof(buf), "killed by SIG%s", sigabbrev_np(WTERMSIG(status)));
    else
        snprintf(buf, sizeof(buf), "exit status %d", WEXITSTATUS(status));
    return buf;
}

static const char *err_text(int ret)    /* a system call's result, as "0" or "-1 (EPERM)" */
{
    static char buf[64];
    if (ret == 0)
        return "0";
    snprintf(buf, sizeof(buf), "-1 (%s)", strerrorname_np(errno));
    return buf;
}

/* --- reading /proc, as ps does ---------------------------------------------
   A proc filesystem shows the PID namespace of whoever mounted it. */

/* status_field copies one field of /proc/PID/status (pid 0: self), e.g.
   "NSpid" or "SigCgt", into buf with its blanks squeezed; "" if none. */
static char *status_field(pid_t pid, const char *key, char *buf, size_t size)
{
    char path[64], line[1024];
    size_t klen = strlen(key), n = 0;
    FILE *f;

    buf[0] = '\0';
    if (pid == 0)
        snprintf(path, sizeof(path), "/proc/self/status");
    else
        snprintf(path, sizeof(path), "/proc/%ld/status", (long) pid);
    f = fopen(path, "r");
    if (f == NULL)
        return buf;
    while (fgets(line, sizeof(line), f) != NULL) {
        char *p, *tok;
        if (strncmp(line, key, klen) != 0 || line[klen] != ':')
            continue;
        p = line + klen + 1;
        while ((tok = strtok(p, " \t\n")) != NULL) {
            p = NULL;
            n += snprintf(buf + n, size - n, "%s%s", n > 0 ? " " : "", tok);
            if (n >= size)
                break;
        }
        break;
    }
    fclose(f);
    return buf;
}

struct proc {
    pid_t pid, ppid;
    char state;
    unsigned long flags;
    int uid;
    char tids[64];
    char cmd[64];
};

static int cmp_int(const void *a, const void *b)
{
    return *(const int *) a - *(const int *) b;
}

/* read_pids lists the numeric entries of dir (/proc or /proc/PID/task). */
static int read_pids(const char *dir, int *pids, int max)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL && n < max) {
        char *end;
        long v = strtol(e->d_name, &end, 10);
        if (*end == '\0' && v > 0)
            pids[n++] = v;
    }
    closedir(d);
    qsort(pids, n, sizeof(int), cmp_int);
    return n;
}

/* ranges writes 1 2 3 4 7 as "1-4,7". */
static void ranges(const int *ids, int n, char *buf, size_t size)
{
    size_t len = 0;
    int i = 0;
    buf[0] = '\0';
    while (i < n && len < size) {
        int j = i;
        while (j + 1 < n && ids[j + 1] == ids[j] + 1)
            j++;
        if (j == i)
            len += snprintf(buf + len, size - len, "%s%d", len ? "," : "", ids[i]);
        else
            len += snprintf(buf + len, size - len, "%s%d-%d", len ? "," : "", ids[i], ids[j]);
        i = j + 1;
    }
}

static int read_proc(pid_t pid, struct proc *p)
{
    char path[64], buf[1024], comm[32], uid[32];
    char *open, *close;
    int tids[256], ntids;
    FILE *f;
    size_t n;

    memset(p, 0, sizeof(*p));
    p->pid = pid;
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long) pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* "pid (comm) S ppid pgrp session tty tpgid flags ...": comm may hold
       blanks and parentheses, so parse after the last ')'. */
    open = strchr(buf, '(');
    close = strrchr(buf, ')');
    if (open == NULL || close == NULL || close < open)
        return -1;
    snprintf(comm, sizeof(comm), "%.*s", (int) (close - open - 1), open + 1);
    if (sscanf(close + 2, "%c %d %*d %*d %*d %*d %lu", &p->state, &p->ppid, &p->flags) != 3)
        return -1;
    p->uid = atoi(status_field(pid, "Uid", uid, sizeof(uid)));

    snprintf(path, sizeof(path), "/proc/%ld/task", (long) pid);
    ntids = read_pids(path, tids, 256);
    ranges(tids, ntids, p->tids, sizeof(p->tids));

    snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long) pid);
    f = fopen(path, "r");
    n = f ? fread(p->cmd, 1, sizeof(p->cmd) - 1, f) : 0;
    if (f)
        fclose(f);
    while (n > 0 && p->cmd[n - 1] == '\0')
        n--;
    p->cmd[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (p->cmd[i] == '\0')
            p->cmd[i] = ' ';
    if (n == 0)                         /* a zombie has no command line left */
        snprintf(p->cmd, sizeof(p->cmd), "[%s]", comm);
    if (p->state == 'Z')
        strncat(p->cmd, " <defunct>", sizeof(p->cmd) - strlen(p->cmd) - 1);
    return 0;
}

/* print_ps prints /proc like `ps -el`, with the columns that matter here.
   TIDS is not in ps -el: every thread takes a number from the same counter
   as PIDs (C processes here have one thread; Go ones have several). */
static void print_ps(void)
{
    int pids[MAX_PIDS], n = read_pids("/proc", pids, MAX_PIDS);
    struct proc p;

    printf("F S   UID   PID  PPID TIDS     CMD\n");
    for (int i = 0; i < n; i++) {
        if (read_proc(pids[i], &p) == -1)
            continue;                   /* it may just have gone */
        if (strlen(p.cmd) > 48)
            strcpy(p.cmd + 45, "...");
        printf("%lx %c %5d %5d %5d %-8s %s\n", (p.flags >> 6) & 5, p.state, p.uid,
               (int) p.pid, (int) p.ppid, p.tids, p.cmd);
    }
}

static int state_of(pid_t pid, char *buf, size_t size)   /* 1: alive */
{
    struct proc p;
    if (read_proc(pid, &p) == -1) {
        snprintf(buf, size, "gone");
        return 0;
    }
    if (p.state == 'Z') {
        snprintf(buf, size, "a zombie");
        return 0;
    }
    snprintf(buf, size, "running (state %c)", p.state);
    return 1;
}

/* pending says which signals wait to be delivered to pid: SigPnd (for the
   thread) and ShdPnd (for the process). A dropped signal is not there; a
   merely blocked one would be. */
static const char *pending(pid_t pid)
{
    static char out[48];
    char buf[32];
    unsigned long bits = strtoul(status_field(pid, "SigPnd", buf, sizeof(buf)), NULL, 16);
    bits |= strtoul(status_field(pid, "ShdPnd", buf, sizeof(buf)), NULL, 16);
    if (bits == 0)
        return "nothing pending";
    snprintf(out, sizeof(out), "pending: %016lx", bits);
    return out;
}

static unsigned long ns_inode(pid_t pid, const char *name)  /* 0: none */
{
    char path[64];
    struct stat st;
    if (pid == 0)
        snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
    else
        snprintf(path, sizeof(path), "/proc/%ld/ns/%s", (long) pid, name);
    return stat(path, &st) == 0 ? st.st_ino : 0;
}

/* procs_in_ns lists, by host PID, the processes in PID namespace ino. */
static int procs_in_ns(unsigned long ino, int *out, int max)
{
    int pids[MAX_PIDS], n = read_pids("/proc", pids, MAX_PIDS), k = 0;
    char state[32];
    for (int i = 0; i < n && k < max; i++)
        if (ns_inode(pids[i], "pid") == ino && state_of(pids[i], state, sizeof(state)))
            out[k++] = pids[i];
    return k;
}

static int children_of(pid_t ppid, int *out, int max)
{
    int pids[MAX_PIDS], n = read_pids("/proc", pids, MAX_PIDS), k = 0;
    struct proc p;
    for (int i = 0; i < n && k < max; i++)
        if (read_proc(pids[i], &p) == 0 && p.ppid == ppid)
            out[k++] = pids[i];
    return k;
}

static const char *pid_list(const int *pids, int n)
{
    static char buf[512];
    size_t len = 0;
    if (n == 0)
        return "none";
    len += snprintf(buf, sizeof(buf), "[");
    for (int i = 0; i < n && len < sizeof(buf); i++)
        len += snprintf(buf + len, sizeof(buf) - len, "%s%d", i ? " " : "", pids[i]);
    if (len < sizeof(buf))
        snprintf(buf + len, sizeof(buf) - len, "]");
    return buf;
}

/* mount_proc: a fresh /proc, in our own mount namespace only. Refuse if we
   share the mount namespace of parent (CLONE_NEWNS missing). */
static void mount_proc(pid_t parent)
{
    if (ns_inode(parent, "mnt") == ns_inode(0, "mnt"))
        fatal("refusing to mount /proc: this process shares its mount namespace with %ld",
              (long) parent);
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == -1)
        errExit("mount -t proc proc /proc");
}

/* --- inside: the children demo (the seed's fork_child) --------------------- */

static int fork_children(struct init_args *a)
{
    int n = atoi(a->arg);
    for (int i = 0; i < n; i++) {
        int p[2];
        pid_t pid;
        if (pipe(p) == -1)
            errExit("pipe");
        pid = xfork();
        if (pid == 0) {                 /* the child: print, say so, sleep */
            close(p[0]);
            close(a->ready_fd);
            close(a->release_fd);
            printf("  child: getpid() = %ld, getppid() = %ld\n", (long) getpid(), (long) getppid());
            tell(p[1]);
            for (;;)
                pause();                /* until PID 1's exit takes us along */
        }
        close(p[1]);
        if (!read_byte(p[0]))
            fatal("child %ld failed before it was ready", (long) pid);
        close(p[0]);
        printf("pid of my child is %ld\n", (long) pid);
    }

    /* The seed execs `ps -el` here; we read the new /proc ourselves. */
    printf("The new /proc, as PID 1 reads it (ps -el reads the same files):\n");
    print_ps();
    printf("(PIDs and thread IDs (TIDS) are numbers from one counter: every thread takes one)\n");

    tell(a->ready_fd);
    wait_eof(a->release_fd);
    return 0;                           /* exit: the kernel kills the children */
}

/* --- inside: orphans ------------------------------------------------------- */

static int adopt_orphan(struct init_args *a)
{
    int gate[2], status, kids[8], nkids;
    pid_t pid, orphan;
    siginfo_t si;

    if (pipe(gate) == -1)               /* closing gate[1]: the orphan may exit */
        errExit("pipe");
    if (xfork() == 0) {                 /* the orphaner */
        int r[2];
        close(gate[1]);
        close(a->ready_fd);
        close(a->release_fd);
        printf("  orphaner: getpid() = %ld; starting a child\n", (long) getpid());
        if (pipe(r) == -1)
            errExit("pipe");
        pid = xfork();
        if (pid == 0) {                 /* the orphan */
            close(r[0]);
            printf("  orphan: getpid() = %ld, getppid() = %ld\n", (long) getpid(), (long) getppid());
            tell(r[1]);
            close(r[1]);
            wait_eof(gate[0]);
            printf("  orphan: getppid() = %ld now; exiting\n", (long) getppid());
            exit(EXIT_SUCCESS);
        }
        close(r[1]);
        if (!read_byte(r[0]))
            fatal("the orphan failed before it was ready");
        printf("  orphaner: exiting without waiting for my child %ld\n", (long) pid);
        exit(EXIT_SUCCESS);
    }
    close(gate[0]);

    pid = reap(&status);                /* the orphaner */
    if (pid == -1)
        errExit("waitpid");
    printf("PID 1: reaped %ld, my own child (%s)\n", (long) pid, status_text(status));

    nkids = children_of(1, kids, 8);
    printf("PID 1: my children now (PPid 1 in /proc): %s; the orphan was re-parented to me\n",
           pid_list(kids, nkids));
    if (nkids != 1)
        fatal("expected the orphan as my only child");
    orphan = kids[0];

    close(gate[1]);
    /* WNOWAIT: return once it has exited, but leave it unreaped. */
    while (waitid(P_PID, orphan, &si, WEXITED | WNOWAIT) == -1)
        if (errno != EINTR)
            errExit("waitid");
    printf("PID 1: %ld has exited; it is a zombie (Z) until its parent, me, waits for it:\n",
           (long) orphan);
    print_ps();

    pid = reap(&status);
    if (pid == -1)
        errExit("waitpid");
    printf("PID 1: reaped %ld, an orphan I never started (%s)\n", (long) pid, status_text(status));
    if (waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD)
        printf("PID 1: wait4(-1) fails with ECHILD: no child left, no zombie. The new /proc:\n");
    print_ps();

    tell(a->ready_fd);
    wait_eof(a->release_fd);
    return 0;
}

/* --- inside: signals ------------------------------------------------------- */

/* What Go's runtime does with a signal nobody asked for with signal.Notify
   (runtime.dieFromSignal): try to die of it by the default action, and if
   we are still alive, exit(2). For PID 1 the raise is dropped. */
static void die_from_signal(int sig)
{
    signal(sig, SIG_DFL);
    raise(sig);
    _exit(2);
}

/* signaller signals PID 1 from inside its namespace. */
static void signaller(const char *round, int ready_fd, int release_fd, int pid1_fd)
{
    char comm[32] = "", mask[32], state[32];
    int sigs[] = { SIGTERM, SIGKILL };
    unsigned long bits;
    FILE *f;

    wait_eof(pid1_fd);                  /* PID 1 is ready */
    f = fopen("/proc/1/comm", "r");
    if (f != NULL) {
        if (fgets(comm, sizeof(comm), f) != NULL)
            comm[strcspn(comm, "\n")] = '\0';
        fclose(f);
    }
    status_field(1, "SigCgt", mask, sizeof(mask));
    bits = strtoul(mask, NULL, 16);
    printf("  signaller (pid %ld): PID 1 is \"%s\"; SigCgt: %s: it has %s\n", (long) getpid(),
           comm, mask, bits & (1UL << (SIGTERM - 1)) ? "a handler for SIGTERM" : "no handler for SIGTERM");
    tell(ready_fd);
    wait_eof(release_fd);               /* the host's -hold */

    if (strcmp(round, "handler") == 0) {
        printf("  signaller: kill(1, SIGTERM)\n");
        kill(1, SIGTERM);
        for (;;)
            pause();                    /* until PID 1's end takes us along */
    }
    for (int i = 0; i < 2; i++) {
        int ret = kill(1, sigs[i]);
        msleep(100);
        state_of(1, state, sizeof(state));
        printf("  signaller: kill(1, SIG%s) = %s; 100 ms later PID 1 is %s, %s\n",
               sigabbrev_np(sigs[i]), err_text(ret), state, pending(1));
    }
    tell(ready_fd);
    for (;;)
        pause();
}

static int signal_target(struct init_args *a)
{
    int pid1[2];

    if (pipe(pid1) == -1)               /* EOF on it: PID 1 is ready */
        errExit("pipe");
    if (xfork() == 0) {
        close(pid1[1]);
        signaller(a->arg, a->ready_fd, a->release_fd, pid1[0]);
    }
    close(pid1[0]);
    close(a->ready_fd);                 /* the signaller has its own copies */
    close(a->release_fd);

    if (strcmp(a->arg, "handler") == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = die_from_signal;
        if (sigaction(SIGTERM, &sa, NULL) == -1)
            errExit("sigaction");
        printf("PID 1: installing a handler for SIGTERM that does what Go's runtime does\n");
    } else {
        printf("PID 1: no handler for SIGTERM (SIG_DFL), like most C programs\n");
    }
    close(pid1[1]);                     /* the signaller's cue */
    /* The signaller never ends by itself; if it is killed, round 1 goes
       on sleeping like Go's `sleep`, round 2 ends like Go's reapAll. */
    for (;;)
        if (reap(NULL) == -1 && errno == ECHILD) {
            if (strcmp(a->arg, "handler") == 0)
                return 0;
            pause();
        }
}

/* --- inside: nested -------------------------------------------------------- */

static int childFunc(void *arg);

static int nest_level2(struct init_args *a)
{
    struct init_args a2 = { .demo = "level2", .arg = "", .parent_pid = 1 };
    int r[2], rel[2], status;
    char nspid[64], *stack;
    pid_t pid;

    if (pipe(r) == -1 || pipe(rel) == -1)
        errExit("pipe");
    a2.ready_fd = r[1];
    a2.release_fd = rel[0];
    /* Level 2 closes our ends and our pipes to the host. */
    a2.close_fds[0] = r[0];
    a2.close_fds[1] = rel[1];
    a2.close_fds[2] = a->ready_fd;
    a2.close_fds[3] = a->release_fd;
    stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
        errExit("mmap");
    fflush(stdout);
    /* The same clone flags the host used for us; parent_pid 1 is our PID
       as the /proc level 2 starts with (ours) numbers us. */
    pid = clone(childFunc, stack + STACK_SIZE, CLONE_NEWPID | CLONE_NEWNS | SIGCHLD, &a2);
    if (pid == -1)
        errExit("clone(CLONE_NEWPID|CLONE_NEWNS) inside");
    close(r[1]);
    close(rel[0]);
    if (!read_byte(r[0]))
        fatal("the level-2 init failed before it was ready");
    printf("level 1: the level-2 init is my child %ld; /proc/%ld/status NSpid: %s\n",
           (long) pid, (long) pid, status_field(pid, "NSpid", nspid, sizeof(nspid)));

    tell(a->ready_fd);
    wait_eof(a->release_fd);
    close(rel[1]);
    while (reap(&status) != -1)
        ;
    return 0;
}

static int level2(struct init_args *a)
{
    char nspid[64];
    printf("  level 2: my pid is %ld; /proc/self/status NSpid: %s\n", (long) getpid(),
           status_field(0, "NSpid", nspid, sizeof(nspid)));
    tell(a->ready_fd);
    wait_eof(a->release_fd);
    return 0;
}

/* --- PID 1 --------------------------------------------------------------- */

/* childFunc is PID 1 of the new PID namespace, in a new mount namespace. */
static int childFunc(void *arg)
{
    struct init_args *a = arg;
    sigset_t none;

    prctl(PR_SET_PDEATHSIG, SIGKILL);   /* the host's parent dies: so do we */
    /* getppid() is 0 in a new PID namespace, so the usual "has the parent
       already died?" check after prctl cannot work here. */

    /* clone() without exec keeps the parent's signal handlers: drop them.
       SIGTERM must be SIG_DFL (the signals demo); Ctrl-C is the parent's
       business; a closed stdout is no reason to die. */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    /* And its signal mask: the parent blocks SIGTERM around clone(). A
       blocked signal is never dropped, only kept pending. */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int i = 0; i < 4; i++)         /* the parent's ends of our pipes */
        if (a->close_fds[i] >= 0)
            close(a->close_fds[i]);

    if (strcmp(a->demo, "level2") != 0)
        printf("In the container, my pid is: %ld\n", (long) getpid());

    /* ps reads /proc, which shows the PID namespace of whoever mounted it:
       mount a fresh one. First make every mount private (mount
       --make-rprivate /): on a systemd host / is shared, and the mount
       would replace the host's /proc (the seed's bug). */
    if (mount("", "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
        errExit("mount --make-rprivate /");
    mount_proc(a->parent_pid);

    if (strcmp(a->demo, "children") == 0)
        return fork_children(a);
    if (strcmp(a->demo, "orphans") == 0)
        return adopt_orphan(a);
    if (strcmp(a->demo, "signals") == 0)
        return signal_target(a);
    if (strcmp(a->demo, "nested") == 0)
        return nest_level2(a);
    return level2(a);
}

/* --- the host's side --------------------------------------------------------- */

/* pin_ns opens /proc/PID/ns/pid into *fd and returns its inode. The open
   file keeps the namespace (not its processes) in existence, so that its
   inode number is not given to a new namespace before we have checked that
   nothing is left in it: the kernel reuses them at once. */
static unsigned long pin_ns(pid_t pid, int *fd)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof(path), "/proc/%ld/ns/pid", (long) pid);
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd == -1 || fstat(*fd, &st) == -1)
        return 0;                       /* gone already: finish says how */
    return st.st_ino;
}

struct pidns {
    pid_t pid;                          /* PID 1 of the namespace, on the host */
    unsigned long ino;                  /* its PID namespace */
    int pin;                            /* /proc/pid/ns/pid, open (pin_ns) */
    int ready, release;                 /* our pipe ends */
    int status;
};

static void handler(int sig)
{
    if (init_pid > 0) {                 /* kill PID 1: the kernel kills the rest */
        kill(init_pid, SIGKILL);
        waitpid(init_pid, NULL, 0);
    }
    _exit(128 + sig);
}

static void start_init(struct pidns *ns, const char *demo, const char *arg)
{
    static struct init_args a;          /* the child gets a copy of our memory */
    int r[2], rel[2];
    sigset_t block, old;
    char *stack;

    if (pipe(r) == -1 || pipe(rel) == -1)
        errExit("pipe");
    a = (struct init_args) { .demo = demo, .arg = arg, .parent_pid = getpid(),
                             .ready_fd = r[1], .release_fd = rel[0],
                             .close_fds = { r[0], rel[1], -1, -1 } };
    stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
        errExit("mmap");

    /* Block the handler's signals so that "cloned" and "init_pid set" are
       one step as far as the handler can tell. */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &old);
    fflush(stdout);
    ns->pid = clone(childFunc, stack + STACK_SIZE, CLONE_NEWPID | CLONE_NEWNS | SIGCHLD, &a);
    if (ns->pid == -1)
        errExit("clone(CLONE_NEWPID|CLONE_NEWNS)");
    init_pid = ns->pid;
    sigprocmask(SIG_SETMASK, &old, NULL);

    close(r[1]);
    close(rel[0]);
    ns->ready = r[0];
    ns->release = rel[1];
    ns->ino = pin_ns(ns->pid, &ns->pin);
    printf("cpid: %ld\n", (long) ns->pid);
}

static void must_be_ready(struct pidns *ns)
{
    if (!read_byte(ns->ready)) {
        int status;
        waitpid(ns->pid, &status, 0);
        init_pid = 0;
        fatal("PID 1 of the new namespace failed (%s)", status_text(status));
    }
}

/* hold keeps the namespace as it is for -hold seconds, or until PID 1 dies. */
static void hold(struct pidns *ns, int secs, const char *try)
{
    siginfo_t si;
    if (secs <= 0)
        return;
    printf("holding %ds; from another shell, try: %s\n", secs, try);
    for (int ms = 0; ms < secs * 1000; ms += 20) {
        si.si_pid = 0;
        if (waitid(P_PID, ns->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid != 0)
            return;
        msleep(20);
    }
}

/* finish lets PID 1 go on, waits for it and checks that nothing of its
   namespace is left. */
static int finish(struct pidns *ns)
{
    int left[64], nleft;
    const char *how;

    close(ns->release);
    if (waitpid(ns->pid, &ns->status, 0) == -1)
        errExit("waitpid");
    init_pid = 0;
    close(ns->ready);
    nleft = procs_in_ns(ns->ino, left, 64);
    if (ns->pin >= 0)
        close(ns->pin);
    how = status_text(ns->status);
    printf("PID 1 (%ld) %s%s; processes left in its namespace pid:[%lu]: %s\n", (long) ns->pid,
           WIFSIGNALED(ns->status) ? "was " : "exited with ",
           WIFSIGNALED(ns->status) ? how : how + strlen("exit "), ns->ino, pid_list(left, nleft));
    if (nleft > 0)
        fatal("processes outlived PID 1 of their namespace");
    return ns->status;
}

static void host_view(unsigned long ino)
{
    int pids[MAX_PIDS], n = procs_in_ns(ino, pids, MAX_PIDS);
    char nspid[64];
    printf("Seen from the host (NSpid in /proc/PID/status: the PID outside, then inside):\n");
    for (int i = 0; i < n; i++)
        printf("  PID %-7d NSpid: %s\n", pids[i], status_field(pids[i], "NSpid", nspid, sizeof(nspid)));
}

static void run_children(const char *n, int secs)
{
    struct pidns ns;
    char try[128];

    start_init(&ns, "children", n);
    must_be_ready(&ns);
    host_view(ns.ino);
    snprintf(try, sizeof(try), "nsenter -t %ld -p -m ps -el; lsns -t pid", (long) ns.pid);
    hold(&ns, secs, try);
    printf("PID 1 exits now; the kernel kills every other process in its namespace.\n");
    if (finish(&ns) != 0)
        fatal("PID 1 failed");
}

static void run_orphans(int secs)
{
    struct pidns ns;
    int kids[64], nkids, zombies[64], nz = 0;
    char try[128], state[32];

    start_init(&ns, "orphans", "");
    must_be_ready(&ns);
    host_view(ns.ino);
    nkids = children_of(ns.pid, kids, 64);
    for (int i = 0; i < nkids; i++)
        if (!state_of(kids[i], state, sizeof(state)) && strcmp(state, "a zombie") == 0)
            zombies[nz++] = kids[i];
    printf("Zombies among PID 1's children, seen from the host: %s\n", pid_list(zombies, nz));
    snprintf(try, sizeof(try), "nsenter -t %ld -p -m ps -el; lsns -t pid", (long) ns.pid);
    hold(&ns, secs, try);
    if (finish(&ns) != 0)
        fatal("PID 1 failed");
}

static void run_signals(int secs)
{
    struct pidns ns;
    char try[160], state[32];

    printf("Round 1: PID 1 has no handler for SIGTERM\n");
    start_init(&ns, "signals", "nohandler");
    if (read_byte(ns.ready)) {          /* the signaller has looked at PID 1 */
        snprintf(try, sizeof(try), "nsenter -t %ld -p kill -TERM 1 (or -KILL); kill -TERM %ld; kill -KILL %ld",
                 (long) ns.pid, (long) ns.pid, (long) ns.pid);
        hold(&ns, secs, try);
        close(ns.release);
        ns.release = -1;
        if (read_byte(ns.ready)) {      /* the signaller has sent its signals */
            int ret = kill(ns.pid, SIGTERM);
            msleep(100);
            state_of(ns.pid, state, sizeof(state));
            printf("host: kill(%ld, SIGTERM) = %s; 100 ms later PID 1 is %s, %s\n",
                   (long) ns.pid, err_text(ret), state, pending(ns.pid));
            printf("host: kill(%ld, SIGKILL)\n", (long) ns.pid);
        }
    }
    /* SIGKILL from an ancestor namespace: the one signal PID 1 cannot
       refuse. Also the way out if the signaller was killed during -hold.
       PID 1 is our child and not reaped yet: its PID is still its own. */
    kill(ns.pid, SIGKILL);
    if (WIFEXITED(finish(&ns)))
        fatal("PID 1 failed (%s)", status_text(ns.status));

    printf("Round 2: PID 1 has a handler for SIGTERM\n");
    start_init(&ns, "signals", "handler");
    if (read_byte(ns.ready)) {
        snprintf(try, sizeof(try), "nsenter -t %ld -p kill -TERM 1", (long) ns.pid);
        hold(&ns, secs, try);
    }
    if (WIFEXITED(finish(&ns)) && WEXITSTATUS(ns.status) == 2) {
        printf("PID 1's handler ran; it set SIGTERM back to SIG_DFL and raised it again, which the kernel\n");
        printf("drops for PID 1, then called exit(2): what the Go runtime does for a signal nobody Notify'd\n");
    }
}

static void run_nested(int secs)
{
    struct pidns ns;
    int kids[64], nkids, left[64], nleft;
    pid_t l2 = 0;
    unsigned long l2ino;
    int pin;
    char nspid[64], try[192];

    start_init(&ns, "nested", "");
    must_be_ready(&ns);
    nkids = children_of(ns.pid, kids, 64);
    for (int i = 0; i < nkids; i++) {
        unsigned long ino = ns_inode(kids[i], "pid");
        if (ino != 0 && ino != ns.ino)
            l2 = kids[i];
    }
    if (l2 == 0)
        fatal("found no level-2 init among the children of %ld", (long) ns.pid);
    l2ino = pin_ns(l2, &pin);
    printf("host: the level-2 init is %ld; /proc/%ld/status NSpid: %s\n", (long) l2, (long) l2,
           status_field(l2, "NSpid", nspid, sizeof(nspid)));
    printf("PID namespaces: host pid:[%lu] > level 1 pid:[%lu] > level 2 pid:[%lu]\n",
           ns_inode(0, "pid"), ns.ino, l2ino);
    snprintf(try, sizeof(try), "nsenter -t %ld -p -m ps -el; nsenter -t %ld -p -m ps -el; lsns -t pid",
             (long) ns.pid, (long) l2);
    hold(&ns, secs, try);
    if (finish(&ns) != 0)
        fatal("PID 1 failed");
    nleft = procs_in_ns(l2ino, left, 64);
    if (pin >= 0)
        close(pin);
    printf("processes left in level 2's namespace pid:[%lu]: %s\n", l2ino, pid_list(left, nleft));
    if (nleft > 0)
        fatal("processes outlived PID 1 of their namespace");
}

static void usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", prog);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nusage: %s [-hold SECONDS] [N | orphans | signals | nested]\n", prog);
    exit(2);
}

int main(int argc, char *argv[])
{
    const char *demo = "children", *n = "7";
    struct sigaction sa;
    int secs = 0, i = 1;

    prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    if (i < argc && strcmp(argv[i], "-hold") == 0) {
        char *end;
        long v;
        if (i + 1 >= argc)
            usage("option -hold needs a number of seconds%s", "");
        v = strtol(argv[i + 1], &end, 10);
        if (*argv[i + 1] == '\0' || *end != '\0' || v < 0 || v > INT_MAX / 1000)
            usage("bad -hold %s: want a number of seconds", argv[i + 1]);
        secs = v;
        i += 2;
    }
    if (i < argc && argv[i][0] == '-')
        usage("unknown option %s", argv[i]);
    if (i + 1 < argc)
        usage("unexpected argument \"%s\" (options go first)", argv[i + 1]);
    if (i < argc) {
        if (strcmp(argv[i], "orphans") == 0 || strcmp(argv[i], "signals") == 0 ||
            strcmp(argv[i], "nested") == 0) {
            demo = argv[i];
        } else {
            char *end;
            long v = strtol(argv[i], &end, 10);
            if (*argv[i] == '\0' || *end != '\0')
                usage("\"%s\" is neither a number of children nor a demo (orphans, signals, nested)", argv[i]);
            if (v < 1 || v > MAX_CHILDREN)
                usage("number of children must be 1 to 100, got %s", argv[i]);
            n = argv[i];
        }
    }
    if (geteuid() != 0)
        fatal("creating a PID namespace needs root (CAP_SYS_ADMIN): run it as root, e.g. with sudo");

    /* Line-buffered even into a pipe: a line left in the buffer at clone()
       or fork() would be printed twice. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* Ctrl-C, SIGTERM, SIGHUP: kill PID 1 (and so its namespace), reap it,
       exit 128+sig. SIGPIPE ignored: `pid_namespace | head` must not kill
       us before the cleanup. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaddset(&sa.sa_mask, SIGHUP);
    if (sigaction(SIGINT, &sa, NULL) == -1 || sigaction(SIGTERM, &sa, NULL) == -1 ||
        sigaction(SIGHUP, &sa, NULL) == -1)
        errExit("sigaction");
    signal(SIGPIPE, SIG_IGN);

    printf("Out of the container, my pid is: %ld\n", (long) getpid());
    if (strcmp(demo, "children") == 0)
        run_children(n, secs);
    else if (strcmp(demo, "orphans") == 0)
        run_orphans(secs);
    else if (strcmp(demo, "signals") == 0)
        run_signals(secs);
    else
        run_nested(secs);
    exit(EXIT_SUCCESS);
}
