package xai

// Canceller is what the long computations (Evaluate, RandomisationCheck) need
// of a context.Context, which satisfies it: Err reports, between forward
// passes, that the work should stop. A nil Canceller never cancels. xai does
// not import package context, whose timers link package time and, in a
// js/wasm build, the browser's syscall/js.
type Canceller interface {
	Err() error
}

// cancelled is c.Err(), or nil for a nil c.
func cancelled(c Canceller) error {
	if c == nil {
		return nil
	}
	return c.Err()
}
