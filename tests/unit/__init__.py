"""The unit tier, one folder per layer of the task library."""
