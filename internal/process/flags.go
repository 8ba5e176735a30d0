package process

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// EnvName is the environment variable that sets the flag name of the
// service whose variables start with prefix: "ORDERSVC" and "http.addr" give
// ORDERSVC_HTTP_ADDR; no prefix gives HTTP_ADDR.
func EnvName(prefix, name string) string {
	name = strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(name))
	if prefix == "" {
		return name
	}
	return prefix + "_" + name
}

// EnvNames lists the environment variables the flags of fs read.
func EnvNames(fs *flag.FlagSet, prefix string) []string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, EnvName(prefix, f.Name)) })
	return names
}

// ParseFlags sets each flag of fs from its environment variable, when set,
// then from args, which win. -h lists every flag with its variable. An
// invalid value is an error that names the flag or the variable.
func ParseFlags(fs *flag.FlagSet, prefix string, args []string) error {
	if fs.Usage == nil {
		fs.Usage = func() { PrintUsage(fs.Output(), fs, prefix) }
	}
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		env := EnvName(prefix, f.Name)
		if v, ok := os.LookupEnv(env); ok && err == nil {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("invalid value %q of %s: %v", v, env, e)
			}
		}
	})
	if err != nil {
		return err
	}
	return fs.Parse(args)
}

// PrintUsage writes the flags of fs with their variables and defaults.
func PrintUsage(w io.Writer, fs *flag.FlagSet, prefix string) {
	fmt.Fprintf(w, "Usage of %s (each flag defaults to its environment variable):\n", fs.Name())
	fs.VisitAll(func(f *flag.Flag) {
		fmt.Fprintf(w, "  -%s (env %s, default %q)\n    \t%s\n", f.Name, EnvName(prefix, f.Name), f.DefValue, f.Usage)
	})
}
