"""Two costs of a CPU training run that are not the network's, measured: fastprogress's per-batch bars written into a
log file, and glibc's allocator handing freed batch memory back to the kernel (see `08_train`: `bars_on_terminals`,
`keep_freed_memory`). Each variant trains the fast recipe's teacher (the recommended
without its speed-perturbed copies) on EMO-DB fold 0 for a few epochs in a fresh
process with its output going to a file, as a long run under nohup does; epoch 1 is left out.

Run from the repository root, on a quiet machine:  .venv/bin/python benchmarks/process_costs.py [--epochs 4] [--repeats 2]
Output: benchmarks/PROCESS_COSTS.md
"""
import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np
from dkdfmh.audio import atomic_write_text, find_emodb

CHILD = r'''
import contextlib, json, resource, sys, time
import dkdfmh.train as T
from dkdfmh.audio import find_emodb
from fastai.callback.core import Callback
bars, keep, epochs = sys.argv[1] == '1', sys.argv[2] == '1', int(sys.argv[3])
if bars: T.bars_on_terminals = contextlib.nullcontext          # as before: every batch's bar drawn into the file
if keep: assert T.keep_freed_memory()
from dkdfmh.levers import recipe_config
cfg = recipe_config('fast', corpus='emodb', root=str(find_emodb()))
cfg = cfg.replace(epochs=epochs)
data = T.load_data(cfg, progress=False)
dls = T.split_dls(cfg, data, 0, 0)
class Times(Callback):
    def before_epoch(self): self.t0, self.r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    def after_epoch(self):
        r = resource.getrusage(resource.RUSAGE_SELF)
        self.rows.append(dict(s=time.perf_counter() - self.t0, user=r.ru_utime - self.r0.ru_utime, sys=r.ru_stime - self.r0.ru_stime, minflt=r.ru_minflt - self.r0.ru_minflt))
w = Times(); w.rows = []
T.train_teacher(dls, cfg, 0, progress=True, cbs=[w])
print('RESULT ' + json.dumps(w.rows), file=sys.stderr)
'''

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--epochs', type=int, default=4)
p.add_argument('--repeats', type=int, default=2)
a = p.parse_args()
if find_emodb() is None: sys.exit('process_costs.py: EMO-DB not found (find_emodb() returned None; set DKDFMH_EMODB)')
variants = [('bars into the log file, default allocator (before)', '1', '0'), ('no bars, default allocator', '0', '0'),
            ('no bars, keep_freed_memory (now)', '0', '1')]
load0 = os.getloadavg()[0]; t_start = time.time()
res = {v[0]: [] for v in variants}
with tempfile.TemporaryDirectory() as d:
    for rep in range(a.repeats):
        for name, bars, keep in variants:
            log = Path(d)/'out.log'
            with open(log, 'w') as f:
                r = subprocess.run([sys.executable, '-c', CHILD, bars, keep, str(a.epochs)], stdout=f, stderr=subprocess.PIPE, text=True)
            if r.returncode: sys.exit(f"process_costs.py: the {name!r} run failed:\n{r.stderr[-2000:]}")
            rows = json.loads(r.stderr.split('RESULT ')[-1].strip())[1:]   # epoch 1 left out
            res[name] += [dict(row, log_bytes=log.stat().st_size) for row in rows]
lines = [f"# Process costs of a CPU training run", "",
         f"Written by `benchmarks/process_costs.py` on {time.strftime('%Y-%m-%d %H:%M')} in {(time.time() - t_start) / 60:.1f} min; "
         f"{os.cpu_count()} CPUs, torch threads default; load average {load0:.2f} before, {os.getloadavg()[0]:.2f} after (1-min). "
         f"The fast recipe's teacher (the recommended without its copies) on EMO-DB fold 0, output to a file, {a.epochs} epochs a run (the first left out), "
         f"{a.repeats} runs a variant; medians over the kept epochs (min-max).", "",
         "| variant | s an epoch | user CPU s | kernel CPU s | page faults an epoch | log bytes a run |", "|---|---|---|---|---|---|"]
for name, *_ in variants:
    R = res[name]; col = lambda k: np.array([x[k] for x in R], float)
    s = col('s')
    lines.append(f"| {name} | **{np.median(s):.2f}** ({s.min():.2f}-{s.max():.2f}) | {np.median(col('user')):.2f} | {np.median(col('sys')):.2f} | "
                 f"{np.median(col('minflt')):.0f} | {np.median(col('log_bytes')):.0f} |")
b, n = (np.median([x['s'] for x in res[v[0]]]) for v in (variants[0], variants[2]))
lines += ["", f"Now against before: {n:.2f} / {b:.2f} s an epoch = {n / b:.2f} ({100 * (1 - n / b):.0f}% less time).",
          "Command: `.venv/bin/python benchmarks/process_costs.py`"]
out = Path(__file__).parent/'PROCESS_COSTS.md'
atomic_write_text(out, '\n'.join(lines) + '\n')
print('\n'.join(lines))
