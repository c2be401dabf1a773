"""Throughput of the library's network in float32 and under bfloat16 autocast, training and inference, on this CPU.

Training: one optimiser step of `HeadFusionCNN` (channels-last, batch 32 of 2-s segments, cross-entropy, Adam) under
`dkdfmh.model.autocast(precision)`; inference: a forward pass of batch 32 under `torch.inference_mode`. Random segments
(the throughput does not depend on their values). Median of --reps timed repeats after warm-up, all threads, one run:
the ratio bf16 / fp32 is what to read, and `resolve_precision('auto')` is what the library picks here.

Run from the repository root:  .venv/bin/python benchmarks/precision.py [--reps 15]
Writes benchmarks/PRECISION.md and PRECISION.json.
"""
import argparse, json, statistics, time
from pathlib import Path
import torch
from dkdfmh.audio import atomic_write_text
from dkdfmh.model import HeadFusionCNN, autocast, resolve_precision, cpu_has_bf16
sys_path = Path(__file__).parent
import sys; sys.path.insert(0, str(sys_path))
from jobs import cpu_name

def rate(fn, reps:int, bs:int)->float:
    for _ in range(3): fn()                                            # warm-up (allocator, oneDNN kernels)
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return bs / statistics.median(ts)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--reps', type=int, default=15); p.add_argument('--bs', type=int, default=32)
    a = p.parse_args()
    torch.manual_seed(0)
    x, y = torch.randn(a.bs, 1, 197, 40).contiguous(memory_format=torch.channels_last), torch.randint(0, 4, (a.bs,))
    res = {}
    for prec in ('fp32', 'bf16'):
        net = HeadFusionCNN(n_classes=4).to(memory_format=torch.channels_last)
        opt = torch.optim.Adam(net.parameters(), 1e-3)
        def step():
            opt.zero_grad(set_to_none=True)
            with autocast(prec, 'cpu'): loss = torch.nn.functional.cross_entropy(net(x).float(), y)
            loss.backward(); opt.step()
        net.train(); tr = rate(step, a.reps, a.bs)
        net.eval()
        def infer():
            with torch.inference_mode(), autocast(prec, 'cpu'): net(x)
        res[prec] = dict(train=tr, infer=rate(infer, a.reps, a.bs))
        print(prec, {k: round(v, 1) for k, v in res[prec].items()}, flush=True)
    out = dict(cpu=cpu_name(), native_bf16=cpu_has_bf16(), auto=resolve_precision('auto', 'cpu'), threads=torch.get_num_threads(),
               torch=torch.__version__, bs=a.bs, reps=a.reps, started=time.strftime('%Y-%m-%d %H:%M'), segments_per_s=res,
               ratio={k: res['bf16'][k] / res['fp32'][k] for k in ('train', 'infer')})
    here = Path(__file__).parent
    atomic_write_text(here/'PRECISION.json', json.dumps(out, indent=1))
    atomic_write_text(here/'PRECISION.md', f"""# float32 and bfloat16 on this CPU

Written by `.venv/bin/python benchmarks/precision.py --reps {a.reps}` ({out['started']}). Machine: {out['cpu']};
torch {out['torch']}, {out['threads']} threads. `resolve_precision('auto')` here: **{out['auto']}**.

The library's network, channels-last, batch {a.bs} of 2-s segments; median of {a.reps} repeats; segments per second.

| | float32 | bfloat16 autocast | bf16 / fp32 |
|---|---|---|---|
| training step (forward, backward, Adam) | {res['fp32']['train']:.0f} | {res['bf16']['train']:.0f} | {out['ratio']['train']:.2f}x |
| inference (forward) | {res['fp32']['infer']:.0f} | {res['bf16']['infer']:.0f} | {out['ratio']['infer']:.2f}x |

Target of the speed issue: bf16 training at least 1.6x float32 *where the CPU has native bf16*; this CPU has
{'it' if out['native_bf16'] else 'none (no avx512_bf16 or AMX), so bf16 is emulated here and `auto` keeps float32'}.
""")

if __name__ == '__main__': main()
