#!/usr/bin/env python
"""Write the README's results table (in nbs/index.ipynb) and the study's report (results/emodb/STUDY.md) from the
committed records, so that every number in either comes from a file in `results/`.

Usage: python tools/results_readme.py && python tools/readme.py     # write both, then README.md
       python tools/results_readme.py --check                        # exit 1 when either differs from the records
The README's table: `headline()`, from the result records by the library's own summaries (`model_summary`, the nested
selection of `dkdfmh.study`) and from results/emodb/pretrained.json (the shipped model's cross-validation).
The study: `study()`, from results/emodb/{speaker,random}-15ep/, levers*/, recipe-*/ and lever_effects.csv."""
import json, sys
from pathlib import Path
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
R = ROOT/'results'/'emodb'
STUDENTS = ('kd', 'tckd', 'nckd', 'dkd')

from dkdfmh.evaluate import pm as _pm
def pm(mean, std, n): return _pm(mean, std, n, scale=1.)   # the library's formatter, for values already in percent

def seeds_text(n): return f"{n} seed{'s' if n != 1 else ''}"

def ablation_table(a, other=None):
    "Markdown rows of an ablation.csv; with `other` (the other protocol's table) a column of its UA"
    head = "| system | WA | UA | UA std over runs (folds x seeds) |" + (" UA, speaker-independent |" if other is not None else '') + " paper WA / UA (IEMOCAP, random split) |"
    rows = [head, '|---' * (head.count('|') - 1) + '|']
    for m, r in a.iterrows():
        paper = '' if pd.isna(r['paper UA']) else f"{r['paper WA']:.1f} / {r['paper UA']:.1f}"
        extra = ''
        if other is not None: extra = f" {pm(other.loc[m, 'ua_mean'], other.loc[m, 'ua_std'], other.loc[m, 'n_seeds'])} |" if m in other.index else ' |'
        rows.append(f"| {r['method']} | {pm(r['wa_mean'], r['wa_std'], r['n_seeds'])} | {pm(r['ua_mean'], r['ua_std'], r['n_seeds'])} "
                    f"| {r['fold_ua_std']:.1f} |{extra} {paper} |")
    return '\n'.join(rows)

def findings(a):
    "Sentences comparing the rows of one ablation table (computed from it)"
    U = lambda m: a.loc[m, 'ua_mean']
    below = [m for m in STUDENTS if U(m) < U('teacher')]
    above = [m for m in STUDENTS if U(m) >= U('teacher')]
    name = dict(kd='KD', tckd='TCKD', nckd='NCKD', dkd='DKD')
    s = [f"the plain CNN ({U('cnn'):.1f} UA) {'beats' if U('cnn') > U('teacher') else 'is below'} the attention teacher ({U('teacher'):.1f})"]
    if not above: s.append("every distilled student is below its teacher (" + ', '.join(f"{name[m]} {U(m):.1f}" for m in STUDENTS) + ")")
    else: s.append("students above the teacher: " + ', '.join(f"{name[m]} {U(m):.1f}" for m in above) +
                   ("; below it: " + ', '.join(f"{name[m]} {U(m):.1f}" for m in below) if below else ''))
    best = max(('cnn', 'teacher', *STUDENTS), key=U)
    s.append(f"the classical baseline on the same splits is {'ahead of' if U('logreg') > U(best) else 'behind'} the best network "
             f"({U('logreg'):.1f} vs {U(best):.1f}; {U('logreg_spk'):.1f} with per-speaker standardisation)")
    return '; '.join(s)

NAMES = dict(dkd="DKD student (alpha 1, beta 8, T 4: the paper's weights)", dkd_q='DKD student, a quarter of the term',
             dkd_s='DKD student, a twentieth of the term',
             dkd_ens='DKD student, a quarter of the term, from the mean logits of the teachers of seeds 0-2',
             dkd_tr='DKD student, a quarter of the term, also on the unlabelled validation and test speakers (transductive)',
             dkd_es='DKD student, a twentieth of the term, from the mean logits of the teachers of seeds 0-2',
             dkd_t2='DKD student, a twentieth of the term, T 2',
             dkd_sa="DKD student, a twentieth of the term, SpecAugment on the student's batches (the teacher on the same masked batch)",
             dkd_long='DKD student, a twentieth of the term, 50 epochs (its teacher: 25)',
             dkd_mx="DKD student, a twentieth of the term, mixup on the student's batches (the teacher, trained without, on the same mixed batch)",
             # dkd_w0 and dkd_ban were taught by r2's teachers trained again (their first weights were gone): reruns,
             # whose scores those runs did not record (they predate `teacher_rerun`), so their student - teacher columns are
             # left empty (RERUN_TAUGHT): the recorded teacher is not the one that taught them
             dkd_w0="DKD student, a twentieth of the term at full weight from the first epoch (no warm-up; taught by a rerun of r2's teacher)",
             dkd_ban="DKD student, a twentieth of the term, born again: generation 2, taught by generation 1 (whose teacher: a rerun of r2's)")
RERUN_TAUGHT = {('r2', 'dkd_w0'), ('r2', 'dkd_ban')}   # (candidate, student) taught by an unrecorded rerun of the recorded teacher
RECIPES = {'r1': 'epoch chosen among all 25', 'r2': "epoch chosen among the last 12 (one-cycle's annealing half)",
           'r3': 'r2 with 2 validation speakers per fold instead of 1',
           'r4': 'r2 with segment mixup for every model (teacher and student)',
           'r5': 'r2 standardised globally (the training speakers\' statistics) instead of per speaker',
           'r6': 'r2 standardised per utterance instead of per speaker',
           'r7': 'r2 with SpecAugment (2 time and 2 filter bands) for every model',
           'r8': 'r2 with random segment offsets for every model',
           'r9': 'r2 with inverse-frequency class weights for every model',
           'r10': "r2 with the paper's schedule, Adam at a constant 1e-3",
           'r11': 'r2 with speed-perturbed copies (0.9, 1.1) of the training audio',
           'r12': "r2 with the student taught by its teacher's last epoch instead of its validation-chosen one",
           'r13': "r2 with 75 epochs (r11's optimiser steps without its copies) and a 30-epoch DKD warm-up",
           'r14': "r2 with the attention output times its 64 channels (`attn_gain`) for every model",
           'r15': 'r2 with one channel copy of the training audio (each training speaker through its own random band-pass and noise)',
           'r16': 'r2 with the speed-perturbed copies and one channel copy of the training audio'}  # recipe.py's candidates
NORMS = {'r5': 'global', 'r6': 'utterance'}   # the candidates that do not standardise per speaker
# per-utterance standardisation sets every utterance's filterbank mean to 0 and std to 1: the very features of the
# classical baseline, which then sees nothing (chance); its number there says nothing of the lever
DEGENERATE = (": degenerate, its features (each utterance's filterbank mean and std) are what per-utterance standardisation "
              "sets to 0 and 1, so it is at chance; compare r6 with the baselines above")
RECOMMENDED = ('r11', 'dkd_s')   # the library's recommended recipe (dkdfmh.levers.RECIPES['recommended']): candidate, student

def recipe_section():
    "The recipe study (results/emodb/recipe-*/summary.csv), when it exists"
    tabs = {c: pd.read_csv(R/f'recipe-{c}'/'summary.csv') for c in RECIPES if (R/f'recipe-{c}'/'summary.csv').exists()}
    if not tabs: return []
    rows = ['| recipe | model | UA, epoch chosen on validation | UA, last epoch | WA, chosen | student - teacher UA, run by run: chosen | last epoch | student wins (chosen) | seeds |',
            '|---|---|---|---|---|---|---|---|---|']
    allb, alll = [], []
    for c, t in tabs.items():
        t = t.assign(student=t.student.astype(object).fillna(''))   # '': teachers trained, no student finished yet (the teacher's row alone)
        b, l = t[t.epoch == 'best'].set_index('student'), t[t.epoch == 'last'].set_index('student')
        first = b.loc[b.n_seeds.idxmax()]                        # a student row's teacher scores cover that student's seeds: the most
        lfirst = l.loc[first.name]                               # the seeds column says which: a seed with teachers alone is in lever_effects.md
        rows.append(f"| {c} | teacher (cross-entropy) | {first.teacher_UA} | {lfirst.teacher_UA} | {first.teacher_WA} | | | | {int(first.n_seeds)} |")
        rows += [f"| {c} | {NAMES.get(m, m)}{' **(recommended)**' if (c, m) == RECOMMENDED else ''} | {r.student_UA} | {l.loc[m, 'student_UA']} | {r.student_WA} | "
                 + ("(its teacher's rerun unrecorded) | | |" if (c, m) in RERUN_TAUGHT else f"{r.dUA} | {l.loc[m, 'dUA']} | {r.wins} |") + f" {int(r.n_seeds)} |"
                 for m, r in b.iterrows() if m]
        keep = lambda T: T[(T.index != '') & ~T.index.isin([m for cc, m in RERUN_TAUGHT if cc == c])]   # no teacher row, no unpaired student
        b, l = keep(b), keep(l)
        allb.append(b.assign(recipe=c)); alll.append(l.assign(recipe=c))
    for norm, cs in [('speaker', [c for c in tabs if c not in NORMS]), *[(NORMS[c], [c]) for c in tabs if c in NORMS]]:
        if not cs: continue
        base = tabs[cs[0]].iloc[0]   # the baseline under the same standardisation, on the same folds
        rows.append(f"| {', '.join(cs) + ' ' if norm != 'speaker' else ''}| log filterbank mean+std + logistic regression, standardised {'per ' + norm if norm != 'global' else 'globally'} (same folds){DEGENERATE if norm == 'utterance' else ''} | {base.baseline_UA} | | {base.baseline_WA} | | | | |")
    B = pd.concat(allb).reset_index()
    # the best student among the rows of at least 3 seeds (the rule; fewer: a first look), else of the most seeds
    most = lambda T: T[T['n_seeds'] >= 3] if (T['n_seeds'] >= 3).any() else T[T['n_seeds'] == T['n_seeds'].max()]
    Bm, Lm = most(B), most(pd.concat(alll).reset_index())
    top, ltop = Bm.loc[Bm['student_ua'].idxmax()], Lm.loc[Lm['student_ua'].idxmax()]
    up = B[B['d_ua'] > 0]
    verdict = ("no DKD student is above its own teacher on average (the closest: " + f"{NAMES.get(B.loc[B['d_ua'].idxmax(), 'student'])} in {B.loc[B['d_ua'].idxmax(), 'recipe']}, {B.loc[B['d_ua'].idxmax(), 'dUA']} UA run by run)"
               if up.empty else "students above their own teacher on average: " + ', '.join(f"{NAMES.get(r.student, r.student)} in {r.recipe} ({r.student_UA} UA, {r.dUA} over its teacher, 95% interval {r.dUA_CI})" for r in up.itertuples())
               + ("; every such interval spans 0" if (up['dUA_CI'].str.strip('[]').str.split(',').str[0].astype(float) < 0).all() else ''))
    met = bool(((B.student_ua >= 87) & (B.d_ua > 0) & (B.n_seeds >= 3)).any())   # the rule: at least 3 seeds
    rc, rm = RECOMMENDED
    rb = tabs[rc][tabs[rc].epoch == 'best'].set_index('student').loc[rm] if rc in tabs else None
    head = (f"**The recipe study** (`results/emodb/recipe.py`; `13_levers`, \"Recipes\"): speaker-independent, the same 5 folds, every model\n"
            f"selected on its validation speaker(s); every candidate {'but ' + ' and '.join(c for c in tabs if c in NORMS) + ' ' if any(c in NORMS for c in tabs) else ''}standardises the features per speaker and trains 25 epochs (a student\n"
            f"may have its own budget) with one-cycle up to lr 3e-3{' (r10: Adam at a constant 1e-3)' if 'r10' in tabs else ''} and a 10-epoch DKD warm-up; " + '; '.join(f"**{c}**: {d}" for c, d in RECIPES.items() if c in tabs) + ".\n"
            f"Run by `.venv/bin/python results/emodb/recipe.py CANDIDATE --seeds 0 1 2`; tables in `results/emodb/recipe-*/summary.md`.\n"
            f"A student is seeded like its teacher (the same initial weights, the same batches; with the distillation term at 0 it is\n"
            f"its teacher, weight for weight: `08_train`), so student minus teacher, run by run, is what the term alone did.\n"
            + (f"The recommended recipe (`dkdfmh_train`'s default on a corpus) is {rc} with its {NAMES[rm]}: teacher {rb.teacher_UA} UA, student {rb.student_UA}, against\n"
               f"{rb.baseline_UA} for the classical baseline with the same standardisation. " if rb is not None else '')
            + f"The best student at the epoch chosen on validation is {NAMES.get(top.student, top.student)} in {top.recipe} ({top.student_UA} UA, "
            f"{int(top.n_seeds)} seed(s)); {verdict}.\n"
            f"At the last epoch (a fixed rule, not a choice) the best student is {NAMES.get(ltop.student, ltop.student)} in {ltop.recipe} "
            f"({ltop.student_UA} UA, {int(ltop.n_seeds)} seed(s); its teachers on the same seeds {ltop.teacher_UA}, student minus teacher {ltop.dUA} run by run).\n"
            f"The target of a DKD student at 87 UA or more and above its teacher, at the epoch chosen on validation, is {'met' if met else 'not met'} here.\n"
            f"Rows of one seed are a first look, not a result; pairs of one fold share their test speakers, so the intervals in\n"
            f"`summary.md` are optimistic.\n\n")
    return [head + '\n'.join(rows) + '\n']

def effects_section():
    "Each lever's effect run by run (results/emodb/lever_effects.csv), when it exists"
    f = R/'lever_effects.csv'
    if not f.exists(): return []
    t = pd.read_csv(f)
    rows = ['| lever | change | model | UA without -> with (chosen on validation) | effect, run by run | wins-losses | UA without -> with (last epoch) | effect | classical baseline, same normalisation: without -> with | seeds |',
            '|---|---|---|---|---|---|---|---|---|---|']
    rows += [f"| {r.lever} | {r.change} | {r.model} | {r['UA without (chosen)']} -> {r['UA with (chosen)']} | {r['effect UA (chosen)']} | {r['wins (chosen)']} | "
             f"{r['UA without (last)']} -> {r['UA with (last)']} | {r['effect UA (last)']} | {r['baseline UA without -> with']} | {r.seeds} |" for _, r in t.iterrows()]
    return [f"""**Each lever's effect, run by run** (`results/emodb/lever_effects.py`, from the recipe study's runs; nothing trained
again): the same model without and with one lever, all else equal, on the same folds and seeds; effect = with - without
test UA per (fold, seed), mean ± sd over the pairs (`results/emodb/lever_effects.md` adds the 95% intervals and WA).
Rows of one seed are a first look, not a result.

""" + '\n'.join(rows) + '\n']

def study():
    "The study's report: the paper's ablation and beta sweep at the reduced recipe, the lever study, the recipe study, the lever effects"
    sp = pd.read_csv(R/'speaker-15ep'/'ablation.csv').set_index('model')
    ns = int(sp.loc['dkd', 'n_seeds'])
    out = [f"""# The EMO-DB study

<!-- Written by `python tools/results_readme.py` from the records in this folder: edit the tool, not this file. -->

## The paper's ablation

EMO-DB (339 utterances, 10 speakers, 4 classes). **Speaker-independent**: 5 folds of two test speakers, with one
validation speaker carved from the training speakers; every network's epoch is chosen on validation UA (never on the
test speakers); test utterances pooled over the folds; mean ± std over {seeds_text(ns)}. **Reduced recipe**: 15 epochs at lr
1e-3 with a 6-epoch DKD warm-up instead of the paper's 50 epochs at lr 1e-4 with a 20-epoch warm-up (2 CPU cores; lr
1e-3 is the rate of the head-fusion code the paper builds on; at lr 1e-4 the attention network still predicted one
class after 10-15 epochs). Everything else is the paper's (Adam, batch 32, alpha 1, beta 8, T 4). Regenerate or resume
with `.venv/bin/python results/emodb/paper_experiments.py` (`--protocols speaker random`, `--parts ablation beta`,
`--budget paper` for the full recipe); tables, per-run records and figures are in `results/emodb/speaker-15ep/` and
`results/emodb/random-15ep/`.

{ablation_table(sp)}

What this shows, honestly: on this small corpus with unseen speakers {findings(sp)}. The paper's ordering (IEMOCAP,
speakers mixed between training and test) is not reproduced here.
"""]
    bp = R/'speaker-15ep'/'beta_sweep.csv'
    if bp.exists():
        b = pd.read_csv(bp).set_index('beta')
        nb = int(b['n_seeds'].min())
        rows = ['| beta | ' + ' | '.join(f'{x:g}' for x in b.index) + ' |', '|---' * (len(b) + 1) + '|',
                '| UA | ' + ' | '.join(pm(r['ua_mean'], r['ua_std'], r['n_seeds']) for _, r in b.iterrows()) + ' |',
                '| WA | ' + ' | '.join(pm(r['wa_mean'], r['wa_std'], r['n_seeds']) for _, r in b.iterrows()) + ' |']
        top = b['ua_mean'].idxmax()
        teacher = sp.loc['teacher', 'ua_mean']
        out.append(f"""**Beta sweep** (the paper's Fig. 3: DKD students at alpha 1, T 4, from the same teachers; speaker-independent,
{seeds_text(nb)}; `results/emodb/speaker-15ep/beta_sweep.png`): UA peaks at beta = {top:g} ({b.loc[top, 'ua_mean']:.1f}; the paper:
beta = 8); {'no beta brings the student up to' if b['ua_mean'].max() < teacher else 'the best beta beats'} the teacher's {teacher:.1f}.

{chr(10).join(rows)}
""")
    rp = R/'random-15ep'/'ablation.csv'
    if rp.exists():
        ra = pd.read_csv(rp).set_index('model')
        nr = int(ra.loc['dkd', 'n_seeds'])
        gap = (ra['ua_mean'] - sp['ua_mean']).loc[['cnn', 'teacher', *STUDENTS]]
        out.append(f"""**The paper's random 80/20 split** (one seeded split of the utterances, speakers mixed between training and
test, 10% of the utterances moved from training to validation; {seeds_text(nr)}, the split fixed and the seeds varying
the models): what speaker leakage adds. The same script, `--protocols random`; `results/emodb/random-15ep/`.

{ablation_table(ra, sp)}

With the test speakers seen in training, the networks' UA changes by {gap.min():+.1f} to {gap.max():+.1f} points against the
speaker-independent protocol (mean {gap.mean():+.1f}); on this split {findings(ra)}. One split of 68 test utterances is
a noisy estimate: this is the protocol's weakness, not only its leakage.
""")
        rb = R/'random-15ep'/'beta_sweep.csv'
        if rb.exists():
            b = pd.read_csv(rb).set_index('beta')
            top = b['ua_mean'].idxmax()
            out.append(f"Its beta sweep (`results/emodb/random-15ep/beta_sweep.png`, {seeds_text(int(b['n_seeds'].min()))}): UA " +
                       ', '.join(f"{pm(r['ua_mean'], r['ua_std'], r['n_seeds'])} at beta {x:g}" for x, r in b.iterrows()) +
                       f"; the peak is at beta = {top:g}, against the teacher's {ra.loc['teacher', 'ua_mean']:.1f}.\n")
    studies = [(d, pd.read_csv(d/'levers.csv')) for d in sorted(R.glob('levers*')) if (d/'levers.csv').exists()]
    if studies:
        rows = []
        for d, lv in studies:
            ep = d.name.split('-')[1] if '-' in d.name else '15ep'
            rows += [f"| {r.lever} | {r.settings if isinstance(r.settings, str) and r.settings else 'none (the paper recipe)'} | {ep[:-2]} | {r.teacher_UA} | {r.student_UA} | {r.dUA} | {r.wins} | {r.baseline_UA} | {r.n_folds} x {r.n_seeds} |"
                     for r in lv.itertuples()]
        out.append(f"""**A first lever study, at the reduced paper recipe** (`nbs/13_levers.ipynb`, run by `.venv/bin/python results/emodb/levers.py`,
tables in """ + ', '.join(f"`results/emodb/{d.name}/levers.md`" for d, _ in studies) + f"""): {len(rows)} setting{'s' if len(rows) != 1 else ''} measured
before the study moved to the recipe candidates below: at the paper's DKD weights, 15 epochs and a constant rate the
student fell far below its teacher (the dUA column), so a lever measured on that student would say little.
Speaker-independent, validation-selected; the table pairs each DKD student with its own teacher run by run
(dUA = student - teacher, mean ± sd over folds x seeds). Settings with one seed are a first look, not a result.

| lever | settings | epochs | teacher UA | DKD student UA | dUA (student - teacher) | student wins | baseline UA, same normalisation | folds x seeds |
|---|---|---|---|---|---|---|---|---|
""" + '\n'.join(rows) + '\n')
    out += recipe_section()
    out += effects_section()
    ep = R/'speaker-10ep'/'results.csv'
    if ep.exists():
        c = pd.read_csv(ep).set_index('model').loc['cnn']
        out.append(f"An earlier speaker-independent run with the paper's lr 1e-4 for 10 epochs (CNN only, {seeds_text(int(c['n_seeds']))}) gave "
                   f"{pm(c['wa_mean'], c['wa_std'], c['n_seeds'])} WA / {pm(c['ua_mean'], c['ua_std'], c['n_seeds'])} UA (`results/emodb/speaker-10ep/`).\n")
    return '\n'.join(out)

def headline()->str:
    "The README's one results table, computed from the records"
    from dkdfmh.evaluate import model_summary, PAPER_TABLE1
    from dkdfmh.study import record_runs, complete_candidates, nested_selection, read_run_folder
    load = lambda *p: json.loads(R.joinpath(*p).read_text())
    ua = lambda rec, m: (lambda s: _pm(s['ua_mean'], s['ua_std'], s['n_seeds']))(model_summary(rec, m))
    sp, rnd, r11 = load('speaker-15ep', 'ablation_record.json'), load('random-15ep', 'ablation_record.json'), load('recipe-r11', 'record.json')
    eg = {p: load('egemaps', f'{p}.json') for p in ('speaker', 'random')}
    runs = pd.concat([record_runs(read_run_folder(d), candidate=d.name[len('recipe-'):]) for d in sorted(R.glob('recipe-r*'))],
                     ignore_index=True)
    students = complete_candidates(runs[~runs.candidate.str.endswith('/teacher')], seeds=[0, 1, 2])
    nested = nested_selection(students, n_classes=len(r11['vocab']))
    per = lambda x: _pm(x.mean(), x.std(ddof=1), len(x))
    chosen = pd.Series(nested['choices'].candidate).value_counts()
    card = load('pretrained.json')
    base_net = pd.read_csv(R/'recipe-r11'/'summary.csv').iloc[0]['baseline_ua']
    paper = PAPER_TABLE1['UA']
    xrows = x12_rows(per)
    rows = [('classical: log filterbank mean+std, logistic regression, on the features the network sees', '', f"{base_net:.1f}", ua(sp, 'logreg'), ua(rnd, 'logreg'), ''),
            ('the same, its utterance vectors standardised per speaker', '', ua(sp, 'logreg_spk'), '', ua(rnd, 'logreg_spk'), ''),
            ('classical: eGeMAPS functionals (openSMILE), RBF SVM', '', ua(eg['speaker'], 'egemaps_svm_spk'), ua(eg['speaker'], 'egemaps_svm'),
             ua(eg['random'], 'egemaps_svm'), ''),
            *[(name, 'paper, 15 epochs', '', ua(sp, m), ua(rnd, m), f"{paper[m]:.1f}")
              for m, name in (('cnn', 'CNN'), ('teacher', 'CNN + multi-head attention (teacher)'), ('dkd', 'DKD student (DKDFMH)'))],
            ('CNN + multi-head attention (teacher)', '**recommended**', ua(r11, 'teacher'), '', '', ''),
            ('DKD student (DKDFMH)', '**recommended**', f"{ua(r11, 'dkd_s')} (nested: {per(nested['nested'])})", '', '', ''),
            *xrows,
            ('teacher: the shipped `pretrained` model', f"single-file (`{card['recipe']}`)", f"{card['scores']['last_speaker']['ua']} (`--speaker`)",
             f"{card['scores']['last_single']['ua']} (nested: {card['nested']['ua']})", '', '')]
    best = max(('teacher', 'dkd_s'), key=lambda m: model_summary(r11, m)['ua_mean'])
    net, clf = 100 * model_summary(r11, best)['ua_mean'], 100 * model_summary(sp, 'logreg_spk')['ua_mean']
    verdict = (f"Transductive, the recommended recipe's {'teacher' if best == 'teacher' else 'DKD student'} ({net:.1f}) is "
               + (f"{net - clf:.1f} points above" if net > clf else f"{clf - net:.1f} points below" if net < clf else "level with")
               + f" the classical model standardised per speaker on its own vectors ({clf:.1f}):\nthe library's aim is the method done"
               " right and measured honestly, not a claim that it wins.")
    x12_note = ("\n*Speaker shifts* (`x12`): the recommended recipe with half of its training segments given another training speaker's"
                "\nfilterbank level and spread, as a single file presents an unknown speaker (`30_results`)." if xrows else '')
    head = ('| model | recipe | speaker-independent, transductive | speaker-independent, single file | random 80/20 (speakers mixed) '
            '| the paper (IEMOCAP, random 80/20) |')
    table = '\n'.join([head, '|---' * 6 + '|'] + ['| ' + ' | '.join(r) + ' |' for r in rows])
    return f"""## Results

EMO-DB (339 utterances, 10 speakers, angry / happy / neutral / sad), UA in % (the mean of the four recalls), test
utterances pooled over 5 speaker folds (2 test speakers, 1 validation speaker each; 1 seeded 80/20 split for the random
column), mean ± std over 3 seeds; every epoch chosen on the validation speakers. *Transductive*: the features are
standardised per speaker with all of the test speaker's recordings; *single file*: nothing but the recording (the
paper's recipe normalises nothing, so it is single-file by nature). *Nested*: the recipe chosen in each outer fold on
its validation speaker among the {students.candidate.nunique()} candidates of the recipe study that have 3 seeds, which picked
{', '.join(f"{c} in {n} fold{'s' * (n != 1)}" for c, n in chosen.items())}; the figure without it took the recipe with the best
test score ({nested['test_chosen'][0]}), so it is optimistic. The paper's recipe ran 15 of its 50 epochs, at lr 1e-3.{x12_note}

{table}

{verdict}
The whole study (the ablation, the beta sweep, {len(list(R.glob('recipe-r*')))} candidate recipes, each lever run by run) is in
[results/emodb/STUDY.md](results/emodb/STUDY.md), its records beside it; the shipped model's card in [MODEL_CARD.md](MODEL_CARD.md).{level_note()}
"""

def x12_rows(per)->list:
    """The speaker-shift recipe (results/emodb/single-x12) in both modes, once its teacher and DKD student cover the five folds
    of seeds 0-2; its single-file student beside the nested choice among the single-file candidates' students"""
    from dkdfmh.study import mode_runs, complete_candidates, nested_selection
    x = R/'single-x12'
    if not (x/'modes').is_dir(): return []
    got = {m: complete_candidates(mode_runs(x, m, candidate='x12'), seeds=[0, 1, 2]) for m in ('speaker', 'single')}
    if any(g.candidate.nunique() < 2 for g in got.values()): return []
    ua = {m: nested_selection(g, n_classes=4)['candidates'] for m, g in got.items()}
    single = pd.concat([mode_runs(d, 'single', models=['dkd_s'], candidate=d.name[len('single-'):]) for d in sorted(R.glob('single-*'))
                        if (d/'modes').is_dir()], ignore_index=True)
    studs = complete_candidates(single, seeds=[0, 1, 2])
    nested = (f" (nested: {per(nested_selection(studs, n_classes=4)['nested'])})" if studs.candidate.nunique() > 1
              else " (the only single-file student with 3 seeds: no choice to nest)")
    return [('CNN + multi-head attention (teacher)', 'speaker shifts (`x12`)', per(ua['speaker']['x12/teacher']), per(ua['single']['x12/teacher']), '', ''),
            ('DKD student (DKDFMH)', 'speaker shifts (`x12`)', per(ua['speaker']['x12/dkd_s']), per(ua['single']['x12/dkd_s']) + nested, '', '')]

def level_note()->str:
    "Whether the shipped file moves single files to the training speech level, which its cross-validation predates"
    from dkdfmh.modelfile import read_model
    from dkdfmh.inference import model_path
    norm = read_model(model_path('pretrained')).norm
    if getattr(norm, 'ref_level', None) is None: return ''
    band = '' if norm.level_filters is None else ' (measured on the filters a telephone line passes)'
    return (f"\nThe shipped file moves each recording to the training speech level{band} first, so a recording's gain does not change its"
            "\nprediction; its single-file figure above was measured before that move (the card gives what the move did).")

def _results_cell(nb):
    return next(i for i, c in enumerate(nb['cells']) if ''.join(c['source']).startswith('## Results'))

if __name__ == '__main__':
    p, sp = ROOT/'nbs'/'index.ipynb', R/'STUDY.md'
    nb = json.loads(p.read_text(encoding='utf-8'))
    i, text, report = _results_cell(nb), headline(), study()
    if '--check' in sys.argv:
        bad = [n for n, ok in (('nbs/index.ipynb (its Results cell)', ''.join(nb['cells'][i]['source']) == text.rstrip('\n')),
                               ('results/emodb/STUDY.md', sp.exists() and sp.read_text(encoding='utf-8') == report)) if not ok]
        if bad: sys.exit(f"{', '.join(bad)}: not what the records give: run `python tools/results_readme.py && python tools/readme.py`")
        print('the README results and STUDY.md match the records')
    else:
        nb['cells'][i]['source'] = text.rstrip('\n').splitlines(keepends=True)
        p.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
        sp.write_text(report, encoding='utf-8'); print(f'wrote {p} (Results) and {sp}')
