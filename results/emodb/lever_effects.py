"""Each lever's effect, measured run by run, from the recipe study's committed runs (issue 7, item 2): for a lever, the
same model trained with the lever and without it on the same folds and seeds (EMO-DB, speaker-independent, 5 folds of
2 test speakers; every model's epoch chosen on its validation speaker(s)); the effect is the with-minus-without test UA
(and WA) of every (fold, seed) pair, its mean, spread (sd over the pairs), 95% t interval and wins, for the epoch chosen
on validation and for the last epoch. Nothing is trained here: it reads results/emodb/recipe-*/runs/*.json.

Run from the repository root:  .venv/bin/python results/emodb/lever_effects.py
Output: results/emodb/lever_effects.md and lever_effects.csv
"""
import json, sys
from pathlib import Path
import pandas as pd
from dkdfmh.audio import atomic_write_text
from dkdfmh.levers import paired_differences, paired_summary
from dkdfmh.evaluate import model_summary, to_markdown

R = Path(__file__).parent
# lever, what changes, model, (candidate, model name) without the lever, (candidate, model name) with it; every lever is
# one change, all else equal (the recipes are those of recipe.py: r1 / r2 / r3 differ in one setting each)
LEVERS = [
    ('epoch window', 'all 25 epochs -> the annealed last half (select_from 0.5)', 'teacher', ('r1', 'teacher'), ('r2', 'teacher')),
    ('epoch window', 'all 25 epochs -> the annealed last half (select_from 0.5)', 'DKD student, a quarter', ('r1', 'dkd_q'), ('r2', 'dkd_q')),
    ('DKD scale', "the paper's term -> a quarter of it", 'DKD student', ('r1', 'dkd'), ('r1', 'dkd_q')),
    ('DKD scale', 'a quarter -> a twentieth of the term', 'DKD student', ('r2', 'dkd_q'), ('r2', 'dkd_s')),
    ('teacher ensemble', "one teacher -> the mean logits of the fold's teachers of seeds 0-2", 'DKD student, a twentieth', ('r2', 'dkd_s'), ('r2', 'dkd_es')),
    ('temperature', 'T 4 (the paper) -> 2', 'DKD student, a twentieth', ('r2', 'dkd_s'), ('r2', 'dkd_t2')),
    ("student's own SpecAugment", "none -> 2 time and 2 filter masks on the student's batches, the teacher run on the same masked batch", 'DKD student, a twentieth', ('r2', 'dkd_s'), ('r2', 'dkd_sa')),
    ("student's own mixup", "none -> segment mixup (Beta(0.4, 0.4)) on the student's batches, the teacher (trained without it) run on the same mixed batch", 'DKD student, a twentieth', ('r2', 'dkd_s'), ('r2', 'dkd_mx')),
    # dkd_w0 and dkd_ban were trained after r2's seed-0 teachers' weights were gone: their teachers are those teachers
    # trained again (same settings and seed, another session: a rerun), so each is set against dkd_ban's generation 1, the
    # recommended student taught by that same rerun teacher ('dkd_ban@1'), not against dkd_s (taught by the first run)
    ('DKD warm-up', 'the term ramped up over 10 epochs -> at full weight from the first (both taught by the same rerun teacher)', 'DKD student, a twentieth', ('r2', 'dkd_ban@1'), ('r2', 'dkd_w0')),
    ('born again', 'one generation -> two (generation 2 learns from generation 1, the recommended student)', 'DKD student, a twentieth', ('r2', 'dkd_ban@1'), ('r2', 'dkd_ban')),
    ('teacher handed to the student', "its validation-chosen epoch -> its last epoch (teacher_select 'last'; the teacher has r2's settings and seed)", 'DKD student, a twentieth', ('r2', 'dkd_s'), ('r12', 'dkd_s')),
    # no lever at all: r12's teacher is r2's trained again in another session (same settings and seed; only the
    # floating-point order differs), so this row is the run-to-run noise that every other row's effect carries too
    ('none (a rerun)', "r2's teacher trained again, same settings and seed, another session (floating-point order only)", 'teacher', ('r2', 'teacher'), ('r12', 'teacher')),
    # and the same for the recommended student: dkd_s taught by r2's teacher against dkd_s taught by that teacher's rerun
    ('none (a rerun)', "r2's student trained again from its teacher trained again, same settings and seed, another session", 'DKD student, a twentieth', ('r2', 'dkd_s'), ('r2', 'dkd_ban@1')),
    ("student's epoch budget", "25 -> 50 epochs for the student (its teacher keeps 25; one-cycle and the validation window over the student's 50)", 'DKD student, a twentieth', ('r2', 'dkd_s'), ('r2', 'dkd_long')),
    ('transductive student', "labelled training segments -> also the teacher's outputs on the unlabelled validation and test speakers", 'DKD student, a quarter', ('r1', 'dkd_q'), ('r1', 'dkd_tr')),
    ('mixup', 'none -> segment mixup for every model (Beta(0.4, 0.4), soft-target cross-entropy; a student\'s teacher on the same mixed batch)', 'teacher', ('r2', 'teacher'), ('r4', 'teacher')),
    ('mixup', 'none -> segment mixup for every model (Beta(0.4, 0.4), soft-target cross-entropy; a student\'s teacher on the same mixed batch)', 'DKD student, a twentieth', ('r2', 'dkd_s'), ('r4', 'dkd_s')),
    *[(lever, change, model, ('r2', m), (c, m)) for lever, change, c in [
        ('normalisation', 'per speaker (transductive) -> global (the training speakers\' statistics)', 'r5'),
        ('normalisation', 'per speaker (transductive) -> per utterance', 'r6'),
        ('SpecAugment', 'none -> 2 time bands (up to 20 frames) and 2 filter bands (up to 8) per training segment, every model', 'r7'),
        ('random offsets', 'the fixed 1-s hop -> a fresh random offset per utterance every epoch, every model', 'r8'),
        ('class weights', 'none -> inverse-frequency weights in the cross-entropy, every model', 'r9'),
        ('schedule', "one-cycle to 3e-3 -> Adam at a constant 1e-3 (the paper's schedule at the rate that trained)", 'r10'),
        ('speed perturbation', 'none -> copies of the training audio at speeds 0.9 and 1.1, every model', 'r11'),
        ('attention gain', "the attention output as the paper's (1) -> times its 64 channels (attn_gain 64), every model", 'r14'),
        ('channel copy', "none -> one copy of the training audio through each training speaker's own random band-pass and noise, every model", 'r15')]
      for model, m in [('teacher', 'teacher'), ('DKD student, a twentieth', 'dkd_s')]],
    # r11 triples an epoch's segments; r13 is r2 with as many optimiser steps (75 epochs): training length, then the copies alone
    *[(lever, change, model, (ca, m), (cb, m)) for lever, change, ca, cb in [
        ('training length', "25 -> 75 epochs (r11's optimiser steps, without its copies; DKD warm-up 10 -> 30)", 'r2', 'r13'),
        ('speed perturbation at equal steps', '75 epochs of the original audio -> 25 of it and its copies at speeds 0.9 and 1.1', 'r13', 'r11'),
        ('channel copy on top of speed perturbation', 'the speed-perturbed copies -> the same and one channel copy of the training audio', 'r11', 'r16')]
      for model, m in [('teacher', 'teacher'), ('DKD student, a twentieth', 'dkd_s')]],
    ('validation speakers', '1 -> 2 per fold (6 training speakers instead of 7)', 'teacher', ('r2', 'teacher'), ('r3', 'teacher')),
    ('validation speakers', '1 -> 2 per fold (6 training speakers instead of 7)', 'DKD student, a twentieth', ('r2', 'dkd_s'), ('r3', 'dkd_s')),
]

def complete_runs(candidate:str, model:str)->list:
    """The runs of `model` in recipe-`candidate`, keeping the seeds whose 5 folds are all there; 'name@g': generation g of
    the born-again student `name` (its run keeps every generation's scores)"""
    model, _, g = model.partition('@')
    runs = [json.loads(f.read_text()) for f in sorted((R/f'recipe-{candidate}'/'runs').glob(f'fold*-seed*-{model}.json'))]
    if g: runs = [dict(r, **{k: r['generations'][int(g) - 1][k] for k in ('best', 'last', 'best_epoch')}) for r in runs]
    seeds = {r['seed'] for r in runs if sum(x['seed'] == r['seed'] for x in runs) == 5}
    return [r for r in runs if r['seed'] in seeds]

def baseline_ua(candidate:str)->str:
    "The classical baseline's UA on the same folds with `candidate`'s normalisation (its recipe summary), '?' before one exists"
    f = R/f'recipe-{candidate}'/'summary.csv'
    if not f.exists(): return '?'
    cfg = json.loads((R/f'recipe-{candidate}'/'config.json').read_text())
    # per utterance, every utterance's filterbank mean and std (the baseline's features) become 0 and 1: chance, marked
    return f"{pd.read_csv(f)['baseline_UA'].iloc[0]}" + (' (degenerate)' if cfg.get('norm') == 'utterance' else '')

def _pm(v, n): return f"{v.mean():.1f}" + (f" ± {v.std(ddof=1):.1f}" if n > 1 else '')

rows = []
for lever, change, model, (ca, ma), (cb, mb) in LEVERS:
    a, b = complete_runs(ca, ma), complete_runs(cb, mb)
    seeds = sorted({r['seed'] for r in a} & {r['seed'] for r in b})
    if not seeds: print(f"{lever} ({model}): no seed with all 5 folds of both {ca}/{ma} and {cb}/{mb} yet: skipped"); continue
    rec = dict(runs=[dict(r, model='without') for r in a if r['seed'] in seeds] + [dict(r, model='with') for r in b if r['seed'] in seeds])
    row = dict(lever=lever, change=change, model=model, without=f"{ca} {ma}", with_=f"{cb} {mb}")
    for which in ('best', 'last'):
        d = paired_differences(rec, 'with', 'without', which)
        u, w = paired_summary(d, 'ua'), paired_summary(d, 'wa')
        sa, sb = model_summary(rec, 'without', which), model_summary(rec, 'with', which)
        ua = lambda s: pd.Series(s['pooled']['ua_per_seed'])*100
        k = 'chosen' if which == 'best' else 'last'
        row.update({f'UA without ({k})': _pm(ua(sa), len(seeds)), f'UA with ({k})': _pm(ua(sb), len(seeds)),
                    f'effect UA ({k})': f"{100*u['mean']:+.1f}" + (f" ± {100*u['sd']:.1f}" if u['n'] > 1 else ''),
                    f'95% CI ({k})': f"[{100*u['lo']:+.1f}, {100*u['hi']:+.1f}]" if u['n'] > 1 else '',
                    f'wins ({k})': f"{u['wins']}-{u['losses']} of {u['n']}", f'effect WA ({k})': f"{100*w['mean']:+.1f}"})
    row['baseline UA without -> with'] = f"{baseline_ua(ca)} -> {baseline_ua(cb)}"   # the classical baseline under each side's normalisation
    row['seeds'] = len(seeds)
    rows.append(row)
t = pd.DataFrame(rows).rename(columns={'with_': 'with'})
atomic_write_text(R/'lever_effects.csv', t.to_csv(index=False))
short = t[['lever', 'change', 'model', 'UA without (chosen)', 'UA with (chosen)', 'effect UA (chosen)', '95% CI (chosen)', 'wins (chosen)',
           'effect WA (chosen)', 'UA without (last)', 'UA with (last)', 'effect UA (last)', 'wins (last)', 'baseline UA without -> with', 'seeds']]
atomic_write_text(R/'lever_effects.md', f"""# Lever effects, run by run

EMO-DB, speaker-independent, 5 folds of 2 test speakers; each row: one model trained without and with one lever, all
else equal, on the same folds and seeds (recipe candidates of `results/emodb/recipe.py`: r1 = per-speaker
standardisation, one-cycle to lr 3e-3, 25 epochs, DKD warm-up 10; r2 = r1 choosing the epoch in the annealed half;
r3 = r2 with 2 validation speakers; r4 = r2 with segment mixup for every model; r5 / r6 = r2 standardised globally /
per utterance; r7 = r2 with SpecAugment, r8 with random segment offsets, r9 with class weights, r10 with Adam at a constant 1e-3,
r11 with speed-perturbed copies, each for every model; r12 = r2 with each student taught by its teacher's last epoch;
r13 = r2 with 75 epochs, r11's optimiser steps; r14 = r2 with the attention output times its 64 channels; r15 = r2
with one channel copy of the training audio; r16 = r11 with one channel copy). UA with / without: test utterances pooled over folds, mean ± sd over seeds (%).
effect: with minus without, per (fold, seed) pair, mean ± sd over the pairs, 95% t interval (pairs of one fold share
test speakers: optimistic), wins: pairs where the lever is better - worse, of all pairs (the rest tie). 'chosen': the epoch chosen on validation; 'last':
the last epoch. baseline: log filterbank mean+std + logistic regression on the same folds with each side's normalisation
('degenerate' per utterance: that standardisation sets each utterance's filterbank mean and std, the baseline's very
features, to 0 and 1, so it is at chance and says nothing of the lever). Rows of one seed are a first look. Command: `.venv/bin/python results/emodb/lever_effects.py`

""" + to_markdown(short, index=False) + '\n')
print(short.to_string())
