//go:build !js || goexperiment.simd

package xai_test

import (
	"path/filepath"
	"testing"

	"github.com/mavis-xai/mavis/xai"
)

// TestDeletionIncrementalMAVIS: on the real MAVIS weights and the chelsea
// fixture, the incremental curves of the four kinds of map equal the full
// passes' bit for bit, with single pixels and with the page's 8-pixel
// patches.
func TestDeletionIncrementalMAVIS(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: MAVIS metrics are about 100 forward passes")
	}
	man, dir := readManifest(t)
	if _, ok := man.Images["chelsea"]; !ok {
		t.Fatal("manifest.json has no image chelsea")
	}
	x := readInput(t, filepath.Join(dir, "chelsea", "input.png"))
	m := loadMAVIS(t)
	checkIncremental(t, m, x, []xai.MetricsOptions{{Steps: 4}, {Steps: 6, Patch: 8}})
}
