"""Wall time of one experiment grid in one process against the same grid in worker processes (`run_experiment(jobs=N)`).

The grid: EMO-DB (or the synthetic corpus where it is absent), the `fast` recipe cut to --epochs epochs, teacher and
DKD student, --folds speaker folds x seed 0. One process uses every core; N workers share them (cores // N threads each).
Both runs start from warm feature caches and write to fresh folders; the ratio is measured in one run on one machine.

Run from the repository root:  .venv/bin/python benchmarks/jobs.py [--epochs 5] [--folds 0 1] [--jobs 2]
Writes benchmarks/JOBS.md and JOBS.json.
"""
import argparse, json, os, platform, tempfile, time
from pathlib import Path
import torch
from dkdfmh.audio import find_emodb, atomic_write_text
from dkdfmh.presets import preset_config
from dkdfmh.train import load_data, run_experiment, usable_cores

def cpu_name()->str:
    try: name = next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    except (OSError, StopIteration): name = platform.processor() or 'unknown CPU'
    flags = set(next((l.split(':', 1)[1].split() for l in open('/proc/cpuinfo') if l.startswith('flags')), [])) if os.path.exists('/proc/cpuinfo') else set()
    bf16 = [f for f in ('avx512_bf16', 'amx_bf16', 'amx_tile') if f in flags]
    return f"{name}, {usable_cores()} usable cores; bf16 flags: {', '.join(bf16) or 'none'}"

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--epochs', type=int, default=5); p.add_argument('--folds', type=int, nargs='+', default=[0, 1])
    p.add_argument('--jobs', type=int, default=2)
    a = p.parse_args()
    root = find_emodb()
    corpus = dict(corpus='emodb', root=str(root)) if root else dict(corpus='synthetic')
    cfg = preset_config('fast', **corpus, protocol='speaker', seeds=(0,), folds=tuple(a.folds), epochs=a.epochs, distill=dict(warmup=1))
    data = load_data(cfg, progress=False)                                  # the feature cache warm for both runs
    times = {}
    for jobs in (1, a.jobs):
        with tempfile.TemporaryDirectory() as d:
            torch.set_num_threads(usable_cores())
            t = time.perf_counter(); rec = run_experiment(cfg, Path(d)/'grid', progress=False, data=data, jobs=jobs)
            times[jobs] = time.perf_counter() - t
            print(f"jobs={jobs}: {times[jobs]:.1f} s, {len(rec['runs'])} runs", flush=True)
    res = dict(cpu=cpu_name(), corpus=cfg.corpus, folds=a.folds, epochs=a.epochs, seconds={str(k): v for k, v in times.items()},
               speedup=times[1] / times[a.jobs], started=time.strftime('%Y-%m-%d %H:%M'), torch=torch.__version__)
    here = Path(__file__).parent
    atomic_write_text(here/'JOBS.json', json.dumps(res, indent=1))
    atomic_write_text(here/'JOBS.md', f"""# One process or several for an experiment's grid

Written by `.venv/bin/python benchmarks/jobs.py --epochs {a.epochs} --folds {' '.join(map(str, a.folds))} --jobs {a.jobs}` ({res['started']}).
Machine: {res['cpu']}; torch {res['torch']}.

Grid: {cfg.corpus}, the `fast` recipe cut to {a.epochs} epochs (teacher and DKD student), folds {', '.join(map(str, a.folds))}, seed 0;
warm feature caches.

| run | wall time |
|---|---|
| one process, {usable_cores()} threads | {times[1]:.1f} s |
| {a.jobs} worker processes, {max(1, usable_cores() // a.jobs)} thread(s) each (`run_experiment(jobs={a.jobs})`, `dkdfmh_train --jobs {a.jobs}`) | {times[a.jobs]:.1f} s |
| speed-up | **{res['speedup']:.2f}x** |
""")
    print(f"speed-up {res['speedup']:.2f}x")

if __name__ == '__main__': main()
