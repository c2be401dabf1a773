"""EMO-DB, speaker-independent (5 folds of 2 test speakers, 1 validation speaker), the plain CNN row of the paper's
Table 1 with the paper's recipe but 10 epochs instead of 50 (2 CPU cores), 3 seeds, beside the classical baselines
on the same folds. Finished runs in speaker-10ep/cnn/runs are read back, not retrained.
Run from the repository root: .venv/bin/python results/emodb/cnn_10ep.py"""
import json
from pathlib import Path
from dkdfmh.presets import preset_config
from dkdfmh.audio import find_emodb, atomic_write_text
from dkdfmh.train import Config, load_data, run_experiment
from dkdfmh.evaluate import baseline_experiment, merge_records, rename_models, summary_table, write_table

out = Path(__file__).parent/'speaker-10ep'
cfg = preset_config('paper', corpus='emodb', root=str(find_emodb()), protocol='speaker', n_folds=5, n_valid_speakers=1,
             epochs=10, distill=dict(warmup=4), seeds=(0, 1, 2), teacher_attention=False, students={})
data = load_data(cfg, progress=False)
cnn = run_experiment(cfg, out/'cnn', progress=True, data=data)
df, feats, splits = data
base = [{**baseline_experiment(df, feats, splits, normalize=n, vocab=cnn['vocab']), 'corpus': cnn['corpus'], 'protocol': cnn['protocol']}
        for n in ('none', 'speaker')]
rec = merge_records(cnn, *base)
table = summary_table(rec)
write_table(table, out, 'results')
print(table.attrs.get('caption', '')); print(table.to_string())
