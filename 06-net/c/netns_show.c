/* netns_show.c: `unshare --net` + `ip link` in C, the counterpart of
   `06-net show`. A child cloned into a new network namespace lists the
   interfaces it sees (only lo, and lo is DOWN) and the parent prints them
   beside its own list.

   Usage: netns_show [hold-seconds]
   The child keeps its namespace hold-seconds (default 0) after printing,
   so that another shell can `nsenter -t PID -n ip a`. */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define errExit(msg) do { perror(msg); exit(EXIT_FAILURE); } while (0)

#define STACK_SIZE (1024 * 1024)
#define MAX_LINES 256
#define LINE_LEN 64

static int list_pipe[2];    /* child -> parent: the child's interfaces */
static int release_pipe[2]; /* parent -> child: closed when the parent is done */

/* list_interfaces writes one line per interface of the caller's network
   namespace: index, name and whether IFF_UP is set. if_nameindex() asks
   the kernel over a netlink socket; SIOCGIFFLAGS needs any socket. Both
   sockets belong to the caller's network namespace. */
static void list_interfaces(FILE *out)
{
    struct if_nameindex *ifs = if_nameindex();
    if (ifs == NULL)
        errExit("if_nameindex");
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s == -1)
        errExit("socket");
    for (struct if_nameindex *i = ifs; i->if_index != 0; i++) {
        struct ifreq ifr;
        memset(&ifr, 0, sizeof(ifr));
        strncpy(ifr.ifr_name, i->if_name, IFNAMSIZ - 1);
        if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1)
            errExit("ioctl SIOCGIFFLAGS");
        fprintf(out, "%3u: %-15s %s\n", i->if_index, i->if_name,
                (ifr.ifr_flags & IFF_UP) ? "UP" : "DOWN");
    }
    close(s);
    if_freenameindex(ifs);
}

/* net_id is readlink /proc/PID/ns/net: "net:[inode]". */
static void net_id(pid_t pid, char *buf, size_t len)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof(path), "/proc/%ld/ns/net", (long) pid);
    if (stat(path, &st) == -1)
        snprintf(buf, len, "net:[?]");
    else
        snprintf(buf, len, "net:[%lu]", (unsigned long) st.st_ino);
}

static int childFunc(void *arg)
{
    int hold = *(int *) arg;
    char c;

    /* Ctrl-C is for the parent, which kills us (see main). */
    signal(SIGINT, SIG_IGN);
    close(list_pipe[0]);
    close(release_pipe[1]);

    FILE *out = fdopen(list_pipe[1], "w");
    if (out == NULL)
        errExit("fdopen");
    list_interfaces(out);
    fclose(out);

    while (read(release_pipe[0], &c, 1) > 0) /* EOF: the parent is done */
        ;
    sleep(hold);
    return 0;
}

/* read_lines reads up to MAX_LINES lines, newline stripped. */
static int read_lines(FILE *in, char lines[][LINE_LEN])
{
    int n = 0;
    while (n < MAX_LINES && fgets(lines[n], LINE_LEN, in) != NULL) {
        lines[n][strcspn(lines[n], "\n")] = '\0';
        n++;
    }
    return n;
}

/* row prints two cells side by side, as the Go does. */
static void row(const char *left, const char *right)
{
    if (right[0] == '\0')
        printf("%s\n", left);
    else
        printf("%-37s %s\n", left, right);
}

static char host_lines[MAX_LINES][LINE_LEN];
static char child_lines[MAX_LINES][LINE_LEN];

static pid_t child_pid;

/* On Ctrl-C or SIGTERM, take the child with us. */
static void on_signal(int sig)
{
    kill(child_pid, SIGKILL);
    waitpid(child_pid, NULL, 0);
    _exit(128 + sig);
}

int main(int argc, char *argv[])
{
    int hold = argc > 1 ? atoi(argv[1]) : 0;
    char left[128], right[128], id[64];

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (pipe(list_pipe) == -1 || pipe(release_pipe) == -1)
        errExit("pipe");

    char *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
        errExit("mmap");

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    child_pid = clone(childFunc, stack + STACK_SIZE, CLONE_NEWNET | SIGCHLD, &hold);
    if (child_pid == -1)
        errExit("clone");
    close(list_pipe[1]);
    close(release_pipe[0]);

    FILE *in = fdopen(list_pipe[0], "r");
    if (in == NULL)
        errExit("fdopen");
    int nchild = read_lines(in, child_lines);
    fclose(in);
    if (nchild == 0) {
        fprintf(stderr, "the child failed before listing its interfaces\n");
        waitpid(child_pid, NULL, 0);
        exit(EXIT_FAILURE);
    }

    FILE *mem = fmemopen(NULL, sizeof(host_lines), "w+");
    if (mem == NULL)
        errExit("fmemopen");
    list_interfaces(mem);
    rewind(mem);
    int nhost = read_lines(mem, host_lines);
    fclose(mem);

    net_id(getpid(), id, sizeof(id));
    snprintf(left, sizeof(left), "host  pid %ld %s", (long) getpid(), id);
    net_id(child_pid, id, sizeof(id));
    snprintf(right, sizeof(right), "child pid %ld %s", (long) child_pid, id);
    row(left, right);
    for (int i = 0; i < nhost || i < nchild; i++)
        row(i < nhost ? host_lines[i] : "", i < nchild ? child_lines[i] : "");
    if (hold > 0) {
        printf("child PID %ld holds its network namespace for %ds; from another shell try\n",
               (long) child_pid, hold);
        printf("    nsenter -t %ld -n ip a   or   lsns -t net -p %ld\n",
               (long) child_pid, (long) child_pid);
    }
    close(release_pipe[1]);

    if (waitpid(child_pid, NULL, 0) == -1)
        errExit("waitpid");
    exit(EXIT_SUCCESS);
}
