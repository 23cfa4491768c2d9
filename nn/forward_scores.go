package nn

// ForwardScores is ForwardTo(x, last) for a caller that needs only the
// outputs: the scores of many masked or perturbed copies of an image
// (xai's RISE, Score-CAM, GradientSHAP's checks). Where this build has a
// vector Winograd path (SIMD128 in the browser, AVX-512 natively), the 3x3
// stride-1 convolutions it takes run there, with 2.25x fewer multiplies:
// BenchmarkMavisForwardScores took 16.8-17.1 ms against
// BenchmarkMavisForward's 25.1-25.9 under node, and 5.1-5.9 against
// 6.1-6.8 natively (AVX-512, two cores). Winograd rounds differently from
// ForwardTo's direct sums: on the fixtures' photos MAVIS's logits moved by
// at most 4e-6 of the largest. ForwardTo keeps the direct sums because
// gradients follow its pass, and there the rounding would move which input
// of a near-tied max-pool window wins, and the maps with it. So no
// Backward may follow a ForwardScores (it panics), and ForwardAgain does
// not reuse one. The outputs are the same, bit for bit, on every run,
// batch size and number of workers.
func (m *Model) ForwardScores(x *Tensor, last int) *Tensor {
	m.markScores(last, true)
	defer m.markScores(last, false)
	y := m.ForwardTo(x, last)
	m.scoresPass = m.passes
	return y
}

// markScores sets whether the convolutions up to layer last run as
// ForwardScores runs them.
func (m *Model) markScores(last int, on bool) {
	for _, l := range m.Layers[:last+1] {
		if c, ok := l.(*Conv2D); ok {
			c.scores = on
		}
	}
}
