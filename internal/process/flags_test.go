package process

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func newFlags() (*flag.FlagSet, *string, *time.Duration) {
	fs := flag.NewFlagSet("svc", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("http.addr", ":7001", "address")
	interval := fs.Duration("redeliver.interval", time.Second, "interval")
	return fs, addr, interval
}

func TestEnvironmentSetsFlagsAndTheCommandLineWins(t *testing.T) {
	t.Setenv("SVC_HTTP_ADDR", ":9000")
	t.Setenv("SVC_REDELIVER_INTERVAL", "2s")
	fs, addr, interval := newFlags()
	if err := ParseFlags(fs, "SVC", []string{"-http.addr", ":9100"}); err != nil {
		t.Fatal(err)
	}
	if *addr != ":9100" || *interval != 2*time.Second {
		t.Errorf("want :9100 and 2s, have %s and %v", *addr, *interval)
	}
}

func TestAnInvalidVariableIsNamed(t *testing.T) {
	t.Setenv("SVC_REDELIVER_INTERVAL", "soon")
	fs, _, _ := newFlags()
	err := ParseFlags(fs, "SVC", nil)
	if err == nil || !strings.Contains(err.Error(), "SVC_REDELIVER_INTERVAL") {
		t.Errorf("want an error naming SVC_REDELIVER_INTERVAL, have %v", err)
	}
}

func TestUsageListsEveryFlagWithItsVariable(t *testing.T) {
	fs, _, _ := newFlags()
	var b strings.Builder
	PrintUsage(&b, fs, "SVC")
	for _, want := range []string{"-http.addr", "SVC_HTTP_ADDR", "-redeliver.interval", "SVC_REDELIVER_INTERVAL"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("usage lacks %s:\n%s", want, b.String())
		}
	}
	if have := EnvNames(fs, "SVC"); strings.Join(have, ",") != "SVC_HTTP_ADDR,SVC_REDELIVER_INTERVAL" {
		t.Errorf("want both variables, have %v", have)
	}
}

func TestProbeHelpExitsZeroAndSaysWhatProbeDoes(t *testing.T) {
	fs, _, _ := newFlags()
	var out strings.Builder
	if code := probe(fs, "SVC", []string{"-h"}, &out); code != 0 {
		t.Errorf("probe -h: want exit 0, have %d", code)
	}
	if s := out.String(); !strings.Contains(s, "probe [path]") || !strings.Contains(s, "-http.addr") || strings.Contains(s, "flag: help requested") {
		t.Errorf("probe -h should explain the command and list the flags:\n%s", s)
	}
}

func TestHelpMentionsTheProbeCommand(t *testing.T) {
	fs, _, _ := newFlags()
	var out strings.Builder
	printMainUsage(&out, fs, "SVC")
	if s := out.String(); !strings.Contains(s, "svc probe [path]") || !strings.Contains(s, "SVC_HTTP_ADDR") {
		t.Errorf("-h should name the probe command and every flag:\n%s", out.String())
	}
}

func TestVersionNamesTheBinaryAndItsGo(t *testing.T) {
	v := Version("gateway")
	if !strings.HasPrefix(v, "gateway ") || !strings.Contains(v, "go1.") || !strings.Contains(v, "commit ") {
		t.Errorf("want the name, the commit and the Go release, have %q", v)
	}
}
