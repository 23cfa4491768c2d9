#!/usr/bin/env bash
# build.sh builds and tests MAVIS-XAI.
#
#   ./build.sh          build the wasm and the page's bundle into www/ and the native commands into bin/
#   ./build.sh serve    build, then serve www/ on http://127.0.0.1:8080
#   ./build.sh test     run every test (go mod tidy -diff, vet, native, js/wasm under node, browser)
#   ./build.sh model    retrain the default model the page ships (www/models/)
#   ./build.sh bench    run the benchmarks
#   ./build.sh fuzz [T] run every fuzz target, each for T (default 30s)
#   ./build.sh bundle   only bundle the page's modules (www/bundle/app.js; ./build.sh bundle DIR for a copy of www/)
set -euo pipefail
cd "$(dirname "$0")"

GOROOT_WASM="$(go env GOROOT)/lib/wasm"

# Native commands use the vector (AVX2/AVX-512) convolution kernels of
# Go 1.26's GOEXPERIMENT=simd on amd64; elsewhere the portable kernel.
native_env() {
	if [ "$(go env GOARCH)" = amd64 ]; then
		echo GOEXPERIMENT=simd
	fi
}

build_native() {
	mkdir -p bin
	for cmd in weightsconv train explain; do
		if [ -f "$cmd/main.go" ]; then
			echo "build.sh: building bin/$cmd"
			env $(native_env) go build -o "bin/$cmd" "./$cmd"
		fi
	done
}

# The worker's nn calls the WebAssembly SIMD128 kernels of wasm/simd when
# it is built with GOEXPERIMENT=simd (nn/gemm_simd_wasm.go); www/kernels.js
# loads them, and without SIMD128 the portable kernels run.
worker_env=GOEXPERIMENT=simd

build_wasm() {
	# The page's three programs, the kernel modules and Go's JS glue; the
	# sizes are printed because every byte of worker.wasm is on the path to
	# the first prediction (wasm/worker's TestWorkerSize holds its budget; go
	# run ./scripts/wasmsize on a build without -s -w shows what each package
	# costs). The viewer loads after the first prediction: viewer-2d.wasm
	# (wasm/viewer with -tags canvas2d: the maps on a 2D canvas, the page's
	# default) or viewer.wasm (with Ebitengine, on the GPU: ?viewer=gpu).
	# convert.wasm (the Keras converter, www/convert.js) loads only when a
	# Keras file is opened; only the worker runs nn's kernels, so only it is
	# built with $worker_env. A cold build takes a minute or more (the Go
	# cache is empty): each step says what it builds.
	local p env tags
	for p in worker viewer viewer-2d convert; do
		if [ -d "wasm/${p%-2d}" ]; then
			echo "build.sh: building www/$p.wasm"
			env=()
			tags=
			case $p in
			worker) env=("$worker_env") ;;
			viewer-2d) tags=canvas2d ;;
			esac
			env "${env[@]}" GOOS=js GOARCH=wasm go build -tags "$tags" -trimpath -ldflags="-s -w" -o "www/$p.wasm" "./wasm/${p%-2d}"
			echo "www/$p.wasm: $(wc -c <"www/$p.wasm") bytes, $(gzip -9 -c "www/$p.wasm" | wc -c) gzip"
		fi
	done
	if [ -d www ]; then
		cp "$GOROOT_WASM/wasm_exec.js" www/wasm_exec.js
		cp wasm/simd/kernels.wasm wasm/simd/forwarder.wasm www/
	fi
}

# bundle_page bundles the page's modules (app.js and what it imports) into
# $1/bundle/app.js, which index.html loads: one file instead of nineteen
# (in cold loads on the 2-core test machine, the first prediction came 76
# to 100 ms sooner; www/BENCHMARKS.md, session 23). What app.js imports with import()
# (pool.js, convert.js) stays a file of its own, loaded when first needed.
# The sources stay one small module per part of the page; esbuild is a Go
# tool of go.mod (go tool esbuild), nothing of it ships. The bundle is
# written beside and moved in place, so a failed build leaves the old one.
bundle_page() {
	local dir=$1
	rm -rf "$dir/bundle.new"
	go tool esbuild "$dir/app.js" --bundle --splitting --format=esm --outdir="$dir/bundle.new" '--chunk-names=[name]' --log-level=warning
	rm -rf "$dir/bundle"
	mv "$dir/bundle.new" "$dir/bundle"
	echo "$dir/bundle/app.js: $(wc -c <"$dir/bundle/app.js") bytes"
}

wasm_test() {
	# The packages the browser loads (and the rest of nn), compiled to js/wasm
	# and run under node.
	if ! command -v node >/dev/null; then
		if [ "${CI:-}" = true ]; then
			echo "build.sh: node is required for the js/wasm tests" >&2
			exit 1
		fi
		echo "build.sh: node not found, skipping the js/wasm tests" >&2
		return
	fi
	# wasm/viewer needs a DOM (Ebitengine). They are built as the worker is,
	# with the SIMD128 kernels (so xai's MAVIS parity tests run too: too slow
	# for the portable wasm kernels), and run by wasm/simd/exec, Go's node
	# runner plus the page's kernel loader. Then nn and the worker again with
	# the kernels withheld (MAVIS_SIMD=off, a browser without SIMD128): the
	# portable kernels run, and TestSIMDKernelsLoaded checks which did.
	local pkgs runner
	pkgs=$(GOOS=js GOARCH=wasm go list ./nn/... ./xai/... ./internal/... ./wasm/worker)
	runner="$PWD/wasm/simd/exec/go_js_wasm_exec"
	env MAVIS_SIMD=on "$worker_env" GOOS=js GOARCH=wasm go test -exec "$runner" -timeout 20m $pkgs
	env MAVIS_SIMD=off "$worker_env" GOOS=js GOARCH=wasm go test -exec "$runner" -timeout 20m ./nn ./wasm/worker
}

# fuzz_one fuzzes one target for a time. Go's fuzzer spends up to
# -fuzzminimizetime (60s by default) shrinking each input that finds new
# code, and the HDF5 seeds are several KB: FuzzEntry ran 75 inputs in 10s
# with 5s of it per input, 12,000 a second with 200 runs. An input that
# fails is written under the package's testdata/fuzz and the run stops.
# Go 1.26's fuzzer can also fail a run at the end of -fuzztime with a
# bare "context deadline exceeded" and no input (a race of its own,
# go.dev/issue/75804, fixed in Go 1.27): that is reported and passed over.
fuzz_one() {
	local pkg=$1 name=$2 per=$3 dir before log
	dir="$(go list -f '{{.Dir}}' "$pkg")/testdata/fuzz/$name"
	before=$(ls "$dir" 2>/dev/null || true)
	log=$(mktemp)
	echo "build.sh: fuzzing $name (${pkg#github.com/mavis-xai/mavis/})"
	if env $(native_env) go test -run '^$' -fuzz "^$name\$" -fuzztime "$per" -fuzzminimizetime 200x -timeout 0 "$pkg" 2>&1 | tee "$log"; then
		rm -f "$log"
		return 0
	fi
	if [ "$(ls "$dir" 2>/dev/null || true)" != "$before" ]; then
		echo "build.sh: $name found a failing input, now in ${dir#"$PWD"/}/ (go test runs it from there)" >&2
	elif grep -q '^ *context deadline exceeded$' "$log"; then
		echo "build.sh: $name stopped at the end of its $per with \"context deadline exceeded\" and no failing input: Go's own race (go.dev/issue/75804), not a failure of the target"
		rm -f "$log"
		return 0
	fi
	rm -f "$log"
	return 1
}

# build_all is what ./build.sh (and ./build.sh serve, before it serves)
# builds: the page's wasm and bundle into www/, the commands into bin/.
build_all() {
	build_wasm
	bundle_page www
	build_native
}

case "${1:-build}" in
build)
	build_all
	;;
bundle)
	# ./build.sh bundle [dir]: only the page's bundle, of dir (default www);
	# the browser tests build their copy of the site with it.
	bundle_page "${2:-www}"
	;;
serve)
	build_all
	shift
	echo "build.sh: starting the server (go run serve.go $*)"
	exec go run serve.go "$@"
	;;
test)
	# go.mod and go.sum must be what go mod tidy writes.
	if ! go mod tidy -diff; then
		echo "build.sh: go.mod/go.sum are not tidy (diff above): run go mod tidy and commit the result" >&2
		exit 1
	fi
	go vet ./...
	go test -timeout 30m ./...
	if [ -n "$(native_env)" ]; then
		# The vector kernels, held to the same oracles.
		env $(native_env) go vet ./nn
		env $(native_env) go test ./nn
	fi
	if [ "${CI:-}" = true ]; then
		# The whole fixture set: every image and target, IG-50 and IG-300
		# (3,000 more passes of MAVIS), with the kernels the commands use.
		env $(native_env) go test -run TestFixtures -timeout 60m ./xai -args -xai.ig=all -xai.ig300=all
	fi
	wasm_test
	;;
bench)
	go test -run '^$' -bench . -benchmem ./...
	;;
fuzz)
	# Every Fuzz target of the module, one after the other, as go test -list
	# finds them.
	per="${2:-30s}"
	targets=$(env $(native_env) go test -list '^Fuzz' ./... | awk '/^Fuzz/ { names = names " " $1 } /^(ok|\?) / { if (names != "") print $2 names; names = "" }')
	echo "build.sh: fuzzing $(echo "$targets" | awk '{ n += NF - 1 } END { print n }') targets for $per each"
	while read -r pkg names; do
		for name in $names; do
			fuzz_one "$pkg" "$name" "$per"
		done
	done <<<"$targets"
	;;
model)
	shift
	exec ./scripts/model.sh "$@"
	;;
*)
	echo "usage: ./build.sh [build|serve|test|model|bench|fuzz [time]|bundle [dir]]" >&2
	exit 2
	;;
esac
