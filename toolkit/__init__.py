"""kefu-lab toolkit: the shared knowledge base and checkers for Chinese customer-service training.

Keep this module import-light: drills and nbgrader tests import ``toolkit.checks`` in the
trainee's kernel, so nothing heavy (pandas, nbgrader, Jupyter) may be imported here.
"""

__version__ = "0.1.0"
