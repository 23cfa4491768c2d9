package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// routedFile is a file the routing test hands to the page: its name, its
// bytes and where the page must send it.
type routedFile struct {
	name  string
	data  []byte
	kind  string // sniff.js's kind
	route string // sniff.js's route: image, model, keras, or "" (refused)
}

// routingFiles are one file of each kind: an image, a .safetensors model,
// a Keras 3 .keras, a Keras 3 .weights.h5, a Keras 2 .h5, and three the
// page refuses with what to do: a text file, a HEIC photo (its first bytes
// as an iPhone writes them) and an empty file.
func routingFiles(t *testing.T) []routedFile {
	t.Helper()
	www := filepath.Join(siteDir, "www")
	testdata := filepath.Join(repoRoot(), "weightsconv", "keras", "testdata")
	read := func(path string) []byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return []routedFile{
		{"bag.png", read(filepath.Join(www, "samples", "bag.png")), "image", "image"},
		{"my-model.safetensors", read(filepath.Join(www, "models", "fashion.safetensors")), "safetensors", "model"},
		{"tiny.keras", read(filepath.Join(testdata, "tiny.keras")), "zip", "keras"},
		{"tiny.weights.h5", read(filepath.Join(testdata, "tiny.weights.h5")), "hdf5", "keras"},
		{"tiny_keras2_model.h5", read(filepath.Join(testdata, "tiny_keras2_model.h5")), "hdf5", "keras"},
		{"notes.txt", []byte("goldfish\nscorpion\n"), "unknown", ""},
		{"empty.safetensors", nil, "empty", ""}, // refused whatever its name says
		{"IMG_0001.HEIC", append([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic\x00\x00\x00\x22meta"), make([]byte, 4096)...), "unknown", ""},
	}
}

// A place is one way a file reaches the page: dropped on a part of it,
// pasted, or picked in a picker; where is what files.js records.
type place struct {
	where string
	give  func(ctx context.Context, t *testing.T, path, url, name string)
}

var places = []place{
	{"drop zone", func(ctx context.Context, t *testing.T, path, _, _ string) { dragDrop(ctx, t, "#drop", path) }},
	{"model card", func(ctx context.Context, t *testing.T, path, _, _ string) { dragDrop(ctx, t, "#model-card", path) }},
	{"page", func(ctx context.Context, t *testing.T, path, _, _ string) { dragDrop(ctx, t, "header.top", path) }},
	{"viewer", func(ctx context.Context, t *testing.T, path, _, _ string) { dragDrop(ctx, t, "#viewer", path) }},
	{"paste", func(ctx context.Context, t *testing.T, _, url, name string) { paste(ctx, t, url, name) }},
	{"image picker", func(ctx context.Context, t *testing.T, path, _, _ string) { pick(ctx, t, "image-file", path) }},
	{"model picker", func(ctx context.Context, t *testing.T, path, _, _ string) { pick(ctx, t, "model-file", path) }},
}

// TestFileRouting hands the page one file of each kind in every way a
// person can (dropped on the drop zone, on the model card, on the page's
// header and on the viewer, whose frame is a document of its own, pasted, picked in the image picker and in the model
// picker) and checks that each goes where its bytes say, whatever its name:
// an image is explained, a .safetensors file is loaded as the model, a
// Keras file (.keras, .weights.h5, Keras 2 .h5) opens the converter's
// dialog with what the file holds, and anything else is refused with
// sniff.js's message. Before the first Keras file nothing of the converter
// is loaded.
func TestFileRouting(t *testing.T) {
	base := site(t)
	files := routingFiles(t)
	// A PNG whose name says model: the bytes decide.
	files = append(files, routedFile{"not-a-model.safetensors", files[0].data, "image", "image"})
	dir := t.TempDir()
	served := filepath.Join(siteDir, "www", "droptest")
	if err := os.MkdirAll(served, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		for _, d := range []string{dir, served} {
			if err := os.WriteFile(filepath.Join(d, f.name), f.data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	ctx, cancel := browser(t, 8*time.Minute)
	defer cancel()
	openPage(ctx, t, base)
	if got := converterLoaded(ctx, t); got != "" {
		t.Errorf("the converter was loaded before any Keras file arrived: %s", got)
	}
	// One quick method per image, so that the routes are what takes time.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		for (const b of document.querySelectorAll('#method-list input[id^="use-"]')) {
			b.checked = b.id === 'use-gradcam';
			b.dispatchEvent(new Event('change', {bubbles: true}));
		}
		return true;
	})()`)); err != nil {
		t.Fatal(err)
	}

	keras := 0
	for _, p := range places {
		for _, f := range files {
			if f.name == "not-a-model.safetensors" && p.where != "model picker" && p.where != "drop zone" {
				continue // the misnamed image: the drop zone and the model picker are enough
			}
			t.Run(p.where+"/"+f.name, func(t *testing.T) {
				before := pageState(ctx, t)
				p.give(ctx, t, filepath.Join(dir, f.name), "droptest/"+f.name, f.name)
				if err := waitJS(ctx, fmt.Sprintf(`app.state.files.length > %d`, before.Files)); err != nil {
					t.Fatal(err)
				}
				rec, _ := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`app.state.files.at(-1)`))
				wantRoute := any(f.route)
				if f.route == "" {
					wantRoute = nil
				}
				if rec["name"] != f.name || rec["where"] != p.where || rec["kind"] != f.kind || rec["route"] != wantRoute {
					t.Errorf("routed %v, want name %s, where %s, kind %s, route %v", rec, f.name, p.where, f.kind, wantRoute)
				}
				// Once: a second listener (the viewer's frame is hooked per
				// document) would route it again.
				defer func() {
					if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`app.state.files.length`)); n != before.Files+1 {
						t.Errorf("%d files routed, want 1", n-before.Files)
					}
				}()
				switch f.route {
				case "image":
					if err := waitJS(ctx, fmt.Sprintf(`app.state.image === %q && (document.body.dataset.explained || '') !== %q && !app.state.busy`, f.name, before.Explained)); err != nil {
						t.Fatal(err)
					}
				case "model":
					if err := waitJS(ctx, fmt.Sprintf(`app.state.modelName === %q && (document.body.dataset.explained || '') !== %q && !app.state.busy`, f.name, before.Explained)); err != nil {
						t.Fatal(err)
					}
				case "keras":
					keras++
					// Bounded, so that a dialog that never shows fails this
					// file, not the whole test's budget.
					dctx, dcancel := context.WithTimeout(ctx, 90*time.Second)
					format, err := chromedp.Run(dctx, chromedp.Evaluate[string](`new Promise((resolve) => {
						const done = () => {
							const d = document.getElementById('convert-dialog');
							const body = d && d.querySelector('.convert-body');
							const err = d && d.querySelector('.convert-error');
							if (d && d.open && body && !body.hidden) return resolve(d.querySelector('.convert-file').textContent);
							if (d && d.open && err && !err.hidden) return resolve('error: ' + err.textContent);
							setTimeout(done, 50);
						};
						done();
					})`, chromedp.EvalAwaitPromise))
					dcancel()
					if err != nil {
						state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const d = document.getElementById('convert-dialog'); return d ? (d.open ? 'open' : 'closed') + ', saying ' + JSON.stringify(d.querySelector('.convert-file').textContent + ' ' + d.querySelector('.convert-wait').textContent) : 'no dialog'; })()`))
						t.Fatalf("the converter's dialog did not show the file or an error: %v (the dialog: %s)", err, state)
					}
					want := map[string]string{"zip": "Keras 3 .keras archive", "hdf5": "Keras"}[f.kind]
					if !strings.HasPrefix(format, f.name+": "+want) {
						t.Errorf("the converter's dialog says %q, want %q and its format", format, f.name)
					}
					if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#convert-dialog .convert-cancel`))); err != nil {
						t.Fatal(err)
					}
					if err := waitJS(ctx, `!document.getElementById('convert-dialog').open`); err != nil {
						t.Fatal(err)
					}
				case "":
					text := errorShown(ctx, t, before.Errors)
					want := "neither an image (PNG, JPEG, GIF, WebP or BMP), nor a .safetensors model, nor a Keras model"
					if strings.HasSuffix(f.name, ".HEIC") {
						want = "it is a HEIF (HEIC) picture, the format iPhones take photos in, which this page cannot read: save it as a JPEG or PNG"
					}
					if f.kind == "empty" {
						want = "the file is empty (0 bytes)"
					}
					if !strings.Contains(text, f.name) || !strings.Contains(text, want) {
						t.Errorf("error %q, want one naming %s and saying %q", text, f.name, want)
					}
					chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('error-close').click(), true`))
					return
				}
				if errs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`app.state.errors.slice(`+strconv.Itoa(before.Errors)+`)`)); len(errs) > 0 {
					t.Errorf("the page shows errors: %q", errs)
				}
			})
		}
	}
	t.Run("keras file right after cancel", func(t *testing.T) { lateClose(ctx, t) })
	if keras > 0 && converterLoaded(ctx, t) == "" {
		t.Errorf("%d Keras files opened, but the converter (convert.js, convert.wasm) was never loaded", keras)
	}
}

// lateClose cancels the converter's dialog and drops a Keras file in the
// same task, with the dialog's close event (which Chromium sends a task or
// a frame after the dialog closed, later on a busy machine) held back until
// the new file has opened the dialog: the dialog must still show the new
// file, not wait on it forever.
func lateClose(ctx context.Context, t *testing.T) {
	shown := `(() => { const d = document.getElementById('convert-dialog'); return !!d && d.open && !d.querySelector('.convert-body').hidden && d.querySelector('.convert-file').textContent.startsWith(%q); })()`
	drop := `window.dropTest = async (name) => {
		const b = await (await fetch('droptest/tiny.weights.h5')).arrayBuffer();
		const dt = new DataTransfer();
		dt.items.add(new File([b], name));
		document.getElementById('drop').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
		return true;
	}, true`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](drop)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`dropTest('first.weights.h5')`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(ctx, fmt.Sprintf(shown, "first.weights.h5:")); err != nil {
		t.Fatal(err)
	}
	// Hold the close event back (a capturing listener on the window sees it
	// first), cancel, and drop the next file.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(async () => {
		const d = document.getElementById('convert-dialog');
		window.heldClose = false;
		window.addEventListener('close', (e) => {
			if (e.target === d && !window.heldClose) { e.stopImmediatePropagation(); window.heldClose = true; }
		}, { capture: true });
		d.querySelector('.convert-cancel').click();
		if (d.open) throw new Error('the dialog stayed open after Cancel');
		return dropTest('second.weights.h5');
	})()`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	// Once the dialog names the second file (open() has run), the held event
	// arrives, late.
	if err := waitJS(ctx, `window.heldClose && document.getElementById('convert-dialog').open && document.querySelector('#convert-dialog .convert-file').textContent.startsWith('second.weights.h5')`); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('convert-dialog').dispatchEvent(new Event('close')), true`)); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := waitJS(wctx, fmt.Sprintf(shown, "second.weights.h5: Keras 3 .weights.h5")); err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#convert-dialog .convert-file').textContent + ' | ' + document.querySelector('#convert-dialog .convert-wait').textContent`))
		t.Fatalf("after a late close event, the dialog does not show the file dropped: %v (it says %q)", err, state)
	}
	chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('convert-dialog').close(), true`))
}

// pageState is what the routing test waits on.
type pageStateT struct {
	Files, Errors int
	Explained     string
}

func pageState(ctx context.Context, t *testing.T) pageStateT {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[pageStateT](`({files: app.state.files.length, errors: app.state.errors.length, explained: document.body.dataset.explained || ''})`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// converterLoaded names the converter's files the page has fetched so far
// ("" for none).
func converterLoaded(ctx context.Context, t *testing.T) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`performance.getEntriesByType('resource').map((e) => e.name).filter((n) => /\/convert(-worker)?\.(js|wasm)$/.test(n)).join(', ')`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dragDrop drags the file at path from outside the browser and drops it on
// the middle of the element sel, as Chromium's input pipeline does for a
// file dragged from the desktop.
func dragDrop(ctx context.Context, t *testing.T, sel, path string) {
	t.Helper()
	xy, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](fmt.Sprintf(`(() => {
		const e = document.querySelector(%q);
		e.scrollIntoView({block: 'center'});
		const r = e.getBoundingClientRect();
		return [r.left + r.width / 2, r.top + Math.min(r.height / 2, 20)];
	})()`, sel)))
	if err != nil {
		t.Fatal(err)
	}
	data := &input.DragData{Files: []string{path}, DragOperationsMask: 1}
	for _, typ := range []input.DispatchDragEventType{input.DispatchDragEventTypeDragEnter, input.DispatchDragEventTypeDragOver, input.DispatchDragEventTypeDrop} {
		if _, err := chromedp.Call(ctx, input.DispatchDragEvent, input.DispatchDragEventParams{Type: typ, X: xy[0], Y: xy[1], Data: data}); err != nil {
			t.Fatalf("%s on %s: %v", typ, sel, err)
		}
	}
}

// paste pastes the site's file url as a file named name, as a paste of a
// copied file does (the clipboard's file item).
func paste(ctx context.Context, t *testing.T, url, name string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(async () => {
		const blob = await (await fetch(%q)).blob();
		const dt = new DataTransfer();
		dt.items.add(new File([blob], %q));
		document.body.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));
		return true;
	})()`, url, name), chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
}

// pick chooses the file at path in the page's file input id, as the file
// picker does.
func pick(ctx context.Context, t *testing.T, id, path string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID(id), []string{path})); err != nil {
		t.Fatal(err)
	}
}
