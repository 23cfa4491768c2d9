//go:build !js

package nn_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/mavis-xai/mavis/nn"
)

// A model travels as one safetensors file holding its weights, its
// architecture, its class names and its preprocessing contract.
func ExampleSave() {
	spec, err := nn.ParseSpec([]byte(`{"name": "tiny", "input": [8, 8, 1], "layers": [
		{"class": "Conv2D", "name": "conv2d", "config": {"filters": 4, "kernel_size": [3, 3], "activation": "relu"}},
		{"class": "Flatten", "name": "flatten"},
		{"class": "Dense", "name": "dense", "config": {"units": 2, "activation": "softmax"}}]}`))
	if err != nil {
		log.Fatal(err)
	}
	m, err := nn.Build(spec)
	if err != nil {
		log.Fatal(err)
	}
	m.Classes = []nn.Class{{ID: "c", Name: "cat"}, {ID: "d", Name: "dog"}}
	m.Param("dense/bias").Value[1] = 0.5

	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tiny.safetensors")
	if err := nn.Save(path, m); err != nil {
		log.Fatal(err)
	}

	got, err := nn.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	// conv2d: 3*3*1*4 + 4 = 40; dense: 6*6*4*2 + 2 = 290.
	trainable, other := got.CountParams()
	fmt.Println(got.Spec.Name, got.Classes[1].Name, got.Preprocess.Color, trainable, other)
	fmt.Println(got.Param("dense/bias").Value)
	// Output:
	// tiny dog grey 330 0
	// [0 0.5]
}
