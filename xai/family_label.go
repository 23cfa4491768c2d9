package xai

// Label is the family's heading as a person reads it (the page groups its
// methods under it).
func (f Family) Label() string {
	switch f {
	case FamilyCAM:
		return "Class activation maps"
	case FamilyGradient:
		return "Gradients"
	case FamilyPath:
		return "Path integrals"
	case FamilyPerturbation:
		return "Perturbation"
	case FamilyPropagation:
		return "Relevance propagation"
	}
	return string(f)
}

// Doc says in a few words how the family's methods explain.
func (f Family) Doc() string {
	switch f {
	case FamilyCAM:
		return "a convolutional layer's channels, weighted"
	case FamilyGradient:
		return "the score's slope at each input pixel, plain or modified"
	case FamilyPath:
		return "gradients from a baseline to the image"
	case FamilyPerturbation:
		return "changing the image, watching the score"
	case FamilyPropagation:
		return "relevance passed back layer by layer by rules"
	}
	return ""
}
