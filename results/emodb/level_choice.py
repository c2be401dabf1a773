"""Which level moves a single file: the speech level over all filters (the library's default) or over the telephone band's
filters only (`band_filters`)? Chosen on the validation speakers, clean speech, with the models a study kept.

For every fold of STUDY whose weights are here (seed 0; both the validation-chosen and the last epoch), each model scores its
validation and test speakers' clean recordings as single files in three ways: moved by the level over all filters ('all'),
by the level over the filters inside 300-3400 Hz ('band'), and as recorded ('raw').

Run from the repository root:  .venv/bin/python results/emodb/level_choice.py results/emodb/single-x12
Output: STUDY/level-choice.json (one row per fold, model, epoch, side and way: UA and the utterances)
"""
import argparse, json, sys
from pathlib import Path
import numpy as np, torch
from dkdfmh.audio import find_emodb, atomic_write_text
from dkdfmh.norm import FeatureNorm, band_filters
from dkdfmh.data import make_vocab
from dkdfmh.train import Config, load_data, make_model, run_name
sys.path.insert(0, str(Path(__file__).parent))
from single_file import mode_scores

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog='\n'.join(__doc__.split('\n')[1:]))
    p.add_argument('study', help="a study folder of single_file.py with its checkpoints/ (e.g. results/emodb/single-x12)")
    folder = Path(p.parse_args().study)
    if not (folder/'config.json').exists(): sys.exit(f"level_choice.py: {folder}: not a study folder (no config.json)")
    cfg = Config.from_dict(json.loads((folder/'config.json').read_text())).replace(root=str(find_emodb()))
    df, feats, splits = load_data(cfg, progress=False)
    vocab, fc = make_vocab(df['label']), cfg.features
    spk, lab, rows = df['speaker'].to_numpy(), df['label'].to_numpy(), []
    for f, sp in enumerate(splits):
        tr = np.asarray(sp.train)
        ways = {'all': FeatureNorm.fit('speaker', [feats[i] for i in tr], fc, speakers=spk[tr])}
        ways['band'] = FeatureNorm.fit('speaker', [feats[i] for i in tr], fc, speakers=spk[tr], level_filters=band_filters(fc))
        ways['raw'] = FeatureNorm.from_dict({**ways['all'].to_dict(), 'ref_level': None})
        for model in ('teacher', 'dkd_s'):
            for epoch, suffix in (('best', 'final'), ('last', 'last')):
                ck = folder/'checkpoints'/f"{run_name(f, 0, model)}.{suffix}.pth"
                if not ck.exists(): continue
                net = make_model(cfg, len(vocab), cfg.teacher_attention if model == 'teacher' else True).eval()
                net.load_state_dict(torch.load(ck, map_location='cpu', weights_only=True))
                for side in ('valid', 'test'):
                    idx = np.asarray(getattr(sp, side))
                    for way, norm in ways.items():
                        s = mode_scores(net, norm, [feats[i] for i in idx], lab[idx], spk[idx], vocab, fc, 'single')
                        rows.append(dict(fold=f, model=model, epoch=epoch, side=side, way=way, **s))
        print(f"fold {f}: {sum(r['fold'] == f for r in rows)} rows", flush=True)
    if not rows: sys.exit(f"level_choice.py: no weights under {folder}/checkpoints")
    atomic_write_text(folder/'level-choice.json', json.dumps(dict(study=folder.name, vocab=vocab, rows=rows)))
    print(f"wrote {folder/'level-choice.json'}")
