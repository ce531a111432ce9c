#!/usr/bin/python3
"""Times PyTorch training the default shardlearn CNN on Fashion-MNIST, for bench/cnn-vs-pytorch.ts.

Same network as shardlearn's `cnn` model (conv 5x5x32 - max-pool 2 - ReLU - conv 5x5x64 - max-pool 2
- ReLU - dense 128 - ReLU - dense 10), same global batch (64), same optimizer (SGD with momentum),
float32, the first `--images` training images in a seeded shuffled order, then test accuracy on the
10,000 test images. Modes:

  threads1   one process, torch.set_num_threads(1)
  threads2   one process, torch.set_num_threads(2) (intra-op parallelism)
  ddp2       DistributedDataParallel over 2 gloo processes on localhost, one thread each; every
             step takes one global batch of 64 split 32/32 (the same global batch as shardlearn's
             2-worker allreduce, so both train the sequential model)

Prints one JSON object per line: {"mode", "repeat", "images", "seconds", "imagesPerSecond",
"testAccuracy"}. Run with Debian's python3-torch: /usr/bin/python3 scripts/bench/pytorch_cnn.py.
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(directory):
    def images(name):
        return torch.from_numpy(read_idx(os.path.join(directory, name)).astype(np.float32) / 255.0).unsqueeze(1)

    def labels(name):
        return torch.from_numpy(read_idx(os.path.join(directory, name)).astype(np.int64))

    return (images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz"),
            images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz"))


def network():
    return nn.Sequential(
        nn.Conv2d(1, 32, 5), nn.MaxPool2d(2), nn.ReLU(),
        nn.Conv2d(32, 64, 5), nn.MaxPool2d(2), nn.ReLU(),
        nn.Flatten(), nn.Linear(64 * 4 * 4, 128), nn.ReLU(), nn.Linear(128, 10))


def accuracy(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(x), 1000):
            correct += (model(x[start:start + 1000]).argmax(1) == y[start:start + 1000]).sum().item()
    model.train()
    return correct / len(x)


def train(model, x, y, order, batch, lr, momentum, rank=0, world=1):
    """One pass over `order` in global batches of `batch`; rank r takes its 1/world share of each."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for first in range(0, len(order), batch):
        rows = order[first:first + batch]
        share = (len(rows) + world - 1) // world
        mine = rows[rank * share:(rank + 1) * share]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[mine]), y[mine])
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def ddp_worker(rank, world, args, port, queue):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    x, y, test_x, test_y = load(args.data)
    torch.manual_seed(args.seed)
    model = nn.parallel.DistributedDataParallel(network())
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(args.seed))[:args.images]
    # A short warm-up, as for the other modes (first-call allocations, gloo buffers).
    train(model, x, y, order[:args.batch * 4], args.batch, args.lr, args.momentum, rank, world)
    dist.barrier()
    seconds = train(model, x, y, order, args.batch, args.lr, args.momentum, rank, world)
    dist.barrier()
    if rank == 0:
        queue.put((seconds, accuracy(model.module, test_x, test_y)))
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["threads1", "threads2", "ddp2"], required=True)
    parser.add_argument("--images", type=int, default=60000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    for repeat in range(args.repeats):
        if args.mode == "ddp2":
            queue = mp.get_context("spawn").SimpleQueue()
            port = 29500 + (os.getpid() + repeat) % 1000
            mp.spawn(ddp_worker, args=(2, args, port, queue), nprocs=2, join=True)
            seconds, acc = queue.get()
        else:
            torch.set_num_threads(1 if args.mode == "threads1" else 2)
            x, y, test_x, test_y = load(args.data)
            torch.manual_seed(args.seed)
            model = network()
            order = torch.randperm(len(x), generator=torch.Generator().manual_seed(args.seed))[:args.images]
            train(model, x, y, order[:args.batch * 4], args.batch, args.lr, args.momentum)
            torch.manual_seed(args.seed)
            model = network()
            seconds = train(model, x, y, order, args.batch, args.lr, args.momentum)
            acc = accuracy(model, test_x, test_y)
        print(json.dumps({"mode": args.mode, "repeat": repeat, "images": args.images, "seconds": seconds,
                          "imagesPerSecond": args.images / seconds, "testAccuracy": acc}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
