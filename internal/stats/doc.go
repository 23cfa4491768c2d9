// Package stats holds the statistics that make a ranking of explanation
// methods over a data set trustworthy: a mean with a bootstrap confidence
// interval for each method, and pairwise paired tests that say "A is
// more faithful than B on this data" only when the difference is
// significant.
//
// # Layout
//
// Scores are rows of columns: scores[m][i] is method m's score on image
// i. The images are the units: the columns are paired across rows (every
// method was scored on the same image), so comparisons are paired and the
// bootstrap resamples columns jointly. NaN marks a missing score (an
// image a method could not score) and is skipped, and counted, wherever
// it appears; infinities are refused. Higher scores are better in
// Compare; negate a score where lower is better. Nothing here modifies
// its arguments, and every function is safe for concurrent use.
//
// # Methods and conventions
//
//	Bootstrap.Means  mean ± percentile or BCa interval, B seeded resamples  (Efron 1979, 1987)
//	Wilcoxon         two-sided signed-rank test of x − y, zeros dropped      (Wilcoxon 1945)
//	                 exact for ≤ 50 non-zero differences without ties, else
//	                 normal with tie and continuity corrections
//	SignedRank       its effect sizes: matched-pairs rank-biserial
//	                 correlation (Kerby 2014) and the median difference
//	Holm             step-down adjusted p-values of a family                 (Holm 1979)
//	Compare          Wilcoxon on every pair of rows, Holm over the family,
//	                 the best row and those indistinguishable from it
//
// Each function's doc states its formula and its conventions, and where
// they differ from scipy.stats (whose wilcoxon and bootstrap the tests use
// as reference values, see testdata/*.py) or R.
//
// # Determinism
//
// A bootstrap interval depends only on the data, the level, the number of
// resamples, the method and the seed: the resampling uses
// math/rand/v2's PCG (a fixed algorithm) and a bounded draw written here,
// so the same seed gives the same interval on every platform and Go
// release. The tests are exact, apart from the bootstrap's Monte Carlo
// error, which B bounds.
//
// # Errors
//
// Parameters that come from a user (a confidence level, a number of
// resamples, a significance level) and infinite scores return an error
// prefixed "stats: " saying what is allowed. Rows of different lengths
// come from our own code and panic.
//
// # References
//
//   - B. Efron (1979), Bootstrap methods: another look at the jackknife.
//     Annals of Statistics 7(1), 1–26.
//   - B. Efron (1987), Better bootstrap confidence intervals. Journal of
//     the American Statistical Association 82(397), 171–185.
//   - B. Efron and R. J. Tibshirani (1993), An Introduction to the
//     Bootstrap. Chapman & Hall, chapters 13 and 14.
//   - F. Wilcoxon (1945), Individual comparisons by ranking methods.
//     Biometrics Bulletin 1(6), 80–83.
//   - S. Holm (1979), A simple sequentially rejective multiple test
//     procedure. Scandinavian Journal of Statistics 6(2), 65–70.
//   - D. S. Kerby (2014), The simple difference formula: an approach to
//     teaching nonparametric correlation. Comprehensive Psychology 3,
//     11.IT.3.1.
package stats
