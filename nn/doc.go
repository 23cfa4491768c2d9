// Package nn is a small convolutional-network engine: NHWC float32 tensors,
// Keras-exact layers with forward and backward passes side by side, a
// sequential Model built from a JSON architecture Spec, and the project's
// weights file.
//
// # Layout
//
// A Tensor is a plain struct, like image.RGBA: Shape is [N, H, W, C] and
// element (n, h, w, c) is Data[((n*H+h)*W+w)*C+c] (Offset computes it).
// Dense and Flatten outputs are (N, 1, 1, features). Conv2D kernels are
// Keras's HWIO (kh, kw, in, out) and Dense kernels (in, out), used as stored.
//
// # Layers and the model
//
// A Layer has Forward (which caches what Backward needs) and Backward (which
// returns the input gradient and adds into Param.Grad when that buffer is
// allocated). Layers own their output and gradient buffers and reuse them
// while the batch size stays the same, so repeated inference passes, such as
// the 50 steps of Integrated Gradients, allocate nothing.
//
// Model.Forward keeps every layer's output (Output(i)); Model.Backward
// starts from a gradient at any layer's output and keeps the gradient at
// every layer output it passes (Grad(i)) and at the input (InputGrad). A
// final Dense with a softmax activation is built as a linear Dense plus a
// separate Softmax layer, so Logits() names the pre-softmax scores that
// explainers differentiate.
//
// Model.SetRule changes what Backward does at every ReLU (and, for
// DeepLIFT's Rescale rule, at every max-pool) for the explanation methods
// that are a modified gradient: guided backpropagation, the deconvnet and
// DeepLIFT, whose reference input ForwardReference records (rule.go). The
// default rule is the derivative.
//
// Conventions follow Keras exactly: ReLU inside Conv2D and Dense; 'same'
// padding splits the total padding with the smaller half first; BatchNorm
// epsilon defaults to 1e-3; max-pooling floors with 'valid' and sends the
// gradient to the first maximum in row-major order; Flatten is channels-last.
//
// # Files
//
// A model travels as one safetensors file (weights.go, safetensors.go): an
// 8-byte little-endian header length, a JSON header naming every tensor by
// its Param name ("conv2d/kernel") with dtype, shape and data offsets, and
// a "__metadata__" map holding "format" ("mavis-xai/1"), "spec" (the Spec
// JSON), "classes" and "preprocess". Save writes atomically; Load, Decode
// and ReadModel validate the header before allocating and name the tensor
// and the numbers in every error. The functions that take a path (Save,
// SaveWith, Load; weights_file.go) are native only: in a js/wasm build nn
// imports neither os nor time, which would reach the browser's syscall/js
// there; the browser has bytes (Decode).
//
// Sniff (sniff.go) says what a file is from its first bytes: an image, a
// safetensors file, an HDF5 file or a zip archive (Keras .h5 and .keras
// files, which weightsconv/keras reads). The page and the tools route files
// by it, whatever their names; the readers above use it to say "this is an
// HDF5 file (a Keras .h5 or .weights.h5 model?) ... convert it with
// weightsconv" rather than report the header length its signature spells.
//
// nn/imagefile decodes PNG, JPEG, GIF, WebP and BMP files after checking
// the header against a pixel cap (apart from nn, so that the browser worker,
// which gets pixels from a canvas, does not link the decoders); ImageInput
// and ImageInputTo apply a model's Preprocess (optional centre crop, resize,
// RGB or ITU-R 601 grey, alpha composited over white, 0..255 or 0..1)
// (image.go, image_preprocess.go).
//
// nn/npy exchanges float32 arrays with numpy (.npy and .npz files) for the
// native tools and the tests; the browser does not load it. explain/numpy
// converts to gorgonia's Dense for the native tools, outside nn so that
// nothing the browser loads links gorgonia.
//
// # Kernels
//
// The convolutions run on a GEMM micro-kernel (gemm.go) chosen at init, the
// way gonum picks its assembly: the portable Go kernels everywhere, with
// GOEXPERIMENT=simd the AVX2 or AVX-512 kernels on amd64
// (gemm_simd_amd64.go) and, in a js/wasm build, the WebAssembly SIMD128
// kernels of wasm/simd (gemm_simd_wasm.go). Both vector builds bring a row
// kernel for direct convolution (conv_kernel_rows.go) and element-wise
// fast paths (fastpath.go; natively fastpath_simd_amd64.go), and
// Winograd's F(2x2, 3x3) for stride-1 input gradients (with AVX-512
// natively, conv_kernel_winograd_simd_amd64.go, and on SIMD128,
// conv_kernel_winograd_simd_wasm.go; never in forward passes, whose
// max-pool choices its rounding would move); natively also vector rows for
// the image layer's input gradient (conv_kernel_narrow_simd_amd64.go).
// Each fast kernel keeps the Go loop
// it replaces beside it as its reference and fallback, and the tests hold
// every kernel the build and machine can run to the same float64 oracles
// (kernel_test.go). A forward pass and an input gradient have the same
// bits with any number of workers (TestPassesIndependentOfWorkers). A
// js/wasm build with GOEXPERIMENT=simd imports the kernels from the
// module "mavis_simd" and so runs only where a loader provides it: the
// page's worker (www/kernels.js) and, for tests, the runner
// wasm/simd/exec/go_js_wasm_exec; without SIMD128 the loader says so on the
// console and the portable kernels run.
//
// # Incremental passes
//
// Delta (delta.go, delta_layers.go) re-runs a model's forward pass after a
// few input pixels changed, recomputing only the outputs those pixels reach
// through each convolution, batch-norm, activation and max-pool, with the
// same kernels on the same tiles, so its outputs equal Forward's bit for bit.
// xai's deletion and insertion curves use it.
//
// ForwardKeep (forward_again.go) is a forward pass that records its input
// and the parameters, and ForwardAgain returns its outputs again, running
// no layer, while the input, the parameters, the rule and the training
// mode are the same and no other pass has run: xai predicts an image with
// ForwardKeep and explains it from that pass.
//
// # Aliasing
//
// Outputs and gradients returned by layers and by the Model are owned by
// them and overwritten by the next call; copy what you keep. Inputs passed to
// Forward must not change before the matching Backward.
//
// # Errors
//
// Anything derived from a file, an image or a user choice returns an error
// with the prefix "nn: " and the numbers involved. Shape mismatches between
// our own code paths are programmer errors and panic.
//
// # Size in the browser
//
// The browser's worker links everything it reaches in nn, so nn uses
// neither fmt nor encoding/json (together about 340 KB of gzipped wasm):
// messages are formatted by internal/printf (fmt's output for the verbs
// used), the weights file's JSON is parsed by internal/jsonv, a small
// strict decoder, into nn's structs (json_decode.go) and written by hand
// (json_encode.go), each held to the standard package by tests and
// fuzzing. Sorts go through one []int32 index sort (internal/order). Keep
// it so: wasm/worker's TestWorkerSize fails when fmt or encoding/json is
// linked or the worker outgrows its regression budget, and
// scripts/wasmsize shows what is linked.
package nn
