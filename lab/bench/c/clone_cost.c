/* clone_cost.c: the C side of lab/bench (make bench). Times N rounds of
 * clone(flags) + waitpid(), the child either returning at once or
 * execve()ing /bin/true, and prints one line per round: microseconds.
 *
 *   clone_cost [-e] [-c COUNT] [-CimnpuU]   (the flags as in ns_child_exec)
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STACK_SIZE (64 * 1024)

static int do_exec;

static int childFunc(void *arg)
{
    (void) arg;
    if (do_exec) {
        char *argv[] = { "true", NULL };
        execv("/bin/true", argv);
        _exit(127);
    }
    return 0;
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-e] [-c COUNT] [-CimnpuU]\n", prog);
    exit(2);
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char *argv[])
{
    int flags = 0, n = 100, opt;

    while ((opt = getopt(argc, argv, "ec:CimnpuU")) != -1) {
        switch (opt) {
        case 'e': do_exec = 1;               break;
        case 'c': n = atoi(optarg);          break;
        case 'n': flags |= CLONE_NEWNET;     break;
        case 'C': flags |= CLONE_NEWCGROUP;  break;
        case 'i': flags |= CLONE_NEWIPC;     break;
        case 'm': flags |= CLONE_NEWNS;      break;
        case 'p': flags |= CLONE_NEWPID;     break;
        case 'u': flags |= CLONE_NEWUTS;     break;
        case 'U': flags |= CLONE_NEWUSER;    break;
        default:  usage(argv[0]);
        }
    }
    if (n <= 0 || optind != argc)
        usage(argv[0]);

    char *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    for (int i = 0; i < n; i++) {
        double t0 = now_us();
        pid_t pid = clone(childFunc, stack + STACK_SIZE, flags | SIGCHLD, NULL);
        if (pid == -1) {
            perror("clone");
            exit(1);
        }
        int status;
        if (waitpid(pid, &status, 0) == -1) {
            perror("waitpid");
            exit(1);
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "child failed (status %#x)\n", status);
            exit(1);
        }
        printf("%.1f\n", now_us() - t0);
    }
    return 0;
}
