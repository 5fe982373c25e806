"""gantry-files: the ``file://`` instance store, ``root/<study>/<series>/<sop>.dcm`` on disk."""
