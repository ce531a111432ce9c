"""PyTorch gloo all-reduce timings for bench/allreduce.ts: one rank per process (RANK, WORLD_SIZE,
MASTER_ADDR, MASTER_PORT from the environment), float32 sum, the same sizes and repeats as ours
(argv: one BYTES:REPEATS:WARMUPS per size; WARMUPS untimed all-reduces first, as ours, see
bench/allreduce-rows.ts warmupsFor). Rank 0 prints one JSON line per size: the
per-repeat microseconds, each the slowest rank's (max over ranks, as our benchmark takes)."""
import json
import os
import sys
import time

import torch
import torch.distributed as dist


def main() -> None:
    torch.set_num_threads(1)
    dist.init_process_group('gloo', rank=int(os.environ['RANK']), world_size=int(os.environ['WORLD_SIZE']))
    rank = dist.get_rank()
    for spec in sys.argv[1:]:
        nbytes, repeats, warmups = (int(x) for x in (spec + ':1').split(':')[:3])
        tensor = torch.full((nbytes // 4,), float(rank + 1), dtype=torch.float32)
        # Refilled before each all-reduce, as ours: a thousand in-place sums of 1 and 2 would reach inf.
        for _ in range(warmups):
            dist.all_reduce(tensor.fill_(float(rank + 1)))  # untimed
        micros = []
        for _ in range(repeats):
            tensor.fill_(float(rank + 1))
            dist.barrier()
            started = time.perf_counter()
            dist.all_reduce(tensor)
            elapsed = torch.tensor([(time.perf_counter() - started) * 1e6], dtype=torch.float64)
            dist.all_reduce(elapsed, op=dist.ReduceOp.MAX)
            micros.append(elapsed.item())
        if rank == 0:
            print(json.dumps({'bytes': nbytes, 'micros': micros}), flush=True)
    dist.destroy_process_group()


if __name__ == '__main__':
    main()
