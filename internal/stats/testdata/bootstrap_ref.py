# Reference values for bootstrap_test.go from an independent implementation,
# scipy.stats.bootstrap (Debian bookworm python3-scipy 1.10.1, numpy 1.24.2):
# the 95% percentile and BCa intervals of the mean of a skewed sample, from
# 4,000,000 resamples, so that scipy's Monte Carlo error (about 0.002
# standard errors of the mean) is small beside the test's tolerance.
# Run: /usr/bin/python3 testdata/bootstrap_ref.py
import numpy as np
from scipy import stats

rng = np.random.default_rng(1979)
x = np.round(rng.lognormal(0, 1, 20), 3)
print("x =", "{" + ", ".join(repr(float(v)) for v in x) + "}")
print("mean =", repr(float(x.mean())), "se =", repr(float(x.std(ddof=1) / np.sqrt(len(x)))))
for method in ["percentile", "BCa"]:
    for seed in [1, 2]:
        r = stats.bootstrap((x,), np.mean, confidence_level=0.95, n_resamples=4_000_000,
                            batch=200_000, method=method, random_state=seed)
        ci = r.confidence_interval
        print(method, "seed", seed, repr(float(ci.low)), repr(float(ci.high)))
