#!/usr/bin/python3
"""PyTorch's saliency on MAVIS, the peer of xai's BenchmarkSaliency.

Builds the model a weightsconv .safetensors file describes (its spec and
tensors; the format is read here directly, no safetensors package needed)
as a PyTorch 1.13 module in channels_last, then times saliency as xai
computes it: forward, the predicted class's logit, its gradient back to
the image, max |g| over channels. Batch 1, 224x224x3, eval mode.

Not part of any test or CI run. Use Debian's PyTorch (apt-get install -y
python3-torch) with /usr/bin/python3:

    bin/weightsconv -arch mavis ../shared/mavis/tiny_imagenet_model.checkpoint.weights.h5 -o /tmp/mavis.safetensors
    MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296 \
        /usr/bin/python3 nn/bench/pytorch_saliency.py -weights /tmp/mavis.safetensors -threads 1 -runs 50

prints min and median. The two glibc settings keep freed memory for the
next pass: with the defaults every pass mmaps and unmaps its activations,
and the page faults take most of its time (compare.go sets them too). compare.go runs this script in -serve mode beside
the Go engine and alternates them; -check DIR compares the gradient with
the float64 fixture of one image (../shared/fixtures/mavis/chelsea).
"""

import argparse
import json
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as tnn


def read_safetensors(path):
    """Returns (spec, {name: float32 array}) from a weightsconv file."""
    with open(path, "rb") as f:
        b = f.read()
    (n,) = struct.unpack("<Q", b[:8])
    header = json.loads(b[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    if "spec" not in meta:
        sys.exit(f"{path}: no architecture spec in the metadata (not a weightsconv file?)")
    base = 8 + n
    tensors = {}
    for name, t in header.items():
        if t["dtype"] != "F32":
            sys.exit(f"{path}: {name} is {t['dtype']}, want F32")
        lo, hi = t["data_offsets"]
        tensors[name] = np.frombuffer(b[base + lo : base + hi], dtype="<f4").reshape(t["shape"])
    return json.loads(meta["spec"]), tensors


class NHWCFlatten(tnn.Module):
    """Keras's channels_last Flatten of an NCHW tensor: (h, w, c) order."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1).flatten(1)


def build(spec, w, param_grads=False):
    """The spec's layers as a torch.nn.Sequential in eval mode, and the
    index of the logits (the softmax is left out: saliency differentiates
    a logit)."""
    layers = []
    dense = False  # after Flatten, BatchNorm is BatchNorm1d
    for ls in spec["layers"]:
        cls, name, cfg = ls["class"], ls["name"], ls.get("config", {})
        act = cfg.get("activation", "linear")
        if cls == "Conv2D":
            k = w[name + "/kernel"]  # HWIO
            kh, kw, cin, cout = k.shape
            st = cfg.get("strides", [1, 1])
            if cfg.get("padding") != "same" or kh % 2 == 0 or st != [1, 1]:
                sys.exit(f"{name}: only odd 'same' stride-1 kernels are built here")
            conv = tnn.Conv2d(cin, cout, (kh, kw), padding=(kh // 2, kw // 2), bias=name + "/bias" in w)
            conv.weight.data = torch.from_numpy(k.transpose(3, 2, 0, 1).copy())
            if conv.bias is not None:
                conv.bias.data = torch.from_numpy(w[name + "/bias"].copy())
            layers.append(conv)
        elif cls == "Dense":
            k = w[name + "/kernel"]  # (in, out)
            lin = tnn.Linear(k.shape[0], k.shape[1])
            lin.weight.data = torch.from_numpy(k.T.copy())
            lin.bias.data = torch.from_numpy(w[name + "/bias"].copy())
            layers.append(lin)
        elif cls == "BatchNormalization":
            c = w[name + "/gamma"].shape[0]
            bn = (tnn.BatchNorm1d if dense else tnn.BatchNorm2d)(c, eps=cfg.get("epsilon", 1e-3))
            bn.weight.data = torch.from_numpy(w[name + "/gamma"].copy())
            bn.bias.data = torch.from_numpy(w[name + "/beta"].copy())
            bn.running_mean.data = torch.from_numpy(w[name + "/moving_mean"].copy())
            bn.running_var.data = torch.from_numpy(w[name + "/moving_variance"].copy())
            layers.append(bn)
        elif cls == "MaxPooling2D":
            if cfg.get("padding", "valid") != "valid":
                sys.exit(f"{name}: only 'valid' pooling is built here")
            layers.append(tnn.MaxPool2d(cfg["pool_size"], cfg.get("strides") or cfg["pool_size"]))
        elif cls == "Dropout":
            continue  # the identity at inference
        elif cls == "Flatten":
            layers.append(NHWCFlatten())
            dense = True
            continue
        else:
            sys.exit(f"{name}: layer class {cls} is not built here")
        if act == "relu":
            layers.append(tnn.ReLU())
        elif act not in ("linear", "softmax", None):
            sys.exit(f"{name}: activation {act} is not built here")
    model = tnn.Sequential(*layers).eval()
    # Only the input gradient is wanted, as in xai: with the parameters
    # frozen, autograd skips the weight gradients (which would more than
    # double the backward pass).
    for prm in model.parameters():
        prm.requires_grad_(param_grads)
    return model.to(memory_format=torch.channels_last)


def saliency(model, x):
    """The gradient of the predicted class's logit at x (1, 3, H, W),
    and the map max_c |g|, as xai.Saliency with the default target."""
    x = x.detach().requires_grad_(True)
    z = model(x)
    c = int(z[0].argmax())
    z[0, c].backward()
    g = x.grad
    return g, g.abs().amax(dim=1)


def load_input(path, h, w, c):
    """The HWC float32 image compare.go wrote, as a channels_last NCHW
    tensor."""
    a = np.fromfile(path, dtype="<f4").reshape(1, h, w, c)
    return torch.from_numpy(a).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)


def time_runs(model, x, runs):
    """Wall-clock and process CPU milliseconds (every thread) per run."""
    wall, cpu = [], []
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        saliency(model, x)
        wall.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return wall, cpu


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-weights", required=True, help="a weightsconv .safetensors file")
    p.add_argument("-threads", type=int, default=1, help="torch.set_num_threads")
    p.add_argument("-input", help="raw little-endian float32 HWC image (default: seeded random 0..255)")
    p.add_argument("-runs", type=int, default=50, help="timed runs (standalone mode)")
    p.add_argument("-warmup", type=int, default=10, help="untimed runs first")
    p.add_argument("-param-grads", action="store_true", help="leave the parameters' requires_grad on")
    p.add_argument("-check", help="a fixture folder (saliency_grad_logit.npy, input.png): compare the gradient")
    p.add_argument("-grad-out", help="write the input gradient as raw float32 HWC to this file")
    p.add_argument("-serve", action="store_true",
                   help="read 'run N' lines on stdin, answer each with a line of N wall-clock times "
                        "and a line of N CPU times, in ms")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    spec, w = read_safetensors(a.weights)
    model = build(spec, w, a.param_grads)
    h, wd, c = spec["input"]
    if a.input:
        x = load_input(a.input, h, wd, c)
    else:
        rng = np.random.default_rng(1)
        x = torch.from_numpy(rng.integers(0, 256, (1, c, h, wd)).astype(np.float32))
        x = x.contiguous(memory_format=torch.channels_last)

    if a.check:
        from PIL import Image

        img = np.asarray(Image.open(a.check + "/input.png").convert("RGB"), dtype=np.float32)
        xi = torch.from_numpy(img[None]).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
        g, _ = saliency(model, xi)
        got = g[0].permute(1, 2, 0).numpy()
        want = np.load(a.check + "/saliency_grad_logit.npy")
        # The fixtures' metrics and limits for input gradients in float32
        # (../shared/fixtures/README.md, "Tolerances"): max-pool near-ties
        # move a few gradients to a neighbouring pixel, so no max-abs test.
        rel_l2 = np.linalg.norm(got - want) / np.linalg.norm(want)
        frac = np.mean(np.abs(got - want) > 1e-3 * np.abs(want).max())
        print(f"check {a.check}: rel_l2 {rel_l2:.3g} (limit 0.02), "
              f"frac_abs_over_1e-3_max_ref {frac:.3g} (limit 0.01)", file=sys.stderr)
        if rel_l2 > 0.02 or frac > 0.01:
            sys.exit("check failed: the PyTorch model is not the fixture's model")

    if a.grad_out:
        g, _ = saliency(model, x)
        g[0].permute(1, 2, 0).contiguous().numpy().astype("<f4").tofile(a.grad_out)

    for _ in range(a.warmup):
        saliency(model, x)

    if a.serve:
        print("ready", flush=True)
        for line in sys.stdin:
            f = line.split()
            if len(f) != 2 or f[0] != "run":
                sys.exit(f"serve: bad command {line!r}")
            wall, cpu = time_runs(model, x, int(f[1]))
            print(" ".join(f"{t:.3f}" for t in wall))
            print(" ".join(f"{t:.3f}" for t in cpu), flush=True)
        return

    wall, cpu = time_runs(model, x, a.runs)
    print(f"pytorch {torch.__version__} threads={a.threads} runs={a.runs}: "
          f"min {min(wall):.2f} ms, median {float(np.median(wall)):.2f} ms; "
          f"CPU min {min(cpu):.2f} ms, median {float(np.median(cpu)):.2f} ms")


if __name__ == "__main__":
    main()
