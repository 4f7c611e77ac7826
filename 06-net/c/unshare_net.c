/* unshare_net.c: the network-namespace session of ysoftman's post
   "linux namespace", one command after another, in C:

       unshare --net /bin/sh ; ip a
       ip netns add mynet
       ip netns list                      (or ls /var/run/netns)
       nsenter --net=/var/run/netns/mynet ; ip a
       lsns -t net -p $$

   Usage: unshare_net [NAME]   (NAME defaults to mynet; the name stays,
   as after ip netns add: remove it with ip netns del NAME) */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define errExit(msg) do { perror(msg); exit(EXIT_FAILURE); } while (0)

/* ip_a is `ip a` cut down to each interface's index, name and IFF_UP
   flag, as the caller's network namespace has them. */
static void ip_a(void)
{
    struct if_nameindex *ifs = if_nameindex();
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (ifs == NULL || s == -1)
        errExit("if_nameindex/socket");
    for (struct if_nameindex *i = ifs; i->if_index != 0; i++) {
        struct ifreq ifr;
        memset(&ifr, 0, sizeof(ifr));
        strncpy(ifr.ifr_name, i->if_name, IFNAMSIZ - 1);
        if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1)
            errExit("ioctl SIOCGIFFLAGS");
        printf("%3u: %-15s %s\n", i->if_index, i->if_name,
               (ifr.ifr_flags & IFF_UP) ? "UP" : "DOWN");
    }
    close(s);
    if_freenameindex(ifs);
}

int main(int argc, char *argv[])
{
    const char *name = argc > 1 ? argv[1] : "mynet";
    char path[PATH_MAX], id[64];
    pid_t pid;

    setvbuf(stdout, NULL, _IOLBF, 0); /* nslab: the child's lines in order */
    /* nslab: a NAME with '/' would be a path outside /run/netns */
    if (strchr(name, '/') != NULL || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        fprintf(stderr, "usage: %s [NAME]   (a file name: no '/', not . or ..)\n", argv[0]);
        exit(2);
    }
    snprintf(path, sizeof(path), "/run/netns/%s", name);

    /* unshare --net /bin/sh */
    printf("+ unshare --net /bin/sh\n");
    pid = fork(); /* the shell, which then calls unshare() */
    if (pid == -1)
        errExit("fork");
    if (pid == 0) {
        if (unshare(CLONE_NEWNET) == -1)
            errExit("unshare");
        /* ip a */
        printf("+ ip a\n");
        ip_a();
        _exit(EXIT_SUCCESS); /* exit: the shell ends, and its namespace with it */
    }
    if (waitpid(pid, NULL, 0) == -1)
        errExit("waitpid");

    /* ip netns add mynet: iproute2 makes an empty file, unshares, binds
       /proc/self/ns/net onto the file, then setns()es back. (It also
       makes /run/netns a shared mount point first: 06-net's netns.go.) */
    printf("+ ip netns add %s\n", name);
    if (mkdir("/run/netns", 0755) == -1 && errno != EEXIST)
        errExit("mkdir /run/netns");
    int fd = open(path, O_RDONLY | O_CREAT | O_EXCL, 0);
    if (fd == -1)
        errExit(path);
    close(fd);
    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home == -1)
        errExit("open /proc/self/ns/net");
    if (unshare(CLONE_NEWNET) == -1 ||
        mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) == -1) {
        perror("unshare/mount --bind");
        unlink(path); /* nslab: no half-made name */
        exit(EXIT_FAILURE);
    }
    if (setns(home, CLONE_NEWNET) == -1)
        errExit("setns back");

    /* ip netns list   (or ls /var/run/netns) */
    printf("+ ip netns list\n");
    DIR *dir = opendir("/run/netns");
    if (dir == NULL)
        errExit("opendir /run/netns");
    for (struct dirent *d; (d = readdir(dir)) != NULL;)
        if (d->d_name[0] != '.')
            printf("%s\n", d->d_name);
    closedir(dir);

    /* nsenter --net=/var/run/netns/mynet */
    printf("+ nsenter --net=%s\n", path);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        errExit(path);
    if (setns(fd, CLONE_NEWNET) == -1)
        errExit("setns");
    /* ip a */
    printf("+ ip a\n");
    ip_a();

    /* lsns -t net -p $$   (its NS column is readlink /proc/$$/ns/net) */
    printf("+ lsns -t net -p %ld\n", (long) getpid());
    ssize_t n = readlink("/proc/self/ns/net", id, sizeof(id) - 1);
    if (n == -1)
        errExit("readlink");
    id[n] = '\0';
    printf("%s\n", id);
    exit(EXIT_SUCCESS);
}
