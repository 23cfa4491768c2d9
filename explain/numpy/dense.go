// Package numpy converts between nn.Tensor and gorgonia.org/tensor's Dense
// arrays, for the native commands that do array work with gorgonia. It
// lives beside the commands, outside nn, so that neither nn nor anything
// the browser loads links gorgonia (about 21 MB of wasm; nn/deps_test.go
// checks).
package numpy

import (
	"fmt"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/nn/npy"
	"gorgonia.org/tensor"
)

// ToDense returns t as a 4-D (N, H, W, C) float32 *tensor.Dense that shares
// t.Data: writes through either are seen by both.
func ToDense(t *nn.Tensor) *tensor.Dense {
	return tensor.New(tensor.WithShape(t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3]), tensor.WithBacking(t.Data))
}

// FromDense copies a float32 or float64 *tensor.Dense into a new Tensor,
// arranging its shape as npy.AsTensor does (a vector becomes 1x1x1xC, an
// (H, W) grid 1xHxWx1, (H, W, C) 1xHxWxC). Views and transposes are
// materialized first; other dtypes, masked and column-major tensors are
// errors.
func FromDense(d *tensor.Dense) (*nn.Tensor, error) {
	if d == nil {
		return nil, fmt.Errorf("numpy: nil tensor")
	}
	if d.IsMasked() {
		return nil, fmt.Errorf("numpy: masked tensors are not supported")
	}
	if d.DataOrder().IsColMajor() {
		return nil, fmt.Errorf("numpy: column-major tensors are not supported")
	}
	if d.RequiresIterator() {
		m, ok := d.Materialize().(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("numpy: cannot materialize a %v view", d.Shape())
		}
		d = m
	}
	shape := []int(d.Shape().Clone())
	n := d.Shape().TotalSize()
	if d.IsScalar() {
		shape, n = nil, 1
	}
	data := make([]float32, n)
	switch d.Dtype() {
	case tensor.Float32:
		if d.IsScalar() {
			data[0] = d.Get(0).(float32)
		} else {
			copy(data, d.Float32s()[:n])
		}
	case tensor.Float64:
		if d.IsScalar() {
			data[0] = float32(d.Get(0).(float64))
		} else {
			for i, v := range d.Float64s()[:n] {
				data[i] = float32(v)
			}
		}
	default:
		return nil, fmt.Errorf("numpy: dtype %v not supported (float32, float64)", d.Dtype())
	}
	return npy.AsTensor(shape, data)
}
