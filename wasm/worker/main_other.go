//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "worker runs in the browser only: build it with GOOS=js GOARCH=wasm (./build.sh) and open the page")
	os.Exit(2)
}
