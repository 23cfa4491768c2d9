package nn

// Conv2D is a 2-D convolution (cross-correlation, as Keras: the kernel is not
// flipped) with optional bias and an activation applied inside the layer.
//
//	y[n,oh,ow,o] = act(b[o] + Σ_{kh,kw,i} x[n, oh*sh+kh-ph, ow*sw+kw-pw, i] * K[kh,kw,i,o])
//
// with x = 0 outside the image and K in Keras's HWIO layout.
type Conv2D struct {
	name    string
	KH, KW  int // kernel height and width
	SH, SW  int // strides
	Pad     Padding
	In, Out int // input and output channels
	Act     Activation
	Kernel  *Param // (KH, KW, In, Out)
	Bias    *Param // (Out), nil without bias
	x, y    *Tensor
	g, dx   *Tensor // masked upstream gradient, input gradient
	geo     convGeom
	prep    kernelPrep // the input gradient's flipped and packed kernel, kept between passes
	scores  bool       // in a Model.ForwardScores pass: the forward may run on the vector Winograd path
	sprep   kernelPrep // ForwardScores' packed kernel, kept between passes
}

var _ Layer = (*Conv2D)(nil)

// NewConv2D returns a convolution with zero weights.
func NewConv2D(name string, in, out, kh, kw, sh, sw int, pad Padding, act Activation, bias bool) *Conv2D {
	c := &Conv2D{name: name, KH: kh, KW: kw, SH: sh, SW: sw, Pad: pad, In: in, Out: out, Act: act}
	c.Kernel = newParam(name, "kernel", true, kh, kw, in, out)
	if bias {
		c.Bias = newParam(name, "bias", true, out)
	}
	return c
}

func (c *Conv2D) Name() string { return c.name }

func (c *Conv2D) Params() []*Param {
	if c.Bias == nil {
		return []*Param{c.Kernel}
	}
	return []*Param{c.Kernel, c.Bias}
}

func (c *Conv2D) OutputShape(in [3]int) ([3]int, error) {
	if in[2] != c.In {
		return [3]int{}, errorf("nn: %s: input has %d channels, kernel expects %d", c.name, in[2], c.In)
	}
	if c.Pad == Valid && (in[0] < c.KH || in[1] < c.KW) {
		return [3]int{}, errorf("nn: %s: input %dx%d smaller than kernel %dx%d", c.name, in[0], in[1], c.KH, c.KW)
	}
	oh, _ := window(in[0], c.KH, c.SH, c.Pad)
	ow, _ := window(in[1], c.KW, c.SW, c.Pad)
	return [3]int{oh, ow, c.Out}, nil
}

// convGeom is the geometry of one convolution call.
type convGeom struct {
	n, h, w, in    int // input
	oh, ow, out    int // output
	kh, kw, sh, sw int
	ph, pw         int // padding before
}

func (c *Conv2D) geometry(x *Tensor) convGeom {
	if x.Shape[3] != c.In {
		panic(sprintf("nn: %s: input %v has %d channels, want %d", c.name, x, x.Shape[3], c.In))
	}
	g := convGeom{n: x.Shape[0], h: x.Shape[1], w: x.Shape[2], in: c.In, out: c.Out,
		kh: c.KH, kw: c.KW, sh: c.SH, sw: c.SW}
	g.oh, g.ph = window(g.h, c.KH, c.SH, c.Pad)
	g.ow, g.pw = window(g.w, c.KW, c.SW, c.Pad)
	return g
}

func (c *Conv2D) Forward(x *Tensor) *Tensor {
	c.geo = c.geometry(x)
	g := c.geo
	c.x = x
	c.y = reuse(c.y, [4]int{g.n, g.oh, g.ow, g.out})
	bias := biasValue(c.Bias)
	switch {
	case c.Act == Softmax:
		panic("nn: " + c.name + ": softmax activation in Conv2D is not supported")
	case c.scores:
		conv2DScoresTo(c.y.Data, x.Data, c.Kernel.Value, bias, c.Act == ReLU, g, c.kept(&c.sprep))
	case c.Act == ReLU:
		conv2DReLUTo(c.y.Data, x.Data, c.Kernel.Value, bias, g)
	default:
		conv2DTo(c.y.Data, x.Data, c.Kernel.Value, bias, g)
	}
	return c.y
}

func (c *Conv2D) Backward(dy *Tensor) *Tensor {
	g := c.geo
	mustShape(c.name, "backward", dy.Shape, c.y.Shape)
	grad := dy.Data
	var mask []float32 // ReLU output, when the input-gradient kernel masks dy itself
	params := c.Kernel.Grad != nil || (c.Bias != nil && c.Bias.Grad != nil)
	if c.Act == ReLU {
		if !params && conv2DInputGradMasks(g) {
			mask = c.y.Data
		} else {
			c.g = reuse(c.g, dy.Shape)
			reluGradTo(c.g.Data, dy.Data, c.y.Data)
			grad = c.g.Data
		}
	}
	if c.Bias != nil && c.Bias.Grad != nil {
		biasGradAdd(c.Bias.Grad, grad, g.out)
	}
	if c.Kernel.Grad != nil {
		conv2DKernelGradAdd(c.Kernel.Grad, c.x.Data, grad, g)
	}
	c.dx = reuse(c.dx, c.x.Shape)
	conv2DInputGradTo(c.dx.Data, grad, mask, c.Kernel.Value, g, c.kept(&c.prep))
	return c.dx
}

// prepSmall is the kernel size (in values) up to which a layer always
// keeps its prepared kernels (kernelPrep: the input gradient's, and
// ForwardScores'): a prep holds about four times its kernel, at most 1 MiB
// here.
const prepSmall = 1 << 16

// kept returns p, one of the layer's kernelPreps, or nil (and drops what p
// kept) when keeping it would hold more than the layer's output does and
// more than prepSmall allows for: on a large model the preps of its large
// kernels would add up to several times the weights.
func (c *Conv2D) kept(p *kernelPrep) *kernelPrep {
	if k := len(c.Kernel.Value); k > prepSmall && 4*k > len(c.y.Data) {
		*p = kernelPrep{}
		return nil
	}
	return p
}

// biasGradAdd adds the sum of g over every position to db.
//
//	db: (out)   g: (positions, out)
func biasGradAdd(db, g []float32, out int) {
	for p := 0; p < len(g); p += out {
		row := g[p : p+out]
		for o, v := range row {
			db[o] += v
		}
	}
}
