//go:build goexperiment.simd && js && wasm

package nn

import (
	"os"
	"testing"
)

// TestSIMDKernelsLoaded checks that the kernels in use are the ones the
// runner says it provided: wasm/simd/exec/go_js_wasm_exec loads the
// SIMD128 kernels unless MAVIS_SIMD=off withholds them (a browser without
// SIMD128), and ./build.sh test runs both ways with MAVIS_SIMD=on and off.
// Without MAVIS_SIMD there is nothing to check.
func TestSIMDKernelsLoaded(t *testing.T) {
	want := os.Getenv("MAVIS_SIMD")
	if want == "" {
		t.Skip("MAVIS_SIMD is not set: run under wasm/simd/exec/go_js_wasm_exec with MAVIS_SIMD=on or off")
	}
	simd := gemmKernel == "wasm simd128 4x8" && gemmRows != nil && fastMaskCopy != nil
	switch want {
	case "on":
		if !simd {
			t.Fatalf("MAVIS_SIMD=on but the kernel in use is %q (row path %v): the runner did not provide the SIMD128 kernels", gemmKernel, gemmRows != nil)
		}
	case "off":
		if simd || len(microKernels) != 2 || fastMaskCopy != nil || fastScaleShift != nil || fastDense != nil {
			t.Fatalf("MAVIS_SIMD=off but the kernel in use is %q with %d kernels registered", gemmKernel, len(microKernels))
		}
	default:
		t.Fatalf("MAVIS_SIMD=%q: want on or off", want)
	}
}
