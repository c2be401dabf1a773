"""Does a recipe tuned on EMO-DB hold on recordings unlike EMO-DB's? Simulated corpus shifts made from EMO-DB itself.

A recipe is trained on the clean training speakers of each of the 5 speaker folds (seed 0; the splits of every EMO-DB
study here), then its models, chosen on the clean validation speaker as always, are scored on their test speakers'
recordings changed in one way each:
  clean     the recordings as they are;
  noise20   white noise added at 20 dB SNR (per recording, seeded);
  phone     telephone band: a 4th-order Butterworth band-pass at 300-3400 Hz;
  level-20  the level 20 dB lower;
  from8k    resampled to 8 kHz and back to 16 kHz (the upper half of the band gone).
With --from FOLDER --unseen, shifts of kinds no channel copy (`Config.channel_copies`: a band-pass and white noise) is
made of, for recipes trained with such copies: pink20 (pink noise at 20 dB SNR), babble10 (four recordings of the fold's
training speakers talking at once, 10 dB below), reverb (a synthetic room, reverberation time 0.5 s).
The classical baseline (log filterbank mean+std, logistic regression) trained on the same clean rows is scored on the
same shifted test rows, with the network's standardisation ('speaker': each test speaker standardised by their own
shifted recordings, transductive) and with global statistics of the training rows (single-file).

Run from the repository root:
  .venv/bin/python results/emodb/shifts.py [--recipe fast] [--threads 1] [--jobs 1] [--highfreq 4000] [--attn-gain 1] [--lr-find]
      [--channel-copies 0]
  .venv/bin/python results/emodb/shifts.py --from results/emodb/shift-fast   (no training: a study's kept models, both modes)
  .venv/bin/python results/emodb/shifts.py --from results/emodb/single-x12 --unseen   (the unseen shifts, into FOLDER/shifts-unseen)
Training resumes (finished runs are read back from results/emodb/shift-<recipe>/runs; a lever changed from the recipe's
value adds its own suffix: -hf<highfreq> for another upper frequency of the filterbank, -gain<g> for another attention
gain, -lrfind for the learning rate found per fold, -chan<n> for training copies through random channels); writes shifts.json and shifts.md there.
"""
import argparse, json, sys
from pathlib import Path
import numpy as np
import pandas as pd
import torch
from scipy.signal import butter, sosfiltfilt
from dkdfmh.audio import find_emodb, load_audio, atomic_write_text
from dkdfmh.features import logfbank, FeatureConfig
from dkdfmh.presets import preset_config
from dkdfmh.train import load_data, run_experiment, split_dls, run_scores, make_model, keep_freed_memory
from dkdfmh.levers import normalized_baseline
from dkdfmh.evaluate import to_markdown
from dkdfmh.metrics import run_confusion, scores_from_confusion

SHIFTS = ('clean', 'noise20', 'phone', 'level-20', 'from8k')

def shifted(y:np.ndarray, sr:int, shift:str, seed:int)->np.ndarray:
    "One recording changed by `shift` (float32, same rate and length)"
    if shift == 'clean': return y
    if shift == 'noise20':
        return at_snr(y, np.random.default_rng(seed).standard_normal(len(y)).astype(np.float32), 20)
    if shift == 'phone': return sosfiltfilt(butter(4, (300, 3400), 'bandpass', fs=sr, output='sos'), y).astype(np.float32)
    if shift == 'level-20': return (y * 10 ** (-20 / 20)).astype(np.float32)
    if shift == 'from8k':
        import soxr
        return soxr.resample(soxr.resample(y, sr, 8000), 8000, sr)[:len(y)].astype(np.float32)
    if shift == 'pink20': return at_snr(y, pink_noise(len(y), seed), 20)
    if shift == 'reverb': return reverberant(y, sr, 0.5, seed)
    raise ValueError(f"unknown shift {shift!r}")

# shifts of kinds no channel copy (`06b_augment`: a band-pass and white noise) is made of, for recipes trained with them:
# pink noise, other people talking (four training utterances at 10 dB SNR), a room (reverberation time 0.5 s)
UNSEEN = ('clean', 'pink20', 'babble10', 'reverb')

def at_snr(y:np.ndarray, n:np.ndarray, snr:float)->np.ndarray:
    "`y` plus the noise `n` scaled to `snr` dB below it (float32)"
    return (y + n * np.sqrt(np.mean(y ** 2) / max(np.mean(n ** 2), 1e-20) / 10 ** (snr / 10))).astype(np.float32)

def pink_noise(n:int, seed:int)->np.ndarray:
    "Pink (1/f power) Gaussian noise of `n` samples: white noise shaped in the frequency domain"
    spec = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    f = np.arange(len(spec), dtype=float); f[0] = 1.
    return np.fft.irfft(spec / np.sqrt(f), n).astype(np.float32)

def reverberant(y:np.ndarray, sr:int, rt60:float, seed:int)->np.ndarray:
    "`y` in a synthetic room: a direct path plus exponentially decaying Gaussian noise (60 dB down after `rt60` s), same RMS"
    from scipy.signal import fftconvolve
    t = np.arange(int(rt60 * sr)) / sr
    h = np.random.default_rng(seed).standard_normal(len(t)) * np.exp(-6.9 * t / rt60) * 0.1
    h[0] = 1.
    out = fftconvolve(y, h)[:len(y)]
    return (out * np.sqrt(np.mean(y ** 2) / max(np.mean(out ** 2), 1e-20))).astype(np.float32)

def babble(y:np.ndarray, others:list, snr:float)->np.ndarray:
    "`y` with the other recordings `others` (each at equal power, looped to `y`'s length, summed) `snr` dB below it"
    mix = sum(np.resize(o, len(y)) / np.sqrt(np.mean(o ** 2) + 1e-20) for o in others)
    return at_snr(y, mix, snr)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--recipe', default='fast'); p.add_argument('--threads', type=int, default=1); p.add_argument('--jobs', type=int, default=1)
    p.add_argument('--highfreq', type=int, default=4000, help="the filterbank's upper frequency, Hz (the reference code's: 4000)")
    p.add_argument('--attn-gain', type=float, default=None, help="multiplier of the attention output (default: the recipe's)")
    p.add_argument('--lr-find', action='store_true', help="the learning rate found per fold by fastai's lr_find instead of the recipe's")
    p.add_argument('--channel-copies', type=int, default=0, help="training copies with each speaker's audio through a random channel (Config.channel_copies)")
    p.add_argument('--from', dest='study', default=None, help="train nothing: score the kept models of this study folder (e.g. results/emodb/single-x11)")
    p.add_argument('--unseen', action='store_true', help="with --from: the shifts no channel copy is made of (UNSEEN), into FOLDER/shifts-unseen")
    a = p.parse_args()
    if a.unseen and a.study is None: sys.exit("shifts.py: --unseen scores kept models: give --from FOLDER")
    torch.set_num_threads(a.threads); keep_freed_memory()
    if a.study is not None:
        if not (Path(a.study)/'config.json').exists(): sys.exit(f"shifts.py: --from {a.study}: not a study folder (no config.json)")
        return from_study(Path(a.study), a.unseen)
    root = find_emodb()
    if root is None: sys.exit("shifts.py: EMO-DB not found (set DKDFMH_EMODB)")
    cfg = preset_config(a.recipe, corpus='emodb', root=str(root), protocol='speaker', seeds=(0,), save_models=True,
                        features=FeatureConfig(highfreq=a.highfreq))
    if a.attn_gain is not None: cfg = cfg.replace(attn_gain=a.attn_gain)
    if a.lr_find: cfg = cfg.replace(lr_find=True)
    if a.channel_copies: cfg = cfg.replace(channel_copies=a.channel_copies)
    levers = (('' if a.highfreq == 4000 else f' --highfreq {a.highfreq}') + ('' if a.attn_gain is None else f' --attn-gain {a.attn_gain:g}')
              + (' --lr-find' if a.lr_find else '') + (f' --channel-copies {a.channel_copies}' if a.channel_copies else ''))
    out = Path(__file__).parent/(f'shift-{a.recipe}' + levers.replace(' --highfreq ', '-hf').replace(' --attn-gain ', '-gain').replace(' --lr-find', '-lrfind')
                                  .replace(' --channel-copies ', '-chan'))
    data = load_data(cfg, progress=False)
    rec = run_experiment(cfg, out, progress=True, data=data, jobs=a.jobs)
    df, feats, splits = data
    sr, fc = cfg.features.sr, cfg.features
    models = [m for m in dict.fromkeys(r['model'] for r in rec['runs'])]
    test_rows = np.concatenate([s.test for s in splits])
    rows = []
    for shift in SHIFTS:
        moved = {int(i): logfbank(shifted(load_audio(df.path[i], sr), sr, shift, int(i)), fc) for i in test_rows}
        for f, sp in enumerate(splits):
            mixed = list(feats)
            for i in sp.test: mixed[i] = moved[int(i)]                        # this fold's test speakers shifted, all else clean
            dls = split_dls(cfg, (df, mixed, splits), f, seed=0)
            for m in models:
                net = make_model(cfg, len(rec['vocab']), cfg.teacher_attention)
                net.load_state_dict(torch.load(out/'checkpoints'/f"fold{f}-seed0-{m}.final.pth", weights_only=True))
                s = run_scores(net.eval(), dls.test_segments())
                rows.append(dict(shift=shift, fold=f, model=m, ua=s['ua'], utt_true=s['utt_true'], utt_pred=s['utt_pred']))
            rows += baseline_rows(df, mixed, splits, f, shift, rec['vocab'], fc)
        print(shift, 'done', flush=True)
    atomic_write_text(out/'shifts.json', json.dumps(dict(recipe=a.recipe, highfreq=a.highfreq, attn_gain=cfg.attn_gain, vocab=rec['vocab'], rows=rows)))
    table = pooled_table(rows, len(rec['vocab']))
    atomic_write_text(out/'shifts.md', f"# Simulated corpus shifts of EMO-DB: the `{a.recipe}` recipe\n\n"
                      f"Written by `.venv/bin/python results/emodb/shifts.py --recipe {a.recipe}{levers}`. UA (%) of the test utterances pooled "
                      "over the 5 speaker folds (seed 0), models trained and chosen on clean speech.\n\n" + to_markdown(table) + '\n')
    print(table.to_string())

def baseline_rows(df, mixed:list, splits, f:int, shift:str, vocab:list, fc)->list:
    "The classical baseline trained on fold `f`'s clean rows and scored on its shifted test rows (`mixed`), standardised per speaker and globally"
    return [dict(shift=shift, fold=f, model=f'baseline_{bn}', ua=b['best']['ua'], confusion=b['best']['confusion'])
            for bn in ('speaker', 'global') for b in [normalized_baseline(df, mixed, splits, bn, folds=[f], vocab=vocab, cfg=fc)['runs'][0]]]

def test_audio(df, i:int, sr:int, shift:str, pool)->np.ndarray:
    "Test recording `i` changed by `shift`; 'babble10' talks over it with four recordings drawn from `pool` (row numbers)"
    y = load_audio(df.path[i], sr)
    if shift != 'babble10': return shifted(y, sr, shift, int(i))
    return babble(y, [load_audio(df.path[j], sr) for j in np.random.default_rng(int(i)).choice(pool, 4, replace=False)], 10)

def from_study(folder:Path, unseen:bool=False):
    """Score the kept models of a study folder (seed 0; e.g. shift-fast, or single-x11 of single_file.py) under every shift in four
    modes: each test speaker standardised by their own shifted recordings (model name alone); single files moved to the training
    speech level, the library's single-file mode (`_single`); moved by a level measured on the telephone band's filters only
    (`_single_band`, `band_filters`); single files as recorded (`_single_raw`); beside the baselines.
    Fold by fold into FOLDER/shifts-both-modes/, so that folds whose models are not on this machine yet are added by a later run.
    `unseen`: the shifts of `UNSEEN` instead (babble from the fold's training speakers), per speaker and `_single` only, into
    FOLDER/shifts-unseen/"""
    from dkdfmh.train import Config, run_name
    from dkdfmh.data import make_vocab
    from dkdfmh.norm import FeatureNorm, band_filters
    sys.path.insert(0, str(Path(__file__).parent))
    from single_file import mode_scores
    cfg = Config.from_dict(json.loads((folder/'config.json').read_text())).replace(root=str(find_emodb()))
    if cfg.norm != 'speaker': sys.exit(f"shifts.py: --from {folder}: its recipe standardises {cfg.norm!r}, not per speaker: it has one mode only")
    out = folder/('shifts-unseen' if unseen else 'shifts-both-modes'); out.mkdir(exist_ok=True)
    df, feats, splits = load_data(cfg, progress=False)
    vocab, sr, fc = make_vocab(df['label']), cfg.features.sr, cfg.features
    runs = [json.loads(p.read_text()) for p in sorted((folder/'runs').glob('fold*-seed0-*.json'))]
    models = list(dict.fromkeys(r['model'] for r in runs))
    ck = lambda f, m: folder/'checkpoints'/f"{run_name(f, 0, m)}.final.pth"
    for f, sp in enumerate(splits):
        dst = out/f"fold{f}.json"
        if dst.exists() or not all(ck(f, m).exists() for m in models): continue
        norm = FeatureNorm.fit('speaker', [feats[i] for i in sp.train], fc, speakers=df['speaker'].to_numpy()[sp.train])   # as training fitted it
        for r in runs:
            if r['fold'] == f: np.testing.assert_allclose(norm.ref_mean, r['norm']['ref_mean'], rtol=1e-6)   # the run's own normaliser
        rows, lab, spk = [], df['label'].to_numpy()[sp.test], df['speaker'].to_numpy()[sp.test]
        nets = {}
        for m in models:
            nets[m] = make_model(cfg, len(vocab), cfg.teacher_attention if m == 'teacher' else True).eval()
            nets[m].load_state_dict(torch.load(ck(f, m), map_location='cpu', weights_only=True))
        modes = (('', norm, 'speaker'), ('_single', norm, 'single'))
        if not unseen:
            band = FeatureNorm.fit('speaker', [feats[i] for i in sp.train], fc, speakers=df['speaker'].to_numpy()[sp.train],
                                   level_filters=band_filters(fc))                 # the level on the telephone band's filters
            modes += (('_single_band', band, 'single'), ('_single_raw', FeatureNorm.from_dict({**norm.to_dict(), 'ref_level': None}), 'single'))
        for shift in (UNSEEN if unseen else SHIFTS):
            moved = {int(i): logfbank(test_audio(df, int(i), sr, shift, np.asarray(sp.train)), fc) for i in sp.test}
            X = [moved[int(i)] for i in sp.test]
            for m, net in nets.items():
                for suffix, n, mode in modes:
                    s = mode_scores(net, n, X, lab, spk, vocab, fc, mode)
                    rows.append(dict(shift=shift, fold=f, model=m + suffix, ua=s['ua'], utt_true=s['utt_true'], utt_pred=s['utt_pred']))
            mixed = list(feats)
            for i in sp.test: mixed[i] = moved[int(i)]
            rows += baseline_rows(df, mixed, splits, f, shift, vocab, fc)
        atomic_write_text(dst, json.dumps(rows)); print(f"fold {f} done", flush=True)
    rows = [r for p in sorted(out.glob('fold*.json')) for r in json.loads(p.read_text())]
    if not rows: sys.exit(f"shifts.py: no fold of {folder} has the weights of every model here (checkpoints/)")
    if not unseen and len({any(r['model'].endswith('_single_band') for r in rows if r['fold'] == f) for f in {r['fold'] for r in rows}}) > 1:
        sys.exit(f"shifts.py: {out}: some folds were scored without the level on the telephone band's filters ('_single_band'): "
                 "remove those fold files to score them again")
    folds = sorted({r['fold'] for r in rows})
    atomic_write_text(folder/f'{out.name}.json', json.dumps(dict(recipe=folder.name, folds=folds, vocab=vocab, rows=rows)))
    table = pooled_table(rows, len(vocab))
    kinds = ("pink20: pink noise at 20 dB SNR; babble10: four recordings of the fold's training speakers talking at once, 10 dB below; "
             "reverb: a synthetic room, reverberation time 0.5 s. " if unseen else '')
    single = ("`_single`: each recording alone, moved to the training speech level." if unseen else
              "`_single`: each recording alone, moved to the training speech level (the library's single-file mode); `_single_band`: "
              "moved by a level measured on the filters inside 300-3400 Hz only; `_single_raw`: each recording alone, as recorded.")
    atomic_write_text(folder/f'{out.name}.md', ("# Shifts no channel copy is made of" if unseen else "# Simulated corpus shifts of EMO-DB")
                      + f": the models of `{folder.name}`, in both modes\n\n"
                      f"Written by `.venv/bin/python results/emodb/shifts.py --from results/emodb/{folder.name}{' --unseen' if unseen else ''}`. "
                      f"UA (%) of the test utterances pooled over speaker fold(s) {folds} of 5 (seed 0), models trained and chosen on clean speech. "
                      + kinds + "Model name alone: each test speaker standardised by their own shifted recordings; " + single
                      + "\n\n" + to_markdown(table) + '\n')
    print(table.to_string())

def pooled_table(rows:list, n:int)->pd.DataFrame:
    "UA (%) of the test utterances pooled over the folds, per model (rows) and shift (columns)"
    cms = {}
    for r in rows: cms.setdefault((r['model'], r['shift']), []).append(run_confusion(r, n))
    ua = pd.Series({k: round(100 * scores_from_confusion(sum(v))['ua'], 1) for k, v in cms.items()}).unstack()
    return ua.loc[list(dict.fromkeys(r['model'] for r in rows)), list(dict.fromkeys(r['shift'] for r in rows))]

if __name__ == '__main__': main()
