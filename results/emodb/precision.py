"""Does training under bfloat16 autocast keep the accuracy of float32? A paired comparison on EMO-DB.

The same recipe (default `fast`), the same 5 speaker folds and seed 0 as results/emodb/shift-fast (float32, one thread
per process), trained again with `precision='bf16'` (`torch.autocast` in bfloat16; the DKD loss and the teacher's
logits in float32), one thread per worker process. Each (fold, model) pair differs in the precision alone; the table
gives the test UA of both, the difference run by run, and its mean, spread and 95% t interval over the runs.

Run from the repository root:  .venv/bin/python results/emodb/precision.py [--recipe fast] [--jobs 2]
Training resumes (finished runs are read back from results/emodb/precision-bf16-<recipe>/runs); writes paired.json and
paired.md there. The float32 runs come from results/emodb/shifts.py (run it first for another recipe).
"""
import argparse, json, sys
from pathlib import Path
import pandas as pd
from dkdfmh.audio import find_emodb, atomic_write_text
from dkdfmh.presets import preset_config
from dkdfmh.config import Config
from dkdfmh.model import cpu_has_bf16
from dkdfmh.train import load_data, run_experiment
from dkdfmh.study import read_run_folder
from dkdfmh.levers import paired_differences, paired_summary
from dkdfmh.evaluate import to_markdown
sys.path.insert(0, str(Path(__file__).parents[2]/'benchmarks'))
from jobs import cpu_name

HERE = Path(__file__).parent

def paired(fp32:dict, bf16:dict, model:str)->pd.DataFrame:
    "bf16 minus fp32 test scores of `model`, fold by fold and seed by seed"
    runs = [r for r in fp32['runs'] if r['model'] == model] + [dict(r, model=f'{model}_bf16') for r in bf16['runs'] if r['model'] == model]
    return paired_differences(dict(fp32, runs=runs), student=f'{model}_bf16', teacher=model)

def rerun_noise()->dict|None:
    "Test-UA differences between two float32 trainings of the same teachers (recipe-r12's rerun of recipe-r2's), where both are here"
    if not all((HERE/f'recipe-{c}'/'runs').is_dir() for c in ('r2', 'r12')): return None
    a, b = read_run_folder(HERE/'recipe-r2'), read_run_folder(HERE/'recipe-r12')
    runs = [r for r in a['runs'] if r['model'] == 'teacher'] + [dict(r, model='rerun') for r in b['runs'] if r['model'] == 'teacher']
    return paired_summary(paired_differences(dict(a, runs=runs), student='rerun', teacher='teacher'))

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--recipe', default='fast'); p.add_argument('--jobs', type=int, default=2)
    a = p.parse_args()
    root = find_emodb()
    if root is None: sys.exit("precision.py: EMO-DB not found (set DKDFMH_EMODB)")
    ref_dir, out = HERE/f'shift-{a.recipe}', HERE/f'precision-bf16-{a.recipe}'
    fp32 = read_run_folder(ref_dir)
    ref = Config.from_dict(fp32['config'])
    cfg = preset_config(a.recipe, corpus='emodb', root=str(root), protocol='speaker', seeds=ref.seeds, precision='bf16')
    same = {k: v for k, v in cfg.to_dict().items() if k not in ('precision', 'save_models', 'root')}
    diff = {k for k, v in same.items() if ref.to_dict()[k] != v}
    if diff: sys.exit(f"precision.py: {ref_dir}/config.json differs from the {a.recipe} recipe in {sorted(diff)}")
    data = load_data(cfg, progress=False)
    run_experiment(cfg, out, progress=True, data=data, jobs=a.jobs)
    bf16 = read_run_folder(out)
    rows, res = [], {}
    for model in ('teacher', 'dkd'):
        d = paired(fp32, bf16, model)
        res[model] = dict(summary=paired_summary(d), runs=d.to_dict('records'))
        for r in d.itertuples():
            rows.append({'model': model, 'fold': r.fold, 'seed': r.seed, 'UA fp32': f"{100 * r.ua_teacher:.1f}",
                         'UA bf16': f"{100 * r.ua_student:.1f}", 'bf16 - fp32': f"{100 * r.d_ua:+.1f}"})
    for model, r in res.items():
        s = r['summary']
        rows.append({'model': model, 'fold': 'all', 'seed': '', 'UA fp32': '', 'UA bf16': '',
                     'bf16 - fp32': f"{100 * s['mean']:+.1f} ± {100 * s['sd']:.1f} (95% CI {100 * s['lo']:+.1f} .. {100 * s['hi']:+.1f}; "
                                    f"{s['wins']} up, {s['losses']} down)"})
    both = pd.concat([pd.DataFrame(r['runs']) for r in res.values()])
    allsum = paired_summary(both)
    machine = f"{cpu_name()} (native bf16: {cpu_has_bf16()}; without it, torch emulates bf16 arithmetic)"
    res['all'] = dict(summary=allsum)
    noise = rerun_noise()
    if noise: res['rerun_noise'] = noise
    res['machine'] = machine
    atomic_write_text(out/'paired.json', json.dumps(res, indent=1, default=float))
    md = (f"# float32 vs bfloat16 training, EMO-DB, `{a.recipe}` recipe, 5 speaker folds, seed {', '.join(map(str, ref.seeds))}\n\n"
          f"Test UA (%) of the validation-selected epoch; fp32 runs from `{ref_dir.name}`, bf16 runs here. Machine: {machine}.\n"
          f"Command: `.venv/bin/python results/emodb/precision.py --recipe {a.recipe} --jobs {a.jobs}`\n\n"
          + to_markdown(pd.DataFrame(rows), index=False)
          + f"\n\nAll {allsum['n']} runs (teacher and student): bf16 - fp32 = {100 * allsum['mean']:+.1f} ± {100 * allsum['sd']:.1f} UA "
            f"(95% CI {100 * allsum['lo']:+.1f} .. {100 * allsum['hi']:+.1f}).\n"
          + ("" if not noise else f"\nNoise of a rerun at the same precision, for scale: the float32 teachers of `recipe-r12` against those of `recipe-r2` "
             f"(the same recipe and seeds, trained again; only the floating-point order differs) part by {100 * noise['mean']:+.1f} ± "
             f"{100 * noise['sd']:.1f} UA over {noise['n']} runs.\n"))
    atomic_write_text(out/'paired.md', md)
    print(md)

if __name__ == '__main__': main()
