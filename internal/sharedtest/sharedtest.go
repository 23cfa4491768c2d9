// Package sharedtest locates ../shared for tests: the original MAVIS
// weights and the float64 reference fixtures (shared/fixtures/README.md),
// which live beside the repository rather than in it.
//
// A test that needs them calls Dir or Fixtures. When the folder or a file
// the test needs is absent, the test is skipped with a message saying what
// is missing and how to point at it; under CI=true it fails instead, so
// that CI never passes by skipping the parity checks.
package sharedtest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Env names the environment variable that overrides the folder's location.
const Env = "MAVIS_SHARED"

// Paths inside the shared folder (slash-separated) that tests name in Dir.
const (
	// Manifest is the MAVIS fixtures' index; Fixtures requires it.
	Manifest = "fixtures/mavis/manifest.json"
	// Weights is the original MAVIS Keras 3 checkpoint.
	Weights = "mavis/tiny_imagenet_model.checkpoint.weights.h5"
)

// Root returns where the shared folder should be: $MAVIS_SHARED when set,
// otherwise ../shared beside the repository root (the nearest directory
// above the working directory holding go.mod). It does not check that the
// folder exists: Dir does.
func Root() (string, error) {
	if dir := os.Getenv(Env); dir != "" {
		return filepath.Abs(dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(dir), "shared"), nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("no go.mod above " + wd)
		}
		dir = up
	}
}

// Dir returns the shared folder after checking that it exists and holds
// every path in need (slash-separated, relative to it). Otherwise it skips
// t, or fails it when CI=true.
func Dir(t testing.TB, need ...string) string {
	t.Helper()
	dir, err := Root()
	if err == nil {
		for _, p := range append([]string{"."}, need...) {
			if _, err = os.Stat(filepath.Join(dir, filepath.FromSlash(p))); err != nil {
				break
			}
		}
	}
	if err != nil {
		msg := "the shared folder (MAVIS weights and reference fixtures) is not usable: " + err.Error() +
			"; put it at ../shared beside the repository or set " + Env + " to it"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true: failing instead of skipping)")
		}
		t.Skip(msg)
	}
	return dir
}

// Fixtures returns the MAVIS reference fixtures folder, shared/fixtures/mavis,
// after checking its manifest as Dir does.
func Fixtures(t testing.TB) string {
	t.Helper()
	return filepath.Join(Dir(t, Manifest), "fixtures", "mavis")
}
