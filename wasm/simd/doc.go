// Package simd holds the WebAssembly SIMD128 kernels of nn's js/wasm
// build and the program that writes them. It has no Go API: its files are
// kernels.wasm, forwarder.wasm and their .wat listings, written by
//
//	go generate ./wasm/simd
//
// from gen/ (the generator is the source: TestGenerated fails when the
// checked-in files differ from its output; nothing here is edited by
// hand), and exec/, the node runner that provides them to js/wasm tests.
//
// # Why a second module
//
// Go's wasm back end emits no SIMD, so nn's kernels run at 5-9 GFLOP/s in
// a browser whose core can do ten times that with 128-bit vectors. The
// kernel module is plain WebAssembly 2.0 with SIMD128 (no relaxed SIMD: its
// results are the same on every machine, and every kernel sums in a fixed
// order, so the same input gives bit-identical outputs in every run and
// every worker). It imports Go's linear memory (env.memory = Go's
// instance.exports.mem) and works on Go's slices in place: nn passes the
// addresses of its slices (//go:wasmimport functions take pointers and
// 32-bit integers, not slices).
//
// # Loading
//
// Go's module defines its own memory, so the kernels can only be
// instantiated after Go's instance, while Go's imports must be given
// before. The forwarder bridges the two: for each kernel it exports a
// function of the same name and type that calls entry i of a table it
// imports. The loader (www/kernels.js, shared by the page's workers and by
// exec/ under node) creates the table, instantiates the forwarder and
// binds Go's mavis_simd imports to it, instantiates Go, then instantiates
// the kernels with Go's memory and fills the table, before Go's main runs.
// Go's memory may grow later: the kernels see it (one WebAssembly.Memory).
// Measured under node 20 on this project's machine (2026-12-05), a call
// from Go through the forwarder costs 9.5-11 ns, through a JavaScript
// function 29-33 ns, and with Go's binary rewritten at load time to
// import its memory 7.9-8.6 ns; the kernels take a whole row of a layer
// per call (tens of microseconds), so the forwarder, which keeps
// WebAssembly.compileStreaming for worker.wasm and needs no binary
// surgery, was chosen.
//
// Without SIMD128 (the module fails to compile) or without the files, the
// loader binds Go's imports to stubs whose version is 0, notes why on the
// console, and nn keeps its portable kernels (nn/gemm_simd_wasm.go).
//
// # The kernels
//
// nn/gemm_simd_wasm.go declares each one and states its contract; the
// generator's files state how each is computed: gen/gemm.go (the 4x8
// micro-kernel of nn's GEMM), gen/conv.go and gen/convdot.go (the row
// kernels of nn's row path, conv_kernel_rows.go), gen/vec.go (the element-wise kernels of
// fastpath.go), gen/winograd.go (the tile transforms of the vector
// Winograd path, nn/conv_kernel_winograd_simd_wasm.go), gen/resize.go (the
// integer row kernels of the image resize, nn/image_resize.go), gen/asm.go
// (the encoder).
//
// The register tiles were measured under node 20 (V8 11.3) on this
// project's AMD EPYC machine: a 5x8 tile reached 52 GFLOP/cpu-s as a
// packed micro-kernel but 27 as a row kernel, where V8's scheduler hoists
// the five broadcasts to the top of the loop and spills two accumulators;
// 4x8 (eight accumulators, two B vectors, four broadcasts: 14 of the 15
// vector registers V8 allocates on x64) reached 53-57 on MAVIS's layers,
// 7x4 38 useful GFLOP/cpu-s on three output channels. Unrolling the k loop
// by two made V8 spill too (35 against 52). For one to three output
// channels (the input gradient of an RGB image's first layer)
// conv_rows_dot puts four consecutive input values in a vector instead of
// four output channels, and runs that layer's rows 1.45x faster than 7x4
// (gen/convdot.go).
//
// Every kernel sums its products from +0 in a fixed order and adds the
// bias (or what c held) last, as nn's portable kernels do. The first
// version started the accumulators from the bias, as the AVX kernels do
// with their fused multiply-adds; on the MAVIS fixtures two max-pool
// windows of the first layer then chose other winners (ReLU outputs of
// about 1e-7 that round to 0 one way and not the other, which batch
// normalisation turns into ties) and chelsea's saliency gradient moved by
// rel_l2 0.0212, over the fixtures' 0.02. With the bias last the first
// layer gives the portable kernels' bits and the gap is 0.00119.
package simd

//go:generate go run ./gen -dir .
