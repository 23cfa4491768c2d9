package xai

import (
	"math"
	"slices"
	"strconv"
)

// Values are a method's parameter values as resolved by Method.Resolve:
// every parameter present, ints as int, floats as float64, choices as
// string, bools as bool.
type Values map[string]any

// Int returns an int parameter's value (0 when absent).
func (v Values) Int(name string) int { i, _ := v[name].(int); return i }

// Float returns a float parameter's value (0 when absent).
func (v Values) Float(name string) float64 { f, _ := v[name].(float64); return f }

// String returns a choice parameter's value ("" when absent).
func (v Values) String(name string) string { s, _ := v[name].(string); return s }

// Bool returns a bool parameter's value (false when absent).
func (v Values) Bool(name string) bool { b, _ := v[name].(bool); return b }

// Param returns the parameter named name, or nil.
func (m *Method) Param(name string) *Param {
	for i := range m.Params {
		if m.Params[i].Name == name {
			return &m.Params[i]
		}
	}
	return nil
}

// Resolve checks o against m's parameters and returns every parameter's
// value, defaults filled in. Unknown names, wrong types, fractional ints,
// values out of bounds and unknown choices are errors that name the
// method, the parameter and what it accepts.
func (m *Method) Resolve(o Options) (Values, error) {
	v := make(Values, len(m.Params))
	for _, p := range m.Params {
		v[p.Name] = p.Default
	}
	// Sorted, so that with several bad options the error is always the same.
	names := make([]string, 0, len(o))
	for name := range o {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		p := m.Param(name)
		if p == nil {
			known := make([]string, len(m.Params))
			for i, q := range m.Params {
				known[i] = q.Name
			}
			if len(known) == 0 {
				return nil, errorf("xai: %s takes no options, not %q", m.Name, name)
			}
			return nil, errorf("xai: %s has no option %q (it has %s)", m.Name, name, join(known, ", "))
		}
		val, err := p.Parse(o[name])
		if err != nil {
			return nil, errorf("xai: %s: %v", m.Name, err)
		}
		v[name] = val
	}
	return v, nil
}

// Parse checks one value of p (see Request.Options) and returns it as
// Values holds it. A string is parsed as a number or bool for those kinds
// (as from a command-line flag).
func (p *Param) Parse(a any) (any, error) {
	switch p.Kind {
	case Int, Float:
		var f float64
		switch x := a.(type) {
		case int:
			f = float64(x)
		case float64:
			f = x
		case string:
			var err error
			if f, err = strconv.ParseFloat(x, 64); err != nil {
				return nil, errorf("%s must be a number, not %q", p.Name, x)
			}
		default:
			return nil, errorf("%s must be a number", p.Name)
		}
		if math.IsNaN(f) || f < p.Min || f > p.Max {
			return nil, errorf("%s %s out of range %s..%s", p.Name, num(f), num(p.Min), num(p.Max))
		}
		if p.Kind == Int {
			if f != math.Trunc(f) {
				return nil, errorf("%s must be a whole number, not %s", p.Name, num(f))
			}
			return int(f), nil
		}
		return f, nil
	case Choice:
		s, ok := a.(string)
		if !ok || !slices.Contains(p.Choices, s) {
			return nil, errorf("%s must be one of %s", p.Name, join(p.Choices, ", "))
		}
		return s, nil
	case Bool:
		switch x := a.(type) {
		case bool:
			return x, nil
		case float64:
			if x == 0 || x == 1 {
				return x == 1, nil
			}
		case int:
			if x == 0 || x == 1 {
				return x == 1, nil
			}
		case string:
			if b, err := strconv.ParseBool(x); err == nil {
				return b, nil
			}
		}
		return nil, errorf("%s must be true or false", p.Name)
	}
	return nil, errorf("%s has unknown kind %q", p.Name, p.Kind)
}

// check validates a parameter's declaration.
func (p *Param) check() error {
	if p.Name == "" || p.Label == "" || p.Doc == "" {
		return errorf("parameter %q lacks a name, label or doc", p.Name)
	}
	switch p.Kind {
	case Int, Float:
		if !(p.Min <= p.Max) {
			return errorf("parameter %s: bounds %g..%g", p.Name, p.Min, p.Max)
		}
	case Choice:
		if len(p.Choices) == 0 {
			return errorf("parameter %s has no choices", p.Name)
		}
	case Bool:
	default:
		return errorf("parameter %s has unknown kind %q", p.Name, p.Kind)
	}
	if _, err := p.Parse(p.Default); err != nil {
		return errorf("parameter %s: default: %v", p.Name, err)
	}
	if d, err := p.Parse(p.Default); err == nil && d != p.Default {
		return errorf("parameter %s: default %v is not of its kind's Go type", p.Name, p.Default)
	}
	return nil
}

// num formats a bound or value: integers without a fraction.
func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
