package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat;
// it is 100 on every Linux architecture Go supports.
const clockTicks = 100

// process reads another process's memory and CPU time from /proc.
type process struct{ pid int }

// memory returns the resident set size (VmRSS) and its peak (VmHWM), in bytes.
func (p process) memory() (rss, peak int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range bytes.Lines(b) {
		name, value, ok := strings.Cut(string(line), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status %s: %w", p.pid, name, err)
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	return rss, peak, nil
}

// cpu returns the user plus system CPU time the process has used.
func (p process) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; the fields after it are plain.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", p.pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// After ")": state is field 3, utime field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", p.pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime/stime", p.pid)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// selfCPU returns this process's user plus system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter measures the CPU share of the server and of this process over an
// interval, as a fraction of one core.
type cpuMeter struct {
	server         *process
	t0             time.Time
	srv0, self0    time.Duration
	srvErr         error
	serverCPU, own time.Duration
	wall           time.Duration
}

func startCPU(server *process) *cpuMeter {
	m := &cpuMeter{server: server, t0: time.Now(), self0: selfCPU()}
	if server != nil {
		m.srv0, m.srvErr = server.cpu()
	}
	return m
}

// stop ends the interval.
func (m *cpuMeter) stop() {
	m.wall = time.Since(m.t0)
	m.own = selfCPU() - m.self0
	if m.server != nil && m.srvErr == nil {
		var srv time.Duration
		srv, m.srvErr = m.server.cpu()
		m.serverCPU = srv - m.srv0
	}
}

// Server returns the server's CPU share ("n/a" without a pid).
func (m *cpuMeter) Server() string {
	if m.server == nil || m.srvErr != nil {
		return "n/a"
	}
	return fmt.Sprintf("%.0f%%", 100*m.serverCPU.Seconds()/m.wall.Seconds())
}

// Client returns this process's CPU share.
func (m *cpuMeter) Client() string {
	return fmt.Sprintf("%.0f%%", 100*m.own.Seconds()/m.wall.Seconds())
}

// ServerPerMillion returns the server's CPU seconds per million units of work.
func (m *cpuMeter) ServerPerMillion(units float64) string {
	if m.server == nil || m.srvErr != nil || units == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f s", m.serverCPU.Seconds()/units*1e6)
}
