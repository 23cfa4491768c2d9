package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// downloads clicks "Download all results (JSON)" and the Grad-CAM PNG
// button, and reads the files the browser saves.
func downloads(ctx context.Context, t *testing.T) {
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("download-json"))); err != nil {
		t.Fatal(err)
	}
	b := waitFile(t, dir, "-explanations.json")
	var got struct {
		Model      struct{ Classes []struct{ Name string } }
		Image      string
		Prediction struct{ Probs []float64 }
		Results    []struct {
			Method  string
			Shape   []int
			Map     []float64
			FullMap []float64
			Options map[string]any
		}
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("JSON download: %v", err)
	}
	if len(got.Results) != 4 || len(got.Model.Classes) != len(got.Prediction.Probs) || got.Image == "" {
		t.Fatalf("JSON download: %d results, %d classes, %d probabilities, image %q", len(got.Results), len(got.Model.Classes), len(got.Prediction.Probs), got.Image)
	}
	for _, r := range got.Results {
		if len(r.Shape) != 2 || len(r.Map) != r.Shape[0]*r.Shape[1] || r.Options["method"] != r.Method {
			t.Errorf("JSON download: %s has shape %v, %d values, options %v", r.Method, r.Shape, len(r.Map), r.Options)
		}
		if r.Method == "ig" && len(r.FullMap) < len(r.Map) {
			t.Errorf("JSON download: ig has %d attribution values, want at least %d", len(r.FullMap), len(r.Map))
		}
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#method-gradcam button`))); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(waitFile(t, dir, "-gradcam.png")))
	if err != nil {
		t.Fatalf("PNG download: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 28 || b.Dy() < 28 {
		t.Errorf("PNG download is %v", b)
	}
}

// waitFile waits for a completed download whose name ends in suffix.
func waitFile(t *testing.T, dir, suffix string) []byte {
	t.Helper()
	for range 200 {
		names, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, n := range names {
			if strings.HasSuffix(n, suffix) {
				if b, err := os.ReadFile(n); err == nil && len(b) > 0 {
					return b
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no download ending in %s in %s", suffix, dir)
	return nil
}
