#!/usr/bin/env python
"""Write README.md from nbs/index.ipynb without Quarto (what `nbdev_readme` does where Quarto exists).

Usage: python tools/readme.py          # rewrite README.md
       python tools/readme.py --check  # exit 1 when README.md is out of date
Markdown cells are copied; code cells become ```python blocks (nbdev directives removed), followed by their
text outputs; cells marked `#| hide` are left out."""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_directive = re.compile(r'^\s*#\s*\|\s*(.*)$')

def _directives(src):
    return [m.group(1).strip() for l in src.splitlines() if (m := _directive.match(l))]

def _outputs(cell):
    for o in cell.get('outputs', []):
        if o.get('output_type') == 'stream': yield ''.join(o.get('text', ''))
        elif 'data' in o:
            d = o['data']
            if 'text/markdown' in d: yield ('md', ''.join(d['text/markdown']))
            elif 'text/plain' in d: yield ''.join(d['text/plain'])

def render(nb_path=ROOT/'nbs'/'index.ipynb'):
    "The README text for notebook `nb_path`"
    nb = json.loads(Path(nb_path).read_text(encoding='utf-8'))
    parts = []
    for cell in nb['cells']:
        src = ''.join(cell['source'])
        dirs = _directives(src)
        if any(d.split()[0] in ('hide', 'exporti', 'default_exp') for d in dirs if d): continue
        if cell['cell_type'] == 'markdown': parts.append(src.strip()); continue
        if cell['cell_type'] != 'code': continue
        code = '\n'.join(l for l in src.splitlines() if not _directive.match(l)).strip()
        if code: parts.append(f'```python\n{code}\n```')
        for out in _outputs(cell):
            if isinstance(out, tuple): parts.append(out[1].strip())
            elif out.strip(): parts.append('    ' + out.rstrip().replace('\n', '\n    '))
    return '<!-- Generated from nbs/index.ipynb by `python tools/readme.py`: edit the notebook, not this file. -->\n\n' \
        + '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    text, readme = render(), ROOT/'README.md'
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_text(encoding='utf-8') != text:
            sys.exit('README.md is out of date with nbs/index.ipynb: run `python tools/readme.py`')
        print('README.md is in sync with nbs/index.ipynb')
    else:
        readme.write_text(text, encoding='utf-8'); print(f'wrote {readme}')
