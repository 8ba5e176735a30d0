package loadgen

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of the CPU times in /proc/<pid>/stat: USER_HZ, which
// is 100 on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// readCPU returns the user and system CPU time each process has used so far.
func readCPU(ps []Process) ([]time.Duration, error) {
	out := make([]time.Duration, len(ps))
	for i, p := range ps {
		d, err := ProcessCPUTime(p.PID)
		if err != nil {
			return nil, fmt.Errorf("process %s: %w", p.Name, err)
		}
		out[i] = d
	}
	return out, nil
}

// ProcessCPUTime returns the user and system CPU time process pid has used,
// from /proc/<pid>/stat.
func ProcessCPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces:
	// count the fields from the last ")".
	end := strings.LastIndexByte(string(b), ')')
	if end < 0 {
		return 0, fmt.Errorf("unreadable /proc/%d/stat", pid)
	}
	fields := strings.Fields(string(b[end+1:]))
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return 0, fmt.Errorf("unreadable /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unreadable /proc/%d/stat", pid)
	}
	return time.Duration(utime+stime) * clockTick, nil
}
