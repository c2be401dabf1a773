"""The field's standard classical baseline on EMO-DB: eGeMAPS v02 functionals (openSMILE, 88 per recording) with an RBF
SVM, on the very splits of the paper's experiments (`paper_experiments.py`): 5 speaker folds (2 test speakers, the
validation speaker joining the training side: a classical model selects nothing) and the paper's random 80/20 split;
globally standardised (the training rows' statistics: single-file) and per speaker (transductive), beside the filterbank
baseline of the same records. Nothing here is tuned: C = 1, the scikit-learn default.

Run from the repository root:  .venv/bin/python results/emodb/egemaps.py     (about 30 s; needs `pip install 'dkdfmh[egemaps]'`)
Writes results/emodb/egemaps/{speaker,random}.json (result records) and egemaps.md (their table).
"""
import json, sys
from pathlib import Path
from dkdfmh.presets import preset_config
from dkdfmh.audio import find_emodb, atomic_write_text
from dkdfmh.config import Config
from dkdfmh.corpora import load_corpus
from dkdfmh.splits import make_splits
from dkdfmh.evaluate import egemaps_features, baseline_experiment, merge_records, summary_table, to_markdown

root = find_emodb()
if root is None: sys.exit("egemaps.py: EMO-DB not found (find_emodb() returned None; set DKDFMH_EMODB)")
out = Path(__file__).parent/'egemaps'
out.mkdir(exist_ok=True)
tables = []
for protocol, n_folds in (('speaker', 5), ('random', 1)):
    cfg = preset_config('paper', corpus='emodb', root=str(root), protocol=protocol, n_folds=n_folds)       # the splits of paper_experiments.py
    df = load_corpus(cfg.corpus, cfg.root, **cfg.corpus_options)
    splits = make_splits(df, protocol=cfg.protocol, n_folds=cfg.n_folds, n_valid_speakers=cfg.n_valid_speakers, seed=cfg.split_seed)
    G = egemaps_features(df.path, progress=True)
    rec = merge_records(*(baseline_experiment(df, G, splits, clf='svm', normalize=n, describe='eGeMAPS v02 functionals',
                                              model='egemaps_svm' + ('_spk' if n == 'speaker' else '')) for n in ('none', 'speaker')))
    atomic_write_text(out/f'{protocol}.json', json.dumps(rec, indent=1))
    t = summary_table(rec)
    tables.append(f"## {t.attrs.get('caption', protocol)}\n\n{to_markdown(t[['method', 'WA', 'UA', 'fold_ua_mean', 'fold_ua_std']])}\n")
    print(t[['WA', 'UA']].to_string())
atomic_write_text(out/'egemaps.md', "# eGeMAPS + SVM on EMO-DB\n\nWritten by `.venv/bin/python results/emodb/egemaps.py`.\n\n" + '\n'.join(tables))
