"""Image builds: the plan derived from the stack model, and build progress."""
