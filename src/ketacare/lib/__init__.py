"""The leaf of the shell: what every app uses and nothing app-specific.

Form feedback (:mod:`.forms`), field helpers and widgets (:mod:`.fields`), the safe-redirect
guard (:mod:`.redirects`), security middleware, JSON-lines input for batch commands, the base
template and the vendored static files. It imports no ketacare app; ``tests/test_architecture.py``
holds it to that.
"""
