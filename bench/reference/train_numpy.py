#!/usr/bin/env python3
"""NumPy reference implementation of the k-layer CIFAR-10 study (see docs/SPEC.md).

A reference and benchmark baseline for the library, never part of it. Uses only
NumPy and the standard library.

Model:    input -> [Linear -> BatchNorm? -> ReLU] x (k-1) -> Linear -> softmax
Cost:     J = mean cross-entropy + lambda * sum_l ||W_l||^2
Training: mini-batch SGD (no momentum), cyclical triangular learning rate.

Conventions: samples are COLUMNS. X is (d x n), W_l is (out x in), b_l, gamma_l, beta_l
are (out x 1). The data matrices are stored Fortran-ordered (each sample's 3072 values
contiguous), so gathering a shuffled mini-batch copies whole columns.

Run `python3 train_numpy.py --help` for the options.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tarfile
import time
from pathlib import Path

import numpy as np

EPS = 1e-5  # BatchNorm epsilon
RECORD = 3073  # 1 label byte + 3072 pixel bytes
N_CLASSES = 10
DEFAULT_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "cifar-10-binary.tar.gz"


# --------------------------------------------------------------------------- data


def read_batches(path: Path) -> dict[str, np.ndarray]:
    """Read every *.bin batch of the tarball in one sequential pass: name -> (n x 3073) uint8.

    (Random access with getmember/extractfile would re-decompress the gzip stream per file.)
    """
    batches = {}
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            name = member.name.rsplit("/", 1)[-1]
            if member.isfile() and name.endswith(".bin"):
                raw = np.frombuffer(tar.extractfile(member).read(), dtype=np.uint8)
                batches[name] = raw.reshape(-1, RECORD)
    return batches


def load_cifar(path: Path, n_validation: int, dtype) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Load train/validation/test splits as (X (3072 x n), y (n,)), normalised per feature.

    Training = data_batch_1..5 minus the LAST n_validation records; validation = those
    records; test = test_batch. Pixels are scaled to [0, 1], then every feature is
    standardised with the training split's mean and (population) standard deviation.
    """
    batches = read_batches(path)
    train_raw = np.concatenate([batches[f"data_batch_{i}.bin"] for i in range(1, 6)])
    pixels, labels = train_raw[:, 1:], train_raw[:, 0].astype(np.int64)
    test_pixels, test_labels = batches["test_batch.bin"][:, 1:], batches["test_batch.bin"][:, 0].astype(np.int64)
    n_train = len(labels) - n_validation

    def to_float(p: np.ndarray) -> np.ndarray:
        # (n x 3072) C-order == (3072 x n) F-order: samples become columns without a copy.
        x = p.astype(dtype)
        x /= dtype(255)  # in place: one fresh 1 GB array instead of two
        return x.T

    x_train = to_float(pixels[:n_train])
    mean = x_train.mean(axis=1, keepdims=True)
    std = x_train.std(axis=1, keepdims=True)

    def normalise(x: np.ndarray) -> np.ndarray:
        x -= mean
        x /= std
        return x

    splits = {
        "train": (normalise(x_train), labels[:n_train]),
        "validation": (normalise(to_float(pixels[n_train:])), labels[n_train:]),
        "test": (normalise(to_float(test_pixels)), test_labels),
    }
    return splits


# --------------------------------------------------------------------------- model


def init_network(sizes: list[int], use_bn: bool, rng: np.random.Generator, dtype) -> list[dict]:
    """He initialisation: W ~ N(0, 2/fan_in), b = 0, gamma = 1, beta = 0 (BN on hidden layers)."""
    layers = []
    for l, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layer = {
            "W": (rng.standard_normal((fan_out, fan_in)) * np.sqrt(2.0 / fan_in)).astype(dtype),
            "b": np.zeros((fan_out, 1), dtype=dtype),
        }
        if use_bn and l < len(sizes) - 2:
            layer["gamma"] = np.ones((fan_out, 1), dtype=dtype)
            layer["beta"] = np.zeros((fan_out, 1), dtype=dtype)
            layer["mu_avg"] = None  # set from the first training batch
            layer["var_avg"] = None
        layers.append(layer)
    return layers


def bn_forward(s: np.ndarray, mu: np.ndarray, var: np.ndarray) -> np.ndarray:
    """Normalise each unit (row): x_hat = (s - mu) / sqrt(var + eps)."""
    return (s - mu) / np.sqrt(var + EPS)


def bn_backward(g: np.ndarray, s: np.ndarray, mu: np.ndarray, var: np.ndarray) -> np.ndarray:
    """Gradient through x_hat = (s - mu)/sqrt(var + eps) with batch mu and biased batch var.

    g is dJ/dx_hat (out x n); returns dJ/ds.
    """
    n = s.shape[1]
    sigma1 = (var + EPS) ** -0.5
    sigma2 = (var + EPS) ** -1.5
    g1 = g * sigma1
    g2 = g * sigma2
    d = s - mu
    c = (g2 * d).sum(axis=1, keepdims=True)
    return g1 - g1.mean(axis=1, keepdims=True) - d * c / n


def softmax(s: np.ndarray) -> np.ndarray:
    """Column-wise softmax, numerically stabilised."""
    e = np.exp(s - s.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def forward(layers: list[dict], x: np.ndarray, training: bool) -> tuple[np.ndarray, list[dict]]:
    """Forward pass. Returns class probabilities P (10 x n) and a per-layer cache.

    In training mode BN uses the batch statistics (stored in the cache; the caller updates
    the moving averages); otherwise it uses the moving averages.
    """
    caches = []
    h = x
    for layer in layers[:-1]:
        cache = {"h_in": h}
        s = layer["W"] @ h + layer["b"]
        if "gamma" in layer:
            if training:
                mu = s.mean(axis=1, keepdims=True)
                var = s.var(axis=1, keepdims=True)  # biased (divide by n)
            else:
                mu, var = layer["mu_avg"], layer["var_avg"]
            x_hat = bn_forward(s, mu, var)
            cache.update(s=s, mu=mu, var=var, x_hat=x_hat)
            s = layer["gamma"] * x_hat + layer["beta"]
        h = np.maximum(s, 0)
        cache["h_out"] = h
        caches.append(cache)
    last = layers[-1]
    caches.append({"h_in": h})
    return softmax(last["W"] @ h + last["b"]), caches


def loss_and_cost(layers: list[dict], p: np.ndarray, y: np.ndarray, lam: float) -> tuple[float, float]:
    """Mean cross-entropy (loss) and loss + lambda * sum ||W||^2 (cost)."""
    loss = float(-np.log(p[y, np.arange(len(y))]).mean())
    reg = sum(float((layer["W"] ** 2).sum()) for layer in layers)
    return loss, loss + lam * reg


def backward(layers: list[dict], caches: list[dict], p: np.ndarray, y: np.ndarray, lam: float) -> list[dict]:
    """Gradients of the cost J for every parameter (W, b, and gamma, beta where BN is used)."""
    n = len(y)
    g = p.copy()
    g[y, np.arange(n)] -= 1  # dJ/ds_out = P - Y (mean taken below)
    g /= n
    grads = [None] * len(layers)
    for l in range(len(layers) - 1, -1, -1):
        layer, cache = layers[l], caches[l]
        if l < len(layers) - 1:  # hidden layer: back through ReLU and BN
            g = g * (cache["h_out"] > 0)
            grad = {}
            if "gamma" in layer:
                grad["gamma"] = (g * cache["x_hat"]).sum(axis=1, keepdims=True)
                grad["beta"] = g.sum(axis=1, keepdims=True)
                g = bn_backward(g * layer["gamma"], cache["s"], cache["mu"], cache["var"])
        else:
            grad = {}
        h_in = cache["h_in"]
        grad["W"] = g @ h_in.T + 2 * lam * layer["W"]
        grad["b"] = g.sum(axis=1, keepdims=True)
        grads[l] = grad
        if l > 0:
            g = layer["W"].T @ g
    return grads


def update_moving_averages(layers: list[dict], caches: list[dict], alpha: float) -> None:
    """avg <- alpha*avg + (1-alpha)*batch; the first batch initialises the averages."""
    for layer, cache in zip(layers, caches):
        if "gamma" not in layer:
            continue
        if layer["mu_avg"] is None:
            layer["mu_avg"], layer["var_avg"] = cache["mu"].copy(), cache["var"].copy()
        else:
            layer["mu_avg"] = alpha * layer["mu_avg"] + (1 - alpha) * cache["mu"]
            layer["var_avg"] = alpha * layer["var_avg"] + (1 - alpha) * cache["var"]


def evaluate(layers: list[dict], x: np.ndarray, y: np.ndarray, lam: float) -> dict:
    """Loss, cost and accuracy in evaluation mode (BN moving averages)."""
    p, _ = forward(layers, x, training=False)
    loss, cost = loss_and_cost(layers, p, y, lam)
    return {"loss": loss, "cost": cost, "accuracy": float((p.argmax(axis=0) == y).mean())}


# --------------------------------------------------------------------------- training


def blas_kernels() -> str | None:
    """The CPU whose kernels NumPy's OpenBLAS runs ("Haswell", "SkylakeX", ...), as threadpoolctl
    reports it: the loaded OpenBLAS library's own get_corename. None where that cannot be found."""
    import ctypes

    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for symbol in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename",
                       "openblas_get_corename64_", "openblas_get_corename"):
            function = getattr(library, symbol, None)
            if function is not None:
                function.restype = ctypes.c_char_p
                name = function()
                return name.decode() if name else None
    return None


def cyclic_eta(t: int, eta_min: float, eta_max: float, n_s: int) -> float:
    """Triangular cyclical learning rate for update t (0-based), period 2*n_s."""
    c = t % (2 * n_s)
    if c <= n_s:
        return eta_min + c / n_s * (eta_max - eta_min)
    return eta_max - (c - n_s) / n_s * (eta_max - eta_min)


def train(args: argparse.Namespace) -> dict:
    dtype = np.dtype(args.dtype).type
    t0 = time.perf_counter()
    data = load_cifar(Path(args.data), args.validation, dtype)
    load_seconds = time.perf_counter() - t0
    x_train, y_train = data["train"]
    x_val, y_val = data["validation"]
    x_test, y_test = data["test"]
    n = x_train.shape[1]
    print(f"loaded in {load_seconds:.2f} s: train {n}, validation {x_val.shape[1]}, "
          f"test {x_test.shape[1]}, dtype {args.dtype}", flush=True)

    rng = np.random.default_rng(args.seed)
    sizes = [x_train.shape[0], *args.hidden, N_CLASSES]
    layers = init_network(sizes, not args.no_bn, rng, dtype)
    network = "-".join(map(str, sizes)) + (" no-bn" if args.no_bn else " bn")

    batches_per_epoch = -(-n // args.batch_size)
    total_updates = args.cycles * 2 * args.n_s
    epochs = args.epochs if args.epochs is not None else -(-total_updates // batches_per_epoch)
    if args.epochs is not None:
        total_updates = epochs * batches_per_epoch
    print(f"network {network}, lambda {args.lam}, batch {args.batch_size}, n_s {args.n_s}, "
          f"{total_updates} updates = {epochs} epochs, seed {args.seed}", flush=True)
    train_label = "train" if args.eval_every_epoch else "train(batch avg)"

    t = 0
    epoch_seconds = []
    for epoch in range(1, epochs + 1):
        # The epoch time covers only training (shuffle, gather, forward, backward, update);
        # the optional running metrics and the evaluations below are excluded.
        seconds = 0.0
        start = time.perf_counter()
        perm = rng.permutation(n)
        sum_loss = sum_cost = sum_correct = seen = 0
        for i in range(0, n, args.batch_size):
            if t >= total_updates:
                break
            idx = perm[i:i + args.batch_size]
            xb, yb = x_train[:, idx], y_train[idx]
            p, caches = forward(layers, xb, training=True)
            update_moving_averages(layers, caches, args.alpha)
            grads = backward(layers, caches, p, yb, args.lam)
            eta = cyclic_eta(t, args.eta_min, args.eta_max, args.n_s)
            for layer, grad in zip(layers, grads):
                for key, g in grad.items():
                    layer[key] -= eta * g
            t += 1
            if not args.eval_every_epoch:  # cheap running metrics (training mode, pre-update P)
                seconds += time.perf_counter() - start
                loss, cost = loss_and_cost(layers, p, yb, args.lam)
                sum_loss += loss * len(yb)
                sum_cost += cost * len(yb)
                sum_correct += int((p.argmax(axis=0) == yb).sum())
                seen += len(yb)
                start = time.perf_counter()
        seconds += time.perf_counter() - start
        epoch_seconds.append(seconds)

        if args.eval_every_epoch:
            tr = evaluate(layers, x_train, y_train, args.lam)
        else:
            tr = {"loss": sum_loss / seen, "cost": sum_cost / seen, "accuracy": sum_correct / seen}
        va = evaluate(layers, x_val, y_val, args.lam)
        print(f"epoch {epoch:3d}  {epoch_seconds[-1]:7.3f} s  "
              f"{train_label} loss {tr['loss']:.4f} cost {tr['cost']:.4f} acc {tr['accuracy']:.4f}  "
              f"val loss {va['loss']:.4f} cost {va['cost']:.4f} acc {va['accuracy']:.4f}", flush=True)
        if t >= total_updates:
            break

    final = {name: evaluate(layers, x, y, args.lam) for name, (x, y) in data.items()}
    mean_epoch = statistics.mean(epoch_seconds)
    median_epoch = statistics.median(epoch_seconds)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"final  train acc {final['train']['accuracy']:.4f}  "
          f"validation acc {final['validation']['accuracy']:.4f}  test acc {final['test']['accuracy']:.4f}")
    print(f"load {load_seconds:.2f} s  epoch mean {mean_epoch:.3f} s  median {median_epoch:.3f} s  "
          f"peak RSS {peak_rss / 2**20:.0f} MiB")
    return {
        "system": "numpy",
        "numpyVersion": np.__version__,
        "blasKernels": blas_kernels(),
        "dtype": args.dtype,
        "network": network,
        "seed": args.seed,
        "lambda": args.lam,
        "updates": t,
        "loadSeconds": load_seconds,
        "epochSeconds": epoch_seconds,
        "meanEpochSeconds": mean_epoch,
        "medianEpochSeconds": median_epoch,
        "train": final["train"],
        "validation": final["validation"],
        "test": final["test"],
        "peakRssBytes": peak_rss,
    }


# --------------------------------------------------------------------------- gradient check


def numerical_grads(layers: list[dict], x: np.ndarray, y: np.ndarray, lam: float, h: float) -> list[dict]:
    """Centered differences (J(theta+h) - J(theta-h)) / 2h for every parameter entry."""
    def cost() -> float:
        p, _ = forward(layers, x, training=True)
        return loss_and_cost(layers, p, y, lam)[1]

    grads = []
    for layer in layers:
        grad = {}
        for key in ("W", "b", "gamma", "beta"):
            if key not in layer:
                continue
            theta = layer[key]
            g = np.zeros_like(theta)
            for i in np.ndindex(theta.shape):
                old = theta[i]
                theta[i] = old + h
                c_plus = cost()
                theta[i] = old - h
                c_minus = cost()
                theta[i] = old
                g[i] = (c_plus - c_minus) / (2 * h)
            grad[key] = g
        grads.append(grad)
    return grads


def gradient_check(seed: int = 0, dims: int = 20, n: int = 10, lam: float = 0.005, h: float = 1e-5,
                   eps: float = 1e-6) -> float:
    """Compare analytic and numerical gradients on small float64 networks; print the errors.

    Relative error |g_a - g_n| / max(eps, |g_a| + |g_n|), per parameter; eps keeps entries whose
    true gradient is ~0 (e.g. the bias of a layer followed by BN, which BN cancels exactly)
    from turning rounding noise (~1e-11) into relative errors of 1. Returns the worst one.
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((dims, n))
    y = rng.integers(0, N_CLASSES, size=n)
    worst = 0.0
    for hidden, use_bn in (([50, 50], True), ([50, 50], False), ([30, 20, 10, 10], True)):
        layers = init_network([dims, *hidden, N_CLASSES], use_bn, rng, np.float64)
        for layer in layers:  # non-trivial gamma/beta/b so their gradients are exercised
            for key in ("b", "gamma", "beta"):
                if key in layer:
                    layer[key] += 0.1 * rng.standard_normal(layer[key].shape)
        p, caches = forward(layers, x, training=True)
        analytic = backward(layers, caches, p, y, lam)
        numeric = numerical_grads(layers, x, y, lam, h)
        name = f"{dims}-" + "-".join(map(str, hidden)) + f"-{N_CLASSES} " + ("bn" if use_bn else "no-bn")
        print(f"network {name}, {n} samples, lambda {lam}, h {h}, eps {eps}")
        for l, (ga, gn) in enumerate(zip(analytic, numeric), start=1):
            parts = []
            for key in ("W", "b", "gamma", "beta"):
                if key in ga:
                    diff = np.abs(ga[key] - gn[key])
                    rel = diff / np.maximum(eps, np.abs(ga[key]) + np.abs(gn[key]))
                    worst = max(worst, float(rel.max()))
                    parts.append(f"{key} rel max {rel.max():.1e} mean {rel.mean():.1e} (abs max {diff.max():.1e})")
            print(f"  layer {l}: " + "   ".join(parts))
    print(f"worst max relative error: {worst:.2e} -> {'OK' if worst < 1e-4 else 'FAILED'}")
    return worst


# --------------------------------------------------------------------------- CLI


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="NumPy reference: k-layer BN network on CIFAR-10 (benchmark baseline).")
    ap.add_argument("--data", default=str(DEFAULT_DATA.resolve()), help="path to cifar-10-binary.tar.gz")
    ap.add_argument("--validation", type=int, default=5000, help="last N training records for validation")
    ap.add_argument("--hidden", type=lambda s: [int(v) for v in s.split(",") if v], default=[50, 50],
                    help="hidden layer sizes, comma-separated (default 50,50)")
    ap.add_argument("--no-bn", action="store_true", help="disable batch normalisation")
    ap.add_argument("--lambda", dest="lam", type=float, default=0.005, help="L2 regularisation (default 0.005)")
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--eta-min", type=float, default=1e-5)
    ap.add_argument("--eta-max", type=float, default=1e-1)
    ap.add_argument("--n-s", type=int, default=2250, help="updates per half cycle (default 2250)")
    ap.add_argument("--cycles", type=int, default=2, help="number of learning-rate cycles (default 2)")
    ap.add_argument("--epochs", type=int, default=None, help="override the number of epochs (schedule keeps cycling)")
    ap.add_argument("--alpha", type=float, default=0.9, help="BN moving-average factor (default 0.9)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    ap.add_argument("--eval-every-epoch", action="store_true",
                    help="evaluate the full training set every epoch (default: running mini-batch averages)")
    ap.add_argument("--json", default=None, help="write a JSON summary to this file")
    ap.add_argument("--gradcheck", action="store_true", help="run the gradient check and exit")
    return ap.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.gradcheck:
        return 0 if gradient_check() < 1e-4 else 1
    result = train(args)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
