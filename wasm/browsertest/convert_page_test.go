package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/mavis-xai/mavis/internal/sharedtest"
	"github.com/mavis-xai/mavis/weightsconv/keras"
)

// pageConversion is one Keras file opened in the page: how it is given,
// what is done in the converter's dialog, and weightsconv's flags for the
// same conversion.
type pageConversion struct {
	name   string // the file's name
	path   string // the file
	give   func(ctx context.Context, t *testing.T, path string)
	dialog func(ctx context.Context, t *testing.T) // in the open dialog, before "Convert and load"
	flags  []string
}

// TestConvertInPage opens Keras files in the page as a person would, and
// holds the file the page offers as "Save as .safetensors" to
// bin/weightsconv's output for the same inputs, byte for byte:
//   - the original MAVIS .weights.h5 (../shared), picked in the model
//     picker: weights only, so the dialog offers the built-ins with mavis
//     chosen (the one its weights fit) and mavis's class names
//     (weightsconv -arch mavis); the file equals www/models/mavis.safetensors;
//   - a .keras file dropped on the page: its own architecture;
//   - a Keras 2 .h5 model picked in the image picker, with class names from
//     a text file dropped on the dialog's class names and 0..1 pixels
//     (weightsconv -classes FILE -scale 0..1);
//   - a Keras 3 .weights.h5 pasted: first converted with no architecture
//     and with a built-in it does not fit, each refused with what to do,
//     then with its spec pasted (weightsconv -arch SPEC.json).
//
// Each converted model is loaded by the page's worker.
func TestConvertInPage(t *testing.T) {
	base := site(t)
	testdata := filepath.Join(repoRoot(), "weightsconv", "keras", "testdata")
	dir := t.TempDir()
	bin := filepath.Join(dir, "weightsconv")
	if out, err := runErr(repoRoot(), nil, "go", "build", "-o", bin, "./weightsconv"); err != nil {
		t.Fatalf("building weightsconv: %v\n%s", err, out)
	}
	tinyKeras := filepath.Join(testdata, "tiny.keras")
	b, err := os.ReadFile(tinyKeras)
	if err != nil {
		t.Fatal(err)
	}
	c, err := keras.Convert(bytes.NewReader(b), int64(len(b)), keras.Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := json.Marshal(c.Model.Spec)
	if err != nil {
		t.Fatal(err)
	}
	specFile := filepath.Join(dir, "tiny-spec.json")
	classesFile := filepath.Join(dir, "classes.txt")
	for p, data := range map[string][]byte{specFile: spec, classesFile: []byte("n0001 cat\ndog\n# a comment\ngoose\n")} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	served := filepath.Join(siteDir, "www", "droptest")
	os.MkdirAll(served, 0o755)
	if err := copyFile(filepath.Join(testdata, "tiny.weights.h5"), filepath.Join(served, "tiny.weights.h5")); err != nil {
		t.Fatal(err)
	}

	var jobs []pageConversion
	mavis := ""
	if root, err := sharedtest.Root(); err == nil {
		if p := filepath.Join(root, filepath.FromSlash(sharedtest.Weights)); fileExists(p) {
			mavis = p
		}
	}
	if mavis != "" {
		jobs = append(jobs, pageConversion{
			name: filepath.Base(mavis), path: mavis,
			give: func(ctx context.Context, t *testing.T, path string) { pick(ctx, t, "model-file", path) },
			dialog: func(ctx context.Context, t *testing.T) {
				got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`(() => {
					const d = document.getElementById('convert-dialog');
					const r = d.querySelector('input[name="arch"]:checked');
					return {arch: r ? r.value : '', fits: r ? r.closest('label').textContent : '', classes: d.querySelector('#convert-classes').value};
				})()`))
				if err != nil {
					t.Fatal(err)
				}
				if got["arch"] != "mavis" || !strings.Contains(got["fits"], "fits these weights") || !strings.Contains(got["classes"], "n01443537 goldfish") {
					t.Errorf("the dialog for the MAVIS weights: %q; want mavis chosen as fitting, with its class names", got)
				}
			},
			flags: []string{"-arch", "mavis"},
		})
	} else if os.Getenv("CI") == "true" {
		t.Fatal("the MAVIS weights (../shared) are missing (CI=true)")
	} else {
		t.Log("../shared's MAVIS weights are missing: converting the tiny test files only")
	}
	jobs = append(jobs,
		pageConversion{
			name: "tiny.keras", path: tinyKeras,
			give: func(ctx context.Context, t *testing.T, path string) { dragDrop(ctx, t, "header.top", path) },
		},
		pageConversion{
			name: "tiny_keras2_model.h5", path: filepath.Join(testdata, "tiny_keras2_model.h5"),
			give: func(ctx context.Context, t *testing.T, path string) { pick(ctx, t, "image-file", path) },
			dialog: func(ctx context.Context, t *testing.T) {
				dragDrop(ctx, t, "#convert-classes", classesFile)
				if err := waitJS(ctx, `document.getElementById('convert-classes').value.includes('goose')`); err != nil {
					t.Fatal(err)
				}
				setValue(ctx, t, "#convert-scale", "0..1")
			},
			flags: []string{"-classes", classesFile, "-scale", "0..1"},
		},
		pageConversion{
			name: "tiny.weights.h5", path: filepath.Join(testdata, "tiny.weights.h5"),
			give: func(ctx context.Context, t *testing.T, _ string) {
				paste(ctx, t, "droptest/tiny.weights.h5", "tiny.weights.h5")
			},
			dialog: func(ctx context.Context, t *testing.T) {
				// No architecture: the dialog says to choose one.
				if msg := convertFails(ctx, t); !strings.Contains(msg, "Choose the architecture") {
					t.Errorf("converting with no architecture chosen: %q", msg)
				}
				// A built-in the weights do not fit: the converter says why.
				click(ctx, t, `#convert-dialog input[name="arch"][value="mavis"]`)
				if msg := convertFails(ctx, t); !strings.HasPrefix(msg, "Keras file: keras: ") {
					t.Errorf("converting with the mavis architecture: %q, want the converter's reason", msg)
				}
				click(ctx, t, `#convert-dialog input[name="arch"][value="spec"]`)
				setValue(ctx, t, "#convert-spec", string(spec))
			},
			flags: []string{"-arch", specFile},
		},
	)

	ctx, cancel := browser(t, 5*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"?autorun=0")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(ctx, `document.body.dataset.loaded === 'true'`); err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		t.Run(j.name, func(t *testing.T) {
			j.give(ctx, t, j.path)
			if err := waitJS(ctx, `(() => { const d = document.getElementById('convert-dialog'); return !!d && d.open && !d.querySelector('.convert-body').hidden; })()`); err != nil {
				t.Fatalf("the converter's dialog: %v (errors: %q)", err, errorTexts(ctx))
			}
			if j.dialog != nil {
				j.dialog(ctx, t)
			}
			shot(ctx, t, "dialog-"+j.name, "#convert-dialog")
			want := keras.OutputName(j.name)
			errs := errorCount(ctx)
			click(ctx, t, `#convert-dialog .convert-go`)
			if err := waitJS(ctx, fmt.Sprintf(`(app.state.modelName === %q && !app.state.busy && !document.getElementById('model-save-row').hidden) || app.state.errors.length > %d`, want, errs)); err != nil {
				t.Fatal(err)
			}
			if got := errorTexts(ctx)[errs:]; len(got) > 0 {
				t.Fatalf("converting %s: %q", j.name, got)
			}
			saved := filepath.Join(t.TempDir(), "saved")
			if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
				Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: saved}); err != nil {
				t.Fatal(err)
			}
			shot(ctx, t, "model-card-"+j.name, "#model-card")
			click(ctx, t, `#model-save`)
			got := waitFile(t, saved, want)
			native := filepath.Join(t.TempDir(), want)
			args := append(append([]string{"-q"}, j.flags...), j.path, "-o", native)
			if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
				t.Fatalf("weightsconv %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			w, err := os.ReadFile(native)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, w) {
				t.Errorf("the page saved %d bytes as %s; weightsconv %s writes %d bytes, not the same", len(got), want, strings.Join(j.flags, " "), len(w))
			} else {
				t.Logf("%s: the page's %s (%d bytes) equals weightsconv %s", j.name, want, len(got), strings.Join(j.flags, " "))
			}
			if j.path == mavis {
				shipped, err := os.ReadFile(filepath.Join(siteDir, "www", "models", "mavis.safetensors"))
				if err != nil || !bytes.Equal(got, shipped) {
					t.Errorf("the page's conversion of the MAVIS weights differs from the built-in models/mavis.safetensors (%v)", err)
				}
			}
		})
	}
}

// convertFails clicks "Convert and load" and returns the error the dialog
// shows (as app.state.errors records it).
func convertFails(ctx context.Context, t *testing.T) string {
	t.Helper()
	n := errorCount(ctx)
	click(ctx, t, `#convert-dialog .convert-go`)
	if err := waitJS(ctx, fmt.Sprintf(`app.state.errors.length > %d && !document.querySelector('#convert-dialog .convert-go').disabled`, n)); err != nil {
		t.Fatal(err)
	}
	if open, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('convert-dialog').open`)); !open {
		t.Error("the dialog closed on an error")
	}
	return errorTexts(ctx)[n]
}

func errorTexts(ctx context.Context) []string {
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`app.state.errors`))
	return s
}

func click(ctx context.Context, t *testing.T, sel string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => { document.querySelector(%q).click(); return true; })()`, sel))); err != nil {
		t.Fatalf("clicking %s: %v", sel, err)
	}
}

// setValue sets a form field's value as typing or choosing would, with its
// input and change events.
func setValue(ctx context.Context, t *testing.T, sel, v string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
		const e = document.querySelector(%q);
		e.value = %q;
		e.dispatchEvent(new Event('input', {bubbles: true}));
		e.dispatchEvent(new Event('change', {bubbles: true}));
		return e.value === %q;
	})()`, sel, v, v))); err != nil {
		t.Fatalf("setting %s: %v", sel, err)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
