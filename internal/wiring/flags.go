package wiring

import (
	"errors"
	"flag"
	"fmt"
	"strings"
)

// EnvPrefix starts the name of the environment variable of every flag: -db
// falls back to CLOUDSWITCH_DB, -reconcile-interval to
// CLOUDSWITCH_RECONCILE_INTERVAL.
const EnvPrefix = "CLOUDSWITCH_"

// EnvName is the environment variable a flag falls back to.
func EnvName(flagName string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Parse parses args into fs; every flag the command line leaves unset then
// takes its value from its environment variable (see EnvName), when getenv
// returns a non-empty one. The usage text -help prints names each variable.
// Parse refuses positional arguments, and reports every bad value at once.
func Parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	DescribeEnv(fs, nil)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: every setting is a flag", fs.Args())
	}
	return SetFromEnv(fs, getenv, nil)
}

// DescribeEnv names, in the usage text of each flag of fs that fromEnv
// accepts (nil: every flag), the environment variable it falls back to.
func DescribeEnv(fs *flag.FlagSet, fromEnv func(flagName string) bool) {
	fs.VisitAll(func(f *flag.Flag) {
		if fromEnv == nil || fromEnv(f.Name) {
			f.Usage += fmt.Sprintf(" (env %s)", EnvName(f.Name))
		}
	})
}

// SetFromEnv sets each flag of fs that the parsed command line left unset,
// and that fromEnv accepts (nil: every flag), from its environment variable
// (see EnvName), when getenv returns a non-empty value. It reports every bad
// value at once, naming the variable but never repeating the value.
func SetFromEnv(fs *flag.FlagSet, getenv func(string) string, fromEnv func(flagName string) bool) error {
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || (fromEnv != nil && !fromEnv(f.Name)) {
			return
		}
		name := EnvName(f.Name)
		v := getenv(name)
		if v == "" {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			// The value is not repeated: it may be a DSN with a password.
			errs = append(errs, fmt.Errorf("environment variable %s: %w", name, err))
		}
	})
	return errors.Join(errs...)
}
