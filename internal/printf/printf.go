// Package printf formats messages as fmt.Errorf and fmt.Sprintf do, for
// the verbs and types nn and xai use, without package fmt: the browser's
// worker links everything reachable from nn.Decode, the layers and xai's
// explainers and metrics, and fmt (with the reflection it pulls in) would
// cost it about 170 KB of gzipped wasm. The output is fmt's for
//
//	%v %d %s %q %t %g %f %w %%, with the flags + and space and a precision (%.3f, %+.0f)
//	on bool, the integer types, float32, float64, string, error, Stringer,
//	[]int, []float64, []string, [2]int, [3]int, [4]int and nil
//
// (printf_test.go holds it to fmt); a surplus argument is reported as
// "%!(EXTRA)" without its type. %w wraps as fmt.Errorf does: errors.Is
// and errors.As see the wrapped error. A verb applied to a type it does not
// understand prints fmt's "%!v(?)" marker rather than panicking.
package printf

import (
	"errors"
	"strconv"
)

// wrapError is an error message that wraps one error, as fmt.Errorf's %w.
type wrapError struct {
	msg string
	err error
}

func (e *wrapError) Error() string { return e.msg }
func (e *wrapError) Unwrap() error { return e.err }

// stringer is fmt.Stringer.
type stringer interface{ String() string }

// Errorf is fmt.Errorf for the verbs above, without linking fmt.
func Errorf(format string, args ...any) error {
	b, w := appendf(nil, format, args)
	if w != nil {
		return &wrapError{string(b), w}
	}
	return errors.New(string(b))
}

// Sprintf is fmt.Sprintf for the verbs above, without linking fmt.
func Sprintf(format string, args ...any) string {
	b, _ := appendf(nil, format, args)
	return string(b)
}

// verb is one parsed formatting directive.
type verb struct {
	c           byte // the verb letter
	plus, space bool
	prec        int // -1: none
}

// appendf appends the formatted message to b and returns the error a %w
// directive named, if any.
func appendf(b []byte, format string, args []any) ([]byte, error) {
	var wrapped error
	next := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		v := verb{prec: -1}
	flags:
		for i++; i < len(format); i++ {
			switch format[i] {
			case '+':
				v.plus = true
			case ' ':
				v.space = true
			default:
				break flags
			}
		}
		if i < len(format) && format[i] == '.' {
			v.prec = 0
			for i++; i < len(format) && format[i] >= '0' && format[i] <= '9'; i++ {
				v.prec = 10*v.prec + int(format[i]-'0')
			}
		}
		if i >= len(format) {
			b = append(b, "%!(NOVERB)"...)
			break
		}
		v.c = format[i]
		if v.c == '%' {
			b = append(b, '%')
			continue
		}
		if next >= len(args) {
			b = append(b, '%', '!', v.c, '(', 'M', 'I', 'S', 'S', 'I', 'N', 'G', ')')
			continue
		}
		a := args[next]
		next++
		if v.c == 'v' {
			v.plus = false // fmt: %+v adds field names, not signs
		}
		if v.c == 'w' {
			if err, ok := a.(error); ok && wrapped == nil {
				wrapped = err
			}
			v.c = 'v'
		}
		b = appendArg(b, v, a)
	}
	if next < len(args) {
		b = append(b, "%!(EXTRA)"...)
	}
	return b, wrapped
}

// appendArg formats one argument.
func appendArg(b []byte, v verb, a any) []byte {
	switch x := a.(type) {
	case nil:
		return append(b, "<nil>"...)
	case bool:
		if v.c == 'v' || v.c == 't' {
			return strconv.AppendBool(b, x)
		}
	case int:
		return appendInt(b, v, int64(x))
	case int8:
		return appendInt(b, v, int64(x))
	case int16:
		return appendInt(b, v, int64(x))
	case int32:
		return appendInt(b, v, int64(x))
	case int64:
		return appendInt(b, v, x)
	case uint:
		return appendUint(b, v, uint64(x))
	case uint8:
		return appendUint(b, v, uint64(x))
	case uint16:
		return appendUint(b, v, uint64(x))
	case uint32:
		return appendUint(b, v, uint64(x))
	case uint64:
		return appendUint(b, v, x)
	case float64:
		return appendFloat(b, v, x, 64)
	case float32:
		return appendFloat(b, v, float64(x), 32)
	case string:
		return appendString(b, v, x)
	case error:
		return appendString(b, v, safeString(x.Error))
	case stringer:
		return appendString(b, v, safeString(x.String))
	case []int:
		return appendInts(b, v, x)
	case [2]int:
		return appendInts(b, v, x[:])
	case [3]int:
		return appendInts(b, v, x[:])
	case [4]int:
		return appendInts(b, v, x[:])
	case []float64:
		b = append(b, '[')
		for i, f := range x {
			if i > 0 {
				b = append(b, ' ')
			}
			b = appendFloat(b, v, f, 64)
		}
		return append(b, ']')
	case []string:
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ' ')
			}
			b = appendString(b, v, s)
		}
		return append(b, ']')
	}
	return append(b, '%', '!', v.c, '(', '?', ')')
}

// safeString calls an Error or String method; a panic (a nil pointer
// receiver) gives "<nil>", as fmt prints it.
func safeString(f func() string) (s string) {
	defer func() {
		if recover() != nil {
			s = "<nil>"
		}
	}()
	return f()
}

func appendInts(b []byte, v verb, x []int) []byte {
	b = append(b, '[')
	for i, n := range x {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendInt(b, v, int64(n))
	}
	return append(b, ']')
}

func appendSign(b []byte, v verb, neg bool) []byte {
	switch {
	case neg:
	case v.plus:
		b = append(b, '+')
	case v.space:
		b = append(b, ' ')
	}
	return b
}

func appendInt(b []byte, v verb, x int64) []byte {
	if v.c != 'v' && v.c != 'd' {
		return append(b, '%', '!', v.c, '(', '?', ')')
	}
	return strconv.AppendInt(appendSign(b, v, x < 0), x, 10)
}

func appendUint(b []byte, v verb, x uint64) []byte {
	if v.c != 'v' && v.c != 'd' {
		return append(b, '%', '!', v.c, '(', '?', ')')
	}
	return strconv.AppendUint(appendSign(b, v, false), x, 10)
}

// appendFloat formats as fmt: %v is %g, shortest repr at the value's own
// precision; %f defaults to 6 digits.
func appendFloat(b []byte, v verb, x float64, bits int) []byte {
	var c byte
	switch v.c {
	case 'v', 'g':
		c = 'g'
	case 'f':
		c = 'f'
		if v.prec < 0 {
			v.prec = 6
		}
	default:
		return append(b, '%', '!', v.c, '(', '?', ')')
	}
	s := strconv.AppendFloat(nil, x, c, v.prec, bits)
	if s[0] == '+' { // fmt signs +Inf always
		if v.space && !v.plus {
			b = append(b, ' ')
		} else {
			b = append(b, '+')
		}
		return append(b, s[1:]...)
	}
	return append(appendSign(b, v, s[0] == '-'), s...)
}

func appendString(b []byte, v verb, s string) []byte {
	switch v.c {
	case 'v', 's':
		return append(b, s...)
	case 'q':
		return strconv.AppendQuote(b, s)
	}
	return append(b, '%', '!', v.c, '(', '?', ')')
}
