# $PYTHONSTARTUP of a trainee's kernels (scripts/start.sh, hub/jupyterhub_config.py): errors show as
# a short Chinese message, not a traceback (toolkit/trainee_errors.py). In a plain python REPL it does nothing.
try:
    import toolkit.trainee_errors as _kefu_errors

    _kefu_errors.install()
    del _kefu_errors
except ImportError:  # the toolkit is not installed: the kernel still starts
    pass
