package xai

import "github.com/mavis-xai/mavis/nn"

// errorf and sprintf format like fmt.Errorf and fmt.Sprintf without linking
// package fmt into the browser's worker; nn.Errorf documents the verbs and
// types they support (nn/errors_test.go holds them to fmt).
func errorf(format string, args ...any) error { return nn.Errorf(format, args...) }

func sprintf(format string, args ...any) string { return nn.Sprintf(format, args...) }
