//go:build !unix

package main

import "os"

// lockFile does nothing where flock(2) does not exist: two processes
// given the same -out there are not caught.
func lockFile(f *os.File) (unlock func(), err error) { return func() {}, nil }
