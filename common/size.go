package common

import "strconv"

// ParseSize reads 65536, 64K, 64M or 1G (powers of 1024, as the cgroup
// files take them), for memory limits.
//
// Used by 08-cgroup and 10-container.
func ParseSize(s string) (int64, error) {
	mult := int64(1)
	if i := len(s) - 1; i > 0 {
		switch s[i] {
		case 'K', 'k':
			mult, s = 1<<10, s[:i]
		case 'M', 'm':
			mult, s = 1<<20, s[:i]
		case 'G', 'g':
			mult, s = 1<<30, s[:i]
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n * mult, err
}
