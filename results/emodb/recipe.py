"""Candidate recipes for issue 7 (accuracy on real speech), on the real EMO-DB copy, speaker-independent: 5 folds of 2
test speakers with 1 validation speaker (r3: 2) taken from the training side, every model selected on its validation speaker.
Each candidate is a set of `dkdfmh.train.Config` overrides on top of the paper's recipe; its teacher and students are
trained by `run_experiment` (resumable: finished runs are read back), and it is compared with the classical baseline
under the same normalisation on the same folds.

Run from the repository root:  .venv/bin/python results/emodb/recipe.py CANDIDATE [--seeds 0 1 2] [--folds 0 1] [--jobs 2]
Output: results/emodb/recipe-CANDIDATE/ (runs, record.json of every finished seed, summary.md and summary.csv: teacher, each student and the
baseline, pooled UA/WA, and each student minus its own teacher run by run; for the validation-selected and the last epoch)
"""
import argparse, json, math, sys, time
from pathlib import Path
import numpy as np, pandas as pd
from dkdfmh.presets import preset_config
from dkdfmh.audio import find_emodb, atomic_write_text, atomic_write_bytes
from dkdfmh.train import Config, load_data, run_experiment, summarize_runs, keep_freed_memory
from dkdfmh.levers import normalized_baseline, lever_rows, lever_table
from dkdfmh.evaluate import to_markdown


# the settings of r2 (RECIPES['fast']; the recommended recipe is r11, r2 with speed-perturbed copies); every later candidate is r2 with one change (r5, r6, r10 overriding one of these)
R2 = dict(norm='speaker', schedule='one_cycle', lr=3e-3, epochs=25, distill=dict(warmup=10), select_from=0.5)

CANDIDATES = {
    # speaker-normalised features, fastai's one-cycle schedule, the paper's DKD and a quarter-weight DKD
    'r1': dict(norm='speaker', schedule='one_cycle', lr=3e-3, epochs=25, distill=dict(warmup=10),
               students={'dkd': dict(loss='dkd'), 'dkd_q': dict(loss='dkd', scale=0.25),
                         'dkd_ens': dict(loss='dkd', scale=0.25, ensemble=(0, 1, 2)),
                         # transductive: also the teacher's outputs on the unlabelled validation and test speakers' segments
                         'dkd_tr': dict(loss='dkd', scale=0.25, transductive=True)}),
    # r1 choosing each model's epoch only in one-cycle's annealing half (its validation UA swung by 30-60 points
    # between neighbouring epochs of the high-lr half); training is r1's, so seed by seed the trajectories are r1's
    'r2': dict(R2,
               students={'dkd_q': dict(loss='dkd', scale=0.25), 'dkd_s': dict(loss='dkd', scale=0.05),
                         # the ensemble lever on the recommended student: the same twentieth DKD term, learnt from the mean
                         # logits of the fold's teachers of seeds 0, 1 and 2 (each seed's student: its own initialisation)
                         'dkd_es': dict(loss='dkd', scale=0.05, ensemble=(0, 1, 2)),
                         # the temperature lever on the recommended student: T 2 instead of the paper's 4 (4 classes: at T 4
                         # the teacher's softened outputs are nearly uniform), the same twentieth of the term
                         'dkd_t2': dict(loss='dkd', scale=0.05, T=2.),
                         # the student's own augmentation ("consistent teaching"): SpecAugment masks on the student's
                         # training batches only (2 time bands up to 20 frames, 2 filter bands up to 8), the teacher run
                         # live on the same masked batch; the same twentieth of the term
                         'dkd_sa': dict(loss='dkd', scale=0.05, augment=dict(time_masks=2, freq_masks=2)),
                         # the student's own epoch budget ("patient teaching"): the recommended student trained for 50
                         # epochs against its teacher's 25 (one-cycle over 50, chosen among epochs 26-50 on validation)
                         'dkd_long': dict(loss='dkd', scale=0.05, epochs=50),
                         # the student's own mixup (consistent teaching with mixup instead of masks): segment mixup,
                         # Beta(0.4, 0.4), on the student's batches only, the teacher (trained without it) run live on the
                         # same mixed batch; in r4 (mixup for every model; seeds 0-1) the term lifted the student above its
                         # teacher at the last epoch while mixup cost the teacher 4 UA points: the unaugmented teacher, the mixed student
                         'dkd_mx': dict(loss='dkd', scale=0.05, augment=dict(mixup=0.4)),
                         # the warm-up lever on the recommended student: the twentieth of the term at full weight from the
                         # first epoch (warm-up 0) instead of ramped up over 10 epochs
                         'dkd_w0': dict(loss='dkd', scale=0.05, warmup=0),
                         # born again (Furlanello et al. 2018): generation 2 learns from generation 1, which is dkd_s with
                         # the same twentieth of the term; the run keeps generation 1's scores beside generation 2's. Where
                         # the teacher's kept weights are gone (a new machine) the teacher is trained again: a rerun, not
                         # r2's teacher to the last digit, so generation 1 is dkd_s's rerun and the lever is generation 2
                         # against generation 1 (lever_effects.py), as dkd_w0 is against generation 1 too
                         'dkd_ban': dict(loss='dkd', scale=0.05, generations=2)}),
    # r2 with 2 validation speakers per fold instead of 1 (the same test speakers; 6 training speakers instead of 7): one
    # speaker's validation UA misled the epoch choice by up to 20 points (r2: chosen vs last epoch, run by run)
    'r3': dict(R2, n_valid_speakers=2,
               students={'dkd_s': dict(loss='dkd', scale=0.05)}),
    # r2 with segment mixup for every model (lam ~ Beta(0.4, 0.4), the larger weight kept on the first segment; soft-target
    # cross-entropy): the config-wide augmentation lever at the recommended recipe; a student's teacher runs live on the
    # same mixed batch ("consistent teaching"), and DKD's target class is the dominant segment's label
    'r4': dict(R2, mixup=0.4,
               students={'dkd_s': dict(loss='dkd', scale=0.05)}),
    # the config-wide levers of issue 7 at the recommended recipe, one change each against r2 (teacher and the recommended
    # student dkd_s; augmentation reaches a student's batches too, its teacher then run live on the same batch):
    # r5: global standardisation (the training speakers' mean and std: not transductive) instead of per speaker
    'r5': dict(R2, norm='global',
               students={'dkd_s': dict(loss='dkd', scale=0.05)}),
    # r6: each utterance standardised with its own statistics (no speaker identity needed) instead of per speaker
    'r6': dict(R2, norm='utterance',
               students={'dkd_s': dict(loss='dkd', scale=0.05)}),
    # r7: SpecAugment for every model (2 time bands up to 20 frames and 2 filter bands up to 8 per training segment)
    'r7': dict(R2, time_masks=2, freq_masks=2,
               students={'dkd_s': dict(loss='dkd', scale=0.05)}),
    # r8: random segment offsets (a fresh offset per utterance every epoch) instead of the fixed 1-s hop
    'r8': dict(R2, random_offsets=True,
               students={'dkd_s': dict(loss='dkd', scale=0.05)}),
    # r9: inverse-frequency class weights in the cross-entropy (UA is the headline metric; EMO-DB's 4 classes are unequal)
    'r9': dict(R2, balance='weights',
               students={'dkd_s': dict(loss='dkd', scale=0.05)}),
    # r10: the paper's schedule, Adam at a constant rate, instead of one-cycle; at the constant rate that trained here (1e-3:
    # at the paper's 1e-4 the network still predicted one class after 15 epochs), not one-cycle's 3e-3 peak: each schedule
    # at its working rate (so two numbers change), the epoch still chosen among the last 13
    'r10': dict(R2, schedule='constant', lr=1e-3,
                students={'dkd_s': dict(loss='dkd', scale=0.05)}),
    # r11: speed-perturbed copies of every training utterance (played at 0.9 and 1.1 times the rate by librosa
    # resampling: tempo and pitch together, as Kaldi's speed perturbation; three times the training segments, so about
    # three times the time an epoch), every model
    'r11': dict(R2, speed_factors=(0.9, 1.1),
                students={'dkd_s': dict(loss='dkd', scale=0.05)}),
    # r12: the student taught by its teacher's last epoch instead of its validation-chosen one: one validation speaker
    # misleads the teacher's choice now and then (r2: 86.2 ± 4.1 UA chosen, 87.2 ± 1.0 at the last epoch). Its teacher
    # has r2's settings and seed, but its numbers are r2's only where the arithmetic is too: r2's teachers of seeds 0-2
    # were trained in earlier sessions (some as r1's), and the training losses part in the 4th-5th decimal by epoch 3 and
    # by hundredths by epoch 9 (floating-point order: thread count, build); so r12's teacher is a rerun of r2's, and
    # teacher against teacher measures run-to-run noise alone
    'r12': dict(R2, teacher_select='last',
                students={'dkd_s': dict(loss='dkd', scale=0.05)}),
    # r13: r11's control for training length: r11 triples an epoch's segments, so its models take three times r2's
    # optimiser steps; r13 gives r2 as many (75 epochs of the original audio, the DKD warm-up over the same 30% of
    # training), so that r13 -> r11 is the copies alone at equal steps
    'r13': dict(R2, epochs=75, distill=dict(warmup=30),
                students={'dkd_s': dict(loss='dkd', scale=0.05)}),
    # r14: the attention output times its 64 channels (`attn_gain`, `04_model`): at initialisation each head's softmax
    # weights are about 1/64, so the classifier sees features some 64 times smaller than V and r2's models sat at chance
    # validation UA for their first 3-5 epochs; with the gain the output starts at V's scale. Every model.
    'r14': dict(R2, attn_gain=64.,
                students={'dkd_s': dict(loss='dkd', scale=0.05)}),
    # r15: one channel copy of every training utterance (`channel_copies`, `06b_augment`): each training speaker's audio
    # through its own random band-pass (lower edge 50-400 Hz, upper 2500-8000 Hz) with white noise at 10-40 dB SNR, for
    # recordings unlike EMO-DB's (`shifts.py --channel-copies 1`); twice the training segments, every model
    'r15': dict(R2, channel_copies=1,
                students={'dkd_s': dict(loss='dkd', scale=0.05)}),
    # r16: r11 and r15 together: the speed-perturbed copies and one channel copy of every training utterance (four times
    # r2's training segments), every model
    'r16': dict(R2, speed_factors=(0.9, 1.1), channel_copies=1,
                students={'dkd_s': dict(loss='dkd', scale=0.05)}),
}
# r2 trains exactly as r1 (same settings but `select_from`, which only changes which epoch is kept; CPU runs are
# deterministic on one machine with one thread count): a teacher of r1 whose validation-chosen epoch already lies in
# r2's window is r2's teacher, weights and scores alike, and so is a student of such a teacher whose chosen epoch lies
# in the window; they are copied instead of trained again (their run files say so: 'reused_from')
REUSE = {'r2': 'r1'}
# students trained after their recorded teacher's weights were gone, before a retrained teacher's scores were recorded
# (`teacher_rerun`): they were taught by a rerun whose scores are lost, so their dUA is against a teacher that did not teach them
UNRECORDED_RERUN = {'r2': ('dkd_w0', 'dkd_ban')}
# per utterance, the classical baseline's features (each utterance's filterbank mean and std) are set to 0 and 1: said in the summary
DEGENERATE = (" Per utterance it is degenerate: that standardisation sets each utterance's filterbank mean and std, the baseline's"
              " very features, to 0 and 1, so it is at chance and says nothing of the networks.")

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog='\n'.join(__doc__.split('\n')[1:]))
    p.add_argument('candidate', choices=list(CANDIDATES))
    p.add_argument('--seeds', type=int, nargs='+', default=[0])
    p.add_argument('--folds', type=int, nargs='+', default=None)
    p.add_argument('--students', nargs='*', default=None, help="train only these of the candidate's students (default: all; none: teachers only)")
    p.add_argument('--jobs', type=int, default=1, help="worker processes for the (fold, seed) units (`run_experiment`'s jobs; 0: as many as the machine allows)")
    a = p.parse_args()
    keep_freed_memory()   # freed batch memory reused, not handed back to the kernel: 13% less time an epoch on a quiet machine
                          # (benchmarks/PROCESS_COSTS.md; `08_train`)
    root = find_emodb()
    if root is None: sys.exit("recipe.py: EMO-DB not found (find_emodb() returned None; set DKDFMH_EMODB)")
    spec = dict(CANDIDATES[a.candidate])
    if a.students is not None:
        bad = sorted(set(a.students) - set(spec['students']))
        if bad: sys.exit(f"recipe.py: {a.candidate} has no student(s) {bad}; it has {', '.join(spec['students'])}")
        spec['students'] = {k: v for k, v in spec['students'].items() if k in a.students}
    cfg = preset_config('paper', corpus='emodb', root=str(root), protocol='speaker', n_folds=5, seeds=tuple(a.seeds),
                 folds=None if a.folds is None else tuple(a.folds), **{'n_valid_speakers': 1, **spec})
    out = Path(__file__).parent/f"recipe-{a.candidate}"
    t0 = time.time()

    def reuse_runs(src:Path, out:Path, first:int, seeds, folds, students):
        """Copy the runs of `src` that this recipe would reproduce exactly into `out`: a teacher whose chosen epoch is >= `first`,
        and a student of the same name and settings whose teacher was copied and whose chosen epoch is >= `first` too
        (record and kept weights; the weights first, so that a run file never lacks them); return how many"""
        theirs, mine = json.loads((src/'config.json').read_text()), cfg.to_dict()
        differ = sorted(k for k in mine if k not in ('select_from', 'students', 'seeds', 'folds') and json.dumps(theirs.get(k), default=str) != json.dumps(mine[k], default=str))
        if differ: sys.exit(f"recipe.py: {src} was trained with other settings ({differ}): its runs cannot be reused")
        n = 0
        def copy(f, r):
            w = src/'checkpoints'/f.name.replace('.json', '.final.pth')
            if w.exists(): (out/'checkpoints').mkdir(parents=True, exist_ok=True); atomic_write_bytes(out/'checkpoints'/w.name, w.read_bytes())
            atomic_write_text(out/'runs'/f.name, json.dumps(dict(r, reused_from=src.name)))
        for f in sorted((src/'runs').glob('*-teacher.json')):
            r = json.loads(f.read_text())
            if r['seed'] not in seeds or (folds is not None and r['fold'] not in folds) or r['best_epoch'] < first: continue
            if not (src/'checkpoints'/f.name.replace('.json', '.final.pth')).exists(): continue
            if not (out/'runs'/f.name).exists(): copy(f, r); n += 1
            if json.loads((out/'runs'/f.name).read_text()).get('reused_from') != src.name: continue   # trained here: its students too
            for name in students:
                g = src/'runs'/f.name.replace('-teacher.json', f'-{name}.json')
                if not g.exists() or (out/'runs'/g.name).exists(): continue
                rs = json.loads(g.read_text())
                if rs['best_epoch'] >= first and rs['settings'] == cfg.student_settings(name): copy(g, rs); n += 1
        return n

    if a.candidate in REUSE:
        (out/'runs').mkdir(parents=True, exist_ok=True)
        k = reuse_runs(Path(__file__).parent/f"recipe-{REUSE[a.candidate]}", out, math.ceil(cfg.select_from*cfg.epochs), cfg.seeds, cfg.folds, spec['students'])
        if k: print(f"reused {k} run(s) of recipe-{REUSE[a.candidate]} (their chosen epoch lies inside this recipe's window: the same computation)")
    data = load_data(cfg, progress=False)
    rec = run_experiment(cfg, out, progress=True, data=data, jobs=None if a.jobs == 0 else a.jobs)
    # the summary reads every finished run in the folder (students trained by earlier calls too), keeping per model the
    # seeds whose 5 folds are all done, so that every pooled score covers the whole corpus
    runs = [json.loads(f.read_text()) for f in sorted((out/'runs').glob('*.json'))]
    n_folds = len(data[2])
    done = {(r['model'], r['seed']) for r in runs if sum((x['model'], x['seed']) == (r['model'], r['seed']) for x in runs) == n_folds}
    # the settings shown: the candidate's, its students those with a finished seed (one defined but not yet run is named apart)
    ran = {m for m, _ in done}
    shown = dict(CANDIDATES[a.candidate], students={k: v for k, v in CANDIDATES[a.candidate]['students'].items() if k in ran})
    pending = [k for k in CANDIDATES[a.candidate]['students'] if k not in ran]
    rec = dict(rec, runs=[r for r in runs if (r['model'], r['seed']) in done], folds=list(range(n_folds)),
               config=cfg.replace(students=shown['students']).to_dict())
    rec['summary'] = summarize_runs(rec['runs'], rec['vocab'])
    atomic_write_text(out/'record.json', json.dumps(rec, indent=1))   # every finished seed of every model, not only this call's runs
    if not any(m == 'teacher' for m, _ in done): sys.exit(f"recipe.py: no seed has all {n_folds} folds of the teacher yet: no summary ({time.time() - t0:.0f} s)")
    rows = {}
    df, feats, splits = data
    base = normalized_baseline(df, feats, splits, cfg.norm, folds=rec['folds'], vocab=rec['vocab'], cfg=cfg.features)
    for which in ('best', 'last'):
        rows[which] = lever_table(lever_rows(a.candidate, rec, base, which=which, settings={'recipe': a.candidate}))
    t = pd.concat(rows, names=['epoch'])
    cols = ['student', 'settings', 'teacher_UA', 'student_UA', 'dUA', 'dUA_CI', 'wins', 'teacher_WA', 'student_WA', 'dWA', 'baseline_UA', 'baseline_WA', 'n_pairs', 'n_seeds']
    atomic_write_text(out/'summary.csv', t.to_csv())
    n_seeds = len({r['seed'] for r in rec['runs'] if r['model'] == 'teacher'})
    un = [m for m in UNRECORDED_RERUN.get(a.candidate, ()) if m in ran]
    unrecorded = (f" {', '.join(un)}: taught by a rerun of the recorded teacher (its weights were gone) whose scores were not recorded, so"
                  " their dUA is against the recorded teacher, not the one that taught them; `lever_effects.md` sets them against"
                  " dkd_ban's generation 1, taught by the same rerun.") if un else ''
    md = (f"""# Recipe {a.candidate}

EMO-DB, {rec['protocol']}, {len(rec['folds'])} folds x {n_seeds} teacher seed(s) (a student's seeds: its row's n_seeds; its teacher's scores in that row are over the same seeds); settings: {shown}.{f" Defined, no seed finished yet: {', '.join(pending)}." if pending else ''}
'best': the epoch chosen on the validation speaker; 'last': the last epoch (no selection). UA/WA: test utterances
pooled over folds, mean ± std over seeds (%). dUA: student minus its own teacher per (fold, seed), mean ± sd, 95% t
interval, wins. baseline: log filterbank mean+std + logistic regression with the same normalisation on the same folds.{DEGENERATE if cfg.norm == 'utterance' else ''}{unrecorded}
Command: `.venv/bin/python results/emodb/recipe.py {a.candidate} --seeds {' '.join(map(str, sorted({r['seed'] for r in rec['runs']})))}`

""" + to_markdown(t.reset_index()[['epoch'] + cols], index=False) + '\n')
    print(t.reset_index()[['epoch'] + cols].to_string())

    def ensemble_table(rec, data, members):
        """The fold's teachers of seeds `members` as one model (`EnsembleTeacher`: mean logits of their kept, validation-chosen
        weights) on each fold's test speakers, and every ensemble-taught student against that ensemble run by run (its honest
        reference: what it was taught by); the ensemble is the same model for every seed of a student"""
        import torch
        from dkdfmh.distill import EnsembleTeacher
        from dkdfmh.train import split_dls, make_model, run_scores, run_name
        students = sorted({r['model'] for r in rec['runs'] if tuple(r['settings'].get('ensemble') or ()) == tuple(members)})
        if not students: return None
        ens = []
        for f in rec['folds']:
            nets = []
            for s in members:
                w = out/'checkpoints'/f"{run_name(f, s, 'teacher')}.final.pth"
                if not w.exists(): return None
                nets.append(make_model(cfg, len(rec['vocab']), cfg.teacher_attention)); nets[-1].load_state_dict(torch.load(w, map_location='cpu', weights_only=True))
            dl = split_dls(cfg, data, f, 0).test_segments()
            sc = run_scores(EnsembleTeacher(nets).eval(), dl)
            seeds = sorted({r['seed'] for r in rec['runs'] if r['model'] in students})
            ens += [dict(model='teacher_ens', fold=f, seed=s, settings={}, best=sc) for s in seeds]
        r2 = dict(rec, runs=[r for r in rec['runs'] if r['model'] in students] + ens)
        return lever_table(lever_rows(a.candidate, r2, None, teacher='teacher_ens', which='best', settings={'recipe': a.candidate}))

    et = ensemble_table(rec, data, (0, 1, 2))
    if et is not None:
        ecols = ['student', 'settings', 'teacher_UA', 'student_UA', 'dUA', 'dUA_CI', 'wins', 'teacher_WA', 'student_WA', 'dWA', 'n_pairs', 'n_seeds']
        et = et.reset_index()[ecols].rename(columns={'teacher_UA': 'ensemble_UA', 'teacher_WA': 'ensemble_WA'})
        atomic_write_text(out/'ensemble.csv', et.to_csv(index=False))
    elif (out/'ensemble.csv').exists():
        # the teachers' kept weights are not here (checkpoints/ is not committed; a later call may train other students on a
        # new machine): the ensemble-taught students' runs are unchanged, so the table written when the weights were here stands
        et = pd.read_csv(out/'ensemble.csv')
    if et is not None:
        md += ("\n## Against the teacher ensemble\n\nThe students taught by the mean logits of the fold's teachers of seeds 0-2 "
                     "(their validation-chosen weights) against that ensemble itself on the same test speakers (the ensemble is one "
                     "model per fold: its ± over seeds is 0). dUA: student minus ensemble per (fold, seed); epoch chosen on validation.\n\n"
                     + to_markdown(et, index=False) + '\n')
        print(et.to_string())
    atomic_write_text(out/'summary.md', md)
    print(f"done in {time.time() - t0:.0f} s")

if __name__ == '__main__': main()   # the worker processes of --jobs import this file
