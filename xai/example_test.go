package xai_test

import (
	"fmt"

	"github.com/mavis-xai/mavis/nn"
	"github.com/mavis-xai/mavis/xai"
)

// A 1x1 convolution with ReLU feeding global average pooling and a dense
// layer (written as Flatten and a Dense with the pooling folded into its
// kernel): CAM's architecture, where Grad-CAM equals the class activation
// map up to its normalisation.
func Example() {
	m, err := nn.Build(nn.Spec{Input: [3]int{2, 2, 1}, Layers: []nn.LayerSpec{
		{Class: "Conv2D", Name: "conv", Config: nn.LayerConfig{Filters: 1, KernelSize: []int{1, 1}, Activation: "relu"}},
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: nn.LayerConfig{Units: 2, Activation: "softmax"}},
	}})
	if err != nil {
		panic(err)
	}
	m.Param("conv/kernel").Value[0] = 1 // A = relu(x)
	k := m.Param("dense/kernel").Value  // z_0 = mean(A), z_1 = −mean(A)
	for p := range 4 {
		k[p*2], k[p*2+1] = 0.25, -0.25
	}
	x := &nn.Tensor{Shape: [4]int{1, 2, 2, 1}, Data: []float32{1, 2, 3, 4}}

	ex := xai.New(m)
	cam, err := ex.GradCAM(x, xai.CAMOptions{Target: xai.Predicted()})
	if err != nil {
		panic(err)
	}
	fmt.Printf("class %d, logit %.2f, layer %s\n", cam.Class, cam.Score, cam.Layer)
	fmt.Println("weights", cam.Weights, "map", cam.Norm.Data)

	// Integrated Gradients from the black baseline. The original's
	// linspace rule includes α = 0, where every ReLU sits at its kink and
	// passes no gradient (relu'(0) = 0), so 1 step in 10 adds nothing;
	// Gauss–Legendre nodes avoid the end points.
	for _, rule := range []xai.Rule{xai.Linspace, xai.GaussLegendre} {
		ig, err := ex.IntegratedGradients(x, xai.IGOptions{Target: xai.Predicted(), Steps: 10, Rule: rule})
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: IG %.3g, sum %.2f, Score(x)-Score(b) %.2f, gap %.2f\n", rule, ig.Map.Data, ig.Sum, ig.Score-ig.BaselineScore, ig.Gap)
	}
	// Output:
	// class 0, logit 2.50, layer conv
	// weights [0.25] map [0.25 0.5 0.75 1]
	// linspace: IG [0.225 0.45 0.675 0.9], sum 2.25, Score(x)-Score(b) 2.50, gap -0.25
	// gauss-legendre: IG [0.25 0.5 0.75 1], sum 2.50, Score(x)-Score(b) 2.50, gap 0.00
}
