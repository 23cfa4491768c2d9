package nn

import (
	"github.com/nfnt/resize"
)

// Checking a Preprocess contract: it comes from a weights file or a user's
// flags, so every field is validated before an image is touched.

// maxInputSide bounds the model input side a Preprocess may ask for.
const maxInputSide = 1 << 14

// checkPreprocess reports the first problem with p, or nil. It does not
// compare p with a model's input shape; see checkPreprocessFor.
func checkPreprocess(p Preprocess) error {
	if p.Height < 1 || p.Width < 1 || p.Height > maxInputSide || p.Width > maxInputSide {
		return errorf("nn: preprocess: size %dx%d outside 1..%d", p.Height, p.Width, maxInputSide)
	}
	switch {
	case p.Color == "rgb" && p.Channels == 3:
	case p.Color == "grey" && p.Channels == 1:
	case p.Color == "none" && p.Channels >= 1 && p.Channels <= 1<<16:
	case p.Color != "rgb" && p.Color != "grey" && p.Color != "none":
		return errorf("nn: preprocess: unknown color %q (rgb, grey, none)", p.Color)
	default:
		return errorf("nn: preprocess: color %q with %d channels (rgb needs 3, grey 1)", p.Color, p.Channels)
	}
	if p.Scale != "0..255" && p.Scale != "0..1" {
		return errorf("nn: preprocess: unknown scale %q (0..255, 0..1)", p.Scale)
	}
	if _, err := interpolation(p.Resize); err != nil {
		return err
	}
	if p.Crop != "" && p.Crop != "none" && p.Crop != "center" {
		return errorf("nn: preprocess: unknown crop %q (none, center)", p.Crop)
	}
	return nil
}

// checkPreprocessFor checks p and that it produces the input shape in.
func checkPreprocessFor(p Preprocess, in [3]int) error {
	if err := checkPreprocess(p); err != nil {
		return err
	}
	if p.Height != in[0] || p.Width != in[1] || p.Channels != in[2] {
		return errorf("nn: preprocess: produces %dx%dx%d, the model takes %dx%dx%d",
			p.Height, p.Width, p.Channels, in[0], in[1], in[2])
	}
	return nil
}

// interpolation maps Preprocess.Resize to nfnt/resize's function; the empty
// string means bilinear.
func interpolation(name string) (resize.InterpolationFunction, error) {
	switch name {
	case "", "bilinear":
		return resize.Bilinear, nil
	case "nearest":
		return resize.NearestNeighbor, nil
	case "bicubic":
		return resize.Bicubic, nil
	case "lanczos3":
		return resize.Lanczos3, nil
	}
	return 0, errorf("nn: preprocess: unknown resize %q (bilinear, nearest, bicubic, lanczos3)", name)
}
