/* mount_namespace.c -- nslab chapter 05-mount, the C side of main.go.

   The seed: clone() a child into new UTS, IPC, PID and mount namespaces,
   set its hostname to "namespace", mount proc on /proc and run a shell.
   Fixed and extended the way main.go is:
     - all mounts are made private first: on a systemd host / is shared and
       the seed's mount of proc would replace the HOST's /proc;
     - -tmpfs DIR mounts a tmpfs the host cannot see;
     - -rootfs DIR -chroot|-pivot runs the command in a root filesystem
       (build one with `05-mount mkrootfs DIR`).

   Build: make c   (or gcc -O2 -Wall -Wextra -Werror -o mount_namespace
                    mount_namespace.c -lrt)
   Run:   sudo ./bin/c/mount_namespace [-hostname NAME] [-proc] [-tmpfs DIR]
                 [-rootfs DIR -chroot|-pivot] [cmd [arg...]]

   Options are spelled as in the Go program (getopt_long_only takes them
   with one dash). The parent removes a directory it created for -tmpfs on
   exit, also on SIGINT, SIGTERM, SIGHUP and SIGPIPE, after killing the
   child. Every mount is made in the child's mount namespace and goes away
   with it. */

#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Print "msg: <errno text>" and end the process with status 1. */
#define errExit(msg) \
    do { perror(msg); exit(EXIT_FAILURE); } while (0)

#define STACK_SIZE (1024 * 1024)   /* for the cloned child */

struct config {
    const char *hostname;
    int proc;                      /* mount a fresh /proc */
    const char *tmpfs;             /* tmpfs mount point, as the command sees it */
    const char *rootfs;            /* absolute path, or NULL */
    int mode;                      /* 0, 'c' (chroot) or 'p' (pivot_root) */
    char **argv;                   /* the command */
};

/* "+ cmd  # why": what the next lines did, as the shell command doing the
   same. The Go program prints the same lines. */
static void
step(const char *why, const char *fmt, ...)
{
    va_list ap;

    printf("+ ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (why != NULL)
        printf("  # %s", why);
    printf("\n");
}

/* "+ exec cmd args", each argument quoted as a shell would need it. */
static void
step_exec(char **argv)
{
    const char *safe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                       "0123456789@%_+=:,./-";

    printf("+ exec");
    for (; *argv != NULL; argv++) {
        const char *a = *argv;
        if (*a != '\0' && strspn(a, safe) == strlen(a)) {
            printf(" %s", a);
            continue;
        }
        printf(" '");
        for (; *a != '\0'; a++) {
            if (*a == '\'')
                printf("'\\''");
            else
                putchar(*a);
        }
        printf("'");
    }
    printf("\n");
}

/* chroot(2) changes this process's idea of "/", nothing else: the host's
   tree stays in the mount namespace, and root can climb back to it. */
static void
chroot_into(const char *dir)
{
    if (chroot(dir) == -1)
        errExit("chroot");
    step("changes what / means for this process: the host's tree is still in this mount namespace",
         "chroot %s", dir);
    if (chdir("/") == -1)           /* else the cwd stays outside the root */
        errExit("chdir");
    step(NULL, "cd /");
}

/* pivot_root(2), as container runtimes do: the new root becomes the root
   mount of this namespace and the old one is detached. */
static void
pivot_into(const char *dir)
{
    /* pivot_root needs the new root to be a mount point. */
    if (mount(dir, dir, NULL, MS_BIND | MS_REC, NULL) == -1)
        errExit("mount --rbind");
    step("pivot_root needs the new root to be a mount point", "mount --rbind %s %s", dir, dir);
    if (chdir(dir) == -1)
        errExit("chdir");
    step(NULL, "cd %s", dir);
    /* pivot_root(".", "."): the old root is stacked on top of the new one,
       so no put_old directory is made on the rootfs's disk. glibc has no
       wrapper. EINVAL: / or the new root's parent is shared, or / is the
       initramfs of the initial mount namespace; EBUSY: the new root is not
       a mount point. */
    if (syscall(SYS_pivot_root, ".", ".") == -1)
        errExit("pivot_root");
    step("the new root is now /; the old root is stacked on top of it", "pivot_root . .");
    if (umount2(".", MNT_DETACH) == -1)     /* the host's tree: gone */
        errExit("umount2");
    step("the host's tree is gone from this mount namespace", "umount -l .");
    if (chdir("/") == -1)
        errExit("chdir");
    step(NULL, "cd /");
}

/* The child starts here, PID 1 in its new PID namespace. */
static int
childFunc(void *arg)
{
    struct config *c = arg;
    int sig;

    /* We got a copy of the parent's signal handlers: they clean up the
       parent's things and are not ours. Back to the defaults. */
    for (sig = 1; sig < NSIG; sig++)
        signal(sig, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);             /* die with the parent */

    printf(" - [%5d] in new namespaces, parent PID: %d\n", getpid(), getppid());

    /* FIRST: a new mount namespace copies the parent's mounts with their
       propagation. On a systemd host / is shared, and a mount made here
       would propagate back to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
        errExit("mount --make-rprivate /");
    step("systemd makes / shared: without this our mounts would show up on the host",
         "mount --make-rprivate /");

    if (sethostname(c->hostname, strlen(c->hostname)) == -1)
        errExit("sethostname");
    step(NULL, "hostname %s", c->hostname);

    /* The root first, then our mounts inside it: pivot_root detaches
       whatever is mounted under the old root. */
    if (c->mode == 'c')
        chroot_into(c->rootfs);
    else if (c->mode == 'p')
        pivot_into(c->rootfs);

    if (c->tmpfs != NULL) {
        if (mount("tmpfs", c->tmpfs, "tmpfs", 0, NULL) == -1)
            errExit("mount tmpfs");
        step("in this mount namespace only: the host does not see it",
             "mount -t tmpfs tmpfs %s", c->tmpfs);
    }

    /* The seed: mount("/root/proc", "/proc", "proc", 0, NULL). */
    if (c->proc) {
        if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == -1)
            errExit("mount proc");
        step("a proc of the new PID namespace: ps sees only our processes",
             "mount -t proc proc /proc");
    }

    /* The command becomes PID 1. Our mounts need no cleanup: the kernel
       removes them with the namespace when its last process exits. */
    step_exec(c->argv);
    execvp(c->argv[0], c->argv);
    errExit("execvp");
}

/* What the parent must undo, for the signal handler too. */
static volatile pid_t child_pid;
static char made_dir[PATH_MAX];    /* the -tmpfs directory we created, or "" */

/* Remove what we made on the host. Only async-signal-safe calls. */
static void
cleanup(void)
{
    if (made_dir[0] != '\0' && rmdir(made_dir) == 0) {
        /* A failed write (stdout closed) is no reason to stop. */
        if (write(STDOUT_FILENO, "+ rmdir ", 8) > 0 &&
            write(STDOUT_FILENO, made_dir, strlen(made_dir)) > 0)
            (void) !write(STDOUT_FILENO, "\n", 1);
    }
    made_dir[0] = '\0';
}

static void
on_signal(int sig)
{
    if (child_pid > 0) {
        kill(child_pid, SIGKILL);
        waitpid(child_pid, NULL, 0);
    }
    cleanup();
    _exit(128 + sig);
}

static void
usage(const char *pname)
{
    fprintf(stderr, "usage: %s [-hostname NAME] [-proc] [-tmpfs DIR] "
            "[-rootfs DIR -chroot|-pivot] [cmd [arg...]]\n", pname);
    exit(2);
}

int
main(int argc, char *argv[])
{
    static char *default_argv[] = { "/bin/sh", NULL };  /* the seed: /bin/bash */
    static const struct option opts[] = {
        { "hostname", required_argument, NULL, 'h' },
        { "proc",     no_argument,       NULL, 'p' },
        { "tmpfs",    required_argument, NULL, 't' },
        { "rootfs",   required_argument, NULL, 'r' },
        { "chroot",   no_argument,       NULL, 'c' },
        { "pivot",    no_argument,       NULL, 'P' },
        { NULL, 0, NULL, 0 }
    };
    struct config c = { .hostname = "namespace" };
    char rootfs[PATH_MAX], host_dir[PATH_MAX];
    struct sigaction sa;
    struct stat st;
    char *stack;
    int opt, status;

    /* "+": stop at the command, which keeps its own options. */
    while ((opt = getopt_long_only(argc, argv, "+", opts, NULL)) != -1) {
        switch (opt) {
        case 'h': c.hostname = optarg; break;
        case 'p': c.proc = 1; break;
        case 't': c.tmpfs = optarg; break;
        case 'r': c.rootfs = optarg; break;
        case 'c':
        case 'P':
            if (c.mode != 0 && c.mode != (opt == 'c' ? 'c' : 'p')) {
                fprintf(stderr, "%s: -chroot and -pivot exclude each other\n", argv[0]);
                usage(argv[0]);
            }
            c.mode = opt == 'c' ? 'c' : 'p';
            break;
        default: usage(argv[0]);   /* getopt has printed the problem */
        }
    }
    if (strlen(c.hostname) > 64) {
        fprintf(stderr, "%s: -hostname is longer than 64 bytes\n", argv[0]);
        usage(argv[0]);
    }
    if (c.tmpfs != NULL && c.tmpfs[0] != '/') {
        fprintf(stderr, "%s: -tmpfs wants an absolute path\n", argv[0]);
        usage(argv[0]);
    }
    if ((c.mode != 0) != (c.rootfs != NULL)) {
        fprintf(stderr, "%s: -rootfs DIR goes with -chroot or -pivot\n", argv[0]);
        usage(argv[0]);
    }
    c.argv = optind < argc ? &argv[optind] : default_argv;

    /* Line-buffer stdout, so that our lines and the child's come in order
       even when stdout is a pipe. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (c.rootfs != NULL) {
        if (realpath(c.rootfs, rootfs) == NULL)
            errExit("-rootfs");
        c.rootfs = rootfs;
    }

    /* Handlers before anything is made (and before the child exists). */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);

    /* A directory we create for the tmpfs is on the host's filesystem:
       the host sees it (never the tmpfs). Removed by cleanup(). */
    if (c.tmpfs != NULL) {
        if (snprintf(host_dir, sizeof(host_dir), "%s%s", c.rootfs ? c.rootfs : "",
                     c.tmpfs) >= (int) sizeof(host_dir)) {
            fprintf(stderr, "%s: -tmpfs: path too long\n", argv[0]);
            exit(EXIT_FAILURE);
        }
        if (stat(host_dir, &st) == -1) {
            if (mkdir(host_dir, 0755) == -1)
                errExit("mkdir");
            strcpy(made_dir, host_dir);
            step("on the host's filesystem: the host sees this directory, not what the child mounts on it",
                 "mkdir %s", host_dir);
        }
    }

    printf(" - [%5d] in the host's namespaces, parent PID: %d\n", getpid(), getppid());

    stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        cleanup();
        errExit("mmap");
    }

    child_pid = clone(childFunc, stack + STACK_SIZE,
                      CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNS | SIGCHLD, &c);
    if (child_pid == -1) {
        cleanup();
        errExit("clone");
    }
    printf("PID of child created by clone() is %ld\n", (long) child_pid);

    while (waitpid(child_pid, &status, 0) == -1) {
        if (errno != EINTR) {
            cleanup();
            errExit("waitpid");
        }
    }
    child_pid = 0;
    cleanup();

    /* The command's status is ours, as with unshare(1). */
    if (WIFSIGNALED(status))
        exit(128 + WTERMSIG(status));
    exit(WEXITSTATUS(status));
}
