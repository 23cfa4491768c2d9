package xai

import "github.com/mavis-xai/mavis/nn"

// Splitting a method across workers: a method whose map is a sum over
// independent evaluations (Integrated Gradients' path points) registers a
// splitter, and a pool of workers, each with its own Explainer and copy
// of the model, computes ranges of the evaluations with PartTo and adds
// them up with CombineTo. The result is bitwise Explain's: the parts hold
// float64 sums that CombineTo adds in evaluation order.

// Part is one range of a split method's evaluations (see IGPart, whose
// BaselineScore is the score at the last evaluation). What Sum holds is
// the method's own: Integrated Gradients' path sum (H x W x C);
// Occlusion's and RISE's scores, one per evaluation of the range; the
// noise tunnel's five blocks of sums (see tunnelPart); GradientSHAP's
// terms' sums and its samples' check scores (see shapLayout). Evaluation 0 is x
// for every split method, and only the part holding it has Prediction.
type Part = IGPart

// splitter is a method's split: the number of evaluations, a part, and
// the combination of parts into a Result.
type splitter struct {
	evaluations func(ex *Explainer, r *Request, v Values) (int, error)
	part        func(ex *Explainer, dst *Part, x *nn.Tensor, r *Request, v Values, lo, hi int) error
	combine     func(ex *Explainer, dst *Result, x *nn.Tensor, r *Request, v Values, parts []*Part) error
}

// Splittable reports whether the method can be split across workers.
func (m *Method) Splittable() bool { return m.split != nil }

// Evaluations returns the number of evaluations a split of r runs over,
// or an error when r's method cannot be split or its options are wrong.
func (ex *Explainer) Evaluations(r Request) (int, error) {
	m, v, err := ex.splitOf(&r)
	if err != nil {
		return 0, err
	}
	return m.split.evaluations(ex, &r, v)
}

// PartTo computes evaluations [lo, hi) of r's method for x into dst,
// reusing its storage. A part that excludes evaluation 0 (x itself)
// cannot resolve the predicted class: r.Target.Class must then be set,
// to the class the part holding x resolved.
func (ex *Explainer) PartTo(dst *Part, x *nn.Tensor, r Request, lo, hi int) error {
	m, v, err := ex.splitOf(&r)
	if err != nil {
		return err
	}
	if err := ex.check(x, r.Target); err != nil {
		return err
	}
	return m.split.part(ex, dst, x, &r, v, lo, hi)
}

// CombineTo writes into dst r's explanation of x made of parts computed by
// PartTo with the same x and request (Progress aside); the parts, in any
// order, must cover every evaluation once.
func (ex *Explainer) CombineTo(dst *Result, x *nn.Tensor, r Request, parts []*Part) error {
	m, v, err := ex.splitOf(&r)
	if err != nil {
		return err
	}
	if err := ex.check(x, r.Target); err != nil {
		return err
	}
	*dst = Result{Method: m.Name, Values: v, Map: dst.Map, Prediction: dst.Prediction}
	if err := m.split.combine(ex, dst, x, &r, v, parts); err != nil {
		return err
	}
	dst.Method, dst.Values = m.Name, v
	displayTo(&dst.Display, dst.Map)
	return nil
}

func (ex *Explainer) splitOf(r *Request) (*Method, Values, error) {
	m, err := Lookup(r.Method)
	if err != nil {
		return nil, nil, err
	}
	if m.split == nil {
		return nil, nil, errorf("xai: %s cannot be split across workers", m.Name)
	}
	v, err := m.Resolve(r.Options)
	if err != nil {
		return nil, nil, err
	}
	return m, v, nil
}

// chainParts appends to ord the parts (in any order, nil ones ignored)
// chained in ascending Lo from evaluation 0 to n, and checks that they
// cover every evaluation once, fit n, agree on the class and each hold
// sumLen(p) values in Sum. Parts may come from another worker: what does
// not fit is an error naming the method.
func chainParts(ord, parts []*Part, n int, method string, sumLen func(p *Part) int) ([]*Part, error) {
	for at := 0; at < n; {
		var p *Part
		for _, q := range parts {
			if q != nil && q.Lo == at {
				p = q
				break
			}
		}
		switch {
		case p == nil:
			return ord, errorf("xai: no %s part starts at evaluation %d of 0..%d", method, at, n)
		case p.Evaluations != n || p.Hi <= p.Lo || p.Hi > n:
			return ord, errorf("xai: %s part %d..%d of %d evaluations does not fit these options' %d", method, p.Lo, p.Hi, p.Evaluations, n)
		case len(p.Sum) != sumLen(p):
			return ord, errorf("xai: %s part %d..%d holds %d values, want %d", method, p.Lo, p.Hi, len(p.Sum), sumLen(p))
		case len(ord) > 0 && p.Class != ord[0].Class:
			return ord, errorf("xai: the %s parts explain classes %d and %d", method, ord[0].Class, p.Class)
		}
		ord = append(ord, p)
		at = p.Hi
	}
	if k := countParts(parts); len(ord) != k {
		return ord, errorf("xai: %d %s parts, of which %d cover the evaluations 0..%d: the others overlap them", k, method, len(ord), n)
	}
	return ord, nil
}
