"""Package compatibility with the free-threaded interpreter: the stack's Python environments,
their resolved trees, install and import results, and the report."""
