"Pytest glue: the `--flags` option (as `nbdev_test --flags`), the HTML index, and the closing `N passed, N failed` line."
import pytest

def pytest_addoption(parser):
    parser.addoption('--flags', default='', help="space-separated test flags to run that are normally skipped (e.g. 'slow')")

_counts = {}

def pytest_sessionfinish(session, exitstatus):
    if hasattr(session.config, 'workerinput'): return  # the controller writes the index once all workers are done
    try:
        from test_notebooks import HTML_DIR, write_index
        if HTML_DIR.exists(): write_index()
    except Exception as e: print(f'could not write the HTML index: {e}')

@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    st = terminalreporter.stats
    n = lambda k: len([r for r in st.get(k, []) if getattr(r, 'when', 'call') in ('call', 'setup')])
    _counts.update(passed=n('passed'), failed=n('failed') + n('error'), skipped=n('skipped'))

def pytest_unconfigure(config):
    # Runs after pytest's own summary, so this is the very last line; only on the controller under xdist.
    if hasattr(config, 'workerinput') or not _counts: return
    line = f"notebooks: {_counts['passed']} passed, {_counts['failed']} failed"
    if _counts['skipped']: line += f", {_counts['skipped']} skipped"
    print(line)
