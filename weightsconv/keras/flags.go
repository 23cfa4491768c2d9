package keras

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/mavis-xai/mavis/nn"
)

// The -arch and -classes flags of the commands that convert a Keras file
// (weightsconv, and explain for a Keras -model), read one way for both.

// SetArch sets o's architecture from an -arch value: a built-in's name, or
// the path of an nn spec JSON file, read and parsed here so that a file
// that is not a spec is named in the error.
func (o *Options) SetArch(v string) error {
	builtins := nn.BuiltinNames()
	if slices.Contains(builtins, v) {
		o.Arch = v
		return nil
	}
	b, err := os.ReadFile(v)
	if err != nil {
		return fmt.Errorf("-arch %s: not a built-in architecture (%s) and not readable: %v", v, strings.Join(builtins, ", "), err)
	}
	if _, err := nn.ParseSpec(b); err != nil {
		return fmt.Errorf("-arch %s: not a built-in architecture (%s), and as a file not an architecture spec (JSON, see nn/spec.go): %v", v, strings.Join(builtins, ", "), err)
	}
	o.Spec = b
	return nil
}

// SetClasses sets o's class names from a -classes file (ParseClasses).
func (o *Options) SetClasses(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("-classes: %v", err)
	}
	o.Classes, err = ParseClasses(bytes.NewReader(b), path)
	return err
}
