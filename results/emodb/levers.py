"""The lever study on the real EMO-DB copy (4 classes, 10 speakers, 339 utterances), speaker-independent: 5 folds of 2 test
speakers with 1 validation speaker taken from the training side, every model selected on its validation speaker (never
the test speakers), 3 seeds. For each lever of `dkdfmh.levers.LEVERS` (feature normalisation, SpecAugment masking, random
segment offsets, speed and pitch copies, mixup, class weights or a balanced sampler, the one-cycle schedule at the max lr
fastai's lr_find suggests, distilling the last instead of the validation-selected teacher), one at a time and all else
the paper's recipe: the teacher and the DKD student, the classical baseline (log filterbank mean+std + logistic
regression) under the same normalisation on the same folds, and the student compared with its own teacher run by run
(fold x seed): mean difference of test UA and WA, its spread, a 95% t interval and the student's wins. The 'paper' lever
also trains the distillation variants (a 0.25 x DKD weight, T 2, a warm-up over all epochs, an ensemble of the teachers
of seeds 0-2, a born-again second generation) from its teachers.

Recipe (`--budget reduced`, the default): 15 epochs at lr 1e-3 with a 6-epoch DKD warm-up, as paper_experiments.py, so
that the 'paper' lever is comparable with its ablation; `--budget paper`: 50 epochs at lr 1e-4, warm-up 20.

Output: levers/<lever>/ (runs, record.json; finished runs are read back, so the script resumes where it stopped),
levers/levers.md and levers/levers.csv (rewritten after every lever), levers/one_cycle_lr.json.
Run from the repository root:  .venv/bin/python results/emodb/levers.py [--levers norm_speaker mixup] [--seeds 0 1 2]
Longer training (the teachers were still improving at epoch 15):
  .venv/bin/python results/emodb/levers.py --levers paper --no-variants --epochs 40 --seeds 0 --out results/emodb/levers-40ep
Smoke test:  .venv/bin/python results/emodb/levers.py --folds 0 --seeds 0 --epochs 1 --out /tmp/levers-smoke
"""
import argparse, sys, time
from pathlib import Path
from dkdfmh.presets import preset_config
from dkdfmh.audio import find_emodb
from dkdfmh.train import Config, load_data, keep_freed_memory
from dkdfmh.levers import LEVERS, run_lever_study
keep_freed_memory()   # a training process: freed batch memory reused, not handed back to the kernel (`08_train`)

p = argparse.ArgumentParser(description=__doc__.split('\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                            epilog='\n'.join(__doc__.split('\n')[1:]))
p.add_argument('--levers', nargs='+', default=list(LEVERS), choices=list(LEVERS), metavar='LEVER', help=f"levers to run, in order (default: all: {' '.join(LEVERS)})")
p.add_argument('--budget', choices=('reduced', 'paper'), default='reduced', help='reduced: 15 epochs, lr 1e-3, warm-up 6; paper: 50 epochs, lr 1e-4, warm-up 20')
p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2], help='model seeds (default 0 1 2)')
p.add_argument('--folds', type=int, nargs='+', default=None, help='speaker folds to run (default: all 5)')
p.add_argument('--epochs', type=int, default=None, help="epochs per model (overrides the budget's, with the DKD warm-up at 40%% of them; a different recipe: use another --out)")
p.add_argument('--no-variants', action='store_true', help="the 'paper' lever trains the teacher and the DKD student only, not the distillation variants")
p.add_argument('--out', default=str(Path(__file__).parent/'levers'), help='output folder (default results/emodb/levers)')
a = p.parse_args()

root = find_emodb()
if root is None: sys.exit("levers.py: EMO-DB not found (find_emodb() returned None; set DKDFMH_EMODB)")
recipe = dict(epochs=15, lr=1e-3, distill=dict(warmup=6)) if a.budget == 'reduced' else dict(epochs=50, lr=1e-4, distill=dict(warmup=20))
if a.epochs is not None: recipe.update(epochs=a.epochs, distill=dict(warmup=round(0.4 * a.epochs)))   # the paper's 20 of 50
base = preset_config('paper', corpus='emodb', root=str(root), protocol='speaker', n_folds=5, n_valid_speakers=1, seeds=tuple(a.seeds),
              folds=None if a.folds is None else tuple(a.folds), **recipe)
t0 = time.time()
data = load_data(base, progress=False)
table = run_lever_study(base, a.out, levers=a.levers, data=data, progress=True, students={} if a.no_variants else None)
print(table.attrs['caption'])
print(table[['settings', 'teacher_UA', 'student_UA', 'dUA', 'dUA_CI', 'wins', 'baseline_UA']].to_string())
print(f"done in {time.time() - t0:.0f} s; tables in {a.out}/levers.md and levers.csv")
