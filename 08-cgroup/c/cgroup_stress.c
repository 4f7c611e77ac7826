/* cgroup_stress.c: the seed's CPU quota session in C, writing the cgroup
 * files that cgcreate, cgset and cgexec write:
 *
 *     cgcreate -a root -g cpu:mycgroup
 *     cgset -r cpu.cfs_quota_us=30000 mycgroup
 *     cgexec -g cpu:mycgroup stress -c 1 &
 *     top
 *
 * Usage: cgroup_stress [SECONDS]      (default 5; the Go is 08-cgroup quota)
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define CGROUP2_SUPER_MAGIC 0x63677270

#define ROOTCTL "/sys/fs/cgroup/cgroup.subtree_control"

static char dir[256], file[300];
static volatile sig_atomic_t stop_sig;

/* echo VALUE > PATH; 0 on success */
static int echo(const char *path, const char *value)
{
    FILE *f = fopen(path, "w");
    int bad = !f || fputs(value, f) < 0;
    return (f && fclose(f) != 0) || bad;
}

static void on_signal(int sig) { stop_sig = sig; } /* nslab: Ctrl-C cleans up */

int main(int argc, char *argv[])
{
    int seconds = argc > 1 ? atoi(argv[1]) : 5; /* nslab: top runs until q */
    struct statfs st;
    int v2, enabled = 0;

    setvbuf(stdout, NULL, _IOLBF, 0); /* nslab: line by line, also into a pipe */
    /* nslab: v2 has one tree at /sys/fs/cgroup; v1 a cpu hierarchy in it */
    v2 = statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
    /* nslab: mycgroup with our PID, as the Go names it: no clash, no leftover */
    snprintf(dir, sizeof dir, "/sys/fs/cgroup%s/nslab-08-%d-quota", v2 ? "" : "/cpu", getpid());

    signal(SIGINT, on_signal);  /* nslab: the cleanup below runs on Ctrl-C */
    signal(SIGTERM, on_signal);

    /* cgcreate -a root -g cpu:mycgroup */
    if (v2) { /* nslab: v2 hands cpu down from the root; -cpu at the end */
        char w[32];
        int has = 0;
        FILE *f = fopen(ROOTCTL, "r");
        while (f && fscanf(f, "%31s", w) == 1) has |= !strcmp(w, "cpu");
        if (f) fclose(f);
        if (!has && echo(ROOTCTL, "+cpu") == 0) {
            printf("+ echo +cpu > %s\n", ROOTCTL);
            enabled = 1;
        }
    }
    printf("+ mkdir %s\n", dir);
    if (mkdir(dir, 0755) == -1) {
        perror(dir);
        if (enabled) echo(ROOTCTL, "-cpu"); /* nslab: as we found it */
        exit(EXIT_FAILURE);
    }

    /* cgset -r cpu.cfs_quota_us=30000 mycgroup */
    /* nslab: v2's cpu.max holds the quota and the period */
    snprintf(file, sizeof file, "%s/%s", dir, v2 ? "cpu.max" : "cpu.cfs_quota_us");
    printf("+ echo %s > %s\n", v2 ? "30000 100000" : "30000", file);
    if (echo(file, v2 ? "30000 100000" : "30000")) perror(file);
    snprintf(file, sizeof file, "%s/cgroup.procs", dir);

    /* cgexec -g cpu:mycgroup stress -c 1 & */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char me[32];
        snprintf(me, sizeof me, "%d", getpid());
        if (echo(file, me)) { perror(file); _exit(127); }
        setpgid(0, 0); /* nslab: Ctrl-C reaches only us: we end it in order */
        execlp("stress", "stress", "-c", "1", "--timeout", "60s", (char *)NULL);
        perror("stress");
        _exit(127);
    }
    printf("+ cgexec -g cpu:nslab-08-%d-quota stress -c 1 &  # pid %d\n", getpid(), pid);

    /* top */
    /* nslab: after SECONDS, ps once: %CPU over each process's life so far */
    for (int s = 0; s < seconds && !stop_sig; s++) sleep(1);
    if (!stop_sig) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "ps -o pid,pcpu,comm -p $(paste -sd, %s)", file);
        printf("+ top  # %s\n", cmd);
        int rc = system(cmd);
        (void)rc;
    }

    /* nslab: the seed leaves stress running; we kill what is in mycgroup,
     * then rmdir it (EBUSY until the killed processes have exited) */
    for (int tries = 0; tries < 300; tries++) {
        FILE *f = fopen(file, "r");
        int pid_in, any = 0;
        while (f && fscanf(f, "%d", &pid_in) == 1) { kill(pid_in, SIGKILL); any = 1; }
        if (f) fclose(f);
        if (!any && rmdir(dir) == 0) break;
        usleep(10000);
    }
    printf("+ rmdir %s\n", dir);
    if (enabled && echo(ROOTCTL, "-cpu") == 0) printf("+ echo -cpu > %s\n", ROOTCTL);
    return stop_sig ? 128 + stop_sig : 0; /* nslab: 130 after Ctrl-C, as a shell says */
}
