#!/usr/bin/env python3
"""Times scikit-learn on the foundation benchmark's shapes, for the ratio in bench/results.

Run by `npm run bench` when Debian's python3-sklearn is installed (apt-get install python3-sklearn);
prints one JSON object {case: median_seconds}. Same shapes and model settings as bench/foundation.ts,
which runs it once per round (repeats = 1) with OMP/OpenBLAS threads limited by the environment;
the data are drawn the same way (Gaussian features, known weights), not bit-identical.
"""
import functools
import json
import sys
import time

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.linear_model import LinearRegression, LogisticRegression, SGDClassifier, SGDRegressor

repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
scale = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
rng = np.random.default_rng(1)


def timed(fit):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fit()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


n = int(1_000_000 * scale)
x = rng.standard_normal((n, 50))
w = rng.standard_normal(50)
y_reg = x @ w + 0.1 * rng.standard_normal(n)
y_cls = (x @ w > 0).astype(int)
# Drawn only when a k-means or PCA case runs (argv[3] may leave them out), after the shared draws above.
x_km = functools.cache(lambda: np.concatenate([rng.standard_normal((n // 10, 20)) + 5 * rng.standard_normal(20) for _ in range(10)]))
x_pca = functools.cache(lambda: rng.standard_normal((int(200_000 * scale), 100)) @ np.diag(np.linspace(3, 0.1, 100)))
x_pca_1m = functools.cache(lambda: rng.standard_normal((int(1_000_000 * scale), 100)) @ np.diag(np.linspace(3, 0.1, 100)))

fits = {
    "linear-regression/exact": lambda: (lambda: LinearRegression().fit(x, y_reg)),
    "linear-regression/sgd": lambda: (lambda: SGDRegressor(max_iter=5, tol=None, learning_rate="constant", eta0=0.01).fit(x, y_reg)),
    "logistic-regression/lbfgs": lambda: (lambda: LogisticRegression(max_iter=100).fit(x, y_cls)),
    "linear-svm/sgd": lambda: (lambda: SGDClassifier(loss="hinge", max_iter=5, tol=None).fit(x, y_cls)),
    "kmeans/lloyd": lambda: (lambda data: lambda: KMeans(10, init="random", n_init=1, max_iter=20, tol=0, algorithm="lloyd").fit(data))(x_km()),
    # scikit-learn's bounded algorithm (Elkan's), beside our Hamerly: each library's way to skip distances.
    "kmeans/bounded": lambda: (lambda data: lambda: KMeans(10, init="random", n_init=1, max_iter=20, tol=0, algorithm="elkan").fit(data))(x_km()),
    "pca/full": lambda: (lambda data: lambda: PCA(10, svd_solver="full").fit(data))(x_pca()),
    "pca/randomized": lambda: (lambda data: lambda: PCA(10, svd_solver="randomized").fit(data))(x_pca()),
    "pca/full-1m": lambda: (lambda data: lambda: PCA(10, svd_solver="full").fit(data))(x_pca_1m()),
    "pca/randomized-1m": lambda: (lambda data: lambda: PCA(10, svd_solver="randomized").fit(data))(x_pca_1m()),
}
# argv[3]: the cases to time, comma-separated (default: all).
selected = sys.argv[3].split(",") if len(sys.argv) > 3 else list(fits)
results = {case: timed(make()) for case, make in fits.items() if case in selected}
print(json.dumps(results))
