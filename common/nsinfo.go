package common

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"golang.org/x/sys/unix"
)

// Namespace describes one namespace type: its name under /proc/PID/ns, its
// clone flag and the option letter ns_child_exec and nsenter use for it.
//
// Used by 01-clone, 09-setns and lab/bench.
type Namespace struct {
	Name   string
	Flag   uintptr
	Letter byte
}

// Namespaces lists the types in the order lsns prints them. The flags are
// uintptr because that is what SysProcAttr.Cloneflags takes.
//
// Used by 09-setns and 10-container.
var Namespaces = []Namespace{
	{"cgroup", unix.CLONE_NEWCGROUP, 'C'},
	{"ipc", unix.CLONE_NEWIPC, 'i'},
	{"mnt", unix.CLONE_NEWNS, 'm'},
	{"net", unix.CLONE_NEWNET, 'n'},
	{"pid", unix.CLONE_NEWPID, 'p'},
	{"time", unix.CLONE_NEWTIME, 'T'},
	{"user", unix.CLONE_NEWUSER, 'U'},
	{"uts", unix.CLONE_NEWUTS, 'u'},
}

// NSByLetter returns the namespace type of an option letter, as
// ns_child_exec, nsenter and unshare spell them (-C -i -m -n -p -T -U -u).
//
// Used by 01-clone, 09-setns and lab/bench.
func NSByLetter(l byte) (Namespace, bool) {
	if i := slices.IndexFunc(Namespaces, func(ns Namespace) bool { return ns.Letter == l }); i >= 0 {
		return Namespaces[i], true
	}
	return Namespace{}, false
}

// InKernel reports whether this kernel has the type: /proc/self/ns/NAME
// exists exactly for the types the kernel was built with.
func (ns Namespace) InKernel() bool {
	_, err := os.Lstat("/proc/self/ns/" + ns.Name)
	return err == nil && !injected("ns", ns.Name)
}

// NSInode returns the inode number of /proc/PID/ns/NAME: two processes are
// in the same namespace exactly when these numbers (and devices) are equal.
// pid 0 means the calling process (/proc/self).
//
// Used by 04-pid, 09-setns and nstest.
func NSInode(pid int, name string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(procPath(pid, "ns/"+name), &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// procPath is /proc/PID/FILE, /proc/self/FILE for pid 0.
func procPath(pid int, file string) string {
	if pid == 0 {
		return "/proc/self/" + file
	}
	return fmt.Sprintf("/proc/%d/%s", pid, file)
}

// NSColumn is one process shown by PrintNSTable.
//
// Used by 02-uts, 03-ipc, 07-user, 08-cgroup and 09-setns.
type NSColumn struct {
	Label string
	PID   int
}

// PrintNSTable prints the /proc/PID/ns inode of every namespace type for
// each process, one row a type, like `lsns -p PID` side by side. A row whose
// inodes differ is highlighted and marked "new", which is exactly what a
// CLONE_NEW* flag did. It returns the names of the rows that differ.
//
// Used by 02-uts, 03-ipc, 07-user, 08-cgroup and 09-setns.
func PrintNSTable(w io.Writer, cols ...NSColumn) []string {
	var buf strings.Builder
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	header := []string{"NS"}
	for _, c := range cols {
		header = append(header, fmt.Sprintf("%s (pid %d)", c.Label, c.PID))
	}
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	var differ []string
	for _, ns := range Namespaces {
		if _, err := os.Lstat(procPath(0, "ns/"+ns.Name)); err != nil {
			continue // this kernel lacks the type
		}
		row := []string{ns.Name}
		seen := map[string]bool{} // the inodes in the row, "?" for one unreadable
		for _, c := range cols {
			ino := "?"
			if n, err := NSInode(c.PID, ns.Name); err == nil {
				ino = fmt.Sprint(n)
			}
			row = append(row, ino)
			seen[ino] = true
		}
		mark := ""
		if len(seen) > 1 || seen["?"] {
			differ = append(differ, ns.Name)
			for i := range row {
				row[i] = Differ(row[i])
			}
			mark = Differ("new")
		}
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t"+mark)
	}
	tw.Flush()
	for _, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	return differ
}
