package keras

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mavis-xai/mavis/nn"
)

// Load copies the checkpoint's weights into m by Keras's rules (see the
// package documentation), checking every count and shape first: on error m
// is unchanged.
func (c *Checkpoint) Load(m *nn.Model) error {
	pairs, err := c.match(m)
	if err != nil {
		return err
	}
	for _, p := range pairs {
		for i, q := range p.params {
			if err := checkShape(p.file, i, q); err != nil {
				return err
			}
		}
	}
	for _, p := range pairs {
		for i, q := range p.params {
			copy(q.Value, p.file.Vars[i].Data)
		}
	}
	return nil
}

type pair struct {
	layer  string // architecture layer
	file   *Layer
	params []*nn.Param
}

// parametric lists the architecture's layers that have parameters.
func parametric(m *nn.Model) []pair {
	var out []pair
	for _, l := range m.Layers {
		if p, ok := l.(nn.Parametric); ok && len(p.Params()) > 0 {
			out = append(out, pair{layer: l.Name(), params: p.Params()})
		}
	}
	return out
}

func (c *Checkpoint) match(m *nn.Model) ([]pair, error) {
	want := parametric(m)
	var have []*Layer
	for i := range c.Layers {
		if len(c.Layers[i].Vars) > 0 {
			have = append(have, &c.Layers[i])
		}
	}
	if c.byName() {
		byName := map[string]*Layer{}
		for _, l := range have {
			byName[l.Name] = l
		}
		for i := range want {
			l, ok := byName[want[i].layer]
			if !ok {
				return nil, fmt.Errorf("keras: the file has no weights for layer %q (file layers with weights: %s)", want[i].layer, layerNames(have))
			}
			want[i].file = l
			delete(byName, want[i].layer)
		}
		if len(byName) > 0 {
			extra := make([]string, 0, len(byName))
			for n := range byName {
				extra = append(extra, n)
			}
			slices.Sort(extra)
			return nil, fmt.Errorf("keras: the file has weights for layers %s that the architecture does not have", strings.Join(extra, ", "))
		}
	} else {
		if len(have) != len(want) {
			wn := make([]string, len(want))
			for i, p := range want {
				wn[i] = p.layer
			}
			return nil, fmt.Errorf("keras: the file has %d layers with weights (%s), the architecture %d (%s)",
				len(have), layerNames(have), len(want), strings.Join(wn, ", "))
		}
		for i := range want {
			want[i].file = have[i]
		}
	}
	for _, p := range want {
		if len(p.file.Vars) != len(p.params) {
			return nil, fmt.Errorf("keras: layer %q: the file's layer %q has %d variables, the architecture's %d (%s)",
				p.layer, p.file.Name, len(p.file.Vars), len(p.params), paramNames(p.params))
		}
	}
	return want, nil
}

func checkShape(l *Layer, i int, q *nn.Param) error {
	v := l.Vars[i]
	if !slices.Equal(v.Shape, q.Shape) {
		return fmt.Errorf("keras: layer %q: variable %d (%s) has shape %v in the file (%s), the architecture wants %v",
			l.Name, i, q.Name, v.Shape, v.Name, q.Shape)
	}
	if len(v.Data) != len(q.Value) {
		return fmt.Errorf("keras: layer %q: variable %d (%s) has %d values, want %d", l.Name, i, q.Name, len(v.Data), len(q.Value))
	}
	return nil
}

func layerNames(ls []*Layer) string {
	if len(ls) == 0 {
		return "none"
	}
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = l.Name
	}
	return strings.Join(s, ", ")
}

func paramNames(ps []*nn.Param) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Name
	}
	return strings.Join(s, ", ")
}
