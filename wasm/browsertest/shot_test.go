package browsertest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestScreenshots saves what the page looks like on a desktop and on a
// phone-sized screen after a full explanation and its faithfulness panel,
// for a person to look at:
//
//	MAVIS_SCREENSHOTS=/tmp/shots go test ./wasm/browsertest -run Screenshots
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("MAVIS_SCREENSHOTS")
	if dir == "" {
		t.Skip("set MAVIS_SCREENSHOTS to a folder to save screenshots")
	}
	base := site(t)
	for _, s := range []struct {
		name string
		w, h int64
		opts []chromedp.EmulateViewportOption
	}{
		// Tall viewports, so that the whole page is drawn as it stands
		// (a full-page capture resizes the viewport, and the viewer has not
		// repainted at the new size when the capture is taken).
		{"desktop", 1280, 1900, nil},
		{"phone", 390, 3600, []chromedp.EmulateViewportOption{chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch}},
	} {
		ctx, cancel := browser(t, 120*time.Second)
		err := chromedp.Do(ctx, chromedp.EmulateViewport(s.w, s.h, s.opts...), chromedp.Navigate(base))
		if err == nil {
			err = waitJS(ctx, `document.body.dataset.evaluated !== undefined || (window.app && app.state.errors.length > 0)`)
		}
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, s.name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
