"Repository invariants: README generated from nbs/index.ipynb, and CI runs README's own commands."
import re, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def _readme_commands():
    "The shell commands in README.md's ```sh blocks"
    text = (ROOT/'README.md').read_text(encoding='utf-8')
    return [l.strip() for b in re.findall(r'```(?:sh|bash)\n(.*?)```', text, re.S) for l in b.splitlines()
            if l.strip() and not l.strip().startswith('#')]

def test_readme_in_sync():
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'readme.py'), '--check'], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr + r.stdout

def test_ci_runs_readme_install_and_test_commands():
    ci = (ROOT/'.ci'/'run').read_text(encoding='utf-8')
    cmds = _readme_commands()
    install = [c for c in cmds if 'pip install' in c]
    test = [c for c in cmds if 'pytest' in c]
    assert install and test, f'README.md must give the install and test commands in a ```sh block; found {cmds}'
    for c in install[:1] + test[:1]: assert c in ci, f'.ci/run does not run the README command: {c}'
