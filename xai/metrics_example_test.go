package xai_test

import (
	"context"
	"fmt"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

// Scoring two maps of a linear model, z_0 = 4a + 3b + 2c + d on the 2x2
// image (a b / c d), and ranking them: the map that orders the pixels as
// the weights do beats the reversed one. This is what the page's metrics
// panel and explain -evaluate run for every method.
func ExampleEvaluator_Evaluate() {
	m, err := nn.Build(nn.Spec{Input: [3]int{2, 2, 1}, Layers: []nn.LayerSpec{
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 2, Activation: "softmax"}},
	}})
	if err != nil {
		panic(err)
	}
	copy(m.Param("dense/kernel").Value, []float32{4, 0, 3, 0, 2, 0, 1, 0})
	x := &nn.Tensor{Shape: [4]int{1, 2, 2, 1}, Data: []float32{1, 1, 1, 1}}
	maps := map[string]xai.Map{
		"weights":  {H: 2, W: 2, C: 1, Data: []float32{4, 3, 2, 1}},
		"reversed": {H: 2, W: 2, C: 1, Data: []float32{1, 2, 3, 4}},
	}
	ev := xai.NewEvaluator(m)
	var scores []xai.MethodScore
	for _, name := range []string{"reversed", "weights"} {
		r, err := ev.Evaluate(context.Background(), x, maps[name], xai.MetricsOptions{
			Class: 0, Logit: true, Steps: 4, Reference: xai.BlackReference})
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-8s deletion %v AUC %.2f, insertion %v AUC %.2f\n", name,
			r.Deletion.Score, r.Deletion.AUC, r.Insertion.Score, r.Insertion.AUC)
		scores = append(scores, xai.ScoreOf(name, r))
	}
	rank := xai.Rank(scores)
	fmt.Println("trusted:", rank.Trusted)
	// Output:
	// reversed deletion [10 9 7 4 0] AUC 6.25, insertion [0 1 3 6 10] AUC 3.75
	// weights  deletion [10 6 3 1 0] AUC 3.75, insertion [0 4 7 9 10] AUC 6.25
	// trusted: weights
}
