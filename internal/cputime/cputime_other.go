//go:build !unix && !js

package cputime

func seconds() float64 { return 0 }
