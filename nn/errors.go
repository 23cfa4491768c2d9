package nn

import "github.com/mavis-xai/mavis/internal/printf"

// errorf and sprintf are fmt.Errorf and fmt.Sprintf without linking package
// fmt into the browser's worker; internal/printf documents the verbs and
// types they support (and holds them to fmt).
func errorf(format string, args ...any) error { return printf.Errorf(format, args...) }

func sprintf(format string, args ...any) string { return printf.Sprintf(format, args...) }
