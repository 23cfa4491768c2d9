package nn

// Padding is Keras's padding mode for convolution and pooling windows.
type Padding int

const (
	Valid Padding = iota // no padding; the output size floors
	Same                 // output size ceil(in/stride), zero (conv) or ignored (pool) border
)

// ParsePadding reads "valid" or "same".
func ParsePadding(s string) (Padding, error) {
	switch s {
	case "", "valid":
		return Valid, nil
	case "same":
		return Same, nil
	}
	return Valid, errorf("nn: unsupported padding %q (want same or valid)", s)
}

func (p Padding) String() string {
	if p == Same {
		return "same"
	}
	return "valid"
}

// window returns the output length and the padding before the first element
// for a window of size k and stride s over n inputs, by Keras's rules:
// valid gives floor((n-k)/s)+1; same gives ceil(n/s) with
// total padding max((out-1)*s+k-n, 0), the smaller half before.
func window(n, k, s int, p Padding) (out, before int) {
	if p == Same {
		out = (n + s - 1) / s
		total := max((out-1)*s+k-n, 0)
		return out, total / 2
	}
	if n < k {
		return 0, 0
	}
	return (n-k)/s + 1, 0
}
