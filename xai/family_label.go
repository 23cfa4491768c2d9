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
