// Package freeport picks TCP ports for servers whose address is given out
// before they listen: a redis-server child, the processes of a test's
// stack. A port found free by listening on port 0 and closing may be taken
// again before its server binds it, since the kernel hands the same range
// to every outgoing connection and every listener on port 0. So the ports
// are picked at random outside that range, where neither goes.
package freeport

import (
	"errors"
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
// held until all are found. When the kernel's range leaves no room, the
// ports are the kernel's own choice.
func Pick(host string, n int) ([]string, error) {
	if n < 0 {
		return nil, errors.New("freeport: a negative count of ports")
	}
	first, last := ephemeral()
	below := max(0, first-lowest)              // ports from lowest to the range
	above := max(0, 65535-max(last, lowest-1)) // ports after it
	ports := make([]string, 0, n)
	for tries := 0; len(ports) < n; tries++ {
		if tries == 100*n {
			return nil, fmt.Errorf("no free port on %s outside the kernel's ephemeral range", host)
		}
		port := "0"
		if below+above > 0 {
			i := rand.IntN(below + above)
			if i >= below { // after the range
				i += max(last+1, lowest) - lowest - below
			}
			port = strconv.Itoa(lowest + i)
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

// ephemeral returns the kernel's ephemeral range, Linux's default when it
// cannot be read.
func ephemeral() (first, last int) {
	first, last = 32768, 60999
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return first, last
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return first, last
	}
	a, errA := strconv.Atoi(f[0])
	z, errZ := strconv.Atoi(f[1])
	if errA != nil || errZ != nil || a > z {
		return first, last
	}
	return a, z
}
