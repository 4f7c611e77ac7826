/* ipc_namespace.c - the C counterpart of 03-ipc/main.go.

   Creates a 1000-byte System V shared memory segment (like `ipcmk -M 1000`)
   and a POSIX message queue, lists them as `ipcs -m` would, then clones a
   child into a new IPC namespace (CLONE_NEWIPC), where the same listing is
   empty. The parent removes both objects on the way out: at exit, and from
   a SIGINT/SIGTERM/SIGHUP handler.

   Build: gcc -O2 -Wall -Wextra -Werror -o ipc_namespace ipc_namespace.c -lrt
   Usage: ipc_namespace [SLEEP-SECONDS]   (how long the child stays; root) */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SHM_SIZE 1000
#define SHM_MODE 0644
#define MQUEUE_MAGIC 0x19800202 /* <linux/magic.h> */
#define STACK_SIZE (1024 * 1024)

#define errExit(msg) do { perror(msg); exit(EXIT_FAILURE); } while (0)

/* What the cleanup must undo. Signal handlers read these, hence volatile. */
static volatile pid_t parent_pid;      /* only the parent removes objects */
static volatile int shmid = -1;        /* -1: no segment */
static volatile int queue_made;        /* 1: the queue exists */
static volatile pid_t child_pid;       /* 0: no child running */
static char queue[NAME_MAX];           /* "/nslab-03-ipc-PID" */

struct child_args {
    int pipe_fd[2];                     /* parent closes [1]: "go ahead" */
    int sleep_secs;
};

/* say() writes a message and an optional number with write(2) only: it is
   called from the signal handler, where printf is not allowed. */
static void say(const char *msg, long n, const char *tail)
{
    char num[24];
    int i = sizeof(num);
    int neg = n < 0;

    if (write(STDOUT_FILENO, msg, strlen(msg)) < 0)
        return;
    if (n != LONG_MIN) {
        unsigned long u = neg ? -(unsigned long) n : (unsigned long) n;
        do {
            num[--i] = '0' + u % 10;
            u /= 10;
        } while (u > 0);
        if (neg)
            num[--i] = '-';
        if (write(STDOUT_FILENO, num + i, sizeof(num) - i) < 0)
            return;
    }
    if (write(STDOUT_FILENO, tail, strlen(tail)) < 0)
        return;
}

/* cleanup kills and reaps the child, unlinks the queue and removes the
   segment. Idempotent, and async-signal-safe (kill, waitpid, mq_unlink and
   shmctl are plain system calls), so atexit() and the handler share it. */
static void cleanup(void)
{
    sigset_t all;

    if (getpid() != parent_pid)         /* a child calling exit() */
        return;
    /* Called from main, it must not be interrupted by the handler calling
       it again. We are exiting: the signals stay blocked. */
    sigemptyset(&all);
    sigaddset(&all, SIGINT);
    sigaddset(&all, SIGTERM);
    sigaddset(&all, SIGHUP);
    sigprocmask(SIG_BLOCK, &all, NULL);
    if (child_pid > 0) {
        kill(child_pid, SIGKILL);
        waitpid(child_pid, NULL, 0);
        child_pid = 0;
    }
    if (queue_made) {
        if (mq_unlink(queue) == -1)
            say("mq_unlink failed", LONG_MIN, "\n");
        else {
            say("Removed POSIX message queue ", LONG_MIN, queue);
            say("", LONG_MIN, "\n");
        }
        queue_made = 0;
    }
    if (shmid >= 0) {
        if (shmctl(shmid, IPC_RMID, NULL) == -1)
            say("shmctl(IPC_RMID) failed for segment ", shmid, "\n");
        else
            say("Removed shared memory segment ", shmid, "\n");
        shmid = -1;
    }
}

static void handler(int sig)
{
    cleanup();
    _exit(128 + sig);
}

/* list_ipc prints what the caller's IPC namespace holds: the segments from
   /proc/sysvipc/shm (which shows the reader's namespace) as `ipcs -m` does,
   whether our queue exists here, and /dev/mqueue if it is an mqueue fs. */
static void list_ipc(const char *who)
{
    char link[64] = "?", line[512];
    ssize_t n;
    FILE *f;
    struct statfs sfs;
    mqd_t q;

    n = readlink("/proc/self/ns/ipc", link, sizeof(link) - 1);
    if (n > 0)
        link[n] = '\0';
    printf("%s: IPC objects in my IPC namespace (%s)\n", who, link);

    printf("------ Shared Memory Segments --------\n");
    printf("key        shmid      owner      perms      bytes      nattch     status\n");
    f = fopen("/proc/sysvipc/shm", "r");
    if (f == NULL)
        errExit("fopen /proc/sysvipc/shm");
    if (fgets(line, sizeof(line), f) == NULL)   /* skip the header */
        line[0] = '\0';
    while (fgets(line, sizeof(line), f) != NULL) {
        int key, id;
        unsigned int perms, uid;
        unsigned long size, nattch;
        int cpid, lpid;
        struct passwd *pw;
        char owner[16];

        if (sscanf(line, "%d %d %o %lu %d %d %lu %u", &key, &id, &perms,
                   &size, &cpid, &lpid, &nattch, &uid) != 8)
            continue;
        pw = getpwuid(uid);
        if (pw != NULL)
            snprintf(owner, sizeof(owner), "%.10s", pw->pw_name);
        else
            snprintf(owner, sizeof(owner), "%u", uid);
        n = snprintf(line, sizeof(line), "0x%08x %-10d %-10s %-10o %-10lu %-10lu %s%s",
                     (unsigned int) key, id, owner, perms & 0777, size, nattch,
                     (perms & SHM_DEST) ? "dest " : "",
                     (perms & SHM_LOCKED) ? "locked" : "");
        while (n > 0 && line[n - 1] == ' ')     /* no trailing blanks */
            line[--n] = '\0';
        printf("%s\n", line);
    }
    fclose(f);
    printf("\n");

    q = mq_open(queue, O_RDONLY);
    if (q == (mqd_t) -1) {
        printf("POSIX message queue %s: not found (%s)\n", queue,
               errno == ENOENT ? "ENOENT" : strerror(errno));
    } else {
        printf("POSIX message queue %s: found\n", queue);
        mq_close(q);
    }

    /* The mqueue filesystem shows the IPC namespace of whoever MOUNTED it,
       not of the reader: in a child that shares our mount namespace it
       still lists the host's queues. */
    if (statfs("/dev/mqueue", &sfs) == 0 && sfs.f_type == MQUEUE_MAGIC) {
        DIR *d = opendir("/dev/mqueue");
        struct dirent *e;

        printf("/dev/mqueue (the IPC namespace of whoever mounted it):");
        while (d != NULL && (e = readdir(d)) != NULL)
            if (e->d_name[0] != '.')
                printf(" /%s", e->d_name);
        printf("\n");
        if (d != NULL)
            closedir(d);
    } else {
        printf("(/dev/mqueue is not a mounted mqueue filesystem: nothing to list there)\n");
    }
}

static int childFunc(void *arg)
{
    struct child_args *args = arg;
    char c;

    /* Ctrl-C (and a closing terminal's SIGHUP) reach the whole process
       group; the parent cleans up and kills us, so ignore them here (we
       inherited a copy of its handler). */
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent_pid)        /* the parent already died */
        _exit(EXIT_FAILURE);

    close(args->pipe_fd[1]);            /* or we would never see EOF */
    while (read(args->pipe_fd[0], &c, 1) > 0)
        ;
    close(args->pipe_fd[0]);

    printf("\n");
    list_ipc("child");
    if (args->sleep_secs > 0) {
        printf("child: staying %ds in my IPC namespace; from another shell try\n",
               args->sleep_secs);
        printf("    nsenter -t %ld -i ipcs -m\n", (long) getpid());
        sleep(args->sleep_secs);
    }
    return 0;                           /* clone's wrapper calls _exit(0) */
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [SLEEP-SECONDS]\n", prog);
    exit(2);
}

int main(int argc, char *argv[])
{
    struct child_args args = { .sleep_secs = 0 };
    struct sigaction sa;
    sigset_t block, old;
    char *stack, path[64], link[2][64];
    key_t key = 0;
    mqd_t q;
    int status, i;

    if (argc > 2)
        usage(argv[0]);
    if (argc == 2) {
        char *end;
        long s = strtol(argv[1], &end, 10);
        if (*argv[1] == '\0' || *end != '\0' || s < 0 || s > INT_MAX)
            usage(argv[0]);
        args.sleep_secs = s;
    }

    /* Line-buffered even into a pipe: a buffer left unflushed at clone()
       would be copied into the child and printed twice. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    parent_pid = getpid();

    /* Undo steps first, then the objects. */
    if (atexit(cleanup) != 0)
        errExit("atexit");
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sa.sa_mask = block;                 /* one handler at a time */
    if (sigaction(SIGINT, &sa, NULL) == -1 || sigaction(SIGTERM, &sa, NULL) == -1 ||
        sigaction(SIGHUP, &sa, NULL) == -1)
        errExit("sigaction");
    /* `ipc_namespace | head -3` closes stdout early: SIGPIPE's default
       action would kill us before any cleanup. Ignored, printf just fails. */
    signal(SIGPIPE, SIG_IGN);

    /* Block the signals while creating, so that "created" and "remembered
       for the cleanup" are one step as far as the handler can tell. */
    sigprocmask(SIG_BLOCK, &block, &old);

    srandom(time(NULL) ^ getpid());
    for (i = 0; i < 10; i++) {          /* a random key, like ipcmk */
        key = (key_t) ((unsigned int) random() ^ ((unsigned int) random() << 16));
        if (key == IPC_PRIVATE)
            continue;
        shmid = shmget(key, SHM_SIZE, IPC_CREAT | IPC_EXCL | SHM_MODE);
        if (shmid != -1 || errno != EEXIST)
            break;
    }
    if (shmid == -1)
        errExit("shmget");
    printf("Created shared memory segment: key 0x%08x, %d bytes, mode %04o\n",
           (unsigned int) key, SHM_SIZE, SHM_MODE);
    printf("Shared memory id: %d\n", shmid);

    snprintf(queue, sizeof(queue), "/nslab-03-ipc-%ld", (long) getpid());
    q = mq_open(queue, O_CREAT | O_EXCL | O_RDWR, SHM_MODE, NULL);
    if (q == (mqd_t) -1)
        errExit("mq_open");             /* exit() runs cleanup: no segment left */
    queue_made = 1;
    mq_close(q);                        /* the queue lives on until unlinked */
    printf("Created POSIX message queue %s\n", queue);

    printf("\n");
    list_ipc("parent");

    if (pipe(args.pipe_fd) == -1)
        errExit("pipe");
    stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
        errExit("mmap");
    child_pid = clone(childFunc, stack + STACK_SIZE, CLONE_NEWIPC | SIGCHLD, &args);
    if (child_pid == -1) {
        child_pid = 0;
        errExit("clone");
    }
    sigprocmask(SIG_SETMASK, &old, NULL);       /* handler may run from here */

    printf("\nPID of child in new IPC namespace: %ld\n", (long) child_pid);
    for (i = 0; i < 2; i++) {
        ssize_t n;
        snprintf(path, sizeof(path), "/proc/%ld/ns/ipc",
                 (long) (i == 0 ? parent_pid : child_pid));
        n = readlink(path, link[i], sizeof(link[i]) - 1);
        link[i][n > 0 ? n : 0] = '\0';
    }
    printf("ipc namespace: parent %s, child %s%s\n", link[0], link[1],
           strcmp(link[0], link[1]) != 0 ? "  new" : "");
    close(args.pipe_fd[0]);
    close(args.pipe_fd[1]);             /* the child may list now */

    if (waitpid(child_pid, &status, 0) == -1)
        errExit("waitpid");
    child_pid = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s: child exited abnormally (status 0x%x)\n", argv[0], status);
        exit(EXIT_FAILURE);             /* cleanup still runs */
    }

    printf("\n");
    cleanup();
    printf("\n");
    list_ipc("parent, after removing");
    exit(EXIT_SUCCESS);
}
