"Every notebook in nbs/ is one test, executed the way `nbdev_test` executes it (execnb, cwd = nbs/)."
from pathlib import Path
import pytest
from nbdev.config import get_config
from nbdev.test import test_nb

cfg = get_config()
NBS = sorted(p for p in Path(cfg.nbs_path).glob('*.ipynb') if not p.name.startswith(('_', '.')))

@pytest.mark.parametrize('nb', NBS, ids=[p.stem for p in NBS])
def test_notebook(nb, request):
    flags = request.config.getoption('--flags').split()
    skip = set(cfg.get('tst_flags', '').split()) - set(flags)
    ok, secs = test_nb(nb, skip_flags=skip, force_flags=flags, showerr=True)
    assert ok, f'{nb.name} failed after {secs:.1f} s (traceback above)'
