"""Static audit rules over the stack model; each rule has an id, a severity and a fix hint."""
