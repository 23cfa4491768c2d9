// viewer.js runs inside the viewer iframe: it starts the viewer's Go
// program, viewer-2d.wasm (the maps on a 2D canvas, the page's default,
// in viewer-2d.html) or viewer.wasm (Ebitengine, on the GPU, in
// viewer.html: the page with ?viewer=gpu), and hands it the page's
// messages. Typed arrays are re-wrapped in this window's Uint8Array before
// they reach Go, whose syscall/js type checks use this realm's
// constructors. The message contract is in api.d.ts (ViewerMessage). The
// HTML loads it with defer, after its body: the canvas and the text that
// says the viewer could not start both need the body, and a failed fetch
// of the wasm can end before the parser would have reached it. The HTML
// preloads the wasm, so its request goes out with the scripts' instead of
// after them, and the fetch below takes that response (over a link with a
// 100 ms round trip the maps showed 156 ms sooner; BENCHMARKS.md, session
// 33): the preload link names the wasm, for both.
'use strict';
(() => {
  const pending = []; // messages that came before Go was ready, in order
  let api = null;
  let stopped = false;

  function bytes(a) {
    if (!a) return new Uint8Array(0);
    if (ArrayBuffer.isView(a)) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
    return new Uint8Array(a).slice();
  }

  function apply(m) {
    let err = null;
    switch (m.type) {
      case 'colormaps': {
        const cms = m.colormaps || [];
        err = api.setColormaps(cms.map((c) => String(c.name)), cms.map((c) => bytes(c.lut)));
        break;
      }
      case 'image': err = api.setImage(bytes(m.rgba), m.width, m.height); break;
      case 'slots': err = api.setSlots((m.labels || []).map(String)); break;
      case 'map':
        err = api.setMap(m.slot, m.label || '', bytes(m.map), m.width || 0, m.height || 0,
          Number(m.lo) || 0, Number(m.hi) || 0, String(m.colormap || ''), !!m.signed);
        break;
      case 'style': {
        const s = m.style || {};
        err = api.setStyle(Number(s.opacity) || 0, String(s.layout || 'grid'), Number(s.selected) || 0);
        break;
      }
      case 'png': err = api.png(m.slot); break;
      default: err = `unknown message type ${m.type}`;
    }
    if (err) parent.postMessage({ type: 'error', error: String(err) }, location.origin);
  }

  window.addEventListener('message', (e) => {
    if (stopped || e.origin !== location.origin || e.source !== parent || !e.data || !e.data.type) return;
    if (api) apply(e.data); else pending.push(e.data);
  });

  // stop: the viewer cannot run (its wasm did not load, or its Go
  // program ended: main.go leaves why in viewerError). The page hears it
  // once, with the reason. (Without WebGL 2 the viewer still runs: it
  // draws on a 2D canvas.)
  function stop(why) {
    if (stopped) return;
    stopped = true;
    api = null;
    pending.length = 0;
    parent.postMessage({ type: 'stopped', error: String(why) }, location.origin);
    document.querySelector('.wait').textContent = 'The viewer could not start.';
  }

  // On the GPU, Ebitengine runs its loop on requestAnimationFrame, every
  // frame, even in the minimum-FPS mode the viewer uses, where a frame with
  // nothing scheduled does nothing but ask for the next one. The loop parks
  // here instead: its next frame is held until Go schedules one
  // (viewerWake, after ebiten.ScheduleFrame). Input and resizing update
  // Ebitengine directly, without a frame. (The 2D canvas draws on a timer.)
  const raf = window.requestAnimationFrame.bind(window);
  let parked = null; // Ebitengine's next frame, held
  let frames = 8;    // frames to run before the loop parks (Ebitengine's start)
  window.requestAnimationFrame = (cb) => {
    if (frames > 0) {
      frames--;
      return raf(cb);
    }
    parked = cb;
    return 0;
  };
  window.viewerWake = () => {
    frames = Math.max(frames, 2);
    if (parked) {
      const cb = parked;
      parked = null;
      frames--;
      raf(cb);
    }
  };

  // The page scrolls under a wheel or a finger on the maps: Ebitengine
  // cancels both on its canvas, and the viewer has no use for them. A tap
  // reaches it as the click a browser sends after one (the value under
  // it, and one map alone or all).
  for (const type of ['wheel', 'touchstart', 'touchmove', 'touchend', 'touchcancel']) {
    window.addEventListener(type, (e) => e.stopPropagation(), { capture: true, passive: true });
  }

  const wasm = document.querySelector('link[rel=preload]').getAttribute('href');
  const go = new Go();
  WebAssembly.instantiateStreaming(fetch(wasm), go.importObject)
    .then((r) => {
      go.run(r.instance).then(
        () => stop(window.viewerError || 'its Go program ended (the browser console may say why)'),
        (e) => stop(`its Go program failed: ${e.message || e}`));
      if (go.exited || !window.viewer) return;
      api = window.viewer;
      for (const m of pending.splice(0)) apply(m);
    }, (e) => stop(`${wasm}: ${e.message || e}`));
})();
