"""Pages and commands for learners: the tutorial's programs side by side, and the data summary."""
