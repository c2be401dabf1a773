"""Recipes for predicting one recording with nothing else (the shipped pretrained model), on the real EMO-DB copy,
speaker-independent: 5 folds of 2 test speakers, 1 validation speaker taken from the training side, every model's epoch
chosen on its validation speaker. Each finished model is scored on its validation and test speakers in two modes:
'single' (no statistics of the test speaker: `FeatureNorm.single`, each recording moved to the training speech level where the
run's normaliser carries it; the runs of g11, s11 and x11 predate that and score single files as recorded) and 'speaker' (each test speaker's own recordings
give its statistics: `FeatureNorm.by_speaker`), so that the recipe can be chosen on the validation speakers in the
mode it will be used in (`modes.csv`, one row per run, side and mode).

Run from the repository root:  .venv/bin/python results/emodb/single_file.py CANDIDATE [--seeds 0 1 2] [--folds 0 1] [--students dkd_s] [--jobs 2]
Both the validation-chosen epoch ('best') and the last epoch ('last') are scored: the shipped model keeps its last.
Output: results/emodb/single-CANDIDATE/ (runs/, modes/ per run, modes.csv); weights in its checkpoints/ (not committed)
"""
import argparse, json, sys, time
from pathlib import Path
import numpy as np, pandas as pd, torch
from dkdfmh.audio import find_emodb, atomic_write_text
from dkdfmh.features import segments_of
from dkdfmh.norm import FeatureNorm
from dkdfmh.metrics import utterance_scores
from dkdfmh.train import Config, load_data, run_experiment, run_name, make_model, keep_freed_memory
from dkdfmh.levers import RECIPES

CANDIDATES = {
    # the recommended recipe (speed-perturbed copies, one-cycle to 3e-3, 25 epochs, the epoch chosen in the annealed half)
    # with its per-speaker standardisation: single-file as the average training speaker
    's11': dict(RECIPES['recommended'], students={}),
    # the same with global standardisation (the training segments' statistics): single-file by construction
    'g11': dict(RECIPES['recommended'], norm='global', students={}),
    # the recommended recipe with speaker shifts: half of the training segments get a random training speaker's
    # filterbank level and spread (`SpeakerShift`), as a single-file prediction presents an unknown speaker
    'x11': dict(RECIPES['recommended'], speaker_shift=0.5, students={}),
    # x11 as the library trains and scores it since single files are moved to the training speech level (`speech_level`):
    # the speaker shifts put each speaker where single files put it, and 'single' scores move each recording first.
    # Seed 0, folds 0-3 ran while that level was measured on the telephone band's filters (their runs' norm carries
    # level_filters); results/emodb/level_choice.py chose the level over all filters on their validation speakers
    'x12': dict(RECIPES['recommended'], speaker_shift=0.5, students={}),
    # x12 with one channel copy (each speaker's audio also through a random band-pass and noise, `06b_augment`): the lever that
    # lifted the `fast` recipe under noise and the telephone band (results/emodb/shift-fast-chan1); a copy more per epoch
    'x13': dict(RECIPES['recommended'], speaker_shift=0.5, channel_copies=1, students={}),
}

# students a candidate may add (`--students`): the recommended one, a twentieth of the paper's DKD term
STUDENTS = {'dkd_s': dict(loss='dkd', scale=0.05)}

def mode_scores(model, norm:FeatureNorm, feats:list, labels, speakers, vocab:list, cfg, mode:str)->dict:
    "Utterance-level scores of `model` on these utterances, standardised in `mode` ('single' or 'speaker')"
    normed = norm.single(feats) if mode == 'single' else norm.by_speaker(feats, speakers)
    X, utt = segments_of(normed, cfg.test_hop, cfg)
    with torch.inference_mode():
        logits = torch.cat([model(torch.from_numpy(X[i:i + 256])) for i in range(0, len(X), 256)])
    y = torch.as_tensor([vocab.index(l) for l in labels])[torch.from_numpy(utt)]
    s = utterance_scores(logits, y, torch.from_numpy(utt), len(vocab))
    return dict(ua=float(s['ua']), wa=float(s['wa']), utt_true=np.asarray(s['utt_true']).tolist(), utt_pred=np.asarray(s['utt_pred']).tolist())

def score_run(out:Path, run:dict, data, vocab, cfg)->dict:
    "Both modes on both sides of one finished run, for its validation-chosen ('best') and its last epoch's weights"
    df, feats, splits = data
    split, norm, res = splits[run['fold']], FeatureNorm.from_dict(run['norm']), {}
    if norm.level_filters is not None:   # a run that measured the speech level on some filters only (x12, seed 0, folds 0-3):
        tr = np.asarray(split.train)     # score it as the library moves single files, by the level over all filters
        norm = FeatureNorm.fit(norm.how, [feats[i] for i in tr], cfg.features, speakers=df['speaker'].to_numpy()[tr])
    for epoch, suffix in (('best', 'final'), ('last', 'last')):
        net = make_model(cfg, len(vocab), cfg.teacher_attention if run['model'] in ('teacher', 'cnn') else True).eval()
        net.load_state_dict(torch.load(out/'checkpoints'/f"{run_name(run['fold'], run['seed'], run['model'])}.{suffix}.pth", map_location='cpu', weights_only=True))
        res[epoch] = {}
        for side in ('valid', 'test'):
            rows = np.asarray(getattr(split, side))
            for mode in ('single', 'speaker'):
                res[epoch][f"{side}_{mode}"] = mode_scores(net, norm, [feats[i] for i in rows], df['label'].to_numpy()[rows],
                                                           df['speaker'].to_numpy()[rows], vocab, cfg.features, mode)
    return res

def recorded_modes(run:dict)->dict:
    """Both modes from the scores a run recorded itself (`FoldRun.scored`'s 'single', recipes standardised per speaker): for a run whose
    weights are not kept on this machine; the last epoch's validation scores are not recorded"""
    keep = lambda s: {k: s[k] for k in ('ua', 'wa', 'utt_true', 'utt_pred')}
    s = run['single']
    return dict(best=dict(valid_single=keep(s['valid']), valid_speaker=keep(run['valid']), test_single=keep(s['best']), test_speaker=keep(run['best'])),
                last=dict(test_single=keep(s['last']), test_speaker=keep(run['last'])))

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog='\n'.join(__doc__.split('\n')[1:]))
    p.add_argument('candidate', choices=list(CANDIDATES))
    p.add_argument('--seeds', type=int, nargs='+', default=[0])
    p.add_argument('--folds', type=int, nargs='+', default=None)
    p.add_argument('--students', nargs='*', default=[], choices=list(STUDENTS),
                   help="also train these students (after their teacher, from its kept weights) and score them in both modes")
    p.add_argument('--jobs', type=int, default=1, help="worker processes for the (fold, seed) units (`run_experiment`'s jobs; 0: as many as the machine allows)")
    p.add_argument('--precision', default='bf16', help="training precision (default bf16; fp32 for a CPU without native bf16)")
    a = p.parse_args()
    keep_freed_memory()
    root = find_emodb()
    if root is None: sys.exit("single_file.py: EMO-DB not found (find_emodb() returned None; set DKDFMH_EMODB)")
    cfg = Config(corpus='emodb', root=str(root), protocol='speaker', n_folds=5, n_valid_speakers=1, seeds=tuple(a.seeds),
                 folds=None if a.folds is None else tuple(a.folds), precision=a.precision,
                 **dict(CANDIDATES[a.candidate], students={k: STUDENTS[k] for k in a.students}))
    out = Path(__file__).parent/f"single-{a.candidate}"
    t0 = time.time()
    data = load_data(cfg, progress=False)
    rec = run_experiment(cfg, out, progress=True, data=data, save_models=True, jobs=None if a.jobs == 0 else a.jobs)
    (out/'modes').mkdir(exist_ok=True)
    for f in sorted((out/'runs').glob('*.json')):
        m = out/'modes'/f.name
        if m.exists(): continue
        run = json.loads(f.read_text())
        kept = (out/'checkpoints'/f"{f.stem}.final.pth").exists()
        if not kept and not run.get('single'): sys.exit(f"single_file.py: {f}: neither its weights nor its single-file scores are here")
        modes = score_run(out, run, data, rec['vocab'], cfg) if kept else recorded_modes(run)
        atomic_write_text(m, json.dumps(dict(fold=run['fold'], seed=run['seed'], model=run['model'], **modes)))
    rows = []
    for m in sorted((out/'modes').glob('*.json')):
        r = json.loads(m.read_text())
        for epoch in ('best', 'last'):
            for k, v in r[epoch].items():
                rows.append(dict(fold=r['fold'], seed=r['seed'], model=r['model'], epoch=epoch, side=k.split('_')[0], mode=k.split('_')[1], ua=v['ua'], wa=v['wa']))
    t = pd.DataFrame(rows)
    atomic_write_text(out/'modes.csv', t.to_csv(index=False))
    print(t.pivot_table(index=['model', 'seed', 'fold'], columns=['epoch', 'side', 'mode'], values='ua').round(3).to_string())
    print(f"done in {time.time() - t0:.0f} s")
