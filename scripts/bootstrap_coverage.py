# Coverage of the 95% percentile bootstrap interval of a mean over n blocks (one value each),
# the measurement behind algorithm.md §8.3's minimum of 10 blocks: python3 scripts/bootstrap_coverage.py
import random, statistics, sys
random.seed(1)
def coverage(n, trials=600, resamples=800, draw=lambda: random.gauss(0, 1), truth=0.0):
    hit = 0
    for _ in range(trials):
        x = [draw() for _ in range(n)]
        means = sorted(sum(random.choice(x) for _ in range(n)) / n for _ in range(resamples))
        lo = means[int(0.025 * (resamples - 1))]; hi = means[int(0.975 * (resamples - 1))]
        hit += lo <= truth <= hi
    return hit / trials
for n in (2, 3, 5, 10, 20):
    print(n, "normal", round(coverage(n), 3), "exponential", round(coverage(n, draw=lambda: random.expovariate(1.0), truth=1.0), 3), flush=True)
