#!/usr/bin/python3
"""PyTorch reference for `mlcourse bench`: the same training run as the C# worker, in Python.

Reads the Fashion-MNIST idx files, trains an MLP or a small CNN with Adam (batch 128, fixed seed and thread
count), records per-epoch wall time and RSS, then test accuracy and inference speed at batch 1000, and writes
one JSON object to --out. Written to mirror lib/MLCourse.Cli/Bench/TrainingWorker.cs line for line:
same model, same initialisation order, same shuffling (one torch.Generator seeded once, one randperm per
epoch, index_select per batch), same per-batch work (loss.item() and the number correct).

Run by `mlcourse bench`; by hand:
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 bench/pytorch_reference.py \
      --data /usr/share/datasets/fashion-mnist --model mlp --epochs 3 --out /tmp/pt.json
"""
import argparse
import gzip
import json
import os
import struct
import time

import numpy as np
import torch
from torch import nn


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">i", data[:4])
    dims = [struct.unpack(">i", data[4 + 4 * i: 8 + 4 * i])[0] for i in range(magic & 0xFF)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * len(dims)).reshape(dims)


def load_part(folder, images, labels):
    X = torch.from_numpy(read_idx(os.path.join(folder, images)).copy())
    X = X.reshape(-1, 1, 28, 28).to(torch.float32).div_(255.0)
    y = torch.from_numpy(read_idx(os.path.join(folder, labels)).copy()).to(torch.int64)
    return X, y


def build(model):
    if model == "mlp":  # 784-512-256-10
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                             nn.Linear(256, 10))
    if model == "cnn":  # conv32-pool-conv64-pool-fc128-fc10
        return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    raise SystemExit(f"unknown model {model}")


def rss_mb(key="VmRSS:"):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def peak_gflops():
    """Best of five 2048^3 float32 matrix products after one warm-up, as TrainingWorker.PeakGflops."""
    n = 2048
    a, b = torch.randn(n, n), torch.randn(n, n)
    a.matmul(b)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        a.matmul(b)
        best = min(best, time.perf_counter() - start)
    return 2.0 * n ** 3 / best / 1e9


def blas_in_use():
    """The BLAS/LAPACK/MKL libraries mapped into this process (the honest answer to 'which BLAS?')."""
    names = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            base = os.path.basename(path)
            if any(k in base for k in ("blas", "mkl", "lapack", "dnnl")):
                names.add(os.path.realpath(path))
    return sorted(names)


# --model bert: the fine-tuning step of hw-imdb-bert, as lib/MLCourse.Cli/Bench/BertWorker.cs times it with the
# course's Bert (lib/MLCourse/Models/Bert.cs): all-MiniLM-L6-v2's shape, post-norm layers, GELU (erf), the additive
# attention bias of Hugging Face, a mean-pooled two-class head, AdamW 1e-4 (weight decay 0.01), batches of 16 x 256.
BERT_VOCAB, BERT_HIDDEN, BERT_LAYERS, BERT_HEADS, BERT_FFN, BERT_POSITIONS = 30522, 384, 6, 12, 1536, 512
BERT_BATCH, BERT_LENGTH, BERT_STEPS, BERT_INFERENCE_BATCH, BERT_INFERENCE_BATCHES = 16, 256, 8, 64, 4


class BertLayer(nn.Module):
    def __init__(self):
        super().__init__()
        h = BERT_HIDDEN
        self.heads = BERT_HEADS
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.attention_dropout = nn.Dropout(0.1)
        self.attention_output = nn.Linear(h, h)
        self.attention_norm = nn.LayerNorm(h, eps=1e-12)
        self.attention_output_dropout = nn.Dropout(0.1)
        self.intermediate = nn.Linear(h, BERT_FFN)
        self.output = nn.Linear(BERT_FFN, h)
        self.output_norm = nn.LayerNorm(h, eps=1e-12)
        self.output_dropout = nn.Dropout(0.1)

    def forward(self, x, bias):
        B, T, H = x.shape
        d = H // self.heads

        def split(t):
            return t.view(B, T, self.heads, d).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q.matmul(k.transpose(-2, -1)) / d ** 0.5 + bias
        weights = self.attention_dropout(scores.softmax(-1))
        context = weights.matmul(v).transpose(1, 2).reshape(B, T, H)
        h = self.attention_norm(x + self.attention_output_dropout(self.attention_output(context)))
        return self.output_norm(h + self.output_dropout(self.output(nn.functional.gelu(self.intermediate(h)))))


class Bert(nn.Module):
    def __init__(self):
        super().__init__()
        h = BERT_HIDDEN
        self.token_embedding = nn.Embedding(BERT_VOCAB, h)
        self.position_embedding = nn.Embedding(BERT_POSITIONS, h)
        self.segment_embedding = nn.Embedding(2, h)
        self.embedding_norm = nn.LayerNorm(h, eps=1e-12)
        self.dropout = nn.Dropout(0.1)
        self.layers = nn.ModuleList([BertLayer() for _ in range(BERT_LAYERS)])
        self.pooler = nn.Linear(h, h)
        for module in self.modules():  # BERT's initialisation by module type, as the course's Bert
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, 0.0, 0.02)
            if isinstance(module, nn.Linear):
                nn.init.zeros_(module.bias)

    def forward(self, ids, mask):
        T = ids.shape[1]
        positions = torch.arange(T).unsqueeze(0)
        x = self.token_embedding(ids) + self.segment_embedding(torch.zeros_like(ids)) + self.position_embedding(positions)
        x = self.dropout(self.embedding_norm(x))
        bias = ((1 - mask.to(x.dtype)) * torch.finfo(x.dtype).min).unsqueeze(1).unsqueeze(1)
        for layer in self.layers:
            x = layer(x, bias)
        return x


def run_bert(args, started):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    encoder, head = Bert(), nn.Linear(BERT_HIDDEN, 2)
    optimizer = torch.optim.AdamW(list(encoder.parameters()) + list(head.parameters()), lr=1e-4, weight_decay=0.01)
    n = BERT_STEPS * BERT_BATCH
    ids = torch.randint(1000, BERT_VOCAB, (n, BERT_LENGTH))
    mask = torch.ones(n, BERT_LENGTH, dtype=torch.int64)
    labels = torch.randint(0, 2, (n,))
    setup_seconds = time.perf_counter() - started

    def logits(batch_ids, batch_mask):
        hidden = encoder(batch_ids, batch_mask)
        weights = batch_mask.to(torch.float32).unsqueeze(-1)
        return head((hidden * weights).sum(1) / weights.sum(1))

    epochs = []
    encoder.train()
    for epoch in range(1, args.epochs + 1):
        clock = time.perf_counter()
        loss_sum = 0.0
        for step in range(BERT_STEPS):
            rows = slice(step * BERT_BATCH, (step + 1) * BERT_BATCH)
            loss = nn.functional.cross_entropy(logits(ids[rows], mask[rows]), labels[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += loss.item()
        seconds = time.perf_counter() - clock
        epochs.append({"epoch": epoch, "seconds": seconds, "imagesPerSecond": n / seconds,
                       "rssMb": rss_mb(), "loss": loss_sum / BERT_STEPS, "accuracy": "NaN"})

    encoder.eval()
    inference = []
    with torch.no_grad():
        for repeat in range(2):  # the first pass warms up; the second is timed
            clock = time.perf_counter()
            for b in range(BERT_INFERENCE_BATCHES):
                start = (b * BERT_INFERENCE_BATCH) % (n - BERT_INFERENCE_BATCH + 1)
                logits(ids[start: start + BERT_INFERENCE_BATCH], mask[start: start + BERT_INFERENCE_BATCH]).argmax(1).sum().item()
            inference.append(time.perf_counter() - clock)
    return {
        "framework": "pytorch", "version": torch.__version__, "model": "bert", "variant": "reference",
        "threads": torch.get_num_threads(), "trainImages": n, "batchSize": BERT_BATCH, "setupSeconds": setup_seconds,
        "epochs": epochs, "testAccuracy": "NaN",
        "inferenceImagesPerSecond": BERT_INFERENCE_BATCHES * BERT_INFERENCE_BATCH / inference[-1],
        "blas": blas_in_use(), "peakRssMb": rss_mb(),
    }


def time_phases(net, optimizer, loss_fn, X, y, generator, batch_size):
    """One more epoch with a clock between the phases of a step, as TrainingWorker.Phases: ms per step."""
    totals, steps = {}, 0
    net.train()
    correct = torch.zeros((), dtype=torch.int64)
    order = torch.randperm(X.shape[0], generator=generator)
    epoch_start = last = time.perf_counter()

    def lap(phase):
        nonlocal last
        now = time.perf_counter()
        totals[phase] = totals.get(phase, 0.0) + now - last
        last = now

    for start in range(0, X.shape[0], batch_size):
        index = order[start: start + batch_size]
        xb, yb = X.index_select(0, index), y.index_select(0, index)
        lap("batch")
        y_hat = net(xb)
        lap("forward")
        loss = loss_fn(y_hat, yb)
        lap("loss")
        optimizer.zero_grad()
        lap("zero_grad")
        loss.backward()
        lap("backward")
        optimizer.step()
        lap("step")
        correct += y_hat.argmax(-1).eq(yb).sum()
        lap("metrics")
        del xb, yb, y_hat, loss, index
        lap("dispose")
        steps += 1
    result = {phase: 1000 * seconds / steps for phase, seconds in totals.items()}
    result["total"] = 1000 * (time.perf_counter() - epoch_start) / steps
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", choices=["mlp", "cnn", "bert"], required=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-size", type=int, default=0, help="first N training images (0 = all)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    started = time.perf_counter()
    if args.model == "bert":
        with open(args.out, "w") as f:
            json.dump(run_bert(args, started), f)
        return
    torch.set_num_threads(args.threads)
    X, y = load_part(args.data, "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
    X_test, y_test = load_part(args.data, "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
    if args.train_size > 0:
        X, y = X[: args.train_size].contiguous(), y[: args.train_size].contiguous()

    torch.manual_seed(args.seed)
    net = build(args.model)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator()
    generator.manual_seed(args.seed)
    n = X.shape[0]
    setup_seconds = time.perf_counter() - started

    epochs = []
    for epoch in range(1, args.epochs + 1):
        clock = time.perf_counter()
        net.train()
        order = torch.randperm(n, generator=generator)
        loss_sum, correct, seen = 0.0, 0, 0
        for start in range(0, n, args.batch_size):
            index = order[start: start + args.batch_size]
            xb, yb = X.index_select(0, index), y.index_select(0, index)
            y_hat = net(xb)
            loss = loss_fn(y_hat, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            m = xb.shape[0]
            loss_sum += loss.item() * m
            correct += y_hat.argmax(-1).eq(yb).sum().item()
            seen += m
        seconds = time.perf_counter() - clock
        epochs.append({"epoch": epoch, "seconds": seconds, "imagesPerSecond": seen / seconds,
                       "rssMb": rss_mb(), "loss": loss_sum / seen, "accuracy": correct / seen})

    phases = time_phases(net, optimizer, loss_fn, X, y, generator, args.batch_size)

    net.eval()
    inference = []
    correct = 0
    with torch.no_grad():
        for repeat in range(2):  # the first pass warms up; the second is timed
            clock = time.perf_counter()
            correct = 0
            for start in range(0, X_test.shape[0], 1000):
                y_hat = net(X_test[start: start + 1000])
                correct += y_hat.argmax(-1).eq(y_test[start: start + 1000]).sum().item()
            inference.append(time.perf_counter() - clock)

    result = {
        "framework": "pytorch",
        "version": torch.__version__,
        "model": args.model,
        "variant": "reference",
        "threads": torch.get_num_threads(),
        "trainImages": n,
        "batchSize": args.batch_size,
        "setupSeconds": setup_seconds,
        "epochs": epochs,
        "testAccuracy": correct / X_test.shape[0],
        "inferenceImagesPerSecond": X_test.shape[0] / inference[-1],
        "blas": blas_in_use(),
        "peakRssMb": rss_mb(),
        "highWaterRssMb": rss_mb("VmHWM:"),
        "rssAnonMb": rss_mb("RssAnon:"),
        "rssFileMb": rss_mb("RssFile:"),
        "peakGflops": peak_gflops(),
        "phases": phases,
    }
    with open(args.out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
