"""The model shipped as dkdfmh's `pretrained`: its recipe chosen by speaker-independent cross-validation of EMO-DB in
single-file mode (`single_file.py`: the candidates' runs, each model scored on its validation and test speakers with
no statistics of the test speaker), then trained on all ten EMO-DB speakers (4 classes) and written, with its model
card, into the package.

- The recipe: among the candidates whose runs cover every fold and seed, the one with the best mean validation UA in
  single-file mode over all folds and seeds (the test speakers are never looked at). Its cross-validated estimate is
  nested: in each outer fold the candidate is chosen on that fold's validation speaker only, and the test score of
  that choice is reported (`dkdfmh.study.nested_selection`), beside the chosen recipe's own scores.
- The final model: that recipe on every utterance of the ten speakers; with no speaker left to choose an epoch on, it
  keeps its last epoch (one-cycle ends annealed), so the card gives the cross-validated last-epoch scores beside the
  validation-chosen ones.

Run from the repository root:  .venv/bin/python results/emodb/pretrained.py [--seed 0] [--card-only [--add-level]]
Output: dkdfmh/pretrained/emodb-4class.safetensors, MODEL_CARD.md, results/emodb/pretrained.json (the numbers)
"""
import argparse, json, sys, time
from pathlib import Path
import numpy as np, pandas as pd, torch
from dkdfmh.presets import preset_config
from dkdfmh.audio import find_emodb, atomic_write_text
from dkdfmh.splits import Split
from dkdfmh.data import segment_dls, make_vocab
from dkdfmh.train import Config, load_data, load_variants, train_teacher, keep_freed_memory, training_precision
from dkdfmh.inference import save_model, PRETRAINED
from dkdfmh.study import nested_selection, mode_runs, _ua
from dkdfmh.evaluate import pm as _pm
sys.path.insert(0, str(Path(__file__).parent))
from single_file import CANDIDATES

HERE, ROOT = Path(__file__).parent, Path(__file__).parents[2]
VOCAB = ['angry', 'happy', 'neutral', 'sad']

def runs_table(cand:str)->pd.DataFrame:
    "One row per finished teacher run (the shipped kind of model) of a candidate, epoch ('best': chosen on validation, 'last') and mode: valid and test UA, test utterances"
    folder = HERE/f"single-{cand}"
    t = pd.concat([mode_runs(folder, mode, epoch, models=['teacher']).assign(candidate=cand, epoch=epoch, mode=mode)
                   for epoch in ('best', 'last') for mode in ('single', 'speaker')], ignore_index=True)
    best = {(r['fold'], r['seed']): r['best_epoch'] for r in map(json.loads, map(Path.read_text, (folder/'runs').glob('*-teacher.json')))}
    return t.assign(best_epoch=[best[k] for k in zip(t.fold, t.seed)])

def complete(t:pd.DataFrame)->pd.DataFrame:
    "The candidates with the most seeds of all five folds (the others were screened out on validation), on those seeds"
    done = {c: frozenset(s for s, h in g.groupby('seed') if h.fold.nunique() == 5) for c, g in t.groupby('candidate')}
    seeds = max(done.values(), key=len)
    keep = [c for c, s in done.items() if s >= seeds]
    return t[t.candidate.isin(keep) & t.seed.isin(seeds)]

def pooled(t:pd.DataFrame)->pd.Series:
    "Per seed, UA pooled over the test utterances of the five folds"
    return pd.Series({s: _ua(np.concatenate(g.utt_true.tolist()), np.concatenate(g.utt_pred.tolist()), 4) for s, g in t.groupby('seed')})

def pm(x:pd.Series)->str: return _pm(x.mean(), x.std(ddof=1) if len(x) > 1 else float('nan'), len(x))

def fold_pm(g:pd.DataFrame)->str: return f"{100 * g.test.mean():.1f} ± {100 * g.test.std(ddof=1):.1f}"

def choose()->dict:
    "The recipe (best mean validation UA of the shipped kind of model: last epoch, single file), its nested estimate, and its own scores"
    t = complete(pd.concat([runs_table(c) for c in CANDIDATES if (HERE/f"single-{c}"/'modes').is_dir()]))
    if t.empty: sys.exit("pretrained.py: no candidate has every fold of a seed yet: run single_file.py first")
    ship = t[(t.epoch == 'last') & (t['mode'] == 'single')]
    recipe = ship.groupby('candidate').valid.mean().idxmax()
    nested = nested_selection(ship, n_classes=4)
    mine = t[t.candidate == recipe]
    part = lambda epoch, mode: mine[(mine.epoch == epoch) & (mine['mode'] == mode)]
    scores = {f"{e}_{m}": dict(ua=pm(pooled(part(e, m))), folds=fold_pm(part(e, m))) for e in ('best', 'last') for m in ('single', 'speaker')}
    cfg = Config(**{k: v for k, v in CANDIDATES[recipe].items() if k != 'students'})
    settings = dict(lr=cfg.lr, epochs=cfg.epochs, warmup=cfg.distill.warmup, **cfg.levers())   # the recipe's numbers and every lever it turns on
    return dict(recipe=recipe, settings=settings, seeds=sorted(int(x) for x in t.seed.unique()),
                candidates={c: dict(valid=float(g.valid.mean()), test=pm(pooled(g))) for c, g in ship.groupby('candidate')},
                nested=dict(ua=pm(nested['nested']), choices={int(k): v for k, v in nested['choices'].candidate.items()},
                            test_chosen=[nested['test_chosen'][0], pm(nested['test_chosen'][1])]),
                scores=scores, epochs=sorted(int(e) + 1 for e in part('best', 'single').best_epoch))

def train_final(recipe:str, seed:int, precision:str)->tuple:
    "The recipe on every utterance of the ten speakers; its last epoch"
    root = find_emodb()
    if root is None: sys.exit("pretrained.py: EMO-DB not found (find_emodb() returned None; set DKDFMH_EMODB)")
    cfg = Config(corpus='emodb', root=str(root), seeds=(seed,), precision=precision, **CANDIDATES[recipe])
    df, feats, _ = load_data(cfg, progress=False)
    everyone = Split('all ten speakers', 'random', np.arange(len(df)), np.array([], dtype=np.int64), np.array([], dtype=np.int64))
    dls = segment_dls(feats, df['label'], everyone, vocab=make_vocab(df['label']), cfg=cfg.features, bs=cfg.bs, seed=seed, device='cpu',
                      norm=cfg.norm, speakers=df['speaker'].to_numpy(), train_variants=load_variants(cfg, df, progress=False))
    if dls.vocab != VOCAB: sys.exit(f"pretrained.py: expected the classes {VOCAB}, the corpus gives {dls.vocab}")
    fit = train_teacher(dls, cfg, seed, progress=True)
    return cfg, df, dls, fit

def add_level(out:Path)->None:
    "The shipped file rewritten with its normaliser's training speech level (`ref_level`; weights, vocabulary, front end and meta untouched)"
    from dkdfmh.modelfile import read_model
    from dkdfmh.norm import FeatureNorm
    b = read_model(out)
    cfg = Config(corpus='emodb', root=str(find_emodb()), **CANDIDATES[b.meta['recipe']]).replace(features=b.features)
    df, feats, _ = load_data(cfg, progress=False)
    n = FeatureNorm.fit(b.norm.how, feats, b.features, speakers=df['speaker'].to_numpy())
    for k in ('ref_mean', 'ref_std'): np.testing.assert_allclose(getattr(n, k), getattr(b.norm, k), rtol=1e-6)   # the normaliser it was trained with
    save_model(out, b.model, b.vocab, b.features, meta=b.meta, norm=n)
    print(f"{out}: single files now moved to the training speech level {n.ref_level:.3f}")

def level_line(norm)->str:
    "What the shipped file (its normaliser `norm`) does with a recording's level, and what moving it did where both modes were measured"
    import textwrap
    if norm is None or norm.ref_level is None: return "Single files are standardised as recorded: the score depends on the recording's gain.\n"
    from shifts import pooled_table
    sh = json.loads((HERE/'shift-fast'/'shifts-both-modes.json').read_text())
    t = pooled_table(sh['rows'], len(sh['vocab']))
    return textwrap.fill("Each single file is first moved to the training speech level (`FeatureNorm.single`), so its gain does not matter; the "
            "cross-validation above predates that move (recordings as recorded). Where both were measured, on the teachers of the "
            f"`fast` recipe (seed 0, `results/emodb/shift-fast/shifts-both-modes.md`), the move scored {t.loc['teacher_single', 'clean']} "
            f"UA on clean speech against {t.loc['teacher_single_raw', 'clean']} as recorded (its level statistic was chosen on those "
            f"recordings, so that difference is not an independent estimate), and {t.loc['teacher_single', 'level-20']} "
            f"against {t.loc['teacher_single_raw', 'level-20']} on the same recordings 20 dB quieter.", 118) + '\n'

CARD = """# Model card: dkdfmh `pretrained`

The model `dkdfmh_predict` uses when no `--model` is given (`load_model('pretrained')` in Python), shipped inside the
package as `dkdfmh/pretrained/{file}` ({kb} kB: safetensors weights and JSON settings; loading it runs no code).

## What it does
Speech emotion recognition for one recording at a time: **angry, happy, neutral, sad**. Input: any recording
`load_audio` reads (resampled to 16 kHz mono), cut into 2-s log Mel filterbank segments every 0.4 s; output: the class
probabilities of the recording (softmax of the mean segment logits) and of each segment.

## Data and its terms
EMO-DB, the Berlin Database of Emotional Speech (Burkhardt et al., Interspeech 2005): ten actors (5 female, 5 male)
reading ten German sentences in acted emotions, recorded at 16 kHz in an anechoic room. The four classes used here:
{n} utterances ({counts}). EMO-DB is free for research use; the model inherits that purpose: research and
evaluation, not decisions about people.

## Recipe
Network: the head-fusion CNN of DKDFMH ({params:,} parameters), trained with cross-entropy as the teacher of the
library's recipes (`{recipe}` in `results/emodb/single_file.py`): {settings}. Training in {precision}; seed {seed};
all {n} utterances of the ten speakers; the last of {epochs} epochs kept (no speaker is left to choose an epoch on;
the one-cycle schedule ends annealed).

The recipe was chosen among {n_cand} candidates by their mean validation UA as shipped (last epoch, single-file mode)
over every fold and seed ({cands}): the test speakers never took part in the choice.{screened}

## How well it does on speakers it has not heard
Speaker-independent cross-validation on EMO-DB with the same recipe: 5 folds of 2 test speakers, 1 validation speaker
per fold chosen from the 8 others, seeds {seeds}. UA: unweighted accuracy (mean recall of the four classes), test
utterances pooled over the five folds, mean ± std over seeds (fold by fold: mean ± std over folds and seeds).

| mode | epoch | UA (%) | fold by fold |
|---|---|---|---|
| **single file** (nothing but the recording) | **last (as shipped)** | **{last_single}** | {last_single_f} |
| with `--speaker` recordings (all of the test speaker's other recordings) | last (as shipped) | {last_speaker} | {last_speaker_f} |
| single file | chosen on the validation speaker | {best_single} | {best_single_f} |
| with `--speaker` recordings | chosen on the validation speaker | {best_speaker} | {best_speaker_f} |
| nested: the candidate chosen per fold on its validation speaker (last epoch, single file) | last | {nested} | |
| for comparison, the candidate a choice on the test scores would take (`{tc}`) | last | {tc_ua} | |

{speaker_line}
{level_line}Classical baseline on the same folds (log filterbank mean and std, logistic regression, standardised with the training
speakers' statistics, so single-file as well): {baseline} UA.

## What it was not trained on
German read speech by ten adult actors, acted emotions, studio quality. Expect lower accuracy, and check before
relying on it, on: other languages; spontaneous or conversational speech; children and elderly speakers; noise,
reverberation, telephone or compressed audio; other emotion categories (fear, disgust, boredom, surprise, ... are
forced into one of the four); recordings much shorter than 2 s (a note says so) or holding several speakers.

## How to retrain it
```
{cv_commands}
.venv/bin/python results/emodb/pretrained.py            # choose, train on all ten speakers, write this card
```
Each `single_file.py` command trains and scores one candidate on the folds (all five unless `--folds`) of the seeds given (about 40 minutes a
seed on two cores with `--folds` split between two processes); finished runs are kept and reused.
```
```
"""

def baseline_ua(norm:str)->str:
    "The classical baseline (log filterbank mean+std, logistic regression) with the same standardisation on the same folds"
    from dkdfmh.levers import normalized_baseline
    cfg = preset_config('paper', corpus='emodb', root=str(find_emodb()), n_folds=5, n_valid_speakers=1)
    df, feats, splits = load_data(cfg, progress=False)
    b = normalized_baseline(df, feats, splits, norm, vocab=VOCAB, cfg=cfg.features)
    return f"{100 * b['summary'][f'logreg_{norm}']['ua_mean']:.1f}"

def write_card(cv:dict, info:dict)->str:
    d, sc = dict(cv['speaker_diff']), cv['scores']
    diff = f"{d['mean']:+.1f} ± {d['sd']:.1f} UA points per fold and seed ({d['wins']} of {d['n']} runs better)"
    speaker_line = (f"Giving `--speaker` recordings changes the single-file score by {diff}"
                    + (": this model does best on one file alone, so `--speaker` is offered but not advised." if d['mean'] < 0 else "."))
    nested, cands = cv['nested'], '; '.join(f"`{c}` {v['valid'] * 100:.1f} UA on validation, {v['test']} on test" for c, v in cv['candidates'].items())
    text = CARD.format(file=PRETRAINED['pretrained'], recipe=cv['recipe'], settings=', '.join(f"{k}={v}" for k, v in cv['settings'].items()),
                       n_cand=len(cv['candidates']), cands=cands, seeds=', '.join(map(str, cv['seeds'])), screened=screened(cv),
                       cv_commands=cv_commands(), **{k: v['ua'] for k, v in sc.items()}, **{f"{k}_f": v['folds'] for k, v in sc.items()},
                       nested=nested['ua'], tc=nested['test_chosen'][0], tc_ua=nested['test_chosen'][1], speaker_line=speaker_line,
                       baseline=cv['baseline'], **info)
    return text

def screened(cv:dict)->str:
    "The candidates left out after their first seed, by validation UA only"
    out = {c: v for c, v in cv.get('screening', {}).items() if c not in cv['candidates']}
    low = min(v['valid'] for v in cv['candidates'].values())
    said = lambda keep: ', '.join(f"`{c}` ({v['valid'] * 100:.1f} UA on validation at seed {v['seed']})" for c, v in out.items() if keep(v['valid']))
    below, above = said(lambda v: v < low), said(lambda v: v >= low)
    return ((f" Before that, {below} had a lower validation UA than the candidates above after the first seed and was not trained further." if below else '')
            + (f" {above} has only its first seed so far." if above else ''))

def cv_commands()->str:
    "The commands that ran the cross-validation: each candidate's folds, seeds, students and precision, as its runs record them"
    lines = []
    for c in CANDIDATES:
        files = sorted((HERE/f"single-{c}"/'runs').glob('*.json')) if (HERE/f"single-{c}"/'modes').is_dir() else []
        runs = {}   # model -> {(fold, seed): precision}
        for f in files:
            fold, seed, model = f.stem.split('-', 2)
            runs.setdefault(model, {})[int(fold[len('fold'):]), int(seed[len('seed'):])] = json.loads(f.read_text()).get('precision', 'bf16')
        if 'teacher' not in runs: continue
        def line(units, models):   # the command that trained `models` on these (fold, seed) units, in the precision they were trained in
            seeds, folds, studs = sorted({s for _, s in units}), sorted({f for f, _ in units}), [m for m in models if m != 'teacher']
            return (f".venv/bin/python results/emodb/single_file.py {c} --seeds {' '.join(map(str, seeds))}"
                    + (f" --folds {' '.join(map(str, folds))}" if len(folds) < 5 else '') + (f" --students {' '.join(studs)}" if studs else '')
                    + (' --precision fp32' if {runs[m][u] for m in models for u in units} == {'fp32'} else ''))
        units = set(runs['teacher'])
        same = [m for m in sorted(runs) if m != 'teacher' and set(runs[m]) == units]
        lines.append(line(units, ['teacher', *same]))
        lines += [line(set(runs[m]), [m]) for m in sorted(runs) if m != 'teacher' and m not in same]
    return '\n'.join(lines)

def cross_validation()->dict:
    cv = choose()
    first = pd.concat([runs_table(c) for c in CANDIDATES if (HERE/f"single-{c}"/'modes').is_dir()])
    first = first[(first.seed == first.seed.min()) & (first.epoch == 'last') & (first['mode'] == 'single')]
    first = first.groupby('candidate').filter(lambda g: g.fold.nunique() == 5)   # a candidate still on its first seed's folds: not yet screened
    cv['screening'] = {c: dict(valid=float(g.valid.mean()), seed=int(g.seed.min())) for c, g in first.groupby('candidate')}
    t = complete(runs_table(cv['recipe']))
    w = t[t.epoch == 'last'].pivot_table(index=['fold', 'seed'], columns='mode', values='test')
    diff = 100 * (w['speaker'] - w['single'])
    cv['speaker_diff'] = dict(mean=float(diff.mean()), sd=float(diff.std(ddof=1)), wins=int((diff > 0).sum()), n=len(diff))
    cv['baseline'] = baseline_ua('global')                      # the baseline's single-file counterpart: training speakers' statistics
    return cv

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog='\n'.join(__doc__.split('\n')[1:]))
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--precision', default='bf16', help="training precision (default bf16; fp32 on a CPU without native bf16)")
    p.add_argument('--card-only', action='store_true', help="rewrite MODEL_CARD.md and pretrained.json from the runs and the shipped model, no training")
    p.add_argument('--add-level', action='store_true', help="with --card-only: first add the training speech level to the shipped file's normaliser")
    a = p.parse_args()
    if a.add_level and not a.card_only: sys.exit("pretrained.py: --add-level goes with --card-only (a retrained model carries the level already)")
    keep_freed_memory()
    t0, cv = time.time(), cross_validation()
    out = ROOT/'dkdfmh'/'pretrained'/PRETRAINED['pretrained']
    print(f"recipe {cv['recipe']}: as shipped (last epoch) single-file CV UA {cv['scores']['last_single']['ua']} (nested {cv['nested']['ua']}), "
          f"with --speaker {cv['scores']['last_speaker']['ua']}")
    if a.card_only:
        from dkdfmh.inference import load_model
        if a.add_level: add_level(out)
        meta = load_model('pretrained', device='cpu').info['meta']
        info = {k: meta[k] for k in ('n', 'counts', 'params', 'precision', 'seed', 'epochs')}
    else:
        cfg, df, dls, fit = train_final(cv['recipe'], a.seed, a.precision)
        counts = ', '.join(f"{k} {v}" for k, v in df['label'].value_counts().sort_index().items())
        info = dict(n=len(df), counts=counts, params=sum(p.numel() for p in fit.model.parameters()), precision=training_precision(cfg),
                    seed=a.seed, epochs=cfg.epochs)
        meta = dict(name='pretrained', trained_by='results/emodb/pretrained.py', corpus='emodb', classes=VOCAB, recipe=cv['recipe'],
                    settings=cv['settings'], **info, data='EMO-DB (Burkhardt et al. 2005), all ten speakers; research use',
                    cv=dict(protocol='speaker-independent, 5 folds of 2 test speakers, 1 validation speaker', seeds=cv['seeds'],
                            single_file_ua=cv['scores']['last_single']['ua'], nested_single_file_ua=cv['nested']['ua'],
                            with_speaker_ua=cv['scores']['last_speaker']['ua'], baseline_ua=cv['baseline']), card='MODEL_CARD.md')
        save_model(out, fit.model, dls.vocab, cfg.features, meta=meta, norm=dls.norm)
        print(f"wrote {out} ({out.stat().st_size / 1e3:.0f} kB) in {time.time() - t0:.0f} s")
    info['kb'] = round(out.stat().st_size / 1e3)
    from dkdfmh.modelfile import read_model
    info['level_line'] = level_line(read_model(out).norm)
    atomic_write_text(ROOT/'MODEL_CARD.md', write_card(cv, info))
    atomic_write_text(HERE/'pretrained.json', json.dumps(cv, indent=1))
    print(f"wrote {ROOT/'MODEL_CARD.md'} and {HERE/'pretrained.json'}")
