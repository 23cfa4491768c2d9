package browsertest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// TestMapsScrollPage: the maps do not trap the page's scrolling. With a
// mouse, the wheel over the maps scrolls the page; on a touch screen, a
// finger dragged over them does, and a tap on a map shows the value under
// it and that map alone, as a click does. Ebitengine cancels wheel and
// touch events on its canvas: before viewer.js kept them from it, the
// page stood still under both, and a tap changed the view without saying
// what was under the finger.
func TestMapsScrollPage(t *testing.T) {
	base := site(t)
	for _, touch := range []bool{false, true} {
		name := map[bool]string{false: "mouse", true: "touch"}[touch]
		t.Run(name, func(t *testing.T) {
			ctx, cancel := browser(t, 2*time.Minute)
			defer cancel()
			vp := chromedp.EmulateViewport(1280, 900)
			if touch {
				vp = chromedp.EmulateViewport(390, 844, phone...)
			}
			if err := chromedp.Do(ctx, vp); err != nil {
				t.Fatal(err)
			}
			openPage(ctx, t, base)
			if err := waitJS(ctx, `app.state.timings.some((m) => m[0] === 'maps shown')`); err != nil {
				t.Fatal(err)
			}
			// The viewer's top at the top of the screen, its middle under
			// the pointer: the page can scroll both ways from there.
			at, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => {
				const v = document.getElementById('viewer');
				v.scrollIntoView({block: 'start'});
				const r = v.getBoundingClientRect();
				return [r.left + r.width / 4, Math.min(r.top + r.height / 2, innerHeight / 2), scrollY];
			})()`))
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			if touch {
				finger(ctx, t, input.DispatchTouchEventTypeTouchStart, at[0], at[1])
				for k := 1; k <= 10; k++ {
					finger(ctx, t, input.DispatchTouchEventTypeTouchMove, at[0], at[1]-float64(20*k))
					time.Sleep(16 * time.Millisecond)
				}
				finger(ctx, t, input.DispatchTouchEventTypeTouchEnd, 0, 0)
			} else if _, err := chromedp.Call(ctx, input.DispatchMouseEvent, input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseWheel, X: at[0], Y: at[1], DeltaX: 0.01, DeltaY: 200}); err != nil {
				t.Fatal(err)
			}
			wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
			err = waitJS(wctx, fmt.Sprintf(`scrollY > %f`, at[2]+100))
			wcancel()
			if err != nil {
				after, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`scrollY`))
				t.Fatalf("%s over the maps: the page scrolled from %.0f to %.0f, want 100 px or more down", map[bool]string{false: "the wheel", true: "a finger dragged 200 px up"}[touch], at[2], after)
			}
			if !touch {
				return
			}
			// A tap on the first map.
			tap, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => {
				const v = document.getElementById('viewer');
				v.scrollIntoView({block: 'start'});
				const r = v.getBoundingClientRect();
				return [r.left + r.width / 4, r.top + r.width / 4];
			})()`))
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			finger(ctx, t, input.DispatchTouchEventTypeTouchStart, tap[0], tap[1])
			time.Sleep(50 * time.Millisecond)
			finger(ctx, t, input.DispatchTouchEventTypeTouchEnd, 0, 0)
			first, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`app.state.methods[0].label`))
			wctx, wcancel = context.WithTimeout(ctx, 5*time.Second)
			err = waitJS(wctx, `document.getElementById('hover').textContent.startsWith(`+strconv.Quote(first+" at (")+`) && document.getElementById('view').value === '0'`)
			wcancel()
			if err != nil {
				got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('hover').textContent + ' (view ' + document.getElementById('view').value + ')'`))
				t.Errorf("after a tap on %s: %q, want its value and it alone", first, strings.TrimSpace(got))
			}
		})
	}
}

// finger sends one touch event: a finger at (x, y), or none left for a
// touch end.
func finger(ctx context.Context, t *testing.T, typ input.DispatchTouchEventType, x, y float64) {
	t.Helper()
	pts := []*input.TouchPoint{{X: x, Y: y}}
	if typ == input.DispatchTouchEventTypeTouchEnd {
		pts = []*input.TouchPoint{}
	}
	if _, err := chromedp.Call(ctx, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: typ, TouchPoints: pts}); err != nil {
		t.Fatal(err)
	}
}

// TestSkipLink: the page's first Tab stop, shown when it has the focus,
// takes the keyboard past the model, image and method controls to the
// results.
func TestSkipLink(t *testing.T) {
	base := site(t)
	ctx, cancel := browser(t, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	openPage(ctx, t, base)
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
		t.Fatal(err)
	}
	type focus struct {
		Class, ID string
		Top       float64
	}
	got := func() focus {
		f, err := chromedp.Run(ctx, chromedp.Evaluate[focus](`({class: document.activeElement.className, id: document.activeElement.id, top: document.activeElement.getBoundingClientRect().top})`))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	if f := got(); f.Class != "skip" || f.Top < 0 {
		t.Fatalf("the first Tab stop is %+v, want the skip link on screen", f)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	if f := got(); f.ID != "results" {
		t.Errorf("after Enter on the skip link the focus is on %+v, want the results", f)
	}
}
