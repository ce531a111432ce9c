"""PyTorch gloo all-reduce timings for bench/allreduce.ts: one rank per process (RANK, WORLD_SIZE,
MASTER_ADDR, MASTER_PORT from the environment), float32 sum, the same sizes and repeats as ours
(argv: repeats-per-size pairs as BYTES:REPEATS). Rank 0 prints one JSON line per size: the
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
        nbytes, repeats = (int(x) for x in spec.split(':'))
        tensor = torch.full((nbytes // 4,), float(rank + 1), dtype=torch.float32)
        dist.all_reduce(tensor)  # warm-up
        micros = []
        for _ in range(repeats):
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
