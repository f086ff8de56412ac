"""The experiment grid: config validation, axes expansion and artefact paths (used by the Snakefile)."""
