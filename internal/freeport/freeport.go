// Package freeport picks TCP ports for servers whose address is given out
// before they listen: a redis-server child, the processes of a test's
// stack. A port found free by listening on port 0 and closing may be taken
// again before its server binds it, since the kernel hands the same range
// to every outgoing connection and every listener on port 0. So the ports
// are picked at random below that range, where neither goes.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// lowest is where the picks start: above the ports that servers are
// usually configured on.
const lowest = 10_000

// Pick returns n different ports of host that were free a moment ago, each
// held until all are found.
func Pick(host string, n int) ([]string, error) {
	top := ephemeralStart() - 1
	ports := make([]string, 0, n)
	for tries := 0; len(ports) < n; tries++ {
		if tries == 100*n {
			return nil, fmt.Errorf("no free port on %s from %d to %d", host, lowest, top)
		}
		port := "0" // the kernel's choice, when no range is left below its own
		if top > lowest {
			port = strconv.Itoa(lowest + rand.IntN(top-lowest+1))
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
		if err != nil {
			continue
		}
		defer ln.Close()
		_, port, _ = net.SplitHostPort(ln.Addr().String())
		ports = append(ports, port)
	}
	return ports, nil
}

// ephemeralStart is the first port of the kernel's ephemeral range.
func ephemeralStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768 // Linux's default; elsewhere, IANA's range starts at 49152
	}
	first, err := strconv.Atoi(strings.Fields(string(b) + " x")[0])
	if err != nil {
		return 32768
	}
	return first
}
