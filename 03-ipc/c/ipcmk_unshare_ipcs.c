/* ipcmk_unshare_ipcs.c - the IPC part of the post on unshare(1), the shell
   session

       ipcs -m; ipcmk -M 1000; ipcs -m; unshare --ipc /bin/sh
       ipcs -m; exit                      (typed in that new shell)
       ipcrm -M KEY; ipcs -m

   as one C program: each command is quoted above the C that does it.

   Build: gcc -O2 -Wall -Wextra -Werror -o ipcmk_unshare_ipcs ipcmk_unshare_ipcs.c
   Usage: ipcmk_unshare_ipcs [SLEEP-SECONDS]   (as root) */
#define _GNU_SOURCE
#include <errno.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define errExit(msg) do { perror(msg); exit(EXIT_FAILURE); } while (0)

/* nslab: what the post's ipcrm removes by hand is removed on every way out
   (exit, Ctrl-C, kill): the cleanup needs to know the segment and child. */
static pid_t parent, child;
static volatile int shmid = -1;

static void cleanup(void)
{
    if (getpid() != parent)             /* nslab: a child calling exit() */
        return;
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    if (shmid >= 0)
        shmctl(shmid, IPC_RMID, NULL);
}

static void handler(int sig)
{
    cleanup();
    _exit(128 + sig);
}

/* ipcs -m: /proc/sysvipc/shm, which ipcs reads too, shows the segments of
   the reader's IPC namespace. */
static void ipcs_m(void)
{
    char line[512], owner[16];
    int key, id, cpid, lpid, n;
    unsigned int perms, uid;
    unsigned long size, nattch;
    struct passwd *pw;
    FILE *f = fopen("/proc/sysvipc/shm", "r");

    if (f == NULL)
        errExit("fopen /proc/sysvipc/shm");
    printf("------ Shared Memory Segments --------\n");
    printf("key        shmid      owner      perms      bytes      nattch     status\n");
    if (fgets(line, sizeof(line), f) != NULL)           /* the header */
        while (fgets(line, sizeof(line), f) != NULL) {
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
                         (perms & SHM_DEST) ? "dest " : "", (perms & SHM_LOCKED) ? "locked" : "");
            while (n > 0 && line[n - 1] == ' ')
                line[--n] = '\0';
            printf("%s\n", line);
        }
    fclose(f);
    printf("\n");
}

int main(int argc, char *argv[])
{
    struct sigaction sa = { .sa_handler = handler };
    sigset_t block, old;
    char *end = "";
    long secs = argc == 2 ? strtol(argv[1], &end, 10) : 0;
    int status;
    key_t key;

    if (argc > 2 || *end != '\0' || secs < 0 || secs > 1000000) {
        fprintf(stderr, "usage: %s [SLEEP-SECONDS]\n", argv[0]);   /* nslab */
        exit(2);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);   /* nslab: nothing buffered at fork() */
    parent = getpid();
    /* nslab: the cleanup on every way out; `| head` must not kill us first */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sa.sa_mask = block;
    if (atexit(cleanup) != 0 || sigaction(SIGINT, &sa, NULL) == -1 ||
        sigaction(SIGTERM, &sa, NULL) == -1 || sigaction(SIGHUP, &sa, NULL) == -1)
        errExit("atexit/sigaction");
    signal(SIGPIPE, SIG_IGN);

    /* $ ipcs -m */
    printf("+ ipcs -m\n");
    ipcs_m();

    /* $ ipcmk -M 1000 */
    printf("+ ipcmk -M 1000\n");
    sigprocmask(SIG_BLOCK, &block, &old); /* nslab: create and remember as one step */
    srandom(time(NULL) ^ getpid());
    do                                  /* nslab: IPC_EXCL, so it is ours */
        key = (key_t) (0x6e730000 | (random() & 0xffff)); /* nslab: "ns" on top, for make reset */
    while (key == IPC_PRIVATE ||
           ((shmid = shmget(key, 1000, IPC_CREAT | IPC_EXCL | 0644)) == -1 && errno == EEXIST));
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (shmid == -1)
        errExit("shmget");
    printf("Shared memory id: %d\n", shmid);

    /* $ ipcs -m */
    printf("+ ipcs -m\n");
    ipcs_m();

    /* $ unshare --ipc /bin/sh
       unshare(1) calls unshare(2), then executes the shell; here a child
       does the same and then plays the shell. */
    printf("+ unshare --ipc /bin/sh\n");
    child = fork();
    if (child == -1)
        errExit("fork");
    if (child == 0) {
        signal(SIGINT, SIG_IGN);        /* nslab: the parent kills us; */
        signal(SIGHUP, SIG_IGN);        /* Ctrl-C reaches us both */
        signal(SIGTERM, SIG_DFL);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)        /* nslab: the parent already died */
            _exit(EXIT_FAILURE);
        if (unshare(CLONE_NEWIPC) == -1)
            errExit("unshare");

        /* $ ipcs -m */
        printf("+ ipcs -m\n");
        ipcs_m();

        if (secs > 0) {                 /* nslab: time to look from outside */
            printf("child: staying %lds in my IPC namespace; from another shell try\n", secs);
            printf("    nsenter -t %ld -i ipcs -m\n", (long) getpid());
            sleep(secs);
        }
        /* $ exit */
        printf("+ exit\n");
        _exit(EXIT_SUCCESS);
    }
    if (waitpid(child, &status, 0) == -1)
        errExit("waitpid");
    child = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s: child exited abnormally (status 0x%x)\n", argv[0], status);
        exit(EXIT_FAILURE);             /* nslab: the cleanup still runs */
    }

    /* $ ipcrm -M {shared memory segment key} */
    printf("+ ipcrm -M 0x%08x\n", (unsigned int) key);
    if (shmctl(shmget(key, 0, 0), IPC_RMID, NULL) == -1)
        errExit("ipcrm");
    shmid = -1;

    /* $ ipcs -m */
    printf("+ ipcs -m\n");
    ipcs_m();
    exit(EXIT_SUCCESS);
}
