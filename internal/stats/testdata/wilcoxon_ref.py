# Reference values for signedrank_test.go from an independent implementation,
# scipy.stats.wilcoxon (Debian bookworm python3-scipy 1.10.1, numpy 1.24.2).
# Run: /usr/bin/python3 testdata/wilcoxon_ref.py   (prints the Go table rows)
import numpy as np
from scipy import stats

rng = np.random.default_rng(15)

def distinct(d):
    a = np.abs(d[d != 0])
    return len(np.unique(a)) == len(a)

def sample(n, shift, decimals, want_distinct):
    while True:
        d = np.round(rng.normal(shift, 1, n), decimals)
        if not want_distinct or distinct(d):
            return d

def golist(v):
    rows = [", ".join(repr(float(x) + 0.0) for x in v[i:i + 10]) for i in range(0, len(v), 10)]
    return "{\n\t\t" + ",\n\t\t".join(rows) + ",\n\t}"

cases = []
# exact: n <= 50, no ties, no zeros: scipy's default (method="auto" picks exact)
for name, n, shift in [("exact n=10", 10, 0.3), ("exact n=50", 50, 0.4)]:
    x = np.round(rng.normal(1, 1, n), 3)
    while True:
        y = np.round(x - rng.normal(shift, 1, n), 3)
        if distinct(x - y) and np.all(x - y != 0):
            break
    r = stats.wilcoxon(x, y)
    cases.append((name, x, y, r.statistic, r.pvalue, 0.0))
# exact after dropping zeros: scipy switches to the approximation when there
# are zeros, so the reference is wilcoxon(d[d != 0]) (exact).
d = sample(12, 0.8, 3, True)
d[[2, 5, 9]] = 0
r = stats.wilcoxon(d[d != 0])
cases.append(("zeros dropped, exact", d, None, r.statistic, r.pvalue, 0.0))
# normal approximation with tie and continuity correction
for name, n, shift, dec in [("approx n=60", 60, 0.25, 3), ("approx ties and zeros n=25", 25, 0.5, 1),
                            ("approx ties n=80 null", 80, 0.0, 1)]:
    d = sample(n, shift, dec, dec == 3)
    if name.startswith("approx ties and zeros"):
        d[[3, 7]] = 0
    r = stats.wilcoxon(d, method="approx", correction=True)
    cases.append((name, d, None, r.statistic, r.pvalue, r.zstatistic))

for name, x, y, stat, p, z in cases:
    print('{"%s",' % name)
    print("\t[]float64%s," % golist(x))
    print("\t%s," % ("nil" if y is None else "[]float64" + golist(y)))
    print("\t%r, %r, %r}," % (float(stat), float(p), float(z)))
