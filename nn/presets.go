package nn

// fashionSpec is the compact network the page ships: 28x28 grey images
// (Fashion-MNIST) in 10 classes. Two 3x3 convolution blocks with batch
// normalisation and max-pooling, then a small dense head with dropout 0.2;
// L2 1e-4 on the convolution and hidden dense kernels as in the MAVIS spec.
// It is sized for training on two shared CPU cores in minutes, not for the
// last point of accuracy. About 106 thousand parameters (425 kB as
// float32), so the weights file stays well under 1 MB.
func fashionSpec() Spec {
	conv := func(name string, filters int) LayerSpec {
		return LayerSpec{Class: "Conv2D", Name: name, Config: LayerConfig{Filters: filters,
			KernelSize: []int{3, 3}, Strides: []int{1, 1}, Padding: "same", Activation: "relu", L2: 1e-4}}
	}
	bn := func(name string) LayerSpec {
		return LayerSpec{Class: "BatchNormalization", Name: name, Config: LayerConfig{Epsilon: 1e-3, Momentum: 0.99}}
	}
	pool := func(name string) LayerSpec {
		return LayerSpec{Class: "MaxPooling2D", Name: name,
			Config: LayerConfig{PoolSize: []int{2, 2}, Strides: []int{2, 2}, Padding: "valid"}}
	}
	return Spec{Name: "fashion", Input: [3]int{28, 28, 1}, Layers: []LayerSpec{
		conv("conv2d", 16),
		bn("batch_normalization"),
		pool("max_pooling2d"),
		conv("conv2d_1", 32),
		bn("batch_normalization_1"),
		pool("max_pooling2d_1"),
		{Class: "Flatten", Name: "flatten"},
		{Class: "Dense", Name: "dense", Config: LayerConfig{Units: 64, Activation: "relu", L2: 1e-4}},
		{Class: "Dropout", Name: "dropout", Config: LayerConfig{Rate: 0.2}},
		{Class: "Dense", Name: "dense_1", Config: LayerConfig{Units: 10, Activation: "softmax"}},
	}}
}
