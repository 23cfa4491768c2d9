// Package browsertest drives the page (www/) in headless Chromium with
// chromedp: it builds the wasm into a temporary copy of www/, serves it with
// serve.go on 127.0.0.1 and checks what a person would see. It has no
// exported API; everything is in its tests.
//
// TestFirefox also runs the page in headless Firefox, through its Marionette
// server (firefox_test.go), and compares its worker's results with
// Chromium's.
//
// The tests skip when /usr/bin/chromium (or, for TestFirefox, Firefox) is
// missing, and fail instead when CI=true. Run them with
//
//	go test ./wasm/browsertest
package browsertest
