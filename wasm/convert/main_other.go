//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "convert runs in the browser only: build it with GOOS=js GOARCH=wasm (./build.sh writes www/convert.wasm); bin/weightsconv converts natively")
	os.Exit(2)
}
