# $PYTHONSTARTUP of a trainee's kernels (scripts/start.sh, hub/jupyterhub_config.py), run before
# any notebook code: errors show as a short Chinese message, not a traceback
# (toolkit/trainee_errors.py), and answer cells of an assignment are text, not code, even before
# its setup cell ran (toolkit.exercise.answers, when this version of the toolkit has it).
# In a plain python REPL it does nothing.
try:
    import toolkit.trainee_errors as _kefu_errors

    _kefu_errors.install()
    del _kefu_errors
except ImportError:  # the toolkit is not installed: the kernel still starts
    pass
try:
    get_ipython().extension_manager.load_extension("toolkit.exercise.answers")  # noqa: F821
except Exception:  # noqa: BLE001 - no IPython (plain REPL) or no such extension: nothing to do
    pass
