import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # lets tests import the `eval` helpers


def pytest_terminal_summary(terminalreporter):
    from test_accuracy import SCORES

    if SCORES:
        terminalreporter.section("checker accuracy on tests/eval and tests/holdout")
        for key in sorted(SCORES, key=lambda k: (k[1], k[0])):
            terminalreporter.write_line(SCORES[key].line())
