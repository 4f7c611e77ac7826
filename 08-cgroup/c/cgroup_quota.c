/* cgroup_quota.c: the seed's
 *
 *     cgcreate -g cpu:mycgroup
 *     cgset -r cpu.cfs_quota_us=30000 mycgroup
 *     cgexec -g cpu:mycgroup stress -c 1
 *
 * by writing the cgroup files, on cgroup v1 or v2, and measuring the share
 * the load got from the cgroup's own count (v1 cpuacct.usage, v2 cpu.stat
 * usage_usec). The C counterpart of `08-cgroup quota`.
 *
 * Usage: cgroup_quota [-p PERCENT] [-s SECONDS] [-b] [command [arg...]]
 *        -b: a built-in CPU burner instead of stress -c N
 *
 * The cgroup goes under the one this program runs in (v2: the nearest
 * ancestor holding no process, where controllers may be enabled), and is
 * removed at the end, also on Ctrl-C or SIGTERM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CG "/sys/fs/cgroup"
#define PERIOD 100000 /* µs */

static int v2;
static char dirs[2][PATH_MAX]; /* v1: cpu, cpuacct (maybe the same); v2: one */
static int ndirs;
static int created[2];
static char lockdir[PATH_MAX];        /* v2: the hierarchy's top, flock(2)ed */
static int lockfd = -1;
static char enabled[16][PATH_MAX];    /* v2: subtree_control files we wrote +cpu to */
static int nenabled;
static pid_t child;
static volatile sig_atomic_t stop_sig;

static void die(const char *what)
{
    fprintf(stderr, "cgroup_quota: %s: %s\n", what, strerror(errno));
    exit(EXIT_FAILURE);
}

/* out = a + b + c, or die if it does not fit. */
static void join(char *out, size_t size, const char *a, const char *b, const char *c)
{
    if ((size_t)snprintf(out, size, "%s%s%s", a, b, c) >= size) {
        errno = ENAMETOOLONG;
        die(a);
    }
}

static int write_file(const char *path, const char *value)
{
    int fd = open(path, O_WRONLY | O_TRUNC);
    if (fd == -1)
        return -1;
    ssize_t n = write(fd, value, strlen(value));
    int saved = errno;
    close(fd);
    errno = saved;
    return n == (ssize_t)strlen(value) ? 0 : -1;
}

static int read_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd == -1)
        return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return 0;
}

/* Is word one of the comma-, space- or newline-separated words of list? */
static int has_word(const char *list, const char *word)
{
    size_t len = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += len) {
        int start = p == list || strchr(", \n", p[-1]);
        int end = p[len] == '\0' || strchr(", \n", p[len]);
        if (start && end)
            return 1;
    }
    return 0;
}

/* Our cgroup in the hierarchy whose /proc/self/cgroup line names ctl
 * (v1), or the 0:: line (ctl NULL, v2). */
static int own_cgroup(const char *ctl, char *path, size_t size)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    char line[PATH_MAX + 256];
    int found = 0;
    if (f == NULL)
        die("/proc/self/cgroup");
    while (!found && fgets(line, sizeof(line), f)) {
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c2 == NULL)
            continue;
        *c2 = '\0';
        line[strcspn(line, ":")] = '\0';
        if (ctl ? has_word(c1 + 1, ctl) : strcmp(line, "0") == 0) {
            c2[1 + strcspn(c2 + 1, "\n")] = '\0';
            snprintf(path, size, "%s", c2 + 1);
            found = 1;
        }
    }
    fclose(f);
    return found ? 0 : -1;
}

/* The mount point and mount root of the cgroup (ctl) or cgroup2 (NULL)
 * file system through which cgroup own is visible; the last one wins. */
static int find_mount(const char *ctl, const char *own, char *point, char *root)
{
    FILE *f = fopen("/proc/self/mountinfo", "r");
    char line[3 * PATH_MAX];
    int found = 0;
    if (f == NULL)
        die("/proc/self/mountinfo");
    while (fgets(line, sizeof(line), f)) {
        char mroot[PATH_MAX], mpoint[PATH_MAX], fstype[64], opts[1024];
        char *sep = strstr(line, " - ");
        if (sep == NULL || sscanf(line, "%*s %*s %*s %s %s", mroot, mpoint) != 2 ||
            sscanf(sep + 3, "%63s %*s %1023s", fstype, opts) != 2)
            continue;
        if (ctl ? strcmp(fstype, "cgroup") != 0 || !has_word(opts, ctl)
                : strcmp(fstype, "cgroup2") != 0 || strcmp(mpoint, CG) != 0)
            continue;
        size_t n = strlen(mroot);
        if (strcmp(mroot, "/") != 0 && (strncmp(own, mroot, n) != 0 || (own[n] != '\0' && own[n] != '/')))
            continue;
        strcpy(point, mpoint);
        strcpy(root, mroot);
        found = 1;
    }
    fclose(f);
    return found ? 0 : -1;
}

/* The directory of cgroup cg in a hierarchy mounted at point from root. */
static void cg_dir(char *out, const char *point, const char *root, const char *cg)
{
    const char *rel = strcmp(root, "/") == 0 ? cg : cg + strlen(root);
    snprintf(out, PATH_MAX, "%s%s", point, strcmp(rel, "/") == 0 ? "" : rel);
}

/* Is cpu missing from a subtree_control between the top and base? With
 * fix set, write +cpu there and remember where. */
static int cpu_missing(const char *point, const char *root, const char *base, int fix)
{
    char cg[PATH_MAX], dir[PATH_MAX], file[PATH_MAX + 32], buf[512];
    int missing = 0;
    /* root, then each cgroup below it down to base */
    size_t end = strcmp(root, "/") == 0 ? 0 : strlen(root);
    for (;; end++) {
        if (base[end] != '/' && base[end] != '\0')
            continue;
        snprintf(cg, sizeof(cg), "%.*s", (int)(end ? end : 1), base);
        cg_dir(dir, point, root, cg);
        join(file, sizeof(file), dir, "/cgroup.subtree_control", "");
        if (read_file(file, buf, sizeof(buf)) == -1)
            die(file);
        if (!has_word(buf, "cpu")) {
            missing = 1;
            if (fix) {
                if (write_file(file, "+cpu") == -1)
                    die(file);
                printf("enabled cpu in %s\n", file);
                int known = 0;
                for (int i = 0; i < nenabled; i++)
                    known |= strcmp(enabled[i], file) == 0;
                if (!known && nenabled < 16)
                    strcpy(enabled[nenabled++], file);
            }
        }
        if (base[end] == '\0')
            return missing;
    }
}

/* v2: hold a shared flock(2) on the hierarchy's top while we run, and an
 * exclusive one while writing +cpu where it is missing, as the Go program
 * does (see enable() in cgroupfs.go). */
static void enable_cpu(const char *point, const char *root, const char *base)
{
    cg_dir(lockdir, point, root, root);
    lockfd = open(lockdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lockfd == -1)
        die(lockdir);
    for (int try = 0; try < 5; try++) {
        if (flock(lockfd, LOCK_SH) == -1)
            die("flock");
        if (!cpu_missing(point, root, base, 0))
            return;
        if (flock(lockfd, LOCK_EX) == -1) /* not atomic: look again */
            die("flock");
        cpu_missing(point, root, base, 1);
    }
    fprintf(stderr, "cgroup_quota: cpu keeps disappearing from subtree_control\n");
    exit(EXIT_FAILURE);
}

static void disable_cpu(void)
{
    if (lockfd == -1)
        return;
    if (nenabled > 0) {
        /* The last one out switches it off: wait until no other run holds
         * its shared lock (at most 30 s). */
        int tries = 0;
        while (flock(lockfd, LOCK_EX | LOCK_NB) == -1 && tries++ < 1500)
            usleep(20000);
        for (int i = nenabled - 1; i >= 0 && tries <= 1500; i--) {
            if (write_file(enabled[i], "-cpu") == 0)
                printf("disabled cpu in %s again\n", enabled[i]);
            else
                fprintf(stderr, "cgroup_quota: -cpu > %s: %s\n", enabled[i], strerror(errno));
        }
    }
    close(lockfd);
    lockfd = -1;
}

/* Where our cgroup goes: dirs[] get filled with BASE/name. */
static void locate(const char *name)
{
    char own[PATH_MAX], point[PATH_MAX], root[PATH_MAX], dir[PATH_MAX];
    if (!v2) {
        const char *ctls[] = {"cpu", "cpuacct"};
        for (int i = 0; i < 2; i++) {
            if (own_cgroup(ctls[i], own, sizeof(own)) == -1 || find_mount(ctls[i], own, point, root) == -1) {
                fprintf(stderr, "cgroup_quota: no cgroup v1 hierarchy has the %s controller "
                        "(mount one: mkdir -p " CG "/%s && mount -t cgroup -o %s cgroup " CG "/%s)\n",
                        ctls[i], ctls[i], ctls[i], ctls[i]);
                exit(EXIT_FAILURE);
            }
            cg_dir(dir, point, root, own);
            join(dirs[ndirs], PATH_MAX, dir, "/", name);
            if (ndirs == 0 || strcmp(dirs[0], dirs[1]) != 0) /* co-mounted: one */
                ndirs++;
        }
        return;
    }
    char buf[4096], base[PATH_MAX];
    if (own_cgroup(NULL, own, sizeof(own)) == -1 || find_mount(NULL, own, point, root) == -1) {
        fprintf(stderr, "cgroup_quota: no cgroup2 mount at " CG " for our cgroup\n");
        exit(EXIT_FAILURE);
    }
    cg_dir(dir, point, root, root);
    join(buf, sizeof(buf), dir, "/cgroup.controllers", "");
    if (read_file(buf, buf, sizeof(buf)) == -1 || !has_word(buf, "cpu")) {
        fprintf(stderr, "cgroup_quota: the cgroup v2 hierarchy offers no cpu controller "
                "(a v1 hierarchy may hold it: boot with systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all)\n");
        exit(EXIT_FAILURE);
    }
    /* No internal processes: go up from our cgroup to one with none. */
    strcpy(base, own);
    while (strcmp(base, root) != 0 && strcmp(base, "/") != 0) {
        char procs[PATH_MAX + 16];
        cg_dir(dir, point, root, base);
        join(procs, sizeof(procs), dir, "/cgroup.procs", "");
        if (read_file(procs, buf, sizeof(buf)) == -1)
            die(procs);
        if (buf[0] == '\0')
            break;
        *strrchr(base, '/') = '\0';
        if (base[0] == '\0')
            strcpy(base, "/");
    }
    enable_cpu(point, root, base);
    cg_dir(dir, point, root, base);
    join(dirs[0], PATH_MAX, dir, "/", name);
    ndirs = 1;
}

static void kill_all(void)
{
    char file[PATH_MAX + 32], buf[4096];
    join(file, sizeof(file), dirs[0], "/cgroup.kill", "");
    if (v2 && write_file(file, "1") == 0)
        return;
    join(file, sizeof(file), dirs[0], "/cgroup.procs", "");
    for (int i = 0; i < 600 && read_file(file, buf, sizeof(buf)) == 0 && buf[0]; i++) {
        for (char *p = strtok(buf, "\n"); p; p = strtok(NULL, "\n"))
            kill(atoi(p), SIGKILL);
        usleep(5000);
    }
}

static void cleanup(void)
{
    if (created[0] || created[1])
        kill_all();
    if (child > 0)
        waitpid(child, NULL, 0);
    for (int i = ndirs - 1; i >= 0; i--) {
        if (!created[i])
            continue;
        int tries = 0, ok;
        while (!(ok = rmdir(dirs[i]) == 0) && errno == EBUSY && tries++ < 600)
            usleep(5000); /* the killed processes are still leaving */
        if (ok)
            printf("removed %s\n", dirs[i]);
        else
            fprintf(stderr, "cgroup_quota: rmdir %s: %s\n", dirs[i], strerror(errno));
        created[i] = 0;
    }
    disable_cpu();
}

static void on_signal(int sig) { stop_sig = sig; }

/* CPU time the cgroup has used, in ns. */
static long long usage_ns(void)
{
    char file[PATH_MAX + 32], buf[1024];
    if (!v2) {
        join(file, sizeof(file), dirs[ndirs - 1], "/cpuacct.usage", "");
        return read_file(file, buf, sizeof(buf)) == 0 ? atoll(buf) : 0;
    }
    join(file, sizeof(file), dirs[0], "/cpu.stat", "");
    char *p = read_file(file, buf, sizeof(buf)) == 0 ? strstr(buf, "usage_usec ") : NULL;
    return p ? atoll(p + 11) * 1000 : 0;
}

static long long stat_field(const char *key)
{
    char file[PATH_MAX + 32], buf[1024];
    join(file, sizeof(file), dirs[0], "/cpu.stat", "");
    if (read_file(file, buf, sizeof(buf)) == -1)
        return 0;
    for (char *p = strtok(buf, "\n"); p; p = strtok(NULL, "\n"))
        if (strncmp(p, key, strlen(key)) == 0 && p[strlen(key)] == ' ')
            return atoll(p + strlen(key) + 1);
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char *argv[])
{
    int percent = 30, seconds = 5, builtin = 0, opt;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    while ((opt = getopt(argc, argv, "+p:s:b")) != -1) {
        switch (opt) {
        case 'p': percent = atoi(optarg); break;
        case 's': seconds = atoi(optarg); break;
        case 'b': builtin = 1; break;
        default:
            fprintf(stderr, "Usage: %s [-p PERCENT] [-s SECONDS] [-b] [command [arg...]]\n", argv[0]);
            exit(2);
        }
    }
    if (percent <= 0 || percent > 100 * ncpu || seconds <= 0) {
        fprintf(stderr, "cgroup_quota: -p wants 1 to %ld, -s a positive number\n", 100 * ncpu);
        exit(2);
    }
    if (geteuid() != 0) {
        fprintf(stderr, "cgroup_quota: creating cgroups needs root\n");
        exit(EXIT_FAILURE);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* One worker per CPU the quota can fill. */
    int workers = (percent + 99) / 100;
    char nworkers[16], timeout[32];
    snprintf(nworkers, sizeof(nworkers), "%d", workers);
    snprintf(timeout, sizeof(timeout), "%ds", seconds + 10);
    char *stress[] = {"stress", "-c", nworkers, "--timeout", timeout, NULL};
    char **load = optind < argc ? &argv[optind] : builtin ? NULL : stress;

    struct statfs sfs;
    if (statfs(CG, &sfs) == -1)
        die("statfs " CG);
    v2 = sfs.f_type == CGROUP2_SUPER_MAGIC;

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    atexit(cleanup);

    /* cgcreate -g cpu,cpuacct:NAME */
    char name[64], file[PATH_MAX + 32];
    snprintf(name, sizeof(name), "nslab-08-%ld-quota", (long)getpid());
    locate(name);
    for (int i = 0; i < ndirs; i++) {
        if (mkdir(dirs[i], 0755) == -1)
            die(dirs[i]);
        created[i] = 1;
        printf("created %s\n", dirs[i]);
    }

    /* cgset -r cpu.cfs_quota_us=... */
    char value[64];
    if (v2) {
        join(file, sizeof(file), dirs[0], "/cpu.max", "");
        snprintf(value, sizeof(value), "%d %d", percent * PERIOD / 100, PERIOD);
        if (write_file(file, value) == -1)
            die(file);
        printf("cpu.max = %s: at most %d%% of one CPU\n", value, percent);
    } else {
        join(file, sizeof(file), dirs[0], "/cpu.cfs_period_us", "");
        snprintf(value, sizeof(value), "%d", PERIOD);
        if (write_file(file, value) == -1)
            die(file);
        join(file, sizeof(file), dirs[0], "/cpu.cfs_quota_us", "");
        snprintf(value, sizeof(value), "%d", percent * PERIOD / 100);
        if (write_file(file, value) == -1)
            die(file);
        printf("cpu.cfs_quota_us = %s, cpu.cfs_period_us = %d: at most %d%% of one CPU\n", value, PERIOD, percent);
    }

    /* cgexec: the child moves itself into the cgroup, then execs the load,
     * so that the load never runs outside it. A close-on-exec pipe tells
     * us the exec happened (EOF) or failed (an errno). */
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) == -1)
        die("pipe2");
    child = fork();
    if (child == -1)
        die("fork");
    if (child == 0) {
        char pid[16];
        int err = 0;
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        setpgid(0, 0); /* Ctrl-C reaches only the parent, which ends us */
        snprintf(pid, sizeof(pid), "%ld", (long)getpid());
        for (int i = 0; i < ndirs && !err; i++) {
            join(file, sizeof(file), dirs[i], "/cgroup.procs", "");
            if (write_file(file, pid) == -1)
                err = errno;
        }
        if (!err && load)
            execvp(load[0], load);
        if (!err && !load) { /* the built-in burner: spin, once per worker */
            close(pfd[1]); /* EOF: we are in the cgroup */
            for (int i = 1; i < workers; i++)
                if (fork() == 0)
                    break;
            for (;;)
                ;
        }
        err = err ? err : errno;
        if (write(pfd[1], &err, sizeof(err)) == -1)
            _exit(127);
        _exit(127);
    }
    close(pfd[1]);
    int err = 0;
    if (read(pfd[0], &err, sizeof(err)) == sizeof(err)) {
        errno = err;
        die(load ? load[0] : "moving the child");
    }
    close(pfd[0]);
    printf("load: %s (pid %ld), placed in the cgroup before it ran (it moved itself, then exec'd)\n",
           load ? load[0] : "built-in burner", (long)child);

    double t0 = now(), tprev = t0;
    long long u0 = usage_ns(), uprev = u0;
    for (int i = 1; i <= seconds && !stop_sig; i++) {
        double wake = t0 + i;
        while (!stop_sig && now() < wake)
            usleep(10000);
        if (stop_sig)
            break;
        long long u = usage_ns();
        double t = now();
        printf("%4ds %5.1f%%  (throttled in %lld of %lld periods so far)\n", i,
               100 * (u - uprev) / 1e9 / (t - tprev), stat_field("nr_throttled"), stat_field("nr_periods"));
        uprev = u;
        tprev = t;
    }
    if (stop_sig) {
        cleanup();
        _exit(128 + stop_sig);
    }
    printf("measured over %.1f s, quota %d%%:\n", tprev - t0, percent);
    printf("  the cgroup's own count (%s): %5.1f%% of one CPU\n", v2 ? "cpu.stat usage_usec" : "cpuacct.usage",
           100 * (uprev - u0) / 1e9 / (tprev - t0));
    printf("  cpu.stat: nr_periods %lld, nr_throttled %lld, %s %.2f s\n", stat_field("nr_periods"),
           stat_field("nr_throttled"), v2 ? "throttled_usec" : "throttled_time",
           v2 ? stat_field("throttled_usec") / 1e6 : stat_field("throttled_time") / 1e9);
    exit(EXIT_SUCCESS); /* atexit: kill the load, remove the cgroup */
}
