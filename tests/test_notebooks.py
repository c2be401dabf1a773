"""Every notebook in nbs/ is one test, executed the way `nbdev_test` executes it (execnb in-process, cwd = nbs/,
cells flagged with a test flag skipped unless `--flags` names it), then rendered to HTML with nbconvert, so that a
notebook that runs but does not render as a documentation page fails here too (these machines have no Quarto).
Pages go to `_html/` (or `$DKDFMH_HTML_DIR`) with an `index.html` linking them in reading order."""
import html, json, os, warnings
from pathlib import Path
import nbformat, pytest
from fastcore.xtras import working_directory
from nbdev.config import get_config
from nbdev.process import NBProcessor
from nbdev.frontmatter import FrontmatterProc
from execnb.shell import CaptureShell
from execnb.nbio import nb2dict
from nbconvert import HTMLExporter

cfg = get_config()
NBS = sorted(p for p in Path(cfg.nbs_path).glob('*.ipynb') if not p.name.startswith(('_', '.')))
HTML_DIR = Path(os.environ.get('DKDFMH_HTML_DIR', Path(cfg.config_path)/'_html'))

def page_of(nb:Path)->Path: return HTML_DIR/('home.html' if nb.stem == 'index' else f'{nb.stem}.html')  # index.html is the listing

def execute(fn:Path, skip_flags=(), force_flags=()):
    "Run notebook `fn` as `nbdev.test.test_nb` does; return the executed notebook (raises with the cell's traceback)"
    os.environ['IN_TEST'] = '1'
    flags = set(skip_flags) - set(force_flags)
    nb = NBProcessor(fn, procs=FrontmatterProc, process=True).nb
    def _no_eval(cell):
        if cell.cell_type != 'code': return True
        if 'nbdev_export' + '(' in cell.source: return True
        direc = getattr(cell, 'directives_', {}) or {}
        if direc.get('eval:', [''])[0].lower() == 'false': return True
        return flags & direc.keys()
    k = CaptureShell(fn)
    try:
        with working_directory(fn.parent): k.run_all(nb, exc_stop=True, preproc=_no_eval)
    except BaseException as e:
        raise AssertionError(f"{fn.name} failed:\n{k.prettytb(fname=fn)}") from None
    return nb

def render_html(nb, dest:Path)->Path:
    "The executed notebook as a standalone HTML page, hidden cells left out (as on the documentation site)"
    cells = [c for c in nb.cells if 'hide' not in (getattr(c, 'directives_', {}) or {})]
    d = nb2dict(dict(nb, cells=cells))
    for c in d['cells']:
        c.setdefault('metadata', {}); c.pop('idx_', None)
        if c['cell_type'] == 'code': c.setdefault('outputs', []); c.setdefault('execution_count', None)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')   # cell ids: nbformat adds them
        node = nbformat.reads(json.dumps(d), as_version=4)
    body, _ = HTMLExporter(template_name='lab').from_notebook_node(node)
    if '<html' not in body: raise AssertionError(f"{dest.name}: nbconvert produced no page")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix('.tmp'); tmp.write_text(body, encoding='utf-8'); tmp.replace(dest)
    return dest

@pytest.mark.parametrize('nb', NBS, ids=[p.stem for p in NBS])
def test_notebook(nb, request):
    flags = request.config.getoption('--flags').split()
    skip = set(cfg.get('tst_flags', '').split()) - set(flags)
    executed = execute(nb, skip_flags=skip, force_flags=flags)
    page = render_html(executed, page_of(nb))
    assert page.stat().st_size > 1000

def write_index():
    "`index.html` linking every rendered page in reading order"
    pages = [p for p in map(page_of, NBS) if p.exists()]
    items = '\n'.join(f'<li><a href="{p.name}">{html.escape(p.stem)}</a></li>' for p in pages)
    (HTML_DIR/'index.html').write_text(f'<!doctype html><html><head><meta charset="utf-8"><title>dkdfmh notebooks</title></head>'
                                       f'<body><h1>dkdfmh notebooks</h1><ol>\n{items}\n</ol></body></html>\n', encoding='utf-8')

def test_tutorial_without_emodb(tmp_path, monkeypatch):
    "The tutorial runs top to bottom where EMO-DB is absent too (on the synthetic corpus): a copy run outside the project"
    from dkdfmh.audio import find_emodb
    if find_emodb() is None: pytest.skip("EMO-DB is absent here: test_notebook[20_tutorial_emodb] ran the synthetic case")
    monkeypatch.delenv('DKDFMH_EMODB', raising=False)
    nb = tmp_path/'20_tutorial_emodb.ipynb'
    nb.write_bytes((Path(cfg.nbs_path)/nb.name).read_bytes())
    executed = execute(nb, skip_flags=set(cfg.get('tst_flags', '').split()))
    text = ''.join(''.join(o.get('text', '')) for c in executed.cells for o in c.get('outputs', []))
    assert 'this page runs on the synthetic corpus' in text, text[:500]
