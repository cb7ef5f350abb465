"""The experiment grid's page (experiment.md and its plots), from experiment.json alone."""
