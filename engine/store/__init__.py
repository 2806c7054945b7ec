"""Run folders: the writer and the checked reader, the result schema, manifest, checkpoints, locks."""
