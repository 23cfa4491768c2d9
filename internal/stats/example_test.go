package stats_test

import (
	"fmt"
	"math"

	"github.com/mavis-xai/mavis/internal/stats"
)

// Ranking three explanation methods by a faithfulness score on twelve
// images: the means with their 95% bootstrap intervals, then the paired
// comparisons. Grad-CAM and Integrated Gradients both beat Saliency on
// every image Saliency could score (the last one it could not is NaN),
// but twelve images cannot tell Grad-CAM and Integrated Gradients apart:
// both are in the top group.
func Example() {
	names := []string{"Grad-CAM", "Integrated Gradients", "Saliency"}
	scores := [][]float64{
		{0.61, 0.55, 0.72, 0.48, 0.66, 0.59, 0.70, 0.52, 0.63, 0.57, 0.68, 0.60},
		{0.63, 0.53, 0.70, 0.50, 0.64, 0.61, 0.69, 0.50, 0.64, 0.55, 0.70, 0.58},
		{0.50, 0.47, 0.65, 0.40, 0.59, 0.50, 0.62, 0.47, 0.55, 0.49, 0.60, math.NaN()},
	}
	ivs, err := stats.Bootstrap{Seed: 1}.Means(scores)
	if err != nil {
		panic(err)
	}
	for m, iv := range ivs {
		fmt.Printf("%-20s %.3f [%.3f, %.3f] over %d images\n", names[m], iv.Mean, iv.Lo, iv.Hi, iv.N)
	}
	c, err := stats.Compare(scores, 0.05)
	if err != nil {
		panic(err)
	}
	for _, pr := range c.Pairs {
		verdict := "indistinguishable"
		if pr.Better >= 0 {
			verdict = names[pr.Better] + " is better"
		}
		fmt.Printf("%s vs %s: Holm p %.3f, rank-biserial %+.2f: %s\n", names[pr.A], names[pr.B], pr.PHolm, pr.RankBiserial, verdict)
	}
	fmt.Print("best:")
	for _, m := range c.Top {
		fmt.Print(" ", names[m])
	}
	fmt.Println()
	// Output:
	// Grad-CAM             0.609 [0.571, 0.649] over 12 images
	// Integrated Gradients 0.606 [0.565, 0.646] over 12 images
	// Saliency             0.531 [0.488, 0.575] over 11 images
	// Grad-CAM vs Integrated Gradients: Holm p 0.516, rank-biserial +0.22: indistinguishable
	// Grad-CAM vs Saliency: Holm p 0.011, rank-biserial +1.00: Grad-CAM is better
	// Integrated Gradients vs Saliency: Holm p 0.011, rank-biserial +1.00: Integrated Gradients is better
	// best: Grad-CAM Integrated Gradients
}
