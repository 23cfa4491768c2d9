// Package browsertest drives the page (www/) in headless Chromium with
// chromedp: it builds the wasm into a temporary copy of www/, serves it with
// serve.go on 127.0.0.1 and checks what a person would see. It has no
// exported API; everything is in its tests.
//
// TestBrowsers also runs the page in Firefox (through its Marionette server)
// and in WebKitGTK's MiniBrowser (through WebKitWebDriver, on an Xvfb
// display), and compares their workers' results with Chromium's
// (browsers_test.go).
//
// The tests skip when /usr/bin/chromium (or a browser or tool TestBrowsers
// needs) is missing, and fail instead when CI=true. Run them with
//
//	go test ./wasm/browsertest
package browsertest
