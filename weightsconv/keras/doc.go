// Package keras reads Keras model files and loads their weights into an
// nn.Model, so that a model trained in Python runs, and is explained, in Go
// and in the browser. It uses only the standard library, nn and
// weightsconv/hdf5, and builds for js/wasm.
//
// # Formats
//
//	Keras 3 .weights.h5   layers/<name>/vars/<i> (_layer_checkpoint_dependencies/<name>/vars/<i>
//	                      in the first Keras 3 / keras-core releases); no architecture
//	Keras 3 .keras        zip of config.json (architecture) and model.weights.h5
//	Keras 2 weights .h5   root attributes layer_names (or layer_names0, layer_names1, ...
//	                      when Keras split a long list), one group per layer with
//	                      weight_names; no architecture
//	Keras 2 model .h5     root attribute model_config (JSON) and the weights under
//	                      model_weights, laid out as above
//
// Optimizer state (optimizer/..., optimizer_weights) is ignored.
//
// # How weights find their layers
//
// The rules are Keras's own, never a guess from shapes:
//
//   - Keras 3 files name every layer: the weights of group layers/<name> (or
//     of the group whose "name" attribute is <name>, as Keras 3.6 writes)
//     belong to the architecture's layer <name>.
//   - Keras 2 files are matched by position: the i-th layer of layer_names
//     that has weights goes to the i-th layer of the architecture that has
//     weights, as Keras's load_weights does without by_name.
//
// Inside a layer, variables are in Keras's order: kernel, bias for Conv2D and
// Dense; gamma, beta, moving_mean, moving_variance for BatchNormalization.
// That is also nn's Params order. Every shape is checked exactly, and errors
// name the layer, the variable and both shapes.
//
// # Architectures
//
// ParseConfig translates a Keras model config (config.json of a .keras file,
// or the model_config attribute of a Keras 2 .h5 file) into an nn.Spec. It
// accepts a Sequential model, or a Functional model that is a plain chain
// (each layer fed by the one before it), made of InputLayer, Conv2D,
// BatchNormalization, MaxPooling2D, Dropout, Flatten, Dense and a softmax
// Activation or Softmax layer. Anything else is refused with an error naming
// the layer and its class.
//
// # Converting
//
// Convert does the whole conversion into the project's weights file
// (safetensors with the architecture, classes and preprocessing as
// metadata, nn.EncodeWith): read, pick the architecture (the file's own,
// Options.Arch or Options.Spec), check and load every weight, name the
// classes (ParseClasses reads a class names file), encode. The weightsconv
// command, explain -model and the page's converter module (wasm/convert)
// all call it, so they write the same bytes for the same inputs.
//
// # Errors
//
// Errors start with "keras: " and name the layer, variable and shapes
// involved; errors from the HDF5 reader keep their "hdf5: " text.
package keras
